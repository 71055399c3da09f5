#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "../cache/cache_fixtures.hpp"
#include "server/control_commands.hpp"

using namespace tern;
using namespace tern::server;
using cache::test::a;
using cache::test::Client;
using cache::test::response;

namespace {

// An SOA record built here: cache_fixtures.hpp's soa() keeps a span into a temporary Name
// (a stack-use-after-scope under ASan), reported to the cache module's owner.
dns::ResourceRecord soa(const char* zone, uint32_t ttl, uint32_t minimum) {
  std::vector<uint8_t> d;
  for (const char* n : {"ns1.example.", "hostmaster.example."}) {
    const dns::Name name = cache::test::N(n);
    d.insert(d.end(), name.wire().begin(), name.wire().end());
  }
  for (uint32_t v : {2024010101u, 7200u, 3600u, 1209600u, minimum})
    for (int s = 24; s >= 0; s -= 8) d.push_back(static_cast<uint8_t>(v >> s));
  return cache::test::rr(zone, dns::RRType::SOA, ttl, std::move(d));
}

struct Fixture {
  uv_loop_t loop{};
  util::FakeClock clock;
  cache::MessageCache cache{cache::CacheOptions{}, clock};
  Metrics metrics;
  ControlOptions opts;
  std::unique_ptr<ControlServer> server;
  std::vector<std::string> levels;
  int reloads = 0;
  bool reload_fails = false;

