#include "support/server_stats.hpp"

namespace tern::daemon {

namespace {

struct Field {
  const char* key;     // JSON key; the metric is tern_pipeline_<key>_total
  const char* help;
  uint64_t server::PipelineStats::*member;
};

constexpr Field kFields[] = {
    {"queries", "Packets handed to the request pipeline.", &server::PipelineStats::queries},
    {"dropped", "Queries given no reply (no header, QR=1, ACL deny).", &server::PipelineStats::dropped},
    {"formerr", "Queries answered FORMERR.", &server::PipelineStats::formerr},
    {"notimp", "Queries answered NOTIMP.", &server::PipelineStats::notimp},
    {"refused", "Queries answered REFUSED.", &server::PipelineStats::refused},
    {"badvers", "Queries answered BADVERS (RFC 6891).", &server::PipelineStats::badvers},
    {"servfail", "Queries answered SERVFAIL.", &server::PipelineStats::servfail},
    {"cache_hits", "Queries answered from the message cache.", &server::PipelineStats::cache_hits},
    {"cache_misses", "Queries the message cache could not answer.", &server::PipelineStats::cache_misses},
    {"truncated", "UDP replies cut to TC=1.", &server::PipelineStats::truncated},
    {"coalesced", "Misses that joined a resolution already in flight.", &server::PipelineStats::coalesced},
    {"resolutions", "Resolutions started.", &server::PipelineStats::resolutions},
    {"stale_answers", "Replies served from expired data (RFC 8767).", &server::PipelineStats::stale_answers},
    {"prefetches", "Background refreshes started.", &server::PipelineStats::prefetches},
    {"over_limit",
     "SERVFAIL because resolver.max-concurrent resolutions or resolver.max-waiting-clients "
     "waiting clients were in flight.",
     &server::PipelineStats::over_limit},
    {"shed", "Misses given no new resolution because their UDP socket's queue was backlogged.",
     &server::PipelineStats::shed},
    {"shed_dropped", "Shed misses given no reply (no stale data to answer with).",
     &server::PipelineStats::shed_dropped},
    {"rate_limited", "UDP queries over server.rate-limit.", &server::PipelineStats::rate_limited},
    {"rate_dropped", "Rate-limited queries given no reply.", &server::PipelineStats::rate_dropped},
    {"rate_slipped", "Rate-limited queries given a TC=1 reply (slip).", &server::PipelineStats::rate_slipped},
};

}  // namespace

void add_pipeline_collector(server::Metrics& metrics, const server::PipelineStats& stats) {
  metrics.add_collector([&stats](server::Exposition& e) {
    for (const Field& f : kFields) {
      const std::string name = std::string("tern_pipeline_") + f.key + "_total";
      e.family(name, f.help, server::MetricType::Counter);
      e.sample(name, {}, stats.*f.member);
    }
  });
}

void add_udp_collector(server::Metrics& metrics, const server::Server& srv) {
  struct UdpField {
    const char* name;
    const char* help;
    uint64_t server::UdpStats::*member;
  };
  static constexpr UdpField kUdp[] = {
      {"tern_udp_received_total", "Datagrams read from the UDP listeners.", &server::UdpStats::received},
      {"tern_udp_backlogged_total", "Queries read while their socket's receive queue was backlogged.",
       &server::UdpStats::backlogged},
      {"tern_udp_kernel_drops_total", "Datagrams the kernel dropped on the UDP listeners (queue full).",
       &server::UdpStats::kernel_drops},
      {"tern_udp_send_dropped_total", "Replies dropped because the send queue was full.",
       &server::UdpStats::send_dropped},
  };
  metrics.add_collector([&srv](server::Exposition& e) {
    server::UdpStats s = srv.udp_stats();
    for (const UdpField& f : kUdp) {
      e.family(f.name, f.help, server::MetricType::Counter);
      e.sample(f.name, {}, s.*f.member);
    }
  });
}

void write_pipeline_stats(server::JsonWriter& w, const server::PipelineStats& stats) {
  w.key("pipeline").begin_object();
  for (const Field& f : kFields) w.key(f.key).value(stats.*f.member);
  w.end_object();
}

}  // namespace tern::daemon
