// Budgets (limits.hpp): each one, exceeded, ends in SERVFAIL after a bounded number of
// queries and bounded time - never a hang or a loop.
#include <catch2/catch.hpp>

#include "resolver/limits.hpp"
#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;
using dns::RCode;
using dns::RRType;
using Lines = std::vector<std::string>;

namespace {

std::string level_name(unsigned depth) {  // "l3.l2.l1.test."
  std::string n = "test.";
  for (unsigned i = 1; i <= depth; ++i) n = "l" + std::to_string(i) + "." + n;
  return n;
}

// The root server is authoritative for test.; below it a chain of `levels` nested zones,
// level d delegated with `servers` NS names (with glue) at 10.1.d.1..servers. Only 10.1.d.1
// serves the zone; the others REFUSE.
void build_chain(World& w, unsigned levels, unsigned servers) {
  for (unsigned depth = 0; depth <= levels; ++depth) {
    std::string zone = level_name(depth);
    FakeZone z{N(zone.c_str()), {rr_soa(zone.c_str())}};
    if (depth < levels) {
      std::string child = level_name(depth + 1);
      for (unsigned s = 1; s <= servers; ++s) {
        std::string ns = "ns" + std::to_string(s) + "." + child;
        std::string addr = "10.1." + std::to_string(depth + 1) + "." + std::to_string(s);
        z.records.push_back(rr_ns(child.c_str(), ns.c_str()));
        z.records.push_back(rr_addr(ns.c_str(), addr.c_str()));
      }
    } else {
      z.records.push_back(rr_addr(("www." + zone).c_str(), "192.0.2.99"));
    }
    const std::string prefix = "10.1." + std::to_string(depth) + ".";
    w.net.add_zone(depth == 0 ? kRoot : IP((prefix + "1").c_str()), std::move(z));
    for (unsigned s = 2; s <= servers && depth > 0; ++s)
      w.net.behaviour(IP((prefix + std::to_string(s)).c_str())).refuse_all = true;
  }
}

}  // namespace

TEST_CASE("a chain of referrals deeper than kMaxReferrals ends in SERVFAIL",
          "[resolver][budget]") {
  World w;
  build_chain(w, kMaxReferrals + 5, 1);
  auto out = w.resolve(("www." + level_name(kMaxReferrals + 5)).c_str());
  CHECK(out.status == Status::ServFail);
  CHECK(w.net.sent().size() == 1 + kMaxReferrals + 1);  // priming, then one per referral
  CHECK(w.iterator().stats().budget_exceeded == 1);
}

TEST_CASE("a chain of referrals within kMaxReferrals resolves", "[resolver][budget]") {
  World w;
  build_chain(w, 20, 1);
  auto out = w.resolve(("www." + level_name(20)).c_str());
  CHECK(answer_lines(out) == Lines{"www." + level_name(20) + " A 192.0.2.99"});
}

TEST_CASE("upstream queries per client query stop at kMaxUpstreamQueries",
          "[resolver][budget]") {
  World w;
  build_chain(w, 20, 13);  // each level: 12 lame servers and one good one
  auto out = w.resolve(("www." + level_name(20)).c_str());
  CHECK(out.status == Status::ServFail);
  // The priming query belongs to its own budget.
  CHECK(w.net.sent().size() == 1 + kMaxUpstreamQueries);
  CHECK(w.iterator().stats().budget_exceeded >= 1);
}

TEST_CASE("a CNAME loop across zones stops at kMaxCnameChain", "[resolver][budget]") {
  World w;
  w.net.add_zone(kExample, {N("loop.example.com"), {rr_cname("a.loop.example.com", "a.example.net")}});
  w.net.add_zone(kExample2, {N("loop.example.com"), {rr_cname("a.loop.example.com", "a.example.net")}});
  w.net.add_zone(kExampleNet, {N("example.net"), {rr_soa("example.net"),
                                                  rr_cname("a.example.net", "a.loop.example.com")}});
  auto out = w.resolve("a.loop.example.com");
  CHECK(out.status == Status::ServFail);
  CHECK(w.net.sent().size() <= 1 + 3 + 2 + kMaxCnameChain + 1);
}

TEST_CASE("a CNAME loop inside one reply stops at kMaxCnameChain", "[resolver][budget]") {
  World w;
  w.net.add_zone(kExampleNet, {N("example.net"), {rr_soa("example.net"),
                                                  rr_cname("a.example.net", "b.example.net"),
                                                  rr_cname("b.example.net", "a.example.net")}});
  auto out = w.resolve("a.example.net");
  CHECK(out.status == Status::ServFail);
  CHECK(w.net.sent().size() <= 4 + kMaxCnameChain);
}

TEST_CASE("a referral with many glueless NS names starts at most kMaxGluelessLookups lookups "
          "(NXNSAttack)",
          "[resolver][budget]") {
  World w;
  w.opts.query_ipv6 = false;
  FakeZone test{N("test"), {rr_soa("test")}};
  for (int i = 0; i < 20; ++i) {
    std::string ns = "ns.victim" + std::to_string(i) + ".test";
    test.records.push_back(rr_ns("attack.test", ns.c_str()));
  }
  w.net.add_zone(kRoot, test);
  auto out = w.resolve("www.attack.test");
  CHECK(out.status == Status::ServFail);
  size_t lookups = 0;
  for (const auto& l : w.net.lines()) lookups += l.find("victim") != std::string::npos;
  CHECK(lookups == kMaxGluelessLookups);
  CHECK(w.net.sent().size() == 2 + kMaxGluelessLookups);
  CHECK(w.iterator().stats().budget_exceeded == 1);
}

TEST_CASE("a zone whose servers all time out fails within kMaxResolutionTimeMs",
          "[resolver][budget]") {
  World w;
  FakeZone test{N("test"), {rr_soa("test")}};
  for (int i = 1; i <= 13; ++i) {
    std::string ns = "ns" + std::to_string(i) + ".slow.test";
    std::string addr = "10.0.8." + std::to_string(i);
    test.records.push_back(rr_ns("slow.test", ns.c_str()));
    test.records.push_back(rr_addr(ns.c_str(), addr.c_str()));
    w.net.behaviour(IP(addr.c_str())).dead = true;
  }
  w.net.add_zone(kRoot, test);
  w.resolve("www.example.net");  // prime first, so the clock below measures one resolution
  const uint64_t start = w.clock.mono_ms();
  w.net.clear_sent();
  auto out = w.resolve("www.slow.test");
  CHECK(out.status == Status::ServFail);
  CHECK(w.clock.mono_ms() - start <= kMaxResolutionTimeMs);
  REQUIRE_FALSE(w.net.sent().empty());
  CHECK(w.net.sent().back().timeout_ms < 800);  // the last one clipped to what was left
  CHECK(w.iterator().stats().budget_exceeded == 1);
}
