// Metrics: the counters behind `metrics.listen` (Prometheus text exposition format 0.0.4).
// The hot path only increments plain uint64 fields in fixed arrays indexed by small enums:
// no allocation, no locks (one loop per process, DESIGN.md), no string work. Labels are
// mapped to indices with a switch (qtype: a fixed set of common types plus "other"; rcode: the
// assigned values plus "other"). Only the per-upstream family allocates, once per new server,
// on the miss path, and it is capped so a resolver that meets many servers cannot grow it
// without bound. Rendering (a scrape every few seconds) may allocate freely.
//
// Callers: server/ pipeline and listeners (query_answered, tcp_*), client/ transports
// (through client::UpstreamObserver, handed to them by the daemon), the daemon (cache reader, collectors for other modules' stats), metrics_http (render()).
// Invariant: every family render() writes has HELP and TYPE lines and unique label sets, so
// `promtool check metrics` accepts the output.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/upstream_observer.hpp"
#include "net/endpoint.hpp"

namespace tern::server {

enum class MetricType : uint8_t { Counter, Gauge, Histogram };

// Writes the text format; used by Metrics::render and by collectors that export other
// modules' statistics. Label values are escaped (\\, \", \n) as the format requires.
class Exposition {
 public:
  using Label = std::pair<std::string_view, std::string_view>;
  explicit Exposition(std::string& out) : out_(out) {}
  // The # HELP and # TYPE lines; call once per family, before its samples.
  void family(std::string_view name, std::string_view help, MetricType type);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  // For labels built at run time (e.g. histogram le= appended to a family's labels).
  void sample(std::string_view name, const std::vector<Label>& labels, std::string_view value);

