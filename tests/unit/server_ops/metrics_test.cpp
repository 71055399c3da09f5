#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "server/metrics.hpp"

using namespace tern::server;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

Metrics busy_metrics() {
  Metrics m;
  m.query_answered(Transport::Udp, 1, 0, AnswerSource::Cache, 40);
  m.query_answered(Transport::Udp, 1, 0, AnswerSource::Cache, 90);
  m.query_answered(Transport::Udp, 28, 3, AnswerSource::Resolved, 12'000);
  m.query_answered(Transport::Tcp, 99, 2, AnswerSource::Resolved, 20'000'000);  // SPF: other
  m.query_answered(Transport::Udp, 1, 5, AnswerSource::Local, 10);
  m.query_answered(Transport::Udp, 16, 0, AnswerSource::Stale, 1'800'000);
  m.query_dropped(Transport::Udp);
  m.tcp_connection_opened();
  m.tcp_connection_opened();
  m.tcp_connection_closed();
  m.tcp_connection_refused();
  m.prefetch_started();
  auto& up = m.upstream("127.53.0.1:53");
  up.queries += 3;
  up.timeouts += 1;
  m.upstream("[::1]:53").spoof_attempts += 2;
  m.set_cache_reader([] {
    CacheReading c;
    c.hits = 3;
    c.misses = 2;
    c.stale_hits = 1;
    c.inserts = 2;
    c.evictions = 1;
    c.entries = 1;
    c.bytes = 420;
    return c;
  });
  return m;
}

}  // namespace

TEST_CASE("queries are counted by transport, qtype and rcode, unknown ones as other", "[metrics]") {
  Metrics m;
  m.query_answered(Transport::Udp, 1, 0, AnswerSource::Cache, 5);
  m.query_answered(Transport::Udp, 1, 0, AnswerSource::Cache, 5);
  m.query_answered(Transport::Tcp, 1, 0, AnswerSource::Resolved, 5);
  m.query_answered(Transport::Udp, 4242, 0, AnswerSource::Resolved, 5);
  m.query_answered(Transport::Udp, 1, 4000, AnswerSource::Resolved, 5);
  CHECK(m.queries(Transport::Udp, 1, 0) == 2);
  CHECK(m.queries(Transport::Tcp, 1, 0) == 1);
  CHECK(m.queries(Transport::Udp, 4243, 0) == 1);  // both unknown types share "other"
  CHECK(m.queries(Transport::Udp, 1, 3999) == 1);  // both unassigned rcodes share "other"
  CHECK(m.answers(AnswerSource::Cache) == 2);
  CHECK(m.answers(AnswerSource::Resolved) == 3);
}

TEST_CASE("the latency histogram puts each observation in the first bucket that holds it", "[metrics]") {
  Histogram h;
  h.observe(0);
  h.observe(100);       // exactly on the 0.1 ms bound: le is inclusive
  h.observe(101);
  h.observe(20'000'000);  // beyond 10 s: +Inf
  CHECK(h.buckets[0] == 2);
  CHECK(h.buckets[1] == 1);
  CHECK(h.buckets.back() == 1);
  CHECK(h.count == 4);
  CHECK(h.sum_us == 20'000'201);
}

