#include "config/loader.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "util/random.hpp"

using namespace tern;
using namespace tern::config;
using namespace std::chrono_literals;

namespace {

Config ok(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  if (!r) {
    for (const ConfigError& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  return *r;
}

std::vector<ConfigError> bad(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  REQUIRE_FALSE(r.has_value());
  for (const ConfigError& e : r.error()) UNSCOPED_INFO(e.to_string());
  return r.error();
}

// The one error of a file that has exactly one thing wrong.
ConfigError one(const std::string& yaml) {
  auto errors = bad(yaml);
  REQUIRE(errors.size() == 1);
  return errors[0];
}

bool mentions(const ConfigError& e, const std::string& s) {
  return e.message.find(s) != std::string::npos;
}

net::Endpoint ep(const char* t) { return *net::parse_endpoint(t); }
net::Prefix pf(const char* t) { return *net::parse_prefix(t); }

}  // namespace

TEST_CASE("an empty file, an empty map and missing sections all give the defaults",
          "[config][loader]") {
  CHECK(ok("") == Config{});
  CHECK(ok("{}") == Config{});
  CHECK(ok("# only a comment\n") == Config{});
  CHECK(ok("server:\ncache:\n") == Config{});
  const Config d;
  CHECK(d.server.listen == std::vector<net::Endpoint>{ep("127.0.0.1:53"), ep("[::1]:53")});
  CHECK(d.forward.empty());
  CHECK(d.server.udp_payload_size == 1232);
  CHECK(d.cache.max_size == 64ull * 1024 * 1024);
  CHECK_FALSE(d.metrics.listen.has_value());
}

TEST_CASE("a full file sets every key", "[config][loader]") {
  const Config c = ok(R"(
server:
  listen: ["192.0.2.1:5353", "[2001:db8::1]", 127.0.0.2]
  access-control:
    - {allow: 10.0.0.0/8}
    - {refuse: "2001:db8::/32"}
    - {deny: 192.0.2.66}
    - {allow: private}
  udp-payload-size: 1400
  tcp: {idle-timeout: 30s, max-connections: 50}
  user: tern
  chaos: {version: "tern 0.1", identity: ns1}
  rate-limit: {qps: 100, slip: 0}
resolver:
  mode: forward
  root-hints: /etc/tern/named.root
  qname-minimisation: strict
  query-ipv4: true
  query-ipv6: false
  max-concurrent: 5
  max-waiting-clients: 7
forward:
  - {zone: ".", upstreams: ["127.0.0.1:5301"]}
  - zone: Corp.Example
    upstreams: [10.0.0.53, "[fd00::53]:5353"]
cache:
  max-size: 512KiB
  min-ttl: 5s
  max-ttl: 2h
  max-negative-ttl: 15m
  serve-stale: {enabled: false, max-stale: 2d, client-timeout: 500ms}
  prefetch: false
  persist: true
  persist-file: /tmp/x.dump
logging: {level: debug, queries: true}
control: {socket: ""}
metrics: {listen: 127.0.0.1}
)");
  CHECK(c.server.listen == std::vector<net::Endpoint>{ep("192.0.2.1:5353"), ep("[2001:db8::1]:53"),
                                                      ep("127.0.0.2:53")});
  REQUIRE(c.server.access_control.size() == 4);
  CHECK(c.server.access_control[0] == AccessRule{net::AclAction::Allow, pf("10.0.0.0/8")});
  CHECK(c.server.access_control[1] == AccessRule{net::AclAction::Refuse, pf("2001:db8::/32")});
  CHECK(c.server.access_control[2] == AccessRule{net::AclAction::Deny, pf("192.0.2.66/32")});
  CHECK(c.server.access_control[3] ==
        AccessRule{net::AclAction::Allow, net::AddressClass::Private});
  CHECK(c.server.udp_payload_size == 1400);
  CHECK(c.server.tcp.idle_timeout == 30s);
  CHECK(c.server.tcp.max_connections == 50);
  CHECK(c.server.user == "tern");
  CHECK(c.server.chaos.version == "tern 0.1");
  CHECK(c.server.chaos.identity == "ns1");
  CHECK(c.server.rate_limit.qps == 100);
  CHECK(c.server.rate_limit.slip == 0);
  CHECK(c.resolver.mode == ResolverMode::Forward);
  CHECK(c.resolver.root_hints == "/etc/tern/named.root");
  CHECK(c.resolver.qname_minimisation == QnameMinimisation::Strict);
  CHECK_FALSE(c.resolver.query_ipv6);
  CHECK(c.resolver.max_concurrent == 5);
  CHECK(c.resolver.max_waiting_clients == 7);
  REQUIRE(c.forward.size() == 2);
  CHECK(c.forward[0].zone == ".");
  CHECK(c.forward[1].zone == "corp.example.");
  CHECK(c.forward[1].upstreams ==
        std::vector<net::Endpoint>{ep("10.0.0.53:53"), ep("[fd00::53]:5353")});
  CHECK(c.cache.max_size == 512u * 1024);
  CHECK(c.cache.min_ttl == 5s);
  CHECK(c.cache.max_ttl == 2h);
  CHECK(c.cache.max_negative_ttl == 15min);
  CHECK_FALSE(c.cache.serve_stale.enabled);
  CHECK(c.cache.serve_stale.max_stale == 48h);
  CHECK(c.cache.serve_stale.client_timeout == 500ms);
  CHECK_FALSE(c.cache.prefetch);
  CHECK(c.cache.persist);
  CHECK(c.cache.persist_file == "/tmp/x.dump");
  CHECK(c.logging.level == LogLevel::Debug);
  CHECK(c.logging.queries);
  CHECK(c.control.socket.empty());
  CHECK(c.metrics.listen == ep("127.0.0.1:9153"));
}

TEST_CASE("an error names file, line, column, key path and what was expected", "[config][loader]") {
  const ConfigError e = one("server:\n  listen: [\"127.0.0.1:53\", \"::1:53\"]\n");
  CHECK(e.file == "t.yaml");
  CHECK(e.line == 2);
  CHECK(e.column == 28);
  CHECK(e.key == "server.listen[1]");
  CHECK(mentions(e, "expected an address:port like 127.0.0.1:53"));
  CHECK(mentions(e, "[addr]:port"));
  CHECK(e.to_string().rfind("t.yaml:2:28: server.listen[1]: expected an address:port", 0) == 0);
}

TEST_CASE("every error in a file is reported, not just the first", "[config][loader]") {
  auto errors = bad(R"(server:
  listen: ["01.2.3.4:53"]
  udp-payload-size: lots
resolver:
  mode: recursve
cache:
  max-ttl: forever
logging: {level: loud}
)");
  // Five bad values. The listen list is left empty by its bad entry, but "must not be empty"
  // would only repeat that error, so it is not reported.
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].key == "server.listen[0]");
  CHECK(errors[0].line == 2);
  CHECK(mentions(errors[0], "\"01.2.3.4:53\": leading zero in part 1"));
  CHECK(errors[1].key == "server.udp-payload-size");
  CHECK(errors[1].line == 3);
  CHECK(errors[2].key == "resolver.mode");
  CHECK(mentions(errors[2], "did you mean \"recursive\""));
  CHECK(errors[3].key == "cache.max-ttl");
  CHECK(mentions(errors[3], "expected a duration"));
  CHECK(errors[4].key == "logging.level");
  CHECK(errors[4].line == 8);
  CHECK(errors[4].column == 18);
}

