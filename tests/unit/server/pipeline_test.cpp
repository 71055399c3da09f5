#include <catch2/catch.hpp>

#include <memory>

#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "dns/wire_reader.hpp"
#include "fakes.hpp"
#include "server/pipeline.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;
using dns::RCode;
using dns::RRType;

namespace {

net::AccessList loopback_acl() {
  net::AccessList acl;
  acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
  return acl;
}

struct Rig {
  util::FakeClock clock;
  cache::MessageCache cache{cache::CacheOptions{}, clock};
  FakeResolver resolver;
  FakeScheduler scheduler;
  FakeSink sink;
  PipelineOptions opts;
  std::unique_ptr<Pipeline> pipeline;

  explicit Rig(PipelineOptions o = {}) : opts(std::move(o)) {
    if (opts.acl.rules().empty()) opts.acl = loopback_acl();
    pipeline = std::make_unique<Pipeline>(opts, cache, resolver, scheduler, clock);
  }

  ClientRef client(Protocol p = Protocol::Udp, net::Address a = net::Address::v4(127, 0, 0, 1)) {
    return {{a, 40000}, p, &sink, p == Protocol::Tcp ? 7u : 0u};
  }
  Disposition ask(const QuerySpec& s, Protocol p = Protocol::Udp) {
    auto q = make_query(s);
    return pipeline->handle(q, client(p));
  }
  dns::Message reply(size_t i) {
    REQUIRE(sink.sent.size() > i);
    auto m = dns::parse_message(sink.sent[i].bytes);
    REQUIRE(m.has_value());
    return *m;
  }
};

}  // namespace

TEST_CASE("a query with two questions is answered FORMERR without a question section",
          "[server][pipeline]") {
  Rig rig;
  auto q = make_query({});
  q[5] = 2;  // QDCOUNT = 2 (the second question is simply missing)
  CHECK(rig.pipeline->handle(q, rig.client()) == Disposition::Replied);
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::FormErr);
  CHECK(m.header.id == 0x1234);
  CHECK(m.questions.empty());
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("a query whose question is cut short is answered FORMERR", "[server][pipeline]") {
  Rig rig;
  auto q = make_query({});
  q.resize(q.size() - 3);  // qclass and half of qtype gone
  rig.pipeline->handle(q, rig.client());
  CHECK(rig.reply(0).rcode() == RCode::FormErr);
  CHECK(rig.pipeline->stats().formerr == 1);
}

TEST_CASE("a query with QDCOUNT 0 is answered FORMERR (RFC 9619)", "[server][pipeline]") {
  Rig rig;
  std::vector<uint8_t> q = {0xab, 0xcd, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
  rig.pipeline->handle(q, rig.client());
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::FormErr);
  CHECK(m.header.id == 0xabcd);
}

TEST_CASE("an UPDATE is answered NOTIMP", "[server][pipeline]") {
  Rig rig;
  auto q = make_query({});
  q[2] = static_cast<uint8_t>((q[2] & 0x87) | (5 << 3));  // opcode 5 = UPDATE
  rig.pipeline->handle(q, rig.client());
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::NotImp);
  CHECK(m.header.opcode == dns::Opcode::Update);
  CHECK(m.header.qr);
}

TEST_CASE("packets without a header and responses get no reply at all", "[server][pipeline]") {
  Rig rig;
  std::vector<uint8_t> tiny = {1, 2, 3};
  CHECK(rig.pipeline->handle(tiny, rig.client()) == Disposition::Dropped);
  auto q = make_query({});
  q[2] |= 0x80;  // QR=1
  CHECK(rig.pipeline->handle(q, rig.client()) == Disposition::Dropped);
  CHECK(rig.sink.sent.empty());
  CHECK(rig.pipeline->stats().dropped == 2);
}

