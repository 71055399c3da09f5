// Fuzz target: the server's request pipeline (server/pipeline.hpp), bytes in, at most one reply
// out, with no socket: a real MessageCache, a fake resolver whose completions are pumped after
// handle() returns (never from inside it, as the Resolver contract says), a fake scheduler.
//
// Input: byte 0 steers the harness, byte 1 is a TTL / clock step, the rest is one datagram:
//   bits 0-2  what the resolver answers: 0 an answer (A/AAAA, or a CNAME to an A), 1 NXDOMAIN,
//             2 NODATA, 3 ~8 KB of TXT (truncation), 4 SERVFAIL, 5 REFUSED, 6 an answer
//             message whose rcode is SERVFAIL, 7 a hundred A records (truncation at 1232)
//   bit 3     the datagram arrives over TCP (limit 65535) instead of UDP
//   bit 4     the client is outside the access list's allow rule (REFUSED)
//   bit 5     a second client sends the same datagram before the resolution completes
//   bit 6     the serve-stale client timer fires before the resolver completes
//   bit 7     after everything completed, the clock moves on and the datagram comes again
//             (cache hit, stale or prefetch path)
// Checked: every client gets at most one reply, and exactly one unless the pipeline may drop
// the datagram (no header, QR=1); every reply parses, has QR=1 and the query's ID; a reply to
// a well-formed query echoes its question exactly (0x20 case) and has an OPT iff the query
// had one (FORMERR excepted); a UDP reply fits the client's limit (512, or its EDNS size
// capped by ours); Disposition agrees with what was sent.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "../unit/server/fakes.hpp"
#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "dns/request.hpp"
#include "server/pipeline.hpp"
#include "util/bug.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;

namespace {

constexpr uint16_t kOurPayload = 1232;

dns::Name name(const char* text) {
  auto n = dns::Name::from_text(text);
  TERN_ASSERT(n.has_value());
  return *n;
}

dns::ResourceRecord soa_record(const dns::Name& owner, uint32_t ttl) {
  dns::ResourceRecord rr{owner, dns::RRType::SOA, dns::RRClass::IN, ttl, {}};
  for (auto n : {name("ns1.example."), name("hostmaster.example.")})
    rr.rdata.insert(rr.rdata.end(), n.wire().begin(), n.wire().end());
  for (uint32_t v : {1u, 7200u, 3600u, 1209600u, ttl})
    for (int shift = 24; shift >= 0; shift -= 8) rr.rdata.push_back(static_cast<uint8_t>(v >> shift));
  return rr;
}

resolver::Outcome make_outcome(unsigned kind, const resolver::Request& req, uint32_t ttl) {
  const dns::Question& q = req.question;
  dns::Message m;
  m.header.qr = true;
  switch (kind) {
    case 0:
      if (q.qtype == dns::RRType::A) {
        m.answer.push_back({q.qname, dns::RRType::A, q.qclass, ttl, {192, 0, 2, 1}});
      } else if (q.qtype == dns::RRType::AAAA) {
        dns::ResourceRecord rr{q.qname, dns::RRType::AAAA, q.qclass, ttl, {}};
        rr.rdata.assign(16, 0);
        rr.rdata[0] = 0x20;
        rr.rdata[1] = 0x01;
        rr.rdata[15] = 1;
        m.answer.push_back(rr);
      } else {
        auto target = name("target.example.");
        dns::ResourceRecord c{q.qname, dns::RRType::CNAME, q.qclass, ttl, {}};
        c.rdata.assign(target.wire().begin(), target.wire().end());
        m.answer.push_back(c);
        m.answer.push_back({target, dns::RRType::A, q.qclass, ttl, {192, 0, 2, 2}});
      }
      break;
    case 1:
      m.set_rcode(dns::RCode::NxDomain);
      m.authority.push_back(soa_record(name("example."), ttl));
      break;
    case 2:
      m.authority.push_back(soa_record(name("example."), ttl));
      break;
    case 3:
      for (int i = 0; i < 30; ++i) {
        dns::ResourceRecord rr{q.qname, dns::RRType::TXT, q.qclass, ttl, {}};
        rr.rdata.push_back(255);
        rr.rdata.insert(rr.rdata.end(), 255, static_cast<uint8_t>('a' + i % 26));
        m.answer.push_back(rr);
      }
      break;
    case 4:
      return {resolver::Status::ServFail, std::nullopt};
    case 5:
      return {resolver::Status::Refused, std::nullopt};
    case 6:
      m.set_rcode(dns::RCode::ServFail);
      break;
    default:
      for (uint8_t i = 0; i < 100; ++i)
        m.answer.push_back({q.qname, dns::RRType::A, q.qclass, ttl, {198, 51, 100, i}});
      break;
  }
  return {resolver::Status::Answer, m};
}

struct Rig {
  util::FakeClock clock;
  cache::MessageCache cache;
  FakeResolver resolver;
  FakeScheduler scheduler;
  FakeSink sink;
  std::unique_ptr<Pipeline> pipeline;