TEST_CASE("unknown keys are errors that suggest the nearest known key", "[config][loader]") {
  ConfigError e = one("server:\n  lsten: [\"127.0.0.1:53\"]\n");
  CHECK(e.key == "server.lsten");
  CHECK(e.line == 2);
  CHECK(e.column == 3);
  CHECK(mentions(e, "unknown key; did you mean \"listen\"?"));

  e = one("cahce: {}\n");
  CHECK(e.key == "cahce");
  CHECK(mentions(e, "did you mean \"cache\"?"));

  e = one("cache:\n  serve-stale: {enable: true}\n");
  CHECK(e.key == "cache.serve-stale.enable");
  CHECK(mentions(e, "did you mean \"enabled\"?"));

  e = one("zzzzzzzzzz: 1\n");
  CHECK(mentions(e, "known here: server, resolver, forward, cache, logging, control, metrics"));
}

TEST_CASE("a YAML syntax error reports its line and column", "[config][loader]") {
  ConfigError e = one("server:\n  listen: [\"127.0.0.1:53\"\n  user: x\n");
  CHECK(e.line >= 2);
  CHECK(e.column > 0);
  CHECK(mentions(e, "YAML syntax error"));
  e = one("server:\n\tlisten: []\n");  // tabs cannot indent in YAML
  CHECK(e.line == 2);
  CHECK(mentions(e, "YAML syntax error"));
}