TEST_CASE("a client outside the access list is REFUSED with its question echoed",
          "[server][pipeline]") {
  PipelineOptions o;
  o.acl.add(net::Prefix::host(net::Address::v4(127, 0, 0, 1)), net::AclAction::Allow);
  Rig rig(o);
  auto q = make_query({.qname = "WwW.Example.COM."});
  rig.pipeline->handle(q, rig.client(Protocol::Udp, net::Address::v4(127, 0, 0, 2)));
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::Refused);
  REQUIRE(m.questions.size() == 1);
  CHECK(m.questions[0].qname.equals_exact(*dns::Name::from_text("WwW.Example.COM.")));
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("a deny rule drops the query silently", "[server][pipeline]") {
  PipelineOptions o;
  o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Deny);
  Rig rig(o);
  CHECK(rig.ask({}) == Disposition::Dropped);
  CHECK(rig.sink.sent.empty());
}

TEST_CASE("EDNS version 1 is answered BADVERS with an OPT of version 0", "[server][pipeline]") {
  Rig rig;
  rig.ask({.edns = true, .version = 1});
  auto m = rig.reply(0);
  REQUIRE(m.edns.has_value());
  CHECK(m.rcode() == RCode::BadVers);
  CHECK(m.edns->version == 0);
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("two OPT records are FORMERR and the reply carries no OPT", "[server][pipeline]") {
  Rig rig;
  auto q = make_query({.edns = true});
  std::vector<uint8_t> opt(q.end() - 11, q.end());
  q.insert(q.end(), opt.begin(), opt.end());
  q[11] = 2;  // ARCOUNT
  rig.pipeline->handle(q, rig.client());
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::FormErr);
  CHECK_FALSE(m.edns.has_value());
}

TEST_CASE("a resolved answer echoes ID, RD, CD and the question's case, and sets RA",
          "[server][pipeline]") {
  Rig rig;
  CHECK(rig.ask({.qname = "wWw.ExAmple.cOm.", .id = 0xbeef, .rd = true, .cd = true}) ==
        Disposition::Deferred);
  REQUIRE(rig.resolver.calls.size() == 1);
  CHECK(rig.resolver.calls[0].request.checking_disabled);
  rig.resolver.complete(0, answer({a_record("www.example.com.", 300, 1)}));
  auto m = rig.reply(0);
  CHECK(m.header.id == 0xbeef);
  CHECK(m.header.qr);
  CHECK(m.header.rd);
  CHECK(m.header.cd);
  CHECK(m.header.ra);
  CHECK_FALSE(m.header.aa);
  REQUIRE(m.questions.size() == 1);
  CHECK(m.questions[0].qname.equals_exact(*dns::Name::from_text("wWw.ExAmple.cOm.")));
  REQUIRE(m.answer.size() == 1);
  CHECK_FALSE(m.edns.has_value());  // no OPT in the query, none in the reply
}

TEST_CASE("a query with OPT gets an OPT with our payload size and its DO bit",
          "[server][pipeline]") {
  PipelineOptions o;
  o.udp_payload_size = 1400;
  Rig rig(o);
  rig.ask({.edns = true, .payload = 4096, .dnssec_ok = true});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 300, 1)}));
  auto m = rig.reply(0);
  REQUIRE(m.edns.has_value());
  CHECK(m.edns->udp_payload == 1400);
  CHECK(m.edns->dnssec_ok);
  CHECK(rig.resolver.calls[0].request.dnssec_ok);
}

TEST_CASE("a second identical query is a cache hit answered at once, with the new ID and case",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 300, 7)}));
  rig.clock.advance_seconds(100);
  CHECK(rig.ask({.qname = "WWW.example.com.", .id = 99, .edns = true}) == Disposition::Replied);
  CHECK(rig.resolver.calls.size() == 1);
  auto m = rig.reply(1);
  CHECK(m.header.id == 99);
  CHECK(m.header.ra);
  CHECK(m.questions[0].qname.equals_exact(*dns::Name::from_text("WWW.example.com.")));
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].ttl == 200);  // TTL decreases in the cache
  REQUIRE(m.edns.has_value());
  CHECK(rig.pipeline->stats().cache_hits == 1);
}

