// CaresForwarder: the Resolver for forward zones. A query whose name falls in a `forward:`
// zone (longest zone wins, resolver/forward_policy.hpp) is sent, RD=1, to that zone's upstream
// resolvers through c-ares, on the server's libuv loop (c-ares sockets on uv_poll_t handles,
// c-ares timeouts on one uv_timer_t — the pattern of Node's cares_wrap.cc).
//
// Upstream order: the first upstream is asked first; the next only when it fails (timeout,
// SERVFAIL/REFUSED/NOTIMP/FORMERR, network error, or a reply we do not accept); after
// `rounds` passes over the list the answer is SERVFAIL (the server may then serve stale).
// An upstream that stopped answering is moved to the end for a while (upstream_health.hpp),
// so a dead first upstream does not cost every query a timeout.
// Failover is ours, not c-ares's: every channel holds exactly one upstream, so our own reply
// checks can move a query on, and c-ares never picks a server we did not mean.
//
// Forgery defences (RFC 5452, the DNSpooq lesson):
//  - c-ares is given explicit servers only and every option that would otherwise come from
//    /etc/resolv.conf, so it neither reads that file nor ever sends to its servers.
//  - ID: c-ares 1.18's ares_send() sends the ID in our buffer unchanged (seen on the wire by
//    the unit test with a seeded FakeRandom, and with strace on the installed 1.18.1), so IDs
//    come from util::Random (arc4random), redrawn if the channel already has that ID in
//    flight. c-ares's own generator (RC4 keyed from /dev/urandom in Debian's 1.18.1 build;
//    it is used by ares_query/ares_search) plays no part.
//  - Source port: c-ares 1.18 keeps one UDP socket per server for as long as the channel has
//    queries in flight, so a busy forwarder would send everything from one port. Each channel
//    therefore carries at most `queries_per_socket` queries; then it is retired (it finishes
//    the queries it has, then is destroyed) and a fresh channel — a fresh socket — takes the
//    next ones. Sockets are ours (ares_set_socket_functions): each UDP socket is bound to a
//    port drawn from util::Random over 1024-65535, as NetTransport does.
//  - Replies: c-ares accepts a UDP reply only from the queried address on the connected
//    socket, with the ID and question of a query in flight; we then parse it fully and check
//    ID, QR, opcode and question again before it can reach the cache.
//  - TC=1: c-ares retries the same upstream over TCP.
//
// Invariants: a Completion runs exactly once, on the loop, never inside resolve(); no c-ares
// function that ends queries (ares_cancel, ares_destroy) runs inside a c-ares callback — the
// c-ares callback only records the result, which is handled after c-ares has returned; libuv
// handles are freed only in their close callbacks.
#pragma once

#include <ares.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/upstream_health.hpp"
#include "client/upstream_observer.hpp"
#include "resolver/forward_policy.hpp"
#include "resolver/resolver.hpp"
#include "util/random.hpp"

namespace tern::client {

struct ForwarderOptions {
  uint32_t attempt_timeout_ms = 1500;  // one try of one upstream (UDP, or TCP after TC)
  // Passes over the upstream list before giving up: 2 rides out one lost datagram per upstream.
  unsigned rounds = 2;
  uint16_t edns_payload = 1232;  // RFC 9715 / DNS Flag Day 2020
  // Queries one c-ares socket carries before a fresh one (new source port) takes over: small
  // enough that an attacker who learns a port can aim at only a few queries, large enough
  // that the cost of a fresh channel (one ares_init_options, one socket) stays negligible.
  uint32_t queries_per_socket = 8;
  // Requests in flight; each needs a share of a socket (an fd) and memory: beyond this the
  // forwarder answers SERVFAIL at once instead of queueing without bound.
  size_t max_outstanding = 2048;
  // Per-upstream counts for /metrics; must outlive the forwarder. nullptr: Stats only.
  //   queries: ares_send calls to it; timeouts: ARES_ETIMEOUT; errors: refused connections,
  //   c-ares errors (EBADRESP...) and replies that do not parse; spoof_attempts: UDP datagrams
  //   whose ID no query on that socket has in flight (read in our recvfrom, before c-ares drops
  //   them), and replies c-ares passed whose question our check refuses.
  // Not visible with c-ares 1.18 (no per-server callback; ares_set_server_state_callback is
  // 1.29+): a UDP reply with an ID in flight but another question, which c-ares drops
  // silently, and TCP replies c-ares drops for their ID (its TCP reads have no datagram
  // boundary to look at). A late reply to a query that already timed out arrives on the same
  // socket and counts as a spoof attempt, as in Unbound's "unwanted replies".
  UpstreamObserver* observer = nullptr;
};

class CaresForwarder final : public resolver::Resolver {
 public:
  struct Stats {
    uint64_t requests = 0;
    uint64_t answers = 0;
    uint64_t servfails = 0;
    uint64_t attempts = 0;  // ares_send calls (one per upstream try)
    uint64_t upstream_timeouts = 0;
    uint64_t upstream_errors = 0;   // SERVFAIL/REFUSED/NOTIMP/FORMERR, refused connections...
    uint64_t rejected_replies = 0;  // c-ares passed it, our checks did not (parse, question)
    uint64_t overloaded = 0;
    uint64_t no_zone = 0;  // resolve() for a name outside every forward zone
    uint64_t channels_opened = 0;
  };

