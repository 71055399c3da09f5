#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "cache/message_cache.hpp"
#include "cache_fixtures.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

using namespace tern;
using namespace tern::cache;
using namespace tern::cache::test;
using dns::RCode;
using dns::RRType;

TEST_CASE("peek shows what is held with TTLs as a lookup would write them", "[cache][peek]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("WWW.example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("www.example.com", 300)}));
  clock.advance_seconds(100);
  auto p = cache.peek(c.key());
  REQUIRE(p);
  CHECK(p->state == MessageCache::EntryState::Fresh);
  CHECK(p->expires_at == p->inserted_at + 300);
  CHECK(p->message.questions[0].qname.equals_exact(N("www.example.com")));
  CHECK(p->message.answer[0].ttl == 200);
  CHECK(cache.stats().hits == 0);  // not a hit
  clock.advance_seconds(250);
  p = cache.peek(c.key());
  REQUIRE(p);
  CHECK(p->state == MessageCache::EntryState::Stale);
  CHECK(p->message.answer[0].ttl == 30);
  CHECK_FALSE(cache.peek(Client("absent.example").key()));
}

TEST_CASE("a dump loads back with the same remaining TTLs after time passed", "[cache][dump]") {
  util::FakeClock clock;
  CacheOptions o;
  o.max_stale = 1000;
  MessageCache cache(o, clock);
  Client pos("www.example.com"), neg("nope.example.com", RRType::A, kKeyDO),
      fail("fail.example.com"), stale("old.example.com"), gone("gone.example.com");
  cache.insert(pos.key(), response(RCode::NoError, {cname("www.example.com", 600, "web.example.com"),
                                                    a("web.example.com", 600)}));
  cache.insert(neg.key(), response(RCode::NxDomain, {}, {soa("example.com", 300, 300)}));
  cache.insert(fail.key(), response(RCode::ServFail, {}));
  cache.insert(stale.key(), response(RCode::NoError, {a("old.example.com", 50)}));
  cache.insert(gone.key(), response(RCode::NoError, {a("gone.example.com", 10)}));
  clock.advance_seconds(20);
  Client late("late.example.com");
  cache.insert(late.key(), response(RCode::NoError, {a("late.example.com", 400)}));
  clock.advance_seconds(1000);  // gone: 1010 past expiry > max_stale

  std::stringstream s;
  REQUIRE(cache.dump(s));
  util::FakeClock later(clock.wall_seconds() + 100);  // the restart took 100 s
  MessageCache fresh(o, later);
  // Dumped: www, nope, old, late (fail and gone were dead). At load time old is more than
  // max-stale past its expiry, so three come back.
  CHECK(fresh.load(s) == 3);
  auto h = pos.ask(fresh, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  h = neg.ask(fresh, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(neg.reply(*h).rcode() == RCode::NxDomain);
  CHECK(late.ask(fresh, StalePolicy::AllowStale));
  CHECK_FALSE(stale.ask(fresh, StalePolicy::AllowStale));
  CHECK_FALSE(gone.ask(fresh, StalePolicy::AllowStale));
  CHECK_FALSE(fail.ask(fresh, StalePolicy::AllowStale));
}

TEST_CASE("a dump round-trips fresh entries exactly", "[cache][dump]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client pos("www.example.com"), neg("nope.example.com", RRType::A, kKeyDO | kKeyCD);
  cache.insert(pos.key(), response(RCode::NoError, {cname("www.example.com", 600, "web.example.com"),
                                                    a("web.example.com", 600)}));
  cache.insert(neg.key(), response(RCode::NxDomain, {}, {soa("example.com", 300, 300)}));
  clock.advance_seconds(100);
  auto want_pos = pos.ask(cache);
  auto want_neg = neg.ask(cache);
  REQUIRE(want_pos);
  REQUIRE(want_neg);
  std::stringstream s;
  REQUIRE(cache.dump(s));
  util::FakeClock later(clock.wall_seconds() + 50);
  MessageCache back({}, later);
  REQUIRE(back.load(s) == 2);
  CHECK(back.bytes_used() == cache.bytes_used());
  auto got_pos = pos.ask(back);
  auto got_neg = neg.ask(back);
  REQUIRE(got_pos);
  REQUIRE(got_neg);
  CHECK(got_pos->size == want_pos->size);
  CHECK(pos.reply(*got_pos).answer[1].ttl == 450);
  CHECK(neg.reply(*got_neg).rcode() == RCode::NxDomain);
  CHECK(neg.reply(*got_neg).authority[0].ttl == 150);
}

TEST_CASE("load rejects garbage without crashing", "[cache][dump]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("www.example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("www.example.com", 600)}));
  std::stringstream good;
  REQUIRE(cache.dump(good));
  const std::string bytes = good.str();

  SECTION("empty, wrong magic, wrong version") {
    MessageCache t({}, clock);
    std::stringstream e("");
    CHECK(t.load(e) == 0);
    std::string bad = bytes;
    bad[0] = 'X';
    std::stringstream m(bad);
    CHECK(t.load(m) == 0);
    bad = bytes;
    bad[11] = 2;
    std::stringstream v(bad);
    CHECK(t.load(v) == 0);
    CHECK(t.entries() == 0);
  }
  SECTION("every truncation of a valid dump loads at most the whole entries") {
    for (size_t n = 0; n < bytes.size(); ++n) {
      MessageCache t({}, clock);
      std::stringstream s(bytes.substr(0, n));
      CHECK(t.load(s) <= 1);
      CHECK(t.bytes_used() <= CacheOptions{}.max_bytes);
    }
  }
  SECTION("random corruption never crashes and never stores a broken entry") {
    util::FakeRandom rnd(42);
    for (int round = 0; round < 2000; ++round) {
      std::string bad = bytes;
      for (int k = 0; k < 3; ++k) {
        size_t at = 12 + rnd.uniform(static_cast<uint32_t>(bad.size() - 12));
        bad[at] = static_cast<char>(rnd.next_u32());
      }
      MessageCache t({}, clock);
      std::stringstream s(bad);
      if (t.load(s) == 1) {
        // Whatever got in must be servable and parse.
        auto p = t.peek(c.key());
        if (p) CHECK(p->message.questions.size() == 1);
      }
    }
  }
  SECTION("a question that is not lower case is refused") {
    std::string bad = bytes;
    auto at = bad.find("www");
    REQUIRE(at != std::string::npos);
    bad[at] = 'W';
    MessageCache t({}, clock);
    std::stringstream s(bad);
    CHECK(t.load(s) == 0);
  }
}