TEST_CASE("two identical concurrent misses cause one resolution and both clients get the answer",
          "[server][pipeline]") {
  Rig rig;
  CHECK(rig.ask({.id = 1}) == Disposition::Deferred);
  CHECK(rig.ask({.qname = "WWW.EXAMPLE.COM.", .id = 2}) == Disposition::Deferred);
  REQUIRE(rig.resolver.calls.size() == 1);
  CHECK(rig.sink.sent.empty());
  rig.resolver.complete(0, answer({a_record("www.example.com.", 300, 1)}));
  REQUIRE(rig.sink.sent.size() == 2);
  CHECK(rig.reply(0).header.id == 1);
  CHECK(rig.reply(1).header.id == 2);
  CHECK(rig.reply(1).questions[0].qname.equals_exact(*dns::Name::from_text("WWW.EXAMPLE.COM.")));
  CHECK(rig.pipeline->stats().coalesced == 1);
}

TEST_CASE("queries that differ in DO are not coalesced", "[server][pipeline]") {
  Rig rig;
  rig.ask({.edns = true});
  rig.ask({.edns = true, .dnssec_ok = true});
  CHECK(rig.resolver.calls.size() == 2);
}

TEST_CASE("a failed resolution without stale data is answered SERVFAIL", "[server][pipeline]") {
  Rig rig;
  rig.ask({.edns = true});
  rig.resolver.complete(0, {resolver::Status::ServFail, std::nullopt});
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::ServFail);
  CHECK(m.edns.has_value());
  CHECK(m.questions.size() == 1);
}

TEST_CASE("a failed resolution with expired data is answered from it with TTL 30",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  rig.clock.advance_seconds(120);  // expired, inside max-stale
  CHECK(rig.ask({.id = 5}) == Disposition::Deferred);
  REQUIRE(rig.resolver.calls.size() == 2);
  rig.resolver.complete(1, {resolver::Status::ServFail, std::nullopt});
  auto m = rig.reply(1);
  CHECK(m.rcode() == RCode::NoError);
  CHECK(m.header.id == 5);
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].ttl == 30);
  CHECK(rig.pipeline->stats().stale_answers == 1);
}

TEST_CASE("past the client timeout a waiter gets stale data and the resolution goes on",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  rig.clock.advance_seconds(120);
  rig.ask({.id = 6});
  REQUIRE(rig.scheduler.timers.size() == 1);
  CHECK(rig.scheduler.timers.begin()->second.first == 1800);
  rig.scheduler.fire_all();
  REQUIRE(rig.sink.sent.size() == 2);
  CHECK(rig.reply(1).answer.at(0).ttl == 30);
  CHECK(rig.pipeline->pending_resolutions() == 1);
  // The late answer refreshes the cache but is not sent again to the answered client.
  rig.resolver.complete(1, answer({a_record("www.example.com.", 60, 2)}));
  CHECK(rig.sink.sent.size() == 2);
  rig.ask({.id = 7});
  CHECK(rig.reply(2).answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 2});
}

TEST_CASE("past the client timeout with no stale data the client keeps waiting",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.scheduler.fire_all();
  CHECK(rig.sink.sent.empty());
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  CHECK(rig.sink.sent.size() == 1);
}

TEST_CASE("a hit in the last tenth of the TTL starts one background refresh",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 100, 1)}));
  rig.clock.advance_seconds(50);
  CHECK(rig.ask({}) == Disposition::Replied);
  CHECK(rig.resolver.calls.size() == 1);
  rig.clock.advance_seconds(45);  // 5 s left of 100
  CHECK(rig.ask({}) == Disposition::Replied);
  REQUIRE(rig.resolver.calls.size() == 2);
  CHECK(rig.pipeline->stats().prefetches == 1);
  CHECK(rig.ask({}) == Disposition::Replied);
  CHECK(rig.resolver.calls.size() == 2);  // once
  size_t sent = rig.sink.sent.size();
  rig.resolver.complete(1, answer({a_record("www.example.com.", 100, 9)}));
  CHECK(rig.sink.sent.size() == sent);  // nobody waited for the prefetch
  rig.ask({});
  CHECK(rig.reply(rig.sink.sent.size() - 1).answer.at(0).ttl == 100);
}