TEST_CASE("a value of the wrong YAML type is an error, not an exception", "[config][loader]") {
  ConfigError e = one("server:\n  listen: {a: 1}\n");
  CHECK(e.key == "server.listen");
  CHECK(mentions(e, "expected a list, got a map"));

  e = one("server: [1, 2]\n");
  CHECK(e.key == "server");
  CHECK(mentions(e, "expected a map of keys, got a list"));

  e = one("- 1\n- 2\n");
  CHECK(e.key.empty());
  CHECK(mentions(e, "expected a map of keys, got a list"));

  e = one("just a string\n");
  CHECK(mentions(e, "got a scalar"));

  e = one("server:\n  user: [a]\n");
  CHECK(e.key == "server.user");
  CHECK(mentions(e, "expected a string, got a list"));

  e = one("cache:\n  prefetch: {x: 1}\n");
  CHECK(mentions(e, "expected true or false, got a map"));

  e = one("cache:\n  prefetch: yes\n");
  CHECK(mentions(e, "expected true or false"));

  e = one("server:\n  tcp: 5\n");
  CHECK(e.key == "server.tcp");

  e = one("forward: {zone: .}\n");
  CHECK(e.key == "forward");
  CHECK(mentions(e, "expected a list"));

  e = one("server:\n  listen: [[1]]\n");
  CHECK(e.key == "server.listen[0]");
  CHECK(mentions(e, "got a list"));

  e = one("? [a, b]\n: 1\n");
  CHECK(mentions(e, "expected a plain key name"));
}

TEST_CASE("a key given twice is an error", "[config][loader]") {
  auto errors = bad("cache:\n  prefetch: true\n  prefetch: false\n");
  REQUIRE_FALSE(errors.empty());
  bool found = false;
  for (const ConfigError& e : errors)
    if (e.key == "cache.prefetch" && mentions(e, "duplicate") && e.line == 3) found = true;
  CHECK(found);
}

TEST_CASE("access-control entries accept prefixes, addresses and classes, and say why not",
          "[config][loader][acl]") {
  ConfigError e = one("server:\n  access-control: [{allow: 10.1.2.3/8}]\n");
  CHECK(e.key == "server.access-control[0].allow");
  CHECK(mentions(e, "host bits set; did you mean 10.0.0.0/8"));

  e = one("server:\n  access-control: [{allow: privat}]\n");
  CHECK(mentions(e, "unknown address class \"privat\"; did you mean \"private\"?"));

  e = one("server:\n  access-control: [{allow: 256.0.0.1}]\n");
  CHECK(mentions(e, "part 1 is above 255"));

  e = one("server:\n  access-control: [{permit: 10.0.0.0/8}]\n");
  CHECK(e.key == "server.access-control[0].permit");
  CHECK(mentions(e, "expected allow, refuse or deny"));

  e = one("server:\n  access-control: [{allow: 10.0.0.0/8, deny: 10.1.0.0/16}]\n");
  CHECK(e.key == "server.access-control[0]");
  CHECK(mentions(e, "with 2 keys"));

  e = one("server:\n  access-control: [10.0.0.0/8]\n");
  CHECK(mentions(e, "expected one of {allow: X}"));
}

