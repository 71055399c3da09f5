#include <catch2/catch.hpp>

#include <set>

#include "resolver/infra_cache.hpp"
#include "resolver/root_hints.hpp"
#include "resolver/server_selection.hpp"
#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;

TEST_CASE("unknown servers are explored next to a known fast one", "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random(7);
  ServerSelection sel(clock, random);
  std::vector<net::Address> c{IP("192.0.2.1"), IP("192.0.2.2")};
  sel.on_reply(c[0], 5);
  std::set<size_t> chosen;
  for (int i = 0; i < 50; ++i) chosen.insert(*sel.choose(c, N("example.com")));
  CHECK(chosen.size() == 2);
  CHECK(sel.score(c[1]) == 376);
}

TEST_CASE("a slow or timed-out server is not chosen while a fast one is available",
          "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random(7);
  ServerSelection sel(clock, random);
  std::vector<net::Address> c{IP("192.0.2.1"), IP("192.0.2.2")};
  sel.on_reply(c[0], 5);
  sel.on_timeout(c[1], sel.timeout_ms(c[1]));
  for (int i = 0; i < 50; ++i) CHECK(*sel.choose(c, N("example.com")) == 0);
  CHECK(sel.timeout_ms(c[1]) == 1600);  // 800 doubled
}

TEST_CASE("RTT samples are smoothed and the timeout follows them", "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random;
  ServerSelection sel(clock, random);
  auto a = IP("192.0.2.1");
  sel.on_reply(a, 100);
  CHECK(sel.score(a) == 100);
  CHECK(sel.timeout_ms(a) == 100 + 4 * 50);
  sel.on_reply(a, 20);
  CHECK(sel.score(a) == (7 * 100 + 20) / 8);
  for (int i = 0; i < 50; ++i) sel.on_reply(a, 1);
  CHECK(sel.timeout_ms(a) == 100);  // the floor
}

TEST_CASE("lame marks are per zone and expire", "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random;
  ServerSelection sel(clock, random);
  auto a = IP("192.0.2.1");
  sel.mark_lame(N("example.com"), a);
  CHECK(sel.is_lame(N("EXAMPLE.com"), a));
  CHECK_FALSE(sel.is_lame(N("example.net"), a));
  std::vector<net::Address> c{a};
  CHECK_FALSE(sel.choose(c, N("example.com")).has_value());
  clock.advance_seconds(901);
  CHECK_FALSE(sel.is_lame(N("example.com"), a));
}

TEST_CASE("server tables stay within their bound", "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random;
  SelectionOptions o;
  o.max_entries = 16;
  ServerSelection sel(clock, random, o);
  for (uint32_t i = 0; i < 100; ++i) {
    sel.on_timeout(net::Address::v4(0x0a000000u + i), UINT32_MAX);
    sel.mark_lame(N("example.com"), net::Address::v4(0x0a000000u + i));
  }
  CHECK(sel.score(net::Address::v4(0x0a000000u)) == 376);  // evicted: unknown again
  CHECK(sel.timeout_ms(net::Address::v4(0x0a000000u + 99)) == 1600);
}

TEST_CASE("the infra cache returns the deepest live delegation", "[resolver][infra]") {
  util::FakeClock clock;
  InfraCache c(clock);
  c.put_delegation(N("."), {N("a.root-servers.net")}, 86400);
  c.put_delegation(N("com"), {N("ns1.nic.com")}, 100);
  c.put_delegation(N("example.com"), {N("ns1.example.com")}, 10);
  CHECK(c.find_delegation(N("www.EXAMPLE.com"))->zone == N("example.com"));
  CHECK(c.find_delegation(N("other.com"))->zone == N("com"));
  CHECK(c.find_delegation(N("org"))->zone == N("."));
  clock.advance_seconds(11);
  CHECK(c.find_delegation(N("www.example.com"))->zone == N("com"));
  clock.advance_seconds(100);
  CHECK(c.find_delegation(N("www.example.com"))->zone == N("."));
}