TEST_CASE("beyond max-concurrent resolutions a new miss is answered SERVFAIL",
          "[server][pipeline]") {
  PipelineOptions o;
  o.max_concurrent = 1;
  Rig rig(o);
  rig.ask({.qname = "a.example."});
  CHECK(rig.ask({.qname = "b.example."}) == Disposition::Replied);
  CHECK(rig.reply(0).rcode() == RCode::ServFail);
  CHECK(rig.pipeline->stats().over_limit == 1);
  CHECK(rig.resolver.calls.size() == 1);
}

TEST_CASE("beyond max-waiting-clients a miss is answered SERVFAIL, coalesced ones included",
          "[server][pipeline]") {
  PipelineOptions o;
  o.max_waiting_clients = 2;
  Rig rig(o);
  rig.ask({.qname = "a.example."});
  rig.ask({.qname = "a.example."});  // joins the first: two waiting
  CHECK(rig.pipeline->waiting_clients() == 2);
  CHECK(rig.ask({.qname = "a.example."}) == Disposition::Replied);
  CHECK(rig.ask({.qname = "b.example."}) == Disposition::Replied);
  CHECK(rig.reply(0).rcode() == RCode::ServFail);
  CHECK(rig.reply(1).rcode() == RCode::ServFail);
  CHECK(rig.pipeline->stats().over_limit == 2);
  CHECK(rig.resolver.calls.size() == 1);
  rig.resolver.complete(0, answer({a_record("a.example.", 300, 1)}));
  CHECK(rig.pipeline->waiting_clients() == 0);
  CHECK(rig.sink.sent.size() == 4);
  // Room again.
  CHECK(rig.ask({.qname = "b.example."}) == Disposition::Deferred);
}

TEST_CASE("a miss read from a backlogged UDP queue starts no resolution and gets no reply",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({.qname = "hit.example."});
  rig.resolver.complete(0, answer({a_record("hit.example.", 300, 1)}));
  ClientRef busy = rig.client();
  busy.backlogged = true;
  auto miss = make_query({.qname = "cold.example."});
  CHECK(rig.pipeline->handle(miss, busy) == Disposition::Dropped);
  CHECK(rig.resolver.calls.size() == 1);
  CHECK(rig.pipeline->stats().shed == 1);
  CHECK(rig.pipeline->stats().shed_dropped == 1);
  // Cache hits are still answered from the same backlogged queue.
  auto hit = make_query({.qname = "hit.example."});
  CHECK(rig.pipeline->handle(hit, busy) == Disposition::Replied);
  CHECK(rig.reply(1).answer.size() == 1);
  // Once the queue is short again the same miss is resolved.
  CHECK(rig.pipeline->handle(miss, rig.client()) == Disposition::Deferred);
  CHECK(rig.resolver.calls.size() == 2);
}

TEST_CASE("a backlogged miss still joins a resolution already in flight", "[server][pipeline]") {
  Rig rig;
  rig.ask({.qname = "a.example."});
  ClientRef busy = rig.client();
  busy.backlogged = true;
  auto q = make_query({.qname = "a.example."});
  CHECK(rig.pipeline->handle(q, busy) == Disposition::Deferred);
  CHECK(rig.pipeline->stats().shed == 0);
  rig.resolver.complete(0, answer({a_record("a.example.", 300, 1)}));
  CHECK(rig.sink.sent.size() == 2);
}