  Fixture() {
    uv_loop_init(&loop);
    server = std::make_unique<ControlServer>(&loop, opts);
    ControlContext ctx;
    ctx.cache = &cache;
    ctx.metrics = &metrics;
    ctx.clock = &clock;
    ctx.version = "0.1.0";
    ctx.started_at = clock.wall_seconds() - 90;
    ctx.reload = [this]() -> util::Expected<std::vector<std::string>, std::string> {
      ++reloads;
      if (reload_fails) return util::unexpected(std::string("ternd.yaml:3:5: cache.max-size: not a size"));
      return std::vector<std::string>{"server.listen changes need a restart"};
    };
    ctx.set_log_level = [this](std::string_view l) -> util::Expected<void, std::string> {
      if (l != "debug" && l != "info") return util::unexpected(std::string("unknown level '") + std::string(l) + "'");
      levels.emplace_back(l);
      return {};
    };
    ctx.stats_extra = [](JsonWriter& w) { w.key("coalesced").value(uint64_t{7}); };
    register_standard_commands(*server, std::move(ctx));
  }
  ~Fixture() {
    server->close([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
    server.reset();
    uv_loop_close(&loop);
  }
  JsonValue ok(const std::string& line) {
    auto v = parse_json(server->execute(line));
    REQUIRE(v);
    INFO(line << " -> " << v->dump());
    REQUIRE(v->find("ok")->boolean);
    return *v->find("result");
  }
  std::string error(const std::string& line) {
    auto v = parse_json(server->execute(line));
    REQUIRE(v);
    REQUIRE_FALSE(v->find("ok")->boolean);
    return v->find("error")->text;
  }
  void fill() {
    cache.insert(Client("example.com").key(), response(dns::RCode::NoError, {a("example.com", 300)}));
    cache.insert(Client("www.example.com").key(), response(dns::RCode::NoError, {a("www.example.com", 300)}));
    cache.insert(Client("a.b.example.com").key(), response(dns::RCode::NoError, {a("a.b.example.com", 300)}));
    cache.insert(Client("example.org").key(), response(dns::RCode::NoError, {a("example.org", 300)}));
    REQUIRE(cache.entries() == 4);
  }
};

}  // namespace

TEST_CASE("flush drops one name, a subtree, or everything, and refuses a bad name", "[control][commands]") {
  Fixture f;
  f.fill();
  CHECK(f.ok("flush www.example.com").find("flushed")->text == "1");
  CHECK(f.cache.entries() == 3);
  CHECK(f.ok("flush example.com subtree").find("flushed")->text == "2");
  CHECK(f.cache.entries() == 1);
  CHECK(f.error("flush exa..mple.org") == "'exa..mple.org' is not a domain name");
  CHECK(f.error("flush example.org below") == "usage: flush [NAME [subtree]]");
  CHECK(f.cache.entries() == 1);
  CHECK(f.ok("flush").find("flushed")->text == "1");
  CHECK(f.cache.entries() == 0);
}

TEST_CASE("lookup shows what the cache holds, with the remaining lifetime", "[control][commands]") {
  Fixture f;
  f.fill();
  f.clock.advance_seconds(100);
  JsonValue r = f.ok("lookup WWW.Example.COM a");
  CHECK(r.find("name")->text == "www.example.com.");
  CHECK(r.find("type")->text == "A");
  const JsonValue* entries = r.find("entries");
  REQUIRE(entries->items.size() == 1);
  const JsonValue& e = entries->items[0];
  CHECK(e.find("state")->text == "fresh");
  CHECK(e.find("rcode")->text == "NOERROR");
  CHECK(e.find("expires_in")->text == "200");
  REQUIRE(e.find("answer")->items.size() == 1);
  CHECK(e.find("answer")->items[0].text == "www.example.com. 200 IN A 192.0.2.1");

  CHECK(f.ok("lookup nothing.example.com A").find("entries")->items.empty());
  CHECK(f.error("lookup example.com NOTATYPE") == "'NOTATYPE' is not a record type");
  CHECK(f.error("lookup example.com") == "usage: lookup NAME TYPE");
}

TEST_CASE("cache dump writes a file that cache load brings back", "[control][commands]") {
  Fixture f;
  f.fill();
  f.cache.insert(Client("nope.example.com").key(),
                 response(dns::RCode::NxDomain, {}, {soa("example.com", 600, 300)}));
  const std::string file = "/tmp/tern-dump-" + std::to_string(::getpid()) + ".bin";
  JsonValue d = f.ok("cache dump " + file);
  CHECK(d.find("entries")->text == "5");
  struct stat st{};
  CHECK(::stat((file + ".tmp").c_str(), &st) != 0);
  f.ok("flush");
  CHECK(f.ok("cache load " + file).find("loaded")->text == "5");
  CHECK(f.cache.entries() == 5);
  ::unlink(file.c_str());

  CHECK(f.error("cache dump /nonexistent-dir/x.bin") == "cannot write /nonexistent-dir/x.bin.tmp");
  CHECK(f.error("cache load /nonexistent-dir/x.bin") == "cannot read /nonexistent-dir/x.bin");
  CHECK(f.error("cache save x") == "usage: cache dump FILE | cache load FILE");
}

TEST_CASE("status and stats report queries, answers and cache numbers", "[control][commands]") {
  Fixture f;
  f.fill();
  f.metrics.query_answered(Transport::Udp, 1, 0, AnswerSource::Cache, 10);
  f.metrics.query_answered(Transport::Udp, 1, 3, AnswerSource::Resolved, 10);
  f.metrics.query_answered(Transport::Tcp, 28, 0, AnswerSource::Resolved, 10);
  JsonValue s = f.ok("status");
  CHECK(s.find("version")->text == "0.1.0");
  CHECK(s.find("uptime_seconds")->text == "90");
  CHECK(s.find("queries")->text == "3");
  CHECK(s.find("cache_entries")->text == "4");
  JsonValue st = f.ok("stats");
  CHECK(st.find("queries")->find("udp")->text == "2");
  CHECK(st.find("queries")->find("tcp")->text == "1");
  CHECK(st.find("rcodes")->find("NXDOMAIN")->text == "1");
  CHECK(st.find("answers")->find("resolved")->text == "2");
  CHECK(st.find("cache")->find("entries")->text == "4");
  CHECK(st.find("cache")->find("inserts")->text == "4");
  CHECK(st.find("coalesced")->text == "7");
  CHECK(f.error("stats now") == "stats takes no arguments");
}

TEST_CASE("reload and log-level go to the daemon's callbacks and report their errors", "[control][commands]") {
  Fixture f;
  JsonValue r = f.ok("reload");
  CHECK(f.reloads == 1);
  REQUIRE(r.find("warnings")->items.size() == 1);
  CHECK(r.find("warnings")->items[0].text == "server.listen changes need a restart");
  f.reload_fails = true;
  CHECK(f.error("reload") == "ternd.yaml:3:5: cache.max-size: not a size");
  CHECK(f.ok("log-level debug").find("level")->text == "debug");
  CHECK(f.error("log-level loud") == "unknown level 'loud'");
  CHECK(f.levels == std::vector<std::string>{"debug"});
}
