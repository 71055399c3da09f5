// TcpListener: DNS over TCP on one `server.listen` endpoint (RFC 7766, RFC 9210). Each
// connection reads 2-octet length-prefixed messages however the stream splits or joins them,
// hands every complete one to the pipeline at once (pipelining) and writes each reply as soon
// as it exists, so replies leave in completion order, not query order (RFC 7766 §6.2.1.1).
// A connection with nothing outstanding is closed after the idle timeout (§6.2.3); a message
// must arrive whole within kMessageDeadlineMs of its first byte, whatever trickles meanwhile
// (slowloris), else the connection is closed; at
// max-connections the oldest idle connection makes room, or the newcomer is refused. A zero
// length, or a length no query needs, closes the connection: there is no way to resynchronise
// a stream after a framing error.
// Invariant: a Connection's memory is freed only after both its handles have closed; replies
// reach a connection through its id, so one that closed meanwhile is simply not found.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/endpoint.hpp"
#include "server/client.hpp"
#include "server/metrics.hpp"
#include "server/pipeline.hpp"
#include "util/expected.hpp"

namespace tern::server {

struct TcpOptions {
  uint32_t idle_timeout_ms = 10'000;  // server.tcp.idle-timeout
  uint32_t max_connections = 1000;    // server.tcp.max-connections
};

struct TcpStats {
  uint64_t accepted = 0, refused_full = 0, closed_idle = 0, evicted_idle = 0;
  uint64_t closed_slow = 0;  // a message not complete within kMessageDeadlineMs
  uint64_t framing_errors = 0, queries = 0, replies = 0, write_errors = 0;
};

// A query needs a header, a question and an OPT with a few options: 4 KiB is far beyond that,
// and a bigger frame would only pin memory per connection.
inline constexpr size_t kMaxTcpQuery = 4096;
// From the first byte of a message to its last. A real client writes a query (at most
// kMaxTcpQuery) in one go, and 2 s covers a few retransmissions; it is not the idle timeout,
// which operators raise for long-lived connections, and a raised one must not feed slowloris.
inline constexpr uint64_t kMessageDeadlineMs = 2000;
// Queries one connection may have outstanding before we stop reading from it (back-pressure).
inline constexpr uint32_t kMaxPipelined = 128;
// Reply bytes queued to a client that does not read before the connection is dropped.
inline constexpr size_t kMaxWriteQueue = 1u << 20;

class TcpListener final : public ReplySink {
 public:
  TcpListener(uv_loop_t* loop, Pipeline& pipeline, TcpOptions opts);
  ~TcpListener() override;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  util::Expected<void, std::string> start(const net::Endpoint& endpoint);
  // Serves an already-listening TCP socket (systemd socket activation) instead of binding
  // one; the options and limits apply exactly as to a socket bound by start(). Takes ownership
  // of fd whatever the outcome: it is closed with the listener, or at once when it is not a
  // listening IPv4/IPv6 TCP socket (the error says why).
  util::Expected<void, std::string> adopt(int fd);
  void set_options(const TcpOptions& opts) { opts_ = opts; }
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }
  // Shutdown, step 1: no new connections, no new queries; replies still go out.
  void stop_accepting();
  // Shutdown, step 2: every connection and the listening socket closed.
  void close();
  bool closed() const;
  size_t connections() const { return conns_.size(); }
  // Bytes still queued for writing, over all connections.
  size_t write_backlog() const;
  const net::Endpoint& endpoint() const { return bound_; }
  const TcpStats& stats() const { return stats_; }

  void send_reply(const ClientRef& client, std::span<const uint8_t> reply) override;

 private:
  struct Connection;
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_idle(uv_timer_t* t) noexcept;
  static void on_conn_close(uv_handle_t* h) noexcept;
  static void on_listener_close(uv_handle_t* h) noexcept;

  void accept_one();
  bool make_room();
  void process(Connection* c);
  void touch(Connection* c);
  void arm(Connection* c);
  void close_connection(Connection* c);
  void resume(Connection* c);
  void maybe_finish(Connection* c);

  uv_loop_t* loop_;
  Pipeline& pipeline_;
  TcpOptions opts_;
  uv_tcp_t listener_{};
  bool initialised_ = false;
  bool listener_closed_ = false;
  bool accepting_ = true;
  net::Endpoint bound_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Connection*> conns_;
  size_t closing_ = 0;  // connections whose handles are still closing
  std::unique_ptr<uint8_t[]> read_buf_;  // one read at a time, appended to its connection
  TcpStats stats_;
  Metrics* metrics_ = nullptr;
};

}  // namespace tern::server