TEST_CASE("a backlogged miss with expired data is answered stale instead of dropped",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({.qname = "old.example."});
  rig.resolver.complete(0, answer({a_record("old.example.", 10, 1)}));
  rig.clock.advance_seconds(60);
  ClientRef busy = rig.client();
  busy.backlogged = true;
  auto q = make_query({.qname = "old.example."});
  CHECK(rig.pipeline->handle(q, busy) == Disposition::Replied);
  CHECK(rig.reply(1).answer.at(0).ttl == 30);  // RFC 8767 §4
  CHECK(rig.pipeline->stats().shed == 1);
  CHECK(rig.pipeline->stats().shed_dropped == 0);
  CHECK(rig.resolver.calls.size() == 1);
}

TEST_CASE("an answer too big for 512 octets is truncated over UDP and whole over TCP",
          "[server][pipeline]") {
  Rig rig;
  std::vector<dns::ResourceRecord> rrs;
  for (int i = 0; i < 4; ++i) rrs.push_back(txt_record("big.example.", 300, 200));
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT});
  rig.resolver.complete(0, answer(rrs));
  auto first = rig.reply(0);
  CHECK(first.header.tc);
  CHECK(rig.sink.sent[0].bytes.size() <= 512);
  // From the cache: UDP without EDNS -> TC, with EDNS 1232 -> whole, TCP -> whole.
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT});
  auto udp = rig.reply(1);
  CHECK(udp.header.tc);
  CHECK(udp.answer.empty());
  CHECK(udp.questions.size() == 1);
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT, .edns = true, .payload = 4096});
  auto edns = rig.reply(2);
  CHECK_FALSE(edns.header.tc);
  CHECK(edns.answer.size() == 4);
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT}, Protocol::Tcp);
  auto tcp = rig.reply(3);
  CHECK_FALSE(tcp.header.tc);
  CHECK(tcp.answer.size() == 4);
}

TEST_CASE("a client's EDNS size above ours is capped by udp-payload-size", "[server][pipeline]") {
  PipelineOptions o;
  o.udp_payload_size = 512;
  Rig rig(o);
  std::vector<dns::ResourceRecord> rrs;
  for (int i = 0; i < 4; ++i) rrs.push_back(txt_record("big.example.", 300, 200));
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT});
  rig.resolver.complete(0, answer(rrs));
  rig.ask({.qname = "big.example.", .qtype = RRType::TXT, .edns = true, .payload = 4096});
  CHECK(rig.reply(1).header.tc);
  CHECK(rig.sink.sent[1].bytes.size() <= 512);
}