TEST_CASE("access control from config picks the most specific entry, later on ties",
          "[config][acl]") {
  const Config c = ok(R"(server:
  access-control:
    - {allow: private}
    - {deny: 10.66.0.0/16}
    - {allow: loopback}
    - {refuse: 127.0.0.0/8}
    - {allow: 10.66.1.1}
)");
  const net::AccessList acl = build_access_list(c.server.access_control);
  auto decide = [&](const char* a) { return acl.decide(*net::parse_address(a)); };
  CHECK(decide("10.1.1.1") == net::AclAction::Allow);
  CHECK(decide("192.168.0.1") == net::AclAction::Allow);
  CHECK(decide("fd00::1") == net::AclAction::Allow);
  CHECK(decide("10.66.9.9") == net::AclAction::Deny);
  CHECK(decide("10.66.1.1") == net::AclAction::Allow);
  // loopback's 127.0.0.0/8 ties with the later refuse: the later entry wins.
  CHECK(decide("127.0.0.1") == net::AclAction::Refuse);
  CHECK(decide("::1") == net::AclAction::Allow);
  CHECK(decide("8.8.8.8") == net::AclAction::Refuse);

  // The defaults answer loopback only.
  const net::AccessList d = build_access_list(Config{}.server.access_control);
  CHECK(d.decide(*net::parse_address("127.0.0.1")) == net::AclAction::Allow);
  CHECK(d.decide(*net::parse_address("::1")) == net::AclAction::Allow);
  CHECK(d.decide(*net::parse_address("::ffff:127.0.0.1")) == net::AclAction::Allow);
  CHECK(d.decide(*net::parse_address("192.168.1.1")) == net::AclAction::Refuse);
}

TEST_CASE("semantic rules across keys are checked and point at the key", "[config][validate]") {
  ConfigError e = one("resolver:\n  mode: forward\n");
  CHECK(e.key == "resolver.mode");
  CHECK(e.line == 2);
  CHECK(mentions(e, "forward zone for \".\""));

  e = one("resolver: {mode: forward}\nforward:\n  - {zone: example.com, upstreams: [127.0.0.1]}\n");
  CHECK(e.key == "resolver.mode");

  auto errors = bad(R"(forward:
  - {zone: ".", upstreams: ["127.0.0.1:5301"]}
  - {zone: Example.COM., upstreams: ["127.0.0.1:5302"]}
  - {zone: example.com, upstreams: ["127.0.0.1:5303"]}
)");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].key == "forward[2].zone");
  CHECK(errors[0].line == 4);
  CHECK(mentions(errors[0], "duplicate forward zone \"example.com.\""));

  e = one("forward:\n  - {zone: \".\", upstreams: []}\n");
  CHECK(e.key == "forward[0].upstreams");

  e = one("forward:\n  - {upstreams: [127.0.0.1]}\n");
  CHECK(e.key == "forward[0].zone");
  CHECK(mentions(e, "missing"));

  e = one("forward:\n  - {zone: \"a..b\", upstreams: [127.0.0.1]}\n");
  CHECK(e.key == "forward[0].zone");
  CHECK(mentions(e, "empty label"));

  e = one("server: {udp-payload-size: 511}\n");
  CHECK(e.key == "server.udp-payload-size");
  CHECK(mentions(e, "512..4096"));
  CHECK(one("server: {udp-payload-size: 4097}\n").key == "server.udp-payload-size");
  CHECK(one("server: {udp-payload-size: 70000}\n").key == "server.udp-payload-size");
  CHECK(ok("server: {udp-payload-size: 512}\n").server.udp_payload_size == 512);
  CHECK(ok("server: {udp-payload-size: 4096}\n").server.udp_payload_size == 4096);

  e = one("cache: {min-ttl: 2d, max-ttl: 1d}\n");
  CHECK(e.key == "cache.min-ttl");
  CHECK(e.line == 1);
  CHECK(ok("cache: {min-ttl: 1d, max-ttl: 1d}\n").cache.min_ttl == 24h);

  e = one("server: {listen: []}\n");
  CHECK(e.key == "server.listen");
  CHECK(mentions(e, "at least one"));

  e = one("server: {listen: [127.0.0.1, \"127.0.0.1:53\"]}\n");
  CHECK(e.key == "server.listen[1]");
  CHECK(mentions(e, "duplicate"));

  e = one("resolver: {query-ipv4: false, query-ipv6: false}\n");
  CHECK(mentions(e, "cannot both be false"));

  e = one("cache: {persist: true, persist-file: \"\"}\n");
  CHECK(e.key == "cache.persist-file");

  e = one("server: {tcp: {max-connections: 0}}\n");
  CHECK(e.key == "server.tcp.max-connections");
}