TEST_CASE("the exposition names every family with HELP and TYPE and cumulative buckets", "[metrics]") {
  Metrics m = busy_metrics();
  std::string out;
  m.render(out);
  CHECK(has_line(out, "# TYPE tern_queries_total counter"));
  CHECK(has_line(out, "tern_queries_total{transport=\"udp\",qtype=\"A\",rcode=\"NOERROR\"} 2"));
  CHECK(has_line(out, "tern_queries_total{transport=\"udp\",qtype=\"AAAA\",rcode=\"NXDOMAIN\"} 1"));
  CHECK(has_line(out, "tern_queries_total{transport=\"tcp\",qtype=\"other\",rcode=\"SERVFAIL\"} 1"));
  CHECK(out.find("qtype=\"MX\"") == std::string::npos);  // zero series are not written
  CHECK(has_line(out, "tern_answers_total{source=\"stale\"} 1"));
  CHECK(has_line(out, "# TYPE tern_query_duration_seconds histogram"));
  CHECK(has_line(out, "tern_query_duration_seconds_bucket{path=\"cache\",le=\"0.0001\"} 2"));
  CHECK(has_line(out, "tern_query_duration_seconds_bucket{path=\"cache\",le=\"1\"} 2"));
  CHECK(has_line(out, "tern_query_duration_seconds_bucket{path=\"cache\",le=\"2.5\"} 3"));
  CHECK(has_line(out, "tern_query_duration_seconds_bucket{path=\"cache\",le=\"+Inf\"} 3"));
  CHECK(has_line(out, "tern_query_duration_seconds_sum{path=\"cache\"} 1.800130"));
  CHECK(has_line(out, "tern_query_duration_seconds_count{path=\"resolve\"} 2"));
  CHECK(has_line(out, "tern_query_duration_seconds_bucket{path=\"resolve\",le=\"10\"} 1"));
  CHECK(has_line(out, "tern_tcp_connections_open 1"));
  CHECK(has_line(out, "tern_tcp_connections_total 2"));
  CHECK(has_line(out, "tern_cache_size_bytes 420"));
  CHECK(has_line(out, "tern_cache_evictions_total 1"));
  CHECK(has_line(out, "tern_upstream_queries_total{server=\"127.53.0.1:53\"} 3"));
  CHECK(has_line(out, "tern_upstream_spoof_attempts_total{server=\"[::1]:53\"} 2"));
  CHECK(has_line(out, "tern_queries_dropped_total{transport=\"udp\"} 1"));
  CHECK(has_line(out, "tern_prefetches_total 1"));
}

TEST_CASE("upstream series stop growing at the cap and the rest are summed as other", "[metrics]") {
  Metrics m;
  UpstreamCounters* first = &m.upstream("127.53.0.0:53");
  for (size_t i = 1; i < kMaxUpstreamSeries + 10; ++i)
    ++m.upstream(tern::net::Endpoint{tern::net::Address::v4(127, 53, static_cast<uint8_t>(1 + i / 200),
                                                static_cast<uint8_t>(i % 200)),
                               53})
          .queries;
  CHECK(&m.upstream("127.53.0.0:53") == first);  // references stay valid
  std::string out;
  m.render(out);
  CHECK(has_line(out, "tern_upstream_queries_total{server=\"other\"} 10"));
  size_t series = 0;
  for (size_t p = 0; (p = out.find("\ntern_upstream_queries_total{", p)) != std::string::npos; ++p)
    ++series;
  CHECK(series == kMaxUpstreamSeries + 1);
}

TEST_CASE("label values are escaped and collectors add their own families", "[metrics]") {
  Metrics m;
  m.add_collector([](Exposition& e) {
    e.family("tern_test_total", "A family from another module.", MetricType::Counter);
    e.sample("tern_test_total", {{"name", "a\"b\\c\nd"}}, uint64_t{7});
  });
  std::string out;
  m.render(out);
  CHECK(has_line(out, "tern_test_total{name=\"a\\\"b\\\\c\\nd\"} 7"));
}

TEST_CASE("promtool accepts the exposition", "[metrics][promtool]") {
  Metrics m = busy_metrics();
  m.add_collector([](Exposition& e) {
    e.family("tern_pipeline_coalesced_total", "Misses that joined a resolution in flight.",
             MetricType::Counter);
    e.sample("tern_pipeline_coalesced_total", {}, uint64_t{4});
  });
  std::string out;
  m.render(out);
  std::string path = "/tmp/tern-metrics-" + std::to_string(::getpid()) + ".prom";
  {
    std::ofstream f(path);
    f << out;
  }
  std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string said;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) said.append(buf, n);
  int status = ::pclose(p);
  ::unlink(path.c_str());
  INFO("promtool said: " << said);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(said.empty());  // lint findings are printed even when the exit code is 0
}