TEST_CASE("infra TTLs are clamped and failed lookups remembered", "[resolver][infra]") {
  util::FakeClock clock;
  InfraCache c(clock);
  c.put_delegation(N("zero.test"), {N("ns.zero.test")}, 0);  // TTL 0 still lasts kMinInfraTtl
  CHECK(c.delegation(N("zero.test")).has_value());
  c.put_addresses(N("ns.x.test"), net::Family::V4, {}, 30);
  auto none = c.addresses(N("ns.x.test"), net::Family::V4);
  REQUIRE(none.has_value());
  CHECK(none->empty());
  CHECK_FALSE(c.addresses(N("ns.x.test"), net::Family::V6).has_value());
  clock.advance_seconds(31);
  CHECK_FALSE(c.addresses(N("ns.x.test"), net::Family::V4).has_value());
}

TEST_CASE("an NXDOMAIN cut covers every name below it (RFC 8020)", "[resolver][infra]") {
  util::FakeClock clock;
  InfraCache c(clock);
  c.put_nxdomain(N("gone.example.com"), rr_soa("example.com"), 60);
  auto cut = c.find_nxdomain(N("a.b.GONE.example.com"));
  REQUIRE(cut.has_value());
  CHECK(cut->name == N("gone.example.com"));
  CHECK_FALSE(c.find_nxdomain(N("example.com")).has_value());
  CHECK_FALSE(c.find_nxdomain(N("notgone.example.com")).has_value());
  clock.advance_seconds(20);
  CHECK(c.find_nxdomain(N("gone.example.com"))->soa.ttl == 40);
  clock.advance_seconds(41);
  CHECK_FALSE(c.find_nxdomain(N("gone.example.com")).has_value());
}

TEST_CASE("the infra cache stays within its byte bound, least recently used out first",
          "[resolver][infra]") {
  util::FakeClock clock;
  InfraCache c(clock, 4096);
  c.put_delegation(N("keep.test"), {N("ns.keep.test")}, 3600);
  for (int i = 0; i < 200; ++i) {
    std::string z = "z" + std::to_string(i) + ".test";
    c.put_delegation(N(z.c_str()), {N(("ns." + z).c_str())}, 3600);
    CHECK(c.delegation(N("keep.test")).has_value());  // used: stays
    CHECK(c.bytes_used() <= 4096);
  }
  CHECK_FALSE(c.delegation(N("z0.test")).has_value());
}

TEST_CASE("the built-in root hints are the 13 IANA servers with both families",
          "[resolver][hints]") {
  const auto& h = builtin_root_hints();
  REQUIRE(h.size() == 13);
  CHECK(h[0].name == N("a.root-servers.net"));
  CHECK(h[0].addresses[0] == IP("198.41.0.4"));
  for (const auto& r : h) {
    REQUIRE(r.addresses.size() == 2);
    CHECK(r.addresses[0].is_v4());
    CHECK(r.addresses[1].is_v6());
  }
}

TEST_CASE("a named.root file is parsed", "[resolver][hints]") {
  auto h = parse_root_hints(R"(; lab root hints
.                        3600000      NS    A.ROOT.LAB.
A.ROOT.LAB.              3600000      A     127.53.0.1
A.ROOT.LAB.              3600000      AAAA  fd53::1
.                        3600000 IN   NS    b.root.lab.
b.root.lab.   A 127.53.0.2 ; no TTL
)");
  REQUIRE(h.size() == 2);
  CHECK(h[0].name == N("a.root.lab"));
  CHECK(h[0].addresses == std::vector<net::Address>{IP("127.53.0.1"), IP("fd53::1")});
  CHECK(h[1].addresses == std::vector<net::Address>{IP("127.53.0.2")});
}

TEST_CASE("root hints that say something wrong are rejected with the line",
          "[resolver][hints]") {
  CHECK_THROWS_WITH(parse_root_hints("example. NS a.root.\n"), Catch::Contains("line 1"));
  CHECK_THROWS_WITH(parse_root_hints(". NS a.root.\na.root. A 300.1.1.1\n"),
                    Catch::Contains("line 2"));
  CHECK_THROWS_WITH(parse_root_hints(". NS a.root.\n"), Catch::Contains("no address"));
  CHECK_THROWS_WITH(parse_root_hints("b.root. A 1.2.3.4\n"), Catch::Contains("not a root NS"));
  CHECK_THROWS_WITH(parse_root_hints(". NS a.root.\na.root. MX 1.2.3.4\n"),
                    Catch::Contains("line 2"));
  CHECK_THROWS(parse_root_hints(""));
  CHECK_THROWS(load_root_hints("/nonexistent/root.hints"));
}

