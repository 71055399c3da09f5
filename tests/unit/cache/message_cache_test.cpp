#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "cache/message_cache.hpp"
#include "cache_fixtures.hpp"
#include "dns/header.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::cache;
using namespace tern::cache::test;
using dns::RCode;
using dns::RRType;

namespace {

std::vector<uint32_t> ttls(const dns::Message& m) {
  std::vector<uint32_t> v;
  for (auto* s : {&m.answer, &m.authority, &m.additional})
    for (auto& r : *s) v.push_back(r.ttl);
  return v;
}

std::vector<uint32_t> all(size_t n, uint32_t ttl) { return std::vector<uint32_t>(n, ttl); }

}  // namespace

TEST_CASE("a cached answer's TTLs decay with the clock", "[cache][ttl]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("www.example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("www.example.com", 300, 1),
                                                  a("www.example.com", 300, 2)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  CHECK(ttls(c.reply(*h)) == all(2, 300));
  clock.advance_seconds(10);
  h = c.ask(cache);
  REQUIRE(h);
  CHECK(ttls(c.reply(*h)) == all(2, 290));
  CHECK(c.reply(*h).answer[1].rdata == std::vector<uint8_t>{192, 0, 2, 2});
  CHECK(cache.stats().hits == 2);
}

TEST_CASE("an entry is fresh up to the second before expiry and not at it", "[cache][ttl]") {
  util::FakeClock clock;
  CacheOptions o;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 60)}));
  clock.advance_seconds(59);
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  CHECK(ttls(c.reply(*h)) == all(1, 1));
  clock.advance_seconds(1);  // exactly inserted + TTL: TTL 0 would be served, so not fresh
  CHECK_FALSE(c.ask(cache));
  h = c.ask(cache, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
}

TEST_CASE("a hit carries the client's ID, RD, CD and question case", "[cache][patch]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client first("www.example.com");
  auto resp = response(RCode::NoError, {a("www.example.com", 300)});
  resp.header.aa = true;  // an authoritative upstream's bit must not leak to our clients
  resp.header.id = 0x7777;
  cache.insert(first.key(), resp);

  Client c("wWw.ExAmPlE.cOm");
  auto h2 = c.ask(cache);
  REQUIRE(h2);
  auto m = c.reply(*h2);
  CHECK(m.header.id == 0x1234);
  CHECK(m.header.qr);
  CHECK(m.header.ra);
  CHECK(m.header.rd);
  CHECK_FALSE(m.header.cd);
  CHECK_FALSE(m.header.aa);
  CHECK(m.rcode() == RCode::NoError);
  REQUIRE(m.questions.size() == 1);
  CHECK(m.questions[0].qname.equals_exact(N("wWw.ExAmPlE.cOm")));
  // The answer owner is a compression pointer into the question: it follows the client's case.
  CHECK(m.answer[0].name.equals_exact(N("wWw.ExAmPlE.cOm")));

  auto h3 = cache.lookup(c.key(), c.patch(0xBEEF, false, true), StalePolicy::FreshOnly, c.buf);
  REQUIRE(h3);
  auto m3 = c.reply(*h3);
  CHECK(m3.header.id == 0xBEEF);
  CHECK_FALSE(m3.header.rd);
  CHECK(m3.header.cd);
}

TEST_CASE("keys differ by type, class and DO/CD but not by qname case", "[cache][key]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client plain("example.com");
  Client with_do("example.com", RRType::A, kKeyDO);
  Client aaaa("example.com", RRType::AAAA);
  cache.insert(plain.key(), response(RCode::NoError, {a("example.com", 300)}));
  CHECK(plain.ask(cache));
  CHECK_FALSE(with_do.ask(cache));
  CHECK_FALSE(aaaa.ask(cache));
  // A key handed over in upper case finds the same entry.
  dns::Name upper = N("EXAMPLE.COM");
  CacheKey k{upper.wire(), dns::to_u16(RRType::A), 1, 0};
  CHECK(cache.lookup(k, plain.patch(), StalePolicy::FreshOnly, plain.buf));
  CacheKey chaos = plain.key();
  chaos.qclass = 3;
  CHECK_FALSE(cache.lookup(chaos, plain.patch(), StalePolicy::FreshOnly, plain.buf));
}

