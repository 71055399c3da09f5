#include <catch2/catch.hpp>

#include <vector>

#include "fakes.hpp"
#include "server/pipeline.hpp"
#include "server/rate_limiter.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;

namespace {

constexpr uint64_t kT0 = 1'000'000;
const net::Address kClient = net::Address::v4(192, 0, 2, 10);

RateLimiter limiter(uint32_t qps, uint32_t slip) {
  return RateLimiter({qps, slip}, 0x0123456789abcdefull, 0xfedcba9876543210ull);
}

std::vector<RateVerdict> burst(RateLimiter& rl, const net::Address& a, int n, uint64_t now) {
  std::vector<RateVerdict> out;
  for (int i = 0; i < n; ++i) out.push_back(rl.check(a, now));
  return out;
}

int count(const std::vector<RateVerdict>& v, RateVerdict which) {
  int n = 0;
  for (auto x : v) n += x == which;
  return n;
}

}  // namespace

TEST_CASE("a client within its qps is never limited", "[server][ratelimit]") {
  auto rl = limiter(10, 2);
  // 10 at once (the burst), then one every 100 ms for 5 s: exactly the refill rate.
  for (auto v : burst(rl, kClient, 10, kT0)) CHECK(v == RateVerdict::Pass);
  for (uint64_t t = 100; t <= 5000; t += 100) CHECK(rl.check(kClient, kT0 + t) == RateVerdict::Pass);
}

TEST_CASE("over the limit exactly every slip-th query slips and the rest are dropped",
          "[server][ratelimit]") {
  auto rl = limiter(5, 3);
  auto v = burst(rl, kClient, 5 + 12, kT0);
  for (int i = 0; i < 5; ++i) CHECK(v[size_t(i)] == RateVerdict::Pass);
  for (int i = 0; i < 12; ++i) {
    RateVerdict want = (i + 1) % 3 == 0 ? RateVerdict::Slip : RateVerdict::Drop;
    CHECK(v[size_t(5 + i)] == want);
  }
}

TEST_CASE("slip 1 answers every limited query with TC and slip 0 drops them all",
          "[server][ratelimit]") {
  auto one = limiter(2, 1);
  auto v1 = burst(one, kClient, 10, kT0);
  CHECK(count(v1, RateVerdict::Pass) == 2);
  CHECK(count(v1, RateVerdict::Slip) == 8);
  auto zero = limiter(2, 0);
  auto v0 = burst(zero, kClient, 10, kT0);
  CHECK(count(v0, RateVerdict::Pass) == 2);
  CHECK(count(v0, RateVerdict::Drop) == 8);
}

TEST_CASE("tokens come back at qps per second, never above the burst", "[server][ratelimit]") {
  auto rl = limiter(10, 0);
  CHECK(count(burst(rl, kClient, 20, kT0), RateVerdict::Pass) == 10);
  CHECK(rl.check(kClient, kT0 + 99) == RateVerdict::Drop);   // 0.99 token: not yet
  CHECK(rl.check(kClient, kT0 + 100) == RateVerdict::Pass);  // one token per 100 ms
  CHECK(rl.check(kClient, kT0 + 100) == RateVerdict::Drop);
  CHECK(count(burst(rl, kClient, 10, kT0 + 600), RateVerdict::Pass) == 5);
  // An hour of silence refills to the burst, not to 36000 tokens.
  CHECK(count(burst(rl, kClient, 30, kT0 + 3'600'000), RateVerdict::Pass) == 10);
}

TEST_CASE("a clock that goes backwards refills nothing", "[server][ratelimit]") {
  auto rl = limiter(3, 0);
  CHECK(count(burst(rl, kClient, 3, kT0), RateVerdict::Pass) == 3);
  CHECK(rl.check(kClient, kT0 - 500) == RateVerdict::Drop);
  CHECK(rl.check(kClient, kT0 + 332) == RateVerdict::Drop);
  CHECK(rl.check(kClient, kT0 + 334) == RateVerdict::Pass);
}

TEST_CASE("addresses in one IPv4 /24 or IPv6 /56 share a budget, other networks do not",
          "[server][ratelimit]") {
  auto rl = limiter(4, 0);
  CHECK(count(burst(rl, net::Address::v4(192, 0, 2, 1), 2, kT0), RateVerdict::Pass) == 2);
  CHECK(count(burst(rl, net::Address::v4(192, 0, 2, 254), 4, kT0), RateVerdict::Pass) == 2);
  CHECK(count(burst(rl, net::Address::v4(192, 0, 3, 1), 4, kT0), RateVerdict::Pass) == 4);

  std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x00};
  auto b = a;
  b[6] = 0x56;
  b[7] = 0xff;  // same /56
  b[15] = 0x01;
  auto c = a;
  c[6] = 0x57;  // the next /56
  CHECK(rl.bucket_of(net::Address::v6(a)) == rl.bucket_of(net::Address::v6(b)));
  CHECK(count(burst(rl, net::Address::v6(a), 3, kT0), RateVerdict::Pass) == 3);
  CHECK(count(burst(rl, net::Address::v6(b), 3, kT0), RateVerdict::Pass) == 1);
  CHECK(count(burst(rl, net::Address::v6(c), 4, kT0), RateVerdict::Pass) == 4);
}

TEST_CASE("the bucket hash depends on the per-process key", "[server][ratelimit]") {
  RateLimiter a({10, 2}, 1, 2), b({10, 2}, 3, 4);
  int same = 0;
  for (uint8_t i = 0; i < 64; ++i)
    same += a.bucket_of(net::Address::v4(10, i, 0, 0)) == b.bucket_of(net::Address::v4(10, i, 0, 0));
  CHECK(same < 8);
}