  // Throws std::runtime_error when c-ares cannot be initialised (start-up, control plane).
  CaresForwarder(uv_loop_t* loop, resolver::ForwardPolicy policy, util::Random& random,
                 ForwarderOptions options = {});
  ~CaresForwarder() override;  // shutdown(); handles finish closing on the loop's next run
  CaresForwarder(const CaresForwarder&) = delete;
  CaresForwarder& operator=(const CaresForwarder&) = delete;

  void resolve(const resolver::Request& request, resolver::Completion done) override;
  void shutdown() override;

  bool has_zone_for(const dns::Name& qname) const { return policy_.has_zone_for(qname); }
  const Stats& stats() const { return stats_; }
  size_t outstanding() const { return requests_.size(); }
  size_t live_channels() const { return channels_.size(); }
  // The servers c-ares holds in every live channel (tests: nothing from resolv.conf).
  std::vector<net::Endpoint> cares_servers() const;

  // For the C callbacks in cares_forwarder.cpp only.
  struct Channel;
  struct Attempt;
  struct Pending;
  uv_loop_t* loop() const;
  uint16_t random_port();  // a source port for a new c-ares UDP socket
  // A UDP datagram read from a channel's socket, before c-ares sees it.
  void on_datagram(const Channel& c, const uint8_t* data, size_t len) noexcept;
  void on_attempt_done(Attempt* a) noexcept;
  void after_cares() noexcept;  // handle recorded results, reap channels, rearm the timer

 private:
  Channel* channel_for(size_t zone, size_t upstream);
  Channel* open_channel(size_t zone, size_t upstream);
  Channel* start_attempt(Pending& p);  // the channel it used, or nullptr
  void handle(std::unique_ptr<Attempt> a);
  void complete(uint64_t request_id, resolver::Outcome outcome);
  void later(resolver::Completion done, resolver::Outcome outcome);
  void drain();
  void reap_channels();
  void rearm_timer();
  static void on_timer(uv_timer_t* t) noexcept;
  static void on_kick(uv_timer_t* t) noexcept;

  uv_loop_t* loop_;
  resolver::ForwardPolicy policy_;
  util::Random& random_;
  ForwarderOptions options_;
  Stats stats_;
  bool shut_down_ = false;
  bool draining_ = false;
  bool in_resolve_ = false;
  uint64_t next_request_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Pending>> requests_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<UpstreamHealth> health_;  // [zone]
  // [zone][upstream]: that upstream's counters (nullptr without an observer), looked up once.
  std::vector<std::vector<UpstreamCounters*>> counters_;
  // [zone][upstream]: the channel that takes new queries.
  std::vector<std::vector<Channel*>> active_;
  // Results recorded by c-ares callbacks, handled after c-ares returns.
  std::vector<Attempt*> ready_;
  // Completions that must not run where they arose (inside resolve(): overload, no zone...).
  std::vector<std::pair<resolver::Completion, resolver::Outcome>> deferred_;
  uv_timer_t* timer_ = nullptr;  // the nearest c-ares timeout over all channels
  uv_timer_t* kick_ = nullptr;   // zero-delay: handle results recorded outside a loop callback
};

}  // namespace tern::client
