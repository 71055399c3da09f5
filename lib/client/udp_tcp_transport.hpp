// NetTransport: resolver::Transport on libuv sockets, how the iterator reaches authoritative
// servers. Each UDP query gets its own socket bound to a source port drawn from util::Random
// over 1024-65535 (RFC 5452 §9.2: as many ports as possible; the kernel's ephemeral range is
// only 32768-60999) and connect()ed to the server, so the kernel drops datagrams from any
// other address; the source is checked again on receipt. Each query also gets a fresh random
// ID. A reply is accepted only with the same ID, QR set and the same question (case-
// insensitively; 0x20 case is the caller's check); anything else is counted in Stats and
// ignored while the query keeps waiting. A datagram with the right ID that does not parse is
// counted too and the query keeps waiting: if nothing better arrives the query ends Malformed
// instead of Timeout. TC=1 replies are returned as they are: retrying over TCP is the caller's
// decision. TCP opens one connection per query (no reuse or pipelining yet, RFC 7766 §6.2.1
// allows it; a connection pool is future work) and the timeout covers connect + reply.
//
// Invariants: a handler runs exactly once and never from inside send() or cancel(); every
// libuv handle is freed in its close callback. Destroying the transport drops the handlers of
// queries still in flight without calling them (call shutdown() first to have them called with
// Cancelled); their handles close on the loop's next run.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "client/upstream_observer.hpp"
#include "resolver/transport.hpp"
#include "util/random.hpp"

namespace tern::client {

// Each outstanding query holds one socket (a file descriptor). 512 stays well below the
// default soft RLIMIT_NOFILE of 1024, so listeners and client TCP connections keep theirs.
// Raise it together with the descriptor limit (LimitNOFILE=) for heavy recursion.
inline constexpr size_t kDefaultMaxOutstanding = 512;

// Source ports are drawn from [kFirstSourcePort, 65535]: below 1024 needs privilege and
// belongs to well-known services.
inline constexpr uint16_t kFirstSourcePort = 1024;
// Random ports that are in use are skipped; after this many misses the kernel picks one.
inline constexpr unsigned kBindAttempts = 16;

struct TransportOptions {
  size_t max_outstanding = kDefaultMaxOutstanding;
  // Per-server counts (queries, timeouts, spoof attempts, errors), e.g. for /metrics; must
  // outlive the transport. nullptr: only the totals in Stats.
  UpstreamObserver* observer = nullptr;
};

class NetTransport final : public resolver::Transport {
 public:
  struct Stats {
    uint64_t udp_sent = 0;
    uint64_t tcp_sent = 0;
    uint64_t replies = 0;         // accepted replies
    uint64_t spoof_attempts = 0;  // wrong source, ID, question, or QR clear: ignored
    uint64_t malformed = 0;       // right source and ID, does not parse
    uint64_t timeouts = 0;
    uint64_t network_errors = 0;   // send/connect/recv failures (ICMP unreachable, RST, ...)
    uint64_t local_errors = 0;     // could not send: out of sockets/buffers, over the cap
    uint64_t late_replies = 0;     // replies found waiting in the socket when the timer fired
    uint64_t overloaded = 0;       // refused because max_outstanding queries were in flight
    uint64_t port_collisions = 0;  // random source ports found in use and redrawn
  };

  NetTransport(uv_loop_t* loop, util::Random& random, TransportOptions options = {});
  ~NetTransport() override;
  NetTransport(const NetTransport&) = delete;
  NetTransport& operator=(const NetTransport&) = delete;

  Handle send(const resolver::UpstreamQuery& query, resolver::ReplyHandler handler) override;
  void cancel(Handle handle) override;
  // Cancels every query in flight; each handler is called with Cancelled on the loop.
  void shutdown();

  const Stats& stats() const { return stats_; }
  // Queries not yet closed (in flight, or finished with handles still closing).
  size_t outstanding() const { return queries_.size(); }

  // For the libuv callbacks in udp_tcp_transport.cpp only.
  struct Query;
  uv_loop_t* loop() const { return loop_; }
  uint8_t* rx_buffer() { return rx_.get(); }
  Stats& mutable_stats() { return stats_; }
  void forget_query(Handle h) { queries_.erase(h); }

 private:
  void start_udp(Query& q);
  void start_tcp(Query& q);
  void fail_start(Query& q, int uv_status, const char* what);

  uv_loop_t* loop_;
  util::Random& random_;
  TransportOptions options_;
  Handle next_handle_ = 1;
  // Every query from send() until its last handle has closed; `finished` marks the closing ones.
  std::unordered_map<Handle, Query*> queries_;
  Stats stats_;
  UpstreamCounterCache counters_;
  std::unique_ptr<uint8_t[]> rx_;  // one receive buffer: libuv pairs alloc and recv callbacks
};

}  // namespace tern::client