TEST_CASE("qps 0 never limits, and a reload to another qps starts afresh", "[server][ratelimit]") {
  auto rl = limiter(0, 2);
  CHECK_FALSE(rl.enabled());
  CHECK(count(burst(rl, kClient, 1000, kT0), RateVerdict::Pass) == 1000);
  rl.set_limit({2, 0});
  CHECK(count(burst(rl, kClient, 5, kT0), RateVerdict::Pass) == 2);
  rl.set_limit({3, 0});
  CHECK(count(burst(rl, kClient, 5, kT0), RateVerdict::Pass) == 3);
  rl.set_limit({0, 0});
  CHECK(count(burst(rl, kClient, 5, kT0), RateVerdict::Pass) == 5);
}

// ---- through the pipeline ----

namespace {

struct RlRig {
  util::FakeClock clock;
  cache::MessageCache cache{cache::CacheOptions{}, clock};
  FakeResolver resolver;
  FakeScheduler scheduler;
  FakeSink sink;
  std::unique_ptr<Pipeline> pipeline;

  explicit RlRig(RateLimit rl) {
    PipelineOptions o;
    o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
    o.acl.add(net::Prefix::make(net::Address::v4(192, 0, 2, 0), 24), net::AclAction::Refuse);
    o.rate_limit = rl;
    pipeline = std::make_unique<Pipeline>(o, cache, resolver, scheduler, clock);
  }
  Disposition ask(const QuerySpec& s, Protocol p = Protocol::Udp,
                  net::Address a = net::Address::v4(127, 0, 0, 1)) {
    auto q = make_query(s);
    ClientRef ref{{a, 40000}, p, &sink, p == Protocol::Tcp ? 7u : 0u};
    return pipeline->handle(q, ref);
  }
};

QuerySpec chaos_version() {
  QuerySpec s;
  s.qname = "version.bind.";
  s.qtype = dns::RRType::TXT;
  s.qclass = dns::RRClass::CH;
  return s;
}

}  // namespace

TEST_CASE("over the limit a UDP client gets every slip-th reply as TC=1 with its question",
          "[server][ratelimit][pipeline]") {
  RlRig rig({3, 2});
  QuerySpec s = chaos_version();  // answered locally (REFUSED): no resolver involved
  s.edns = true;
  std::vector<Disposition> d;
  for (int i = 0; i < 9; ++i) d.push_back(rig.ask(s));
  for (int i = 0; i < 3; ++i) CHECK(d[size_t(i)] == Disposition::Replied);
  for (int i = 3; i < 9; ++i)
    CHECK(d[size_t(i)] == ((i - 2) % 2 == 0 ? Disposition::Replied : Disposition::Dropped));
  REQUIRE(rig.sink.sent.size() == 6);
  for (size_t i = 3; i < 6; ++i) {
    auto m = dns::parse_message(rig.sink.sent[i].bytes);
    REQUIRE(m.has_value());
    CHECK(m->header.tc);
    CHECK(m->header.qr);
    CHECK(m->rcode() == dns::RCode::NoError);
    REQUIRE(m->questions.size() == 1);
    CHECK(m->questions[0].qname.to_text() == "version.bind.");
    CHECK(m->answer.empty());
    CHECK(m->edns.has_value());  // the query had an OPT
  }
  auto st = rig.pipeline->stats();
  CHECK(st.rate_limited == 6);
  CHECK(st.rate_slipped == 3);
  CHECK(st.rate_dropped == 3);
  rig.clock.advance_ms(1000);
  CHECK(rig.ask(s) == Disposition::Replied);
  CHECK_FALSE(dns::parse_message(rig.sink.sent.back().bytes)->header.tc);
}

TEST_CASE("TCP queries and refused clients are never rate limited",
          "[server][ratelimit][pipeline]") {
  RlRig rig({1, 0});
  for (int i = 0; i < 20; ++i) CHECK(rig.ask(chaos_version(), Protocol::Tcp) == Disposition::Replied);
  for (int i = 0; i < 20; ++i)
    CHECK(rig.ask(chaos_version(), Protocol::Udp, net::Address::v4(192, 0, 2, 7)) ==
          Disposition::Replied);
  CHECK(rig.pipeline->stats().rate_limited == 0);
  // The same loopback client over UDP is limited after its one token.
  CHECK(rig.ask(chaos_version()) == Disposition::Replied);
  CHECK(rig.ask(chaos_version()) == Disposition::Dropped);
  CHECK(rig.pipeline->stats().rate_dropped == 1);
}

TEST_CASE("a reload applies new rate limits to the next query", "[server][ratelimit][pipeline]") {
  RlRig rig({0, 2});
  for (int i = 0; i < 50; ++i) CHECK(rig.ask(chaos_version()) == Disposition::Replied);
  PipelineOptions o;
  o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
  o.rate_limit = {2, 0};
  rig.pipeline->set_options(o);
  CHECK(rig.ask(chaos_version()) == Disposition::Replied);
  CHECK(rig.ask(chaos_version()) == Disposition::Replied);
  CHECK(rig.ask(chaos_version()) == Disposition::Dropped);
}

TEST_CASE("a client just over the limit still gets every slip-th limited query as TC",
          "[server][ratelimit]") {
  // 20 qps, a query every 5 ms for a second: a pass every 50 ms with nine limited between.
  auto rl = limiter(20, 2);
  std::vector<RateVerdict> v;
  for (uint64_t t = 0; t < 1000; t += 5) v.push_back(rl.check(kClient, kT0 + t));
  int limited = count(v, RateVerdict::Slip) + count(v, RateVerdict::Drop);
  CHECK(count(v, RateVerdict::Pass) == 20 + 19);
  CHECK(count(v, RateVerdict::Slip) == limited / 2);
}
