// Pipeline: the transport-independent handling of one client query, bytes in, at most one
// reply out (through the ClientRef's sink). It is the whole request path of DESIGN.md:
// edge parse (dns/request.hpp) → ACL → UDP rate limit → special cases (ANY, CHAOS, meta types) → message cache
// → coalesced resolution → encode. Listeners call handle(); everything else is internal.
//
// Hit path: lookup into the per-pipeline reply buffer, set RA, append OPT, fit the client's
// limit, send — no allocation, no logging above trace. Miss path: one Pending per distinct
// cache key; every identical concurrent miss joins its waiter list (coalescing). When the
// resolution completes the answer is inserted into the cache and every waiter gets it.
// Serve-stale (RFC 8767): a client-timeout timer per pending resolution answers waiters from
// expired data (TTL 30) while the resolution goes on; a failed resolution answers stale data
// if there is any, else SERVFAIL. Prefetch: a Prefetch hit starts one background resolution.
//
// Overload: a miss read while its UDP listener's socket queue is backlogged (ClientRef::
// backlogged) starts no resolution: it joins one in flight, is answered from stale data, or is
// dropped (counted in `shed`). Cache hits keep being answered, so under a flood of new names
// the loop spends its time on the answers it can give cheaply and drains its socket; misses
// are admitted again as soon as the queue is short. Waiting clients are capped in total
// (max_waiting_clients) as well as per resolution.
//
// Failure recheck (RFC 8767 §4): after a resolution failed, queries for the same key are
// answered from stale data at once for kFailureRecheckMs instead of waiting out the client
// timeout again, and no new resolution is started for it in that time.
//
// Invariants: each handled query gets at most one reply; a resolver completion that arrives
// after the pipeline is gone is ignored (weak liveness token); the pipeline never calls the
// resolver re-entrantly from a completion for the same key.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "dns/request.hpp"
#include "net/access_list.hpp"
#include "resolver/resolver.hpp"
#include "server/client.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"
#include "server/reply_writer.hpp"
#include "server/scheduler.hpp"
#include "util/clock.hpp"

namespace tern::server {

struct PipelineOptions {
  net::AccessList acl;
  uint16_t udp_payload_size = 1232;  // server.udp-payload-size: our EDNS size, caps UDP replies
  std::string chaos_version;         // empty: version.bind is REFUSED
  std::string chaos_identity;        // empty: id.server is REFUSED
  uint32_t max_concurrent = 10000;   // resolver.max-concurrent: distinct resolutions in flight
  uint32_t max_waiting_clients = 20000;  // resolver.max-waiting-clients: queries awaiting them
  bool serve_stale = true;           // cache.serve-stale.enabled
  uint32_t client_timeout_ms = 1800; // cache.serve-stale.client-timeout (RFC 8767 §5)
  bool prefetch = true;              // cache.prefetch
  bool log_queries = false;          // logging.queries: one info line per answered query
  RateLimit rate_limit;              // server.rate-limit (UDP only)
};

struct PipelineStats {
  uint64_t queries = 0;        // packets handed to handle()
  uint64_t dropped = 0;        // no reply at all (no header, QR=1, ACL deny)
  uint64_t formerr = 0, notimp = 0, refused = 0, badvers = 0, servfail = 0;
  uint64_t cache_hits = 0, cache_misses = 0;
  uint64_t truncated = 0;      // UDP replies cut to TC=1
  uint64_t coalesced = 0;      // misses that joined a resolution already in flight
  uint64_t resolutions = 0;    // Resolver::resolve calls
  uint64_t stale_answers = 0;  // replies served from expired data
  uint64_t prefetches = 0;     // background refreshes started
  uint64_t over_limit = 0;     // SERVFAIL: max_concurrent resolutions or max_waiting_clients
  uint64_t shed = 0;           // misses given no new resolution: the UDP queue was backlogged
  uint64_t shed_dropped = 0;   // ... and no reply (no stale data to answer with)
  uint64_t rate_limited = 0;   // UDP queries over server.rate-limit (= rate_dropped + rate_slipped)
  uint64_t rate_dropped = 0;   // ... given no reply
  uint64_t rate_slipped = 0;   // ... given a TC=1 reply (header + question [+ OPT])
};

// RFC 8767 §4 suggests 30 s between attempts to refresh data that could not be refreshed.
inline constexpr uint64_t kFailureRecheckMs = 30'000;
// Keys remembered as recently failed; beyond this the oldest knowledge is dropped (a flood of
// distinct failing names must not grow memory).
inline constexpr size_t kMaxRecentlyFailed = 10'000;

// What became of one handled query. A TCP listener counts Deferred queries as outstanding
// until their reply comes, and Dropped ones never get one.
enum class Disposition : uint8_t { Replied, Deferred, Dropped };

class Pipeline {
 public:
  // `clock` supplies the monotonic time for the failure-recheck window.
  Pipeline(PipelineOptions opts, cache::MessageCache& cache, resolver::Resolver& resolver,
           Scheduler& scheduler, const util::Clock& clock);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  Disposition handle(std::span<const uint8_t> query, const ClientRef& client);