TEST_CASE("TTL keys must be whole seconds", "[config][loader]") {
  ConfigError e = one("cache: {max-ttl: 1500ms}\n");
  CHECK(e.key == "cache.max-ttl");
  CHECK(mentions(e, "whole seconds"));
}

TEST_CASE("a missing or unreadable file is one error naming the file", "[config][loader]") {
  auto r = load_file("/nonexistent/tern/ternd.yaml");
  REQUIRE_FALSE(r);
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].to_string() ==
        "/nonexistent/tern/ternd.yaml: cannot open: No such file or directory");
  auto d = load_file("/");
  REQUIRE_FALSE(d);
  CHECK(d.error()[0].file == "/");
}

TEST_CASE("the shipped conf/ternd.yaml loads and equals the built-in defaults",
          "[config][loader]") {
  auto r = load_file(TERN_SOURCE_DIR "/conf/ternd.yaml");
  if (!r) {
    for (const ConfigError& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  CHECK(*r == Config{});
}

TEST_CASE("the example forward block in ternd.yaml's comments is itself valid",
          "[config][loader]") {
  std::ifstream in(TERN_SOURCE_DIR "/conf/ternd.yaml");
  REQUIRE(in);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("#   forward:", 0) == 0) inside = true;
    if (inside) {
      if (line.rfind("#   ", 0) != 0) break;
      block += line.substr(4) + "\n";
    }
  }
  REQUIRE_FALSE(block.empty());
  const Config c = ok(block);
  REQUIRE(c.forward.size() == 2);
  CHECK(c.forward[0].zone == ".");
  CHECK(c.forward[1].zone == "corp.example.");
}

TEST_CASE("mutated configuration text never throws and always explains a failure",
          "[config][loader][robustness]") {
  std::ifstream in(TERN_SOURCE_DIR "/conf/ternd.yaml");
  REQUIRE(in);
  const std::string base((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tern::util::FakeRandom rng(2718);
  const std::string_view pool = "{}[]:,-'\"#&*!|>%@` \n\t.0123456789abcxyz/\\";
  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string s = base;
    const uint32_t edits = 1 + rng.uniform(4);
    for (uint32_t k = 0; k < edits; ++k) {
      const uint32_t at = rng.uniform(static_cast<uint32_t>(s.size()));
      switch (rng.uniform(3)) {
        case 0: s[at] = pool[rng.uniform(static_cast<uint32_t>(pool.size()))]; break;
        case 1: s.erase(at, 1 + rng.uniform(8)); break;
        default: s.insert(at, 1, pool[rng.uniform(static_cast<uint32_t>(pool.size()))]); break;
      }
    }
    INFO(s);
    LoadResult r = load_string(s, "m.yaml");
    if (!r) {
      ++failures;
      REQUIRE_FALSE(r.error().empty());
      for (const ConfigError& e : r.error()) {
        REQUIRE(e.file == "m.yaml");
        REQUIRE_FALSE(e.message.empty());
      }
    }
  }
  CHECK(failures > 50);
}

TEST_CASE("aliases, anchors and deep nesting are handled without blowing up",
          "[config][loader][robustness]") {
  const Config c =
      ok("server:\n  listen: &l [\"127.0.0.1:5353\"]\nforward:\n"
         "  - {zone: \".\", upstreams: *l}\n");
  CHECK(c.forward[0].upstreams == c.server.listen);

  // Exponential alias fan-out (10^9 leaves if expanded): the loader only descends where the
  // schema has depth, so each bad element is one error, not a walk of its contents.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char n = 'b'; n <= 'i'; ++n) {
    bomb += std::string(1, n) + ": &" + n + " [";
    for (int k = 0; k < 10; ++k) bomb += std::string(k ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = n;
  }
  bomb += "forward: *i\n";
  auto r = load_string(bomb, "t.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().size() == 9 + 10);  // nine unknown keys, ten forward entries that are lists

  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "[";
  auto d = load_string("server:\n  listen: " + deep + "\n", "t.yaml");
  REQUIRE_FALSE(d);
  CHECK(d.error().size() <= 101);
}
