#include <catch2/catch.hpp>

#include <string>

#include "cache/inflight.hpp"
#include "cache_fixtures.hpp"

using namespace tern;
using namespace tern::cache;
using namespace tern::cache::test;

namespace {
struct Waiter {
  uint16_t id;
  std::string client;
};
}  // namespace

TEST_CASE("the first miss leads, identical misses wait, all get the answer",
          "[cache][coalesce]") {
  Coalescer<Waiter> co;
  Client c("www.example.com"), upper("WWW.EXAMPLE.COM");
  CacheKey upper_key = upper.key();
  upper_key.qname_lower = upper.asked.wire();  // even a key left in upper case
  CHECK(co.join(c.key(), {1, "a"}) == JoinResult::Leader);
  CHECK(co.join(c.key(), {2, "b"}) == JoinResult::Joined);
  CHECK(co.join(upper_key, {3, "c"}) == JoinResult::Joined);
  CHECK(co.in_flight(c.key()));
  CHECK(co.keys() == 1);
  CHECK(co.waiters() == 3);
  auto ws = co.complete(c.key());
  REQUIRE(ws.size() == 3);
  CHECK(ws[0].id == 1);
  CHECK(ws[1].id == 2);
  CHECK(ws[2].client == "c");
  CHECK_FALSE(co.in_flight(c.key()));
  CHECK(co.waiters() == 0);
  CHECK(co.complete(c.key()).empty());
  // The next miss starts a new resolution.
  CHECK(co.join(c.key(), {4, "d"}) == JoinResult::Leader);
}

TEST_CASE("different types and DO/CD bits are resolved separately", "[cache][coalesce]") {
  Coalescer<int> co;
  Client a("example.com"), aaaa("example.com", dns::RRType::AAAA),
      dnssec("example.com", dns::RRType::A, kKeyDO);
  CHECK(co.join(a.key(), 1) == JoinResult::Leader);
  CHECK(co.join(aaaa.key(), 2) == JoinResult::Leader);
  CHECK(co.join(dnssec.key(), 3) == JoinResult::Leader);
  CHECK(co.keys() == 3);
  CHECK(co.complete(aaaa.key()) == std::vector<int>{2});
}

TEST_CASE("waiters beyond the bound are turned away", "[cache][coalesce]") {
  Coalescer<int> co(3);
  Client c("example.com");
  CHECK(co.join(c.key(), 0) == JoinResult::Leader);
  CHECK(co.join(c.key(), 1) == JoinResult::Joined);
  CHECK(co.join(c.key(), 2) == JoinResult::Joined);
  CHECK(co.join(c.key(), 3) == JoinResult::Full);
  CHECK(co.waiters() == 3);
  CHECK(co.complete(c.key()) == std::vector<int>{0, 1, 2});
  CHECK(kMaxWaitersPerKey == 1024);
}

TEST_CASE("drain hands back every waiter at shutdown", "[cache][coalesce]") {
  Coalescer<int> co;
  Client a("a.example"), b("b.example");
  (void)co.join(a.key(), 1);
  (void)co.join(a.key(), 2);
  (void)co.join(b.key(), 3);
  auto all = co.drain();
  CHECK(all.size() == 3);
  CHECK(co.keys() == 0);
  CHECK(co.waiters() == 0);
}