  // Reload: new options apply to queries handled from now on.
  void set_options(PipelineOptions opts);
  // Switches to another resolver for new resolutions. Resolutions running on the old one keep
  // their completions; the caller keeps the old resolver alive (or shuts it down) itself.
  void set_resolver(resolver::Resolver& resolver);
  // Drops every waiter whose reply would go to `sink` (a listener about to close).
  void forget_sink(const ReplySink* sink);
  // Counts every reply and drop in `metrics` from now on (nullptr: stop counting). The
  // metrics object must outlive the pipeline or be unset first.
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }

  size_t pending_resolutions() const { return pending_.size(); }
  size_t waiting_clients() const { return waiting_; }
  const PipelineStats& stats() const { return stats_; }

 private:
  struct Waiter {
    ClientRef client;
    EchoFlags echo;
    dns::Question question;  // as asked, case kept
    dns::EdnsSummary edns;
    uint16_t limit = 512;    // the largest reply this client takes
    std::chrono::steady_clock::time_point start;  // for the latency metric
  };
  struct Pending {
    std::vector<Waiter> waiters;
    resolver::Request request;
    Scheduler::TimerId timer = 0;
  };
  using Key = std::string;  // lower-cased wire qname + qtype + qclass + key flags
  // Keys are looked up as string_views built on the stack (no allocation before a resolution
  // actually starts: the shed path under overload must stay cheap).
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
  };

  // One query's facts, shared by the hit and miss paths.
  struct Query {
    const dns::RequestView* view;
    const ClientRef* client;
    EchoFlags echo;
    uint16_t limit;
    OptReply opt;
    std::array<uint8_t, dns::kMaxNameWire> lower;
    cache::CacheKey key;
    std::array<char, dns::kMaxNameWire + 5> key_bytes;  // the Key's bytes (key_of)
    size_t key_size = 0;
  };

  void handle_query(std::span<const uint8_t> query, const ClientRef& client);
  void handle_parse_error(std::span<const uint8_t> query, const ClientRef& client,
                          dns::RequestError error);
  void answer_query(Query& q);
  bool answer_special(Query& q);
  bool try_cache(Query& q, cache::StalePolicy stale, bool* prefetch);
  void start_resolution(Query& q, std::string_view key, bool prefetch);
  void refuse_over_limit(Query& q);
  void begin(const Key& key, Pending& pending);
  void on_complete(const Key& key, resolver::Outcome outcome);
  void on_client_timeout(const Key& key);
  void answer_waiter_from_message(const Waiter& w, const dns::Message& response);
  bool answer_waiter_stale(const Key& key, const Waiter& w);
  void answer_waiter_error(const Waiter& w, dns::RCode rcode);
  void send(const ClientRef& client, size_t size, AnswerSource source = AnswerSource::Local);
  void send_waiter(const Waiter& w, size_t size, AnswerSource source);
  void count(const ClientRef& client, size_t size, AnswerSource source, uint16_t qtype,
             std::chrono::steady_clock::time_point start);
  static std::string_view key_of(Query& q);
  bool recently_failed(std::string_view key);
  void remember_failure(const Key& key);
  static cache::CacheKey key_view(const Key& key);

  PipelineOptions opts_;
  cache::MessageCache& cache_;
  resolver::Resolver* resolver_;
  Scheduler& scheduler_;
  const util::Clock& clock_;
  Metrics* metrics_ = nullptr;
  std::unordered_map<Key, Pending, KeyHash, std::equal_to<>> pending_;
  std::unordered_map<Key, uint64_t, KeyHash, std::equal_to<>> failed_until_;  // key -> mono ms end of failure recheck
  std::shared_ptr<Pipeline*> alive_;  // completions hold a weak_ptr to this
  RateLimiter limiter_;
  PipelineStats stats_;
  size_t waiting_ = 0;     // waiters over every pending resolution
  uint64_t sent_ = 0;      // replies handed to sinks, to tell Replied from the rest
  bool deferred_ = false;  // the query being handled joined a resolution
  uint16_t cur_qtype_ = 0;  // the query being handled, for metrics
  std::chrono::steady_clock::time_point cur_start_;
  std::unique_ptr<std::array<uint8_t, kReplyBufferSize>> reply_buf_;  // per loop, reused
};

}  // namespace tern::server