TEST_CASE("a reply that does not fit the caller's buffer is not written", "[cache][patch]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 300)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  std::vector<uint8_t> small(h->size - 1, 0xAA);
  CHECK_FALSE(cache.lookup(c.key(), c.patch(), StalePolicy::FreshOnly, small));
  CHECK(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0xAA; }));
  std::vector<uint8_t> exact(h->size);
  CHECK(cache.lookup(c.key(), c.patch(), StalePolicy::FreshOnly, exact));
}

TEST_CASE("a patch whose question is not the key's question is refused", "[cache][patch]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  Client other("exbmple.com");  // same length, other name: pointers would spell it
  Client longer("www.example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 300)}));
  CHECK_FALSE(cache.lookup(c.key(), other.patch(), StalePolicy::FreshOnly, c.buf));
  CHECK_FALSE(cache.lookup(c.key(), longer.patch(), StalePolicy::FreshOnly, c.buf));
  auto q = c.question;
  q.back() = 3;  // class CH
  CHECK_FALSE(cache.lookup(c.key(), ReplyPatch{1, true, false, q}, StalePolicy::FreshOnly, c.buf));
  CHECK(cache.lookup(c.key(), c.patch(), StalePolicy::FreshOnly, c.buf));
}

TEST_CASE("min-ttl raises and max-ttl lowers positive lifetimes", "[cache][ttl]") {
  util::FakeClock clock;
  CacheOptions o;
  o.min_ttl = 60;
  o.max_ttl = 1000;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client low("low.example"), high("high.example");
  cache.insert(low.key(), response(RCode::NoError, {a("low.example", 10)}));
  cache.insert(high.key(), response(RCode::NoError, {a("high.example", 86400)}));
  auto h = low.ask(cache);
  REQUIRE(h);
  CHECK(ttls(low.reply(*h)) == all(1, 60));
  h = high.ask(cache);
  REQUIRE(h);
  CHECK(ttls(high.reply(*h)) == all(1, 1000));
  clock.advance_seconds(59);
  CHECK(low.ask(cache));
  clock.advance_seconds(1);
  CHECK_FALSE(low.ask(cache));
  clock.advance_seconds(1000 - 60);
  CHECK_FALSE(high.ask(cache));
}

TEST_CASE("records with TTL 0 are not cached, whatever min-ttl says", "[cache][ttl]") {
  util::FakeClock clock;
  CacheOptions o;
  o.min_ttl = 60;
  MessageCache cache(o, clock);
  Client c("zero.example");
  cache.insert(c.key(), response(RCode::NoError, {a("zero.example", 0)}));
  CHECK(cache.entries() == 0);
  // One zero in a chain is enough.
  cache.insert(c.key(), response(RCode::NoError, {cname("zero.example", 300, "t.example"),
                                                  a("t.example", 0)}));
  CHECK(cache.entries() == 0);
  // RFC 2181 §8: a TTL with the top bit set counts as zero.
  cache.insert(c.key(), response(RCode::NoError, {a("zero.example", 0x80000000u)}));
  CHECK(cache.entries() == 0);
  CHECK_FALSE(c.ask(cache));
}

TEST_CASE("the answer lives as long as its shortest RRset; each RRset shows its minimum",
          "[cache][ttl]") {
  util::FakeClock clock;
  CacheOptions o;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client c("www.example");
  // RFC 2181 §5.2: unequal TTLs within one RRset are treated as the smallest.
  cache.insert(c.key(), response(RCode::NoError,
                                 {cname("www.example", 600, "web.example"),
                                  a("web.example", 120, 1), a("web.example", 100, 2)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(ttls(c.reply(*h)) == all(3, 100));
  clock.advance_seconds(100);
  CHECK_FALSE(c.ask(cache));
}

TEST_CASE("additional records that would expire before the answer are left out",
          "[cache][ttl]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com", RRType::MX);
  auto mx_rdata = [](const char* host) {
    std::vector<uint8_t> d{0, 10};
    dns::Name h = N(host);
    auto w = h.wire();
    d.insert(d.end(), w.begin(), w.end());
    return d;
  };
  cache.insert(c.key(), response(RCode::NoError,
                                 {rr("example.com", RRType::MX, 300, mx_rdata("mx1.example.com")),
                                  rr("example.com", RRType::MX, 300, mx_rdata("mx2.example.com"))},
                                 {}, {a("mx1.example.com", 3600), a("mx2.example.com", 30)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK(m.answer.size() == 2);
  REQUIRE(m.additional.size() == 1);
  CHECK(m.additional[0].name == N("mx1.example.com"));
  CHECK(m.additional[0].ttl == 300);  // clamped to the entry lifetime
}

TEST_CASE("NXDOMAIN is cached for min(SOA TTL, SOA MINIMUM)", "[cache][negative]") {
  util::FakeClock clock;
  CacheOptions o;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client c("nope.example.com");
  cache.insert(c.key(), response(RCode::NxDomain, {}, {soa("example.com", 3600, 300)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK(m.rcode() == RCode::NxDomain);
  REQUIRE(m.authority.size() == 1);
  CHECK(m.authority[0].type == RRType::SOA);
  CHECK(m.authority[0].ttl == 300);
  clock.advance_seconds(299);
  CHECK(c.ask(cache));
  clock.advance_seconds(1);
  CHECK_FALSE(c.ask(cache));

  Client d("other.example.com");  // SOA TTL the smaller one this time
  cache.insert(d.key(), response(RCode::NxDomain, {}, {soa("example.com", 30, 900)}));
  h = d.ask(cache);
  REQUIRE(h);
  CHECK(ttls(d.reply(*h)) == all(1, 30));
}

TEST_CASE("NODATA is cached like NXDOMAIN, also after a CNAME", "[cache][negative]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com", RRType::AAAA);
  cache.insert(c.key(), response(RCode::NoError, {}, {soa("example.com", 3600, 120)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(c.reply(*h).answer.empty());
  CHECK(ttls(c.reply(*h)) == all(1, 120));

  Client chain("www.example.com", RRType::AAAA);
  cache.insert(chain.key(), response(RCode::NoError, {cname("www.example.com", 60, "example.com")},
                                     {soa("example.com", 3600, 120)}));
  h = chain.ask(cache);
  REQUIRE(h);
  CHECK(ttls(chain.reply(*h)) == all(2, 60));  // the CNAME's TTL bounds the whole answer
}

TEST_CASE("max-negative-ttl caps negative answers and min-ttl does not raise them",
          "[cache][negative]") {
  util::FakeClock clock;
  CacheOptions o;
  o.max_negative_ttl = 100;
  o.min_ttl = 600;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client big("big.example"), small("small.example");
  cache.insert(big.key(), response(RCode::NxDomain, {}, {soa("example", 86400, 86400)}));
  cache.insert(small.key(), response(RCode::NxDomain, {}, {soa("example", 5, 5)}));
  auto h = big.ask(cache);
  REQUIRE(h);
  CHECK(ttls(big.reply(*h)) == all(1, 100));
  h = small.ask(cache);
  REQUIRE(h);
  CHECK(ttls(small.reply(*h)) == all(1, 5));
  clock.advance_seconds(5);
  CHECK_FALSE(small.ask(cache));
}

TEST_CASE("a negative answer without SOA is not cached", "[cache][negative]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("nope.example");
  cache.insert(c.key(), response(RCode::NxDomain, {}));  // RFC 2308 §5
  cache.insert(c.key(), response(RCode::NoError, {}));
  auto bad_soa = soa("example", 300, 300);
  bad_soa.rdata.pop_back();  // MINIMUM cut short: not an SOA we can read
  cache.insert(c.key(), response(RCode::NxDomain, {}, {bad_soa}));
  CHECK(cache.entries() == 0);
  // A zero SOA MINIMUM means "do not cache" too.
  cache.insert(c.key(), response(RCode::NxDomain, {}, {soa("example", 300, 0)}));
  CHECK(cache.entries() == 0);
}

TEST_CASE("SERVFAIL is cached for a few seconds and never served stale", "[cache][failure]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("broken.example");
  cache.insert(c.key(), response(RCode::ServFail, {a("broken.example", 300)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK(m.rcode() == RCode::ServFail);
  CHECK(m.answer.empty());  // a failure carries no data
  clock.advance_seconds(4);
  CHECK(c.ask(cache));
  clock.advance_seconds(1);
  CHECK_FALSE(c.ask(cache));
  CHECK_FALSE(c.ask(cache, StalePolicy::AllowStale));
}

TEST_CASE("a SERVFAIL does not replace data that can still be served", "[cache][failure]") {
  util::FakeClock clock;
  CacheOptions o;
  o.prefetch = false;
  MessageCache cache(o, clock);
  Client c("flaky.example");
  cache.insert(c.key(), response(RCode::NoError, {a("flaky.example", 60)}));
  cache.insert(c.key(), response(RCode::ServFail, {}));  // e.g. a failed prefetch
  auto h = c.ask(cache);
  REQUIRE(h);
  CHECK(c.reply(*h).rcode() == RCode::NoError);
  clock.advance_seconds(120);
  cache.insert(c.key(), response(RCode::ServFail, {}));  // refresh of expired data failed
  h = c.ask(cache, StalePolicy::AllowStale);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  CHECK(c.reply(*h).rcode() == RCode::NoError);
  // A good answer replaces whatever is there.
  cache.insert(c.key(), response(RCode::NoError, {a("flaky.example", 60, 9)}));
  h = c.ask(cache);
  REQUIRE(h);
  CHECK(c.reply(*h).answer[0].rdata.back() == 9);
}

TEST_CASE("other rcodes, truncated replies and zone transfers are not cached", "[cache]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::Refused, {}));
  cache.insert(c.key(), response(RCode::FormErr, {}));
  auto tc = response(RCode::NoError, {a("example.com", 300)});
  tc.header.tc = true;
  cache.insert(c.key(), tc);
  auto badvers = response(RCode::NoError, {a("example.com", 300)});
  badvers.edns = dns::Edns{};
  badvers.set_rcode(RCode::BadVers);
  cache.insert(c.key(), badvers);
  Client axfr("example.com", RRType::AXFR);
  cache.insert(axfr.key(), response(RCode::NoError, {soa("example.com", 300, 300)}));
  CHECK(cache.entries() == 0);
  CHECK(cache.bytes_used() == 0);
}

TEST_CASE("the stored answer has no OPT; the hit's arcount counts only real records",
          "[cache][patch]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  auto resp = response(RCode::NoError, {a("example.com", 300)});
  resp.edns = dns::Edns{};
  resp.edns->options.push_back({10, {1, 2, 3, 4, 5, 6, 7, 8}});
  cache.insert(c.key(), resp);
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK_FALSE(m.edns.has_value());
  CHECK(m.header.arcount == 0);
}

TEST_CASE("a new answer replaces the old one and restarts its lifetime", "[cache]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 300, 1)}));
  size_t one = cache.bytes_used();
  clock.advance_seconds(100);
  cache.insert(c.key(), response(RCode::NoError, {a("example.com", 300, 2)}));
  CHECK(cache.entries() == 1);
  CHECK(cache.bytes_used() == one);
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK(m.answer[0].rdata.back() == 2);
  CHECK(m.answer[0].ttl == 300);
}

TEST_CASE("malformed keys are ignored on insert and miss on lookup", "[cache][key]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("example.com");
  const uint8_t not_a_name[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o'};  // no root
  CacheKey bad{not_a_name, 1, 1, 0};
  cache.insert(bad, response(RCode::NoError, {a("example.com", 300)}));
  CHECK(cache.entries() == 0);
  CacheKey empty{{}, 1, 1, 0};
  cache.insert(empty, response(RCode::NoError, {a("example.com", 300)}));
  CHECK(cache.entries() == 0);
  CHECK_FALSE(cache.lookup(empty, c.patch(), StalePolicy::AllowStale, c.buf));
  CHECK(cache.stats().misses == 1);
}

TEST_CASE("a name of the maximum length is cached and served", "[cache][key]") {
  std::string longest;
  for (int i = 0; i < 4; ++i) longest += std::string(i < 3 ? 63 : 61, static_cast<char>('A' + i)) + ".";
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c(longest.c_str());
  REQUIRE(c.asked.wire_size() == 255);
  cache.insert(c.key(), response(RCode::NoError, {a(longest.c_str(), 300)}));
  auto h = c.ask(cache);
  REQUIRE(h);
  auto m = c.reply(*h);
  CHECK(m.questions[0].qname.equals_exact(c.asked));
  CHECK(m.answer[0].name.equals_exact(c.asked));
}