TEST_CASE("parallel queries lost at the same RTO back a server off once, not once each",
          "[resolver][selection]") {
  // Twenty queries in flight when the server (or our own loop) had a bad moment: one piece of
  // evidence. Counting each would hold a healthy server down after any burst.
  util::FakeClock clock;
  util::FakeRandom random(7);
  ServerSelection sel(clock, random);
  const auto a = IP("192.0.2.1");
  const uint32_t sent_at = sel.timeout_ms(a);
  for (int i = 0; i < 20; ++i) sel.on_timeout(a, sent_at);
  CHECK(sel.timeout_ms(a) == 2 * sent_at);
  CHECK_FALSE(sel.held_down(a));
  // Queries sent at each new level that are lost again do count: 3 levels, held down.
  sel.on_timeout(a, sel.timeout_ms(a));
  CHECK_FALSE(sel.held_down(a));
  sel.on_timeout(a, sel.timeout_ms(a));
  CHECK(sel.held_down(a));
}

TEST_CASE("a held-down server is probed once per interval when nothing else is usable",
          "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random(7);
  SelectionOptions o;
  o.hold_down_after = 1;
  o.hold_down_ms = 60000;
  o.probe_interval_ms = 5000;
  ServerSelection sel(clock, random, o);
  const auto zone = N("example.com");
  std::vector<net::Address> c{IP("192.0.2.1"), IP("192.0.2.2")};
  sel.on_timeout(c[0], sel.timeout_ms(c[0]));
  REQUIRE(sel.held_down(c[0]));
  // Another server is usable: the held one is not chosen, not even as a probe.
  clock.advance_ms(5000);
  for (int i = 0; i < 20; ++i) CHECK(*sel.choose(c, zone) == 1);
  // Only held-down servers left: no probe before the interval...
  sel.on_timeout(c[1], sel.timeout_ms(c[1]));
  REQUIRE(sel.held_down(c[1]));
  std::vector<net::Address> only1{c[1]};
  CHECK_FALSE(sel.choose(only1, zone));
  clock.advance_ms(4999);
  CHECK_FALSE(sel.choose(only1, zone));
  // ...then exactly one per interval, however many resolutions ask.
  clock.advance_ms(1);
  CHECK(sel.choose(only1, zone) == size_t{0});
  CHECK_FALSE(sel.choose(only1, zone));
  CHECK_FALSE(sel.choose(only1, zone));
  // A lost probe extends the hold; the next probe waits another interval.
  sel.on_timeout(c[1], sel.timeout_ms(c[1]));
  clock.advance_ms(4000);
  CHECK_FALSE(sel.choose(only1, zone));
  clock.advance_ms(1000);
  CHECK(sel.choose(only1, zone) == size_t{0});
  // An answered probe ends the hold at once.
  sel.on_reply(c[1], 3);
  CHECK_FALSE(sel.held_down(c[1]));
  for (int i = 0; i < 5; ++i) CHECK(sel.choose(only1, zone) == size_t{0});
  // A lame server is never probed.
  sel.mark_lame(zone, c[0]);
  std::vector<net::Address> only0{c[0]};
  clock.advance_ms(10000);
  CHECK_FALSE(sel.choose(only0, zone));
}

TEST_CASE("a 0x20 case mismatch turns 0x20 off for the server for a while, not for good",
          "[resolver][selection]") {
  util::FakeClock clock;
  util::FakeRandom random(7);
  ServerSelection sel(clock, random);
  const auto a = IP("192.0.2.1");
  CHECK_FALSE(sel.no_0x20(a));
  sel.set_no_0x20(a);
  CHECK(sel.no_0x20(a));
  clock.advance_ms(uint64_t{sel.options().no_0x20_ttl_s} * 1000 - 1000);
  CHECK(sel.no_0x20(a));
  clock.advance_ms(1000);
  CHECK_FALSE(sel.no_0x20(a));
}
