#include "server/metrics.hpp"

#include <algorithm>
#include <cstdio>

#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire_reader.hpp"

namespace tern::server {

namespace {

void append_escaped_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

template <class Labels>
void append_sample(std::string& out, std::string_view name, const Labels& labels,
                   std::string_view value) {
  out.append(name);
  if (labels.size() > 0) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out.push_back(',');
      first = false;
      out.append(k);
      out += "=\"";
      append_escaped_label(out, v);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  out.append(value);
  out.push_back('\n');
}

// Seconds from microseconds, exactly (no float rounding of large sums).
std::string seconds_text(uint64_t us) {
  char buf[32];
  // At most 20 + 1 + 6 chars: fits.
  (void)std::snprintf(buf, sizeof buf, "%llu.%06llu",
                      static_cast<unsigned long long>(us / 1'000'000u),
                      static_cast<unsigned long long>(us % 1'000'000u));
  return buf;
}

std::string le_text(uint64_t us) {
  std::string s = seconds_text(us);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

constexpr std::array<const char*, kTransportCount> kTransportNames = {"udp", "tcp"};
constexpr std::array<const char*, kAnswerSourceCount> kSourceNames = {"cache", "stale", "resolved",
                                                                      "local"};
constexpr std::array<const char*, 3> kPathNames = {"cache", "resolve", "local"};

uint16_t rcode_of_slot(size_t slot) {
  if (slot <= 11) return static_cast<uint16_t>(slot);
  return slot == 12 ? uint16_t{16} : uint16_t{23};
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view help, MetricType type) {
  out_ += "# HELP ";
  out_.append(name);
  out_.push_back(' ');
  append_help(out_, help);
  out_ += "\n# TYPE ";
  out_.append(name);
  out_ += type == MetricType::Counter ? " counter\n"
          : type == MetricType::Gauge ? " gauge\n"
                                      : " histogram\n";
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels,
                        uint64_t value) {
  append_sample(out_, name, labels, std::to_string(value));
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%.17g", value);  // at most 24 chars: fits
  append_sample(out_, name, labels, buf);
}

void Exposition::sample(std::string_view name, const std::vector<Label>& labels,
                        std::string_view value) {
  append_sample(out_, name, labels, value);
}

void Histogram::observe(uint64_t us) noexcept {
  size_t i = 0;
  while (i < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[i]) ++i;
  ++buckets[i];
  ++count;
  sum_us += us;
}

Metrics::Metrics() = default;

size_t Metrics::qtype_slot(uint16_t qtype) noexcept {
  for (size_t i = 0; i < kTrackedQtypes.size(); ++i)
    if (kTrackedQtypes[i] == qtype) return i;
  return kTrackedQtypes.size();
}

size_t Metrics::rcode_slot(uint16_t rcode) noexcept {
  if (rcode <= 11) return rcode;
  if (rcode == 16) return 12;
  if (rcode == 23) return 13;
  return 14;
}

size_t Metrics::hist_idx(AnswerSource s) noexcept {
  switch (s) {
    case AnswerSource::Cache:
    case AnswerSource::Stale: return 0;
    case AnswerSource::Resolved: return 1;
    case AnswerSource::Local: return 2;
  }
  return 2;
}

void Metrics::query_answered(Transport t, uint16_t qtype, uint16_t rcode, AnswerSource source,
                             uint64_t latency_us) noexcept {
  ++queries_[idx(t)][qtype_slot(qtype)][rcode_slot(rcode)];
  ++answers_[static_cast<size_t>(source)];
  latency_[hist_idx(source)].observe(latency_us);
}

std::optional<ReplySummary> summarize_reply(std::span<const uint8_t> reply) noexcept {
  if (reply.size() < 12) return std::nullopt;
  ReplySummary out;
  out.rcode = reply[3] & 0x0F;
  dns::WireReader r(reply, 4);
  const uint16_t qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
  if (qd != 1) return out;  // RFC 9619: anything else is FORMERR material, no qtype to name
  r.skip_name();
  const uint16_t qtype = r.u16();
  r.skip(2);
  if (!r.ok()) return out;
  out.qtype = qtype;
  // The extended rcode lives in OPT's TTL field (RFC 6891 §6.1.3): walk to it, skipping data.
  const uint32_t records = uint32_t{an} + ns + ar;
  for (uint32_t i = 0; i < records && r.ok(); ++i) {
    r.skip_name();
    const uint16_t type = r.u16();
    r.skip(2);
    const uint32_t ttl = r.u32();
    r.skip(r.u16());
    if (r.ok() && i >= uint32_t{an} + ns && type == 41) {
      out.rcode = static_cast<uint16_t>(((ttl >> 24) << 4) | out.rcode);
      break;
    }
  }
  return out;
}

std::string query_log_line(const net::Endpoint& client, std::span<const uint8_t> reply,
                           AnswerSource source, uint64_t latency_us) {
  std::string line = client.to_string();
  std::string qname = "?", qtype = "?", rcode = "?";
  if (auto sum = summarize_reply(reply)) {
    rcode = dns::rcode_to_text(static_cast<dns::RCode>(sum->rcode));
    dns::WireReader r(reply, 12);
    if (reply[4] == 0 && reply[5] == 1) {
      dns::Name name = r.name();
      if (r.ok()) {
        qname = name.to_text();
        qtype = dns::type_to_text(static_cast<dns::RRType>(sum->qtype));
      }
    }
  }
  char ms[32];
  // At most 20 + 1 + 3 + 2 chars: fits.
  (void)std::snprintf(ms, sizeof ms, "%llu.%03llums",
                      static_cast<unsigned long long>(latency_us / 1000),
                      static_cast<unsigned long long>(latency_us % 1000));
  line += ' ' + qname + ' ' + qtype + ' ' + rcode + ' ' + ms + ' ' +
          kSourceNames[static_cast<size_t>(source)];
  return line;
}

void Metrics::observe_reply(Transport t, std::span<const uint8_t> reply, AnswerSource source,
                            uint64_t latency_us) noexcept {
  auto sum = summarize_reply(reply);
  if (!sum) {
    ++dropped_[idx(t)];  // not a DNS reply: nothing a client can use
    return;
  }
  query_answered(t, sum->qtype, sum->rcode, source, latency_us);
}

uint64_t Metrics::queries(Transport t, uint16_t qtype, uint16_t rcode) const {
  return queries_[idx(t)][qtype_slot(qtype)][rcode_slot(rcode)];
}

uint64_t Metrics::queries_total(Transport t) const {
  uint64_t sum = 0;
  for (const auto& by_rcode : queries_[idx(t)])
    for (uint64_t v : by_rcode) sum += v;
  return sum;
}

uint64_t Metrics::rcode_total(uint16_t rcode) const {
  uint64_t sum = 0;
  const size_t r = rcode_slot(rcode);
  for (const auto& by_qtype : queries_)
    for (const auto& by_rcode : by_qtype) sum += by_rcode[r];
  return sum;
}

UpstreamCounters& Metrics::upstream(const net::Endpoint& server) {
  if (auto it = upstreams_.find(server); it != upstreams_.end()) return *it->second;
  if (upstreams_.size() >= kMaxUpstreamSeries) return upstream_other_;
  auto [it, inserted] = upstreams_.emplace(server, std::make_unique<UpstreamCounters>());
  (void)inserted;
  return *it->second;
}

UpstreamCounters& Metrics::upstream(std::string_view server) {
  auto ep = net::parse_endpoint(server);
  return ep ? upstream(*ep) : upstream_other_;
}

void Metrics::add_collector(std::function<void(Exposition&)> collector) {
  collectors_.push_back(std::move(collector));
}

void Metrics::render(std::string& out) const {
  Exposition e(out);

  e.family("tern_queries_total", "DNS queries answered, by transport, qtype and rcode.",
           MetricType::Counter);
  for (size_t t = 0; t < kTransportCount; ++t)
    for (size_t q = 0; q < kQtypeSlots; ++q)
      for (size_t r = 0; r < kRcodeSlots; ++r) {
        uint64_t v = queries_[t][q][r];
        if (v == 0) continue;
        std::string qtype = q < kTrackedQtypes.size()
                                ? dns::type_to_text(static_cast<dns::RRType>(kTrackedQtypes[q]))
                                : std::string("other");
        std::string rcode = r < kRcodeSlots - 1
                                ? dns::rcode_to_text(static_cast<dns::RCode>(rcode_of_slot(r)))
                                : std::string("other");
        e.sample("tern_queries_total",
                 {{"transport", kTransportNames[t]}, {"qtype", qtype}, {"rcode", rcode}}, v);
      }

  e.family("tern_queries_dropped_total", "DNS queries that got no reply, by transport.",
           MetricType::Counter);
  for (size_t t = 0; t < kTransportCount; ++t)
    e.sample("tern_queries_dropped_total", {{"transport", kTransportNames[t]}}, dropped_[t]);

  e.family("tern_answers_total",
           "Answers by source: cache (fresh), stale (RFC 8767), resolved, local.",
           MetricType::Counter);
  for (size_t s = 0; s < kAnswerSourceCount; ++s)
    e.sample("tern_answers_total", {{"source", kSourceNames[s]}}, answers_[s]);

  e.family("tern_query_duration_seconds",
           "Time from receiving a query to handing its reply to the transport, by path.",
           MetricType::Histogram);
  for (size_t h = 0; h < latency_.size(); ++h) {
    const Histogram& hist = latency_[h];
    uint64_t cumulative = 0;
    for (size_t b = 0; b < hist.buckets.size(); ++b) {
      cumulative += hist.buckets[b];
      std::string le = b < kLatencyBucketsUs.size() ? le_text(kLatencyBucketsUs[b]) : "+Inf";
      e.sample("tern_query_duration_seconds_bucket", {{"path", kPathNames[h]}, {"le", le}},
               std::to_string(cumulative));
    }
    e.sample("tern_query_duration_seconds_sum", {{"path", kPathNames[h]}},
             seconds_text(hist.sum_us));
    e.sample("tern_query_duration_seconds_count", {{"path", kPathNames[h]}},
             std::to_string(hist.count));
  }

  e.family("tern_prefetches_total", "Background refreshes of popular entries near expiry.",
           MetricType::Counter);
  e.sample("tern_prefetches_total", {}, prefetches_);

  e.family("tern_tcp_connections_total", "TCP client connections accepted.", MetricType::Counter);
  e.sample("tern_tcp_connections_total", {}, tcp_accepted_);
  e.family("tern_tcp_connections_refused_total",
           "TCP client connections closed at once because the connection cap was reached.",
           MetricType::Counter);
  e.sample("tern_tcp_connections_refused_total", {}, tcp_refused_);
  e.family("tern_tcp_connections_open", "TCP client connections open now.", MetricType::Gauge);
  e.sample("tern_tcp_connections_open", {}, tcp_open_);

  if (cache_reader_) {
    const CacheReading c = cache_reader_();
    e.family("tern_cache_hits_total", "Message cache lookups answered.", MetricType::Counter);
    e.sample("tern_cache_hits_total", {}, c.hits);
    e.family("tern_cache_misses_total", "Message cache lookups not answered.", MetricType::Counter);
    e.sample("tern_cache_misses_total", {}, c.misses);
    e.family("tern_cache_stale_hits_total", "Message cache lookups answered with stale data.",
             MetricType::Counter);
    e.sample("tern_cache_stale_hits_total", {}, c.stale_hits);
    e.family("tern_cache_inserts_total", "Answers stored in the message cache.",
             MetricType::Counter);
    e.sample("tern_cache_inserts_total", {}, c.inserts);
    e.family("tern_cache_evictions_total", "Entries evicted to stay within cache.max-size.",
             MetricType::Counter);
    e.sample("tern_cache_evictions_total", {}, c.evictions);
    e.family("tern_cache_entries", "Entries in the message cache.", MetricType::Gauge);
    e.sample("tern_cache_entries", {}, c.entries);
    e.family("tern_cache_size_bytes", "Bytes held by the message cache, all accounted.",
             MetricType::Gauge);
    e.sample("tern_cache_size_bytes", {}, c.bytes);
  }

  std::vector<std::pair<std::string, const UpstreamCounters*>> ups;
  ups.reserve(upstreams_.size() + 1);
  for (const auto& [server, counters] : upstreams_) ups.emplace_back(server.to_string(), counters.get());
  std::sort(ups.begin(), ups.end());
  const UpstreamCounters& o = upstream_other_;
  if (upstreams_.size() >= kMaxUpstreamSeries || o.queries + o.timeouts + o.spoof_attempts + o.errors > 0)
    ups.emplace_back("other", &upstream_other_);
  struct Field {
    const char* name;
    const char* help;
    uint64_t UpstreamCounters::*member;
  };
  static constexpr Field kFields[] = {
      {"tern_upstream_queries_total", "Queries sent to each upstream server.",
       &UpstreamCounters::queries},
      {"tern_upstream_timeouts_total", "Queries to each upstream server that timed out.",
       &UpstreamCounters::timeouts},
      {"tern_upstream_spoof_attempts_total",
       "Replies from each upstream server rejected for a wrong source, ID or question.",
       &UpstreamCounters::spoof_attempts},
      {"tern_upstream_errors_total",
       "Network errors and malformed replies, per upstream server.", &UpstreamCounters::errors},
  };
  for (const Field& f : kFields) {
    e.family(f.name, f.help, MetricType::Counter);
    for (const auto& [name, counters] : ups) e.sample(f.name, {{"server", name}}, counters->*f.member);
  }

  for (const auto& c : collectors_) c(e);
}

}  // namespace tern::server