namespace {

// www.example.com AAAA reply: header, question, one A-less answer, optional OPT.
std::vector<uint8_t> reply_bytes(uint8_t header_rcode, bool with_opt, uint8_t ext_rcode) {
  std::vector<uint8_t> b = {0x12, 0x34, 0x81, static_cast<uint8_t>(0x80 | header_rcode),
                            0, 1, 0, 1, 0, 0, 0, static_cast<uint8_t>(with_opt ? 1 : 0)};
  const uint8_t qname[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
  b.insert(b.end(), qname, qname + sizeof qname);
  b.insert(b.end(), {0, 28, 0, 1});
  // answer: pointer to the qname, AAAA IN TTL 60, 16 bytes of ::1
  b.insert(b.end(), {0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16});
  for (int i = 0; i < 15; ++i) b.push_back(0);
  b.push_back(1);
  if (with_opt) b.insert(b.end(), {0, 0, 41, 0x04, 0xD0, ext_rcode, 0, 0, 0, 0, 0});
  return b;
}

}  // namespace

TEST_CASE("a reply on its way out is counted by its own qtype and full rcode", "[metrics]") {
  Metrics m;
  m.observe_reply(Transport::Udp, reply_bytes(3, false, 0), AnswerSource::Resolved, 500);
  m.observe_reply(Transport::Tcp, reply_bytes(0, true, 1), AnswerSource::Local, 10);  // BADVERS
  m.observe_reply(Transport::Udp, reply_bytes(0, true, 0), AnswerSource::Cache, 10);
  CHECK(m.queries(Transport::Udp, 28, 3) == 1);
  CHECK(m.queries(Transport::Tcp, 28, 16) == 1);
  CHECK(m.queries(Transport::Udp, 28, 0) == 1);
  CHECK(m.answers(AnswerSource::Cache) == 1);
}

TEST_CASE("replies too short or without a readable question are still accounted", "[metrics]") {
  Metrics m;
  std::vector<uint8_t> header_only = {0, 1, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0};  // FORMERR, no question
  m.observe_reply(Transport::Udp, header_only, AnswerSource::Local, 1);
  CHECK(m.queries(Transport::Udp, 0, 1) == 1);  // qtype "other"
  auto cut = reply_bytes(0, true, 0);
  cut.resize(20);  // the question is cut short
  m.observe_reply(Transport::Udp, cut, AnswerSource::Local, 1);
  CHECK(m.queries(Transport::Udp, 0, 0) == 1);
  m.observe_reply(Transport::Udp, std::vector<uint8_t>{1, 2, 3}, AnswerSource::Local, 1);
  CHECK(m.dropped(Transport::Udp) == 1);
  // A lying arcount runs off the end without harm.
  auto lying = reply_bytes(0, false, 0);
  lying[11] = 200;
  m.observe_reply(Transport::Udp, lying, AnswerSource::Cache, 1);
  CHECK(m.queries(Transport::Udp, 28, 0) == 1);
}

TEST_CASE("the query log line names client, question, rcode, latency and source", "[metrics]") {
  auto client = *tern::net::parse_endpoint("[::1]:40000");
  CHECK(query_log_line(client, reply_bytes(3, false, 0), AnswerSource::Resolved, 12345) ==
        "[::1]:40000 www.example.com. AAAA NXDOMAIN 12.345ms resolved");
  CHECK(query_log_line(client, reply_bytes(0, true, 1), AnswerSource::Cache, 7) ==
        "[::1]:40000 www.example.com. AAAA BADVERS 0.007ms cache");
  CHECK(query_log_line(client, std::vector<uint8_t>{1}, AnswerSource::Local, 0) ==
        "[::1]:40000 ? ? ? 0.000ms local");
}

TEST_CASE("as the transports' upstream observer, metrics hand out one counter set per server",
          "[metrics]") {
  Metrics m;
  tern::client::UpstreamObserver& observer = m;
  const tern::net::Endpoint server{tern::net::Address::v4(127, 53, 0, 7), 53};
  tern::client::UpstreamCounters& a = observer.upstream_counters(server);
  CHECK(&observer.upstream_counters(server) == &a);
  CHECK(&m.upstream("127.53.0.7:53") == &a);  // the text form names the same server
  a.queries = 5;
  a.errors = 1;
  CHECK(&m.upstream("not an endpoint") != &a);
  std::string out;
  m.render(out);
  CHECK(has_line(out, "tern_upstream_queries_total{server=\"127.53.0.7:53\"} 5"));
  CHECK(has_line(out, "tern_upstream_errors_total{server=\"127.53.0.7:53\"} 1"));
  CHECK(has_line(out, "tern_upstream_timeouts_total{server=\"127.53.0.7:53\"} 0"));
}