  Rig() : cache(small_cache(), clock) {
    PipelineOptions o;
    o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
    o.acl.add(net::Prefix::make(net::Address::v4(10, 0, 0, 0), 8), net::AclAction::Refuse);
    o.udp_payload_size = kOurPayload;
    o.chaos_version = "tern-fuzz";
    o.chaos_identity = "fuzz";
    pipeline = std::make_unique<Pipeline>(o, cache, resolver, scheduler, clock);
  }
  static cache::CacheOptions small_cache() {
    cache::CacheOptions c;
    c.max_bytes = 256 << 10;
    return c;
  }
};

// What must hold of any reply to `query`.
void check_reply(std::span<const uint8_t> query, const std::vector<uint8_t>& reply, Protocol p) {
  TERN_ASSERT(query.size() >= dns::kHeaderSize);  // shorter ones get no reply at all
  auto m = dns::parse_message(reply);
  if (!m) {
    std::fprintf(stderr, "reply of %zu bytes does not parse\n", reply.size());
    TERN_BUG("the pipeline sent a reply that does not parse");
  }
  TERN_ASSERT(m->header.qr);
  TERN_ASSERT(m->header.id == static_cast<uint16_t>((query[0] << 8) | query[1]));
  auto req = dns::parse_request(query);
  size_t limit = dns::kMinUdpPayload;
  if (req && req->edns.present)
    limit = std::max<size_t>(dns::kMinUdpPayload, std::min(req->edns.udp_payload, kOurPayload));
  if (p == Protocol::Udp && reply.size() > limit) {
    std::fprintf(stderr, "UDP reply of %zu bytes, client limit %zu\n", reply.size(), limit);
    TERN_BUG("UDP reply exceeds the client's limit");
  }
  if (!req) {
    TERN_ASSERT(m->questions.empty());  // garbage is answered with a bare header
    TERN_ASSERT(!m->edns.has_value());
    return;
  }
  if (!m->questions.empty()) {
    TERN_ASSERT(m->questions.size() == 1);
    TERN_ASSERT(m->questions[0].qname.equals_exact(req->qname));
    TERN_ASSERT(m->questions[0].qtype == req->qtype);
    TERN_ASSERT(m->questions[0].qclass == req->qclass);
  }
  if (m->rcode() != dns::RCode::FormErr) TERN_ASSERT(m->edns.has_value() == req->edns.present);
  TERN_ASSERT(m->header.rd == req->header.rd);
}

bool may_be_dropped(std::span<const uint8_t> query) {
  return query.size() < dns::kHeaderSize || (query[2] & 0x80) != 0;
}

// Completes every resolution the pipeline started (prefetches included), in order.
void pump(Rig& rig, unsigned kind, uint32_t ttl) {
  for (size_t i = 0, rounds = 0; i < rig.resolver.calls.size(); ++i) {
    TERN_ASSERT(++rounds < 1000);
    if (rig.resolver.calls[i].completed) continue;
    rig.resolver.complete(i, make_outcome(kind, rig.resolver.calls[i].request, ttl));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 2 + 65535) return 0;
  const uint8_t ctl = data[0];
  const uint32_t ttl = data[1];
  std::span<const uint8_t> query(data + 2, size - 2);
  const unsigned kind = ctl & 7u;
  const Protocol proto = (ctl & 8u) ? Protocol::Tcp : Protocol::Udp;
  const net::Address addr =
      (ctl & 16u) ? net::Address::v4(10, 1, 2, 3) : net::Address::v4(127, 0, 0, 1);

  Rig rig;
  std::map<uint16_t, size_t> expected;  // client port -> replies it must end up with
  auto ask = [&](uint16_t port) {
    ClientRef client{{addr, port}, proto, &rig.sink, proto == Protocol::Tcp ? port : 0u};
    size_t before = rig.sink.sent.size();
    Disposition d = rig.pipeline->handle(query, client);
    size_t now = rig.sink.sent.size() - before;
    TERN_ASSERT(now <= 1);
    TERN_ASSERT((d == Disposition::Replied) == (now == 1));
    if (d == Disposition::Dropped) TERN_ASSERT(may_be_dropped(query));
    expected[port] = d == Disposition::Dropped ? 0 : 1;
  };

  ask(40000);
  if (ctl & 32u) ask(40001);
  if (ctl & 64u) rig.scheduler.fire_all();
  pump(rig, kind, ttl);
  if (ctl & 128u) {
    rig.clock.advance_seconds(static_cast<int64_t>(ttl) * 3);
    ask(40002);
    pump(rig, kind, ttl);
    rig.scheduler.fire_all();
  }

  std::map<uint16_t, size_t> got;
  for (const auto& s : rig.sink.sent) {
    ++got[s.client.peer.port];
    check_reply(query, s.bytes, proto);
  }
  for (const auto& [port, n] : expected) {
    if (got[port] != n) {
      std::fprintf(stderr, "client port %u got %zu replies, expected %zu\n", port, got[port], n);
      TERN_BUG("a query did not get exactly one reply");
    }
  }
  TERN_ASSERT(rig.pipeline->pending_resolutions() == 0);
  return 0;
}