 private:
  std::string& out_;
};

enum class Transport : uint8_t { Udp = 0, Tcp = 1 };
inline constexpr size_t kTransportCount = 2;

// Where an answer came from; Local covers REFUSED by ACL, FORMERR, locally served zones.
enum class AnswerSource : uint8_t { Cache = 0, Stale = 1, Resolved = 2, Local = 3 };
inline constexpr size_t kAnswerSourceCount = 4;

// qtypes counted on their own; everything else is "other".
inline constexpr std::array<uint16_t, 19> kTrackedQtypes = {
    1 /*A*/,      2 /*NS*/,     5 /*CNAME*/,  6 /*SOA*/,    12 /*PTR*/,    15 /*MX*/,
    16 /*TXT*/,   28 /*AAAA*/,  33 /*SRV*/,   35 /*NAPTR*/, 43 /*DS*/,     46 /*RRSIG*/,
    47 /*NSEC*/,  48 /*DNSKEY*/, 50 /*NSEC3*/, 64 /*SVCB*/, 65 /*HTTPS*/, 255 /*ANY*/,
    257 /*CAA*/};
inline constexpr size_t kQtypeSlots = kTrackedQtypes.size() + 1;
// RCODE 0..11 as themselves, BADVERS(16) and BADCOOKIE(23), then "other".
inline constexpr size_t kRcodeSlots = 15;

// Histogram bucket upper bounds, in microseconds (0.1 ms .. 10 s; Prometheus le= in seconds).
inline constexpr std::array<uint64_t, 16> kLatencyBucketsUs = {
    100,     250,     500,     1'000,   2'500,     5'000,     10'000,    25'000,
    50'000,  100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

struct Histogram {
  std::array<uint64_t, kLatencyBucketsUs.size() + 1> buckets{};  // per bucket, last is +Inf
  uint64_t count = 0;
  uint64_t sum_us = 0;
  void observe(uint64_t us) noexcept;
};

// Per upstream server: client/ counts these (NetTransport, CaresForwarder) through the
// UpstreamObserver this class implements.
using UpstreamCounters = client::UpstreamCounters;

// The message cache's own numbers, read at scrape time (the cache counts them itself).
struct CacheReading {
  uint64_t hits = 0, misses = 0, stale_hits = 0, inserts = 0, evictions = 0;
  uint64_t entries = 0, bytes = 0;
};

// What a reply says about its query, read from the wire without allocating. rcode includes
// the EDNS extended bits (RFC 6891 §6.1.3). nullopt for fewer than 12 bytes.
struct ReplySummary {
  uint16_t qtype = 0;  // 0 when there is no readable question
  uint16_t rcode = 0;
};
std::optional<ReplySummary> summarize_reply(std::span<const uint8_t> reply) noexcept;

// The logging.queries line for one reply: client, qname, qtype, rcode, latency, source:
//   "127.0.0.1:40000 www.example.com. AAAA NOERROR 0.312ms cache"
// Unreadable replies still give a line ("? ?" for the question).
std::string query_log_line(const net::Endpoint& client, std::span<const uint8_t> reply,
                           AnswerSource source, uint64_t latency_us);

// Server series cap: an iterating resolver talks to thousands of servers; past this many, new
// ones are summed under server="other" so a scrape stays a few hundred KiB at most.
inline constexpr size_t kMaxUpstreamSeries = 256;

class Metrics final : public client::UpstreamObserver {
 public:
  Metrics();

  // One query answered (or refused), counted when its reply is handed to the transport.
  void query_answered(Transport t, uint16_t qtype, uint16_t rcode, AnswerSource source,
                      uint64_t latency_us) noexcept;
  // The same, read from the reply as it goes out (qtype from its question, rcode from the
  // header plus OPT's extended bits): the one call a sender needs. A reply that does not parse
  // that far counts under qtype "other" with its header rcode. Never allocates.
  void observe_reply(Transport t, std::span<const uint8_t> reply, AnswerSource source,
                     uint64_t latency_us) noexcept;
  // A query that got no reply at all (unparseable header, QR=1, ACL drop, send failure).
  void query_dropped(Transport t) noexcept { ++dropped_[idx(t)]; }
  void tcp_connection_opened() noexcept { ++tcp_accepted_; ++tcp_open_; }
  void tcp_connection_closed() noexcept { if (tcp_open_ > 0) --tcp_open_; }
  void tcp_connection_refused() noexcept { ++tcp_refused_; }
  void prefetch_started() noexcept { ++prefetches_; }

  // The counters for one server, created on first use; the reference stays valid for the
  // life of this object. A known server (or any once the cap is reached) is found without
  // allocating.
  UpstreamCounters& upstream(const net::Endpoint& server);
  UpstreamCounters& upstream_counters(const net::Endpoint& server) override { return upstream(server); }
  // The same by text form, e.g. "192.0.2.1:53" (tests, tools); text that is not an endpoint
  // counts as "other".
  UpstreamCounters& upstream(std::string_view server);

  // Read at each render; without one, cache families are left out.
  void set_cache_reader(std::function<CacheReading()> reader) { cache_reader_ = std::move(reader); }
  // Extra families (another module's stats) appended to every render.
  void add_collector(std::function<void(Exposition&)> collector);

  // Appends the whole exposition to out.
  void render(std::string& out) const;

  // For tests and `ternctl stats`.
  uint64_t queries(Transport t, uint16_t qtype, uint16_t rcode) const;
  uint64_t queries_total(Transport t) const;
  uint64_t rcode_total(uint16_t rcode) const;  // both transports, every qtype
  uint64_t dropped(Transport t) const { return dropped_[idx(t)]; }
  uint64_t answers(AnswerSource s) const { return answers_[static_cast<size_t>(s)]; }
  uint64_t tcp_open() const { return tcp_open_; }
  const Histogram& latency(AnswerSource s) const { return latency_[hist_idx(s)]; }

  static size_t qtype_slot(uint16_t qtype) noexcept;
  static size_t rcode_slot(uint16_t rcode) noexcept;

 private:
  static size_t idx(Transport t) noexcept { return static_cast<size_t>(t); }
  // Cache and stale answers share the "cache" histogram, the rest "resolve" or "local".
  static size_t hist_idx(AnswerSource s) noexcept;

  std::array<std::array<std::array<uint64_t, kRcodeSlots>, kQtypeSlots>, kTransportCount> queries_{};
  std::array<uint64_t, kAnswerSourceCount> answers_{};
  std::array<uint64_t, kTransportCount> dropped_{};
  std::array<Histogram, 3> latency_{};
  uint64_t tcp_accepted_ = 0, tcp_open_ = 0, tcp_refused_ = 0, prefetches_ = 0;

  std::unordered_map<net::Endpoint, std::unique_ptr<UpstreamCounters>> upstreams_;
  UpstreamCounters upstream_other_;
  std::function<CacheReading()> cache_reader_;
  std::vector<std::function<void(Exposition&)>> collectors_;
};

}  // namespace tern::server