TEST_CASE("ANY is answered with the RFC 8482 HINFO and never resolved", "[server][pipeline]") {
  Rig rig;
  rig.ask({.qname = "Example.com.", .qtype = RRType::ANY, .edns = true});
  auto m = rig.reply(0);
  CHECK(m.rcode() == RCode::NoError);
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].type == RRType::HINFO);
  CHECK(m.answer[0].name.equals_exact(*dns::Name::from_text("Example.com.")));
  std::vector<uint8_t> rdata = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
  CHECK(m.answer[0].rdata == rdata);
  CHECK(m.edns.has_value());
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("CHAOS version.bind is answered when configured and REFUSED when not",
          "[server][pipeline]") {
  PipelineOptions o;
  o.chaos_version = "tern 0.1";
  Rig rig(o);
  rig.ask({.qname = "VERSION.BIND.", .qtype = RRType::TXT, .qclass = dns::RRClass::CH});
  auto m = rig.reply(0);
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].rclass == dns::RRClass::CH);
  std::vector<uint8_t> txt = {8, 't', 'e', 'r', 'n', ' ', '0', '.', '1'};
  CHECK(m.answer[0].rdata == txt);
  rig.ask({.qname = "id.server.", .qtype = RRType::TXT, .qclass = dns::RRClass::CH});
  CHECK(rig.reply(1).rcode() == RCode::Refused);
  rig.ask({.qname = "other.bind.", .qtype = RRType::TXT, .qclass = dns::RRClass::CH});
  CHECK(rig.reply(2).rcode() == RCode::Refused);
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("zone transfers are REFUSED and other meta types FORMERR", "[server][pipeline]") {
  Rig rig;
  rig.ask({.qtype = RRType::AXFR});
  CHECK(rig.reply(0).rcode() == RCode::Refused);
  rig.ask({.qtype = RRType::TSIG});
  CHECK(rig.reply(1).rcode() == RCode::FormErr);
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("a resolver REFUSED outcome is passed on and not cached", "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, {resolver::Status::Refused, std::nullopt});
  CHECK(rig.reply(0).rcode() == RCode::Refused);
  rig.ask({});
  CHECK(rig.resolver.calls.size() == 2);
}

TEST_CASE("NXDOMAIN with its SOA is passed on and answered from the cache next time",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({.qname = "nope.example."});
  auto o = answer({}, RCode::NxDomain);
  std::vector<uint8_t> soa;
  for (const char* n : {"\x02" "ns" "\x07" "example", "\x05" "admin" "\x07" "example"}) {
    soa.insert(soa.end(), n, n + std::char_traits<char>::length(n));
    soa.push_back(0);
  }
  for (uint32_t v : {1u, 7200u, 3600u, 1209600u, 300u})
    for (int s = 24; s >= 0; s -= 8) soa.push_back(static_cast<uint8_t>(v >> s));
  o.response->authority.push_back(
      {*dns::Name::from_text("example."), RRType::SOA, dns::RRClass::IN, 3600, soa});
  rig.resolver.complete(0, o);
  CHECK(rig.reply(0).rcode() == RCode::NxDomain);
  rig.ask({.qname = "nope.example."});
  CHECK(rig.resolver.calls.size() == 1);
  auto m = rig.reply(1);
  CHECK(m.rcode() == RCode::NxDomain);
  CHECK(m.authority.size() == 1);
}

TEST_CASE("waiters of a closing listener are forgotten", "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  CHECK(rig.pipeline->waiting_clients() == 1);
  rig.pipeline->forget_sink(&rig.sink);
  CHECK(rig.pipeline->waiting_clients() == 0);
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  CHECK(rig.sink.sent.empty());
}

TEST_CASE("a completion after the pipeline is gone is ignored", "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.pipeline.reset();
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  CHECK(rig.sink.sent.empty());
}

TEST_CASE("after a failed refresh, stale data is served at once for the failure recheck time",
          "[server][pipeline]") {
  Rig rig;
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 60, 1)}));
  rig.clock.advance_seconds(120);
  rig.ask({});
  rig.resolver.complete(1, {resolver::Status::ServFail, std::nullopt});
  REQUIRE(rig.sink.sent.size() == 2);
  // Within 30 s: answered stale synchronously, no new resolution.
  rig.clock.advance_seconds(10);
  CHECK(rig.ask({.id = 8}) == Disposition::Replied);
  CHECK(rig.resolver.calls.size() == 2);
  CHECK(rig.reply(2).answer.at(0).ttl == 30);
  // After the recheck time the next query tries upstream again.
  rig.clock.advance_seconds(25);
  CHECK(rig.ask({.id = 9}) == Disposition::Deferred);
  CHECK(rig.resolver.calls.size() == 3);
}

TEST_CASE("replies and drops are counted in the metrics by source and rcode",
          "[server][pipeline]") {
  Rig rig;
  Metrics metrics;
  rig.pipeline->set_metrics(&metrics);
  rig.ask({});
  rig.resolver.complete(0, answer({a_record("www.example.com.", 300, 1)}));
  rig.ask({});
  rig.ask({.edns = true, .version = 1});
  std::vector<uint8_t> tiny = {1, 2};
  rig.pipeline->handle(tiny, rig.client());
  CHECK(metrics.answers(AnswerSource::Resolved) == 1);
  CHECK(metrics.answers(AnswerSource::Cache) == 1);
  CHECK(metrics.answers(AnswerSource::Local) == 1);
  CHECK(metrics.rcode_total(16) == 1);  // BADVERS, from the OPT's extended bits
  CHECK(metrics.queries(Transport::Udp, 1, 0) == 2);
  CHECK(metrics.dropped(Transport::Udp) == 1);
}
