#include <catch2/catch.hpp>

#include "cache/message_cache.hpp"
#include "cache_fixtures.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::cache;
using namespace tern::cache::test;
using dns::RCode;
using dns::RRType;

TEST_CASE("expired data is served with TTL 30 only when the caller allows stale",
          "[cache][stale]") {
  util::FakeClock clock;
  CacheOptions o;
  o.max_stale = 3600;
  MessageCache cache(o, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 60)}));
  clock.advance_seconds(60 + 1000);
  CHECK_FALSE(c.ask(cache, StalePolicy::FreshOnly));
  auto h = c.ask(cache, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  auto m = c.reply(*h);
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].ttl == 30);  // RFC 8767 §4
  CHECK(cache.stats().stale_hits == 1);
  // A FreshOnly miss on stale data keeps it for the next failure.
  CHECK(cache.entries() == 1);
}

TEST_CASE("stale data is served up to max-stale past expiry and then dropped",
          "[cache][stale]") {
  util::FakeClock clock;
  CacheOptions o;
  o.max_stale = 100;
  MessageCache cache(o, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NxDomain, {}, {soa("example.com", 60, 60)}));
  clock.advance_seconds(60 + 99);
  auto h = c.ask(cache, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  CHECK(c.reply(*h).rcode() == RCode::NxDomain);
  clock.advance_seconds(1);  // expiry + max_stale: the window is closed
  CHECK_FALSE(c.ask(cache, StalePolicy::AllowStale));
  CHECK(cache.entries() == 0);
}

TEST_CASE("with serve-stale off nothing is served past expiry", "[cache][stale]") {
  util::FakeClock clock;
  CacheOptions o;
  o.serve_stale = false;
  MessageCache cache(o, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 60)}));
  clock.advance_seconds(60);
  CHECK_FALSE(c.ask(cache, StalePolicy::AllowStale));
  CHECK(cache.entries() == 0);  // dead entries go on sight
}

TEST_CASE("a hit in the last tenth of the lifetime asks for one prefetch", "[cache][prefetch]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 100)}));
  clock.advance_seconds(89);  // 11 s left of 100
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  clock.advance_seconds(1);  // 10 s left: the last 10%
  h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Prefetch);
  CHECK(c.reply(*h).answer[0].ttl == 10);
  clock.advance_seconds(1);
  h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);  // reported once per entry
  CHECK(cache.stats().prefetches == 1);
  // The refreshed entry may ask again near its own end.
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 100)}));
  clock.advance_seconds(95);
  h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Prefetch);
}

TEST_CASE("prefetch is not reported when disabled, for failures, or for stale hits",
          "[cache][prefetch]") {
  util::FakeClock clock;
  CacheOptions o;
  o.prefetch = false;
  MessageCache off(o, clock);
  MessageCache on({}, clock);
  Client c("example.com");
  off.insert(c.key(), response(RCode::NoError, {a("example.com", 100)}));
  Client f("fail.example");
  on.insert(f.key(), response(RCode::ServFail, {}));
  Client s("stale.example");
  on.insert(s.key(), response(RCode::NoError, {a("stale.example", 10)}));
  clock.advance_seconds(4);  // servfail: 1 of 5 s left
  auto h = f.ask(on);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  clock.advance_seconds(91);
  h = c.ask(off);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  h = s.ask(on, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  CHECK(on.stats().prefetches == 0);
}
