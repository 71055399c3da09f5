#include <catch2/catch.hpp>

#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;
using dns::RCode;
using dns::RRType;
using Lines = std::vector<std::string>;

namespace {
// The example.com servers are two; which one is asked first is the selection's choice.
bool is_example_server(const SentQuery& q) {
  return q.server.address == kExample || q.server.address == kExample2;
}
}  // namespace

TEST_CASE("a cold resolution primes the root, follows referrals and returns the answer",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("www.example.com");
  CHECK(rcode_of(out) == RCode::NoError);
  CHECK(answer_lines(out) == Lines{"www.example.com. A 192.0.2.1"});
  auto lines = w.net.lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "10.0.0.1 . NS");  // RFC 9609 priming first
  CHECK(lines[1] == "10.0.0.1 www.example.com. A");
  CHECK(lines[2] == "10.0.1.1 www.example.com. A");
  CHECK(is_example_server(w.net.sent()[3]));
  CHECK(lines[3].ends_with(" www.example.com. A"));
  for (const auto& q : w.net.sent()) {
    CHECK(q.edns);  // EDNS to authoritatives, RFC 6891
    CHECK(q.protocol == Protocol::Udp);
    CHECK(q.server.port == 53);
  }
  CHECK(w.iterator().stats().primings == 1);
  CHECK(w.iterator().active_resolutions() == 0);
}

TEST_CASE("the delegation and NS addresses learned are reused by the next resolution",
          "[resolver][iterator]") {
  World w;
  w.resolve("www.example.com");
  w.net.clear_sent();
  auto out = w.resolve("www.example.com", RRType::TXT);
  CHECK(rcode_of(out) == RCode::NoError);
  REQUIRE(w.net.sent().size() == 1);  // straight to the zone's server
  CHECK(is_example_server(w.net.sent()[0]));
  w.net.clear_sent();
  w.resolve("www.example.net");
  CHECK(w.net.lines() == Lines{"10.0.0.1 www.example.net. A", "10.0.2.1 www.example.net. A",
                               "10.0.4.1 www.example.net. A"});
}

TEST_CASE("when priming fails the root hints are used directly", "[resolver][iterator]") {
  World w;
  w.net.script(kRoot, ".", RRType::NS, Script{Script::Kind::Timeout, {}, {}});
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  // The priming query is retried once (a lost datagram), then the hints stand in.
  CHECK(w.net.lines() == Lines{"10.0.0.1 . NS", "10.0.0.1 . NS", "10.0.0.1 www.example.net. A",
                               "10.0.2.1 www.example.net. A", "10.0.4.1 www.example.net. A"});
}

TEST_CASE("concurrent resolutions wait for one priming", "[resolver][iterator]") {
  World w;
  int done = 0;
  for (auto name : {"www.example.net", "host.example.net"})
    w.iterator().resolve(Request{dns::Question{N(name), RRType::A, dns::RRClass::IN}},
                         [&](Outcome o) {
                           CHECK(o.status == Status::Answer);
                           ++done;
                         });
  w.net.run();
  CHECK(done == 2);
  size_t primes = 0;
  for (const auto& l : w.net.lines()) primes += l == "10.0.0.1 . NS";
  CHECK(primes == 1);
}

TEST_CASE("an NS name without glue is resolved first, then its zone is asked",
          "[resolver][iterator]") {
  World w;
  w.opts.query_ipv6 = false;
  auto out = w.resolve("www.glueless.com");
  CHECK(answer_lines(out) == Lines{"www.glueless.com. A 192.0.2.3"});
  CHECK(w.net.lines() == Lines{"10.0.0.1 . NS", "10.0.0.1 www.glueless.com. A",
                               "10.0.1.1 www.glueless.com. A",  // referral without glue
                               "10.0.0.1 ns.example.net. A", "10.0.2.1 ns.example.net. A",
                               "10.0.4.1 ns.example.net. A",
                               "10.0.5.1 www.glueless.com. A"});
  // The NS address is cached: a second name in the zone costs one query.
  w.net.clear_sent();
  w.resolve("www.glueless.com", RRType::TXT);
  CHECK(w.net.lines() == Lines{"10.0.5.1 www.glueless.com. TXT"});
}

TEST_CASE("a glueless NS name is looked up for both address families in parallel",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("www.glueless.com");
  CHECK(answer_lines(out) == Lines{"www.glueless.com. A 192.0.2.3"});
  auto lines = w.net.lines();
  CHECK(std::count(lines.begin(), lines.end(), "10.0.4.1 ns.example.net. A") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "10.0.4.1 ns.example.net. AAAA") == 1);
  CHECK(lines.back() == "10.0.5.1 www.glueless.com. A");
}

TEST_CASE("a CNAME into another zone is followed and the whole chain answered",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("alias.example.com");
  CHECK(rcode_of(out) == RCode::NoError);
  CHECK(answer_lines(out) == Lines{"alias.example.com. CNAME www.example.net.",
                                   "www.example.net. A 192.0.2.2"});
  auto lines = w.net.lines();
  REQUIRE(lines.size() == 7);
  CHECK(lines[3].ends_with(" alias.example.com. A"));
  // The target is resolved from the deepest known cut for it: the root (net. unknown yet).
  CHECK(lines[4] == "10.0.0.1 www.example.net. A");
  CHECK(lines[5] == "10.0.2.1 www.example.net. A");
  CHECK(lines[6] == "10.0.4.1 www.example.net. A");
}

TEST_CASE("a CNAME chain inside one zone is taken from one reply", "[resolver][iterator]") {
  World w;
  w.resolve("www.example.com");
  w.net.clear_sent();
  auto out = w.resolve("inzone.example.com");
  CHECK(answer_lines(out) == Lines{"inzone.example.com. CNAME www.example.com.",
                                   "www.example.com. A 192.0.2.1"});
  CHECK(w.net.sent().size() == 1);
}

TEST_CASE("a DNAME is applied with a synthesized CNAME and the target resolved",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("host.old.example.com");
  CHECK(rcode_of(out) == RCode::NoError);
  CHECK(answer_lines(out) == Lines{"old.example.com. DNAME example.net.",
                                   "host.old.example.com. CNAME host.example.net.",
                                   "host.example.net. A 192.0.2.4"});
}

TEST_CASE("NXDOMAIN is answered with the zone's SOA and nothing below it is asked again",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("nope.example.com");
  CHECK(rcode_of(out) == RCode::NxDomain);
  REQUIRE(out.response->authority.size() == 1);
  CHECK(out.response->authority[0].type == RRType::SOA);
  CHECK(out.response->authority[0].name == N("example.com"));
  CHECK(out.response->authority[0].ttl == 300);  // RFC 2308: min(TTL, MINIMUM)
  CHECK(out.response->answer.empty());
  // RFC 8020: a name below it needs no query at all.
  w.net.clear_sent();
  auto below = w.resolve("a.b.nope.example.com", RRType::AAAA);
  CHECK(rcode_of(below) == RCode::NxDomain);
  CHECK(w.net.sent().empty());
  CHECK(w.iterator().stats().nxdomain_cut_hits == 1);
  // ... until the negative TTL runs out.
  w.clock.advance_seconds(301);
  w.resolve("a.b.nope.example.com", RRType::AAAA);
  CHECK(w.net.sent().size() == 1);
}

TEST_CASE("NODATA is answered NOERROR with the SOA", "[resolver][iterator]") {
  World w;
  auto out = w.resolve("www.example.com", RRType::AAAA);
  CHECK(rcode_of(out) == RCode::NoError);
  CHECK(out.response->answer.empty());
  REQUIRE(out.response->authority.size() == 1);
  CHECK(out.response->authority[0].type == RRType::SOA);
}

TEST_CASE("a CNAME to a name that does not exist answers NXDOMAIN with the chain",
          "[resolver][iterator]") {
  World w;
  auto out = w.resolve("nothing.old.example.com");
  CHECK(rcode_of(out) == RCode::NxDomain);  // RFC 6604: the rcode is the last name's
  CHECK(answer_lines(out) == Lines{"old.example.com. DNAME example.net.",
                                   "nothing.old.example.com. CNAME nothing.example.net."});
  REQUIRE(out.response->authority.size() == 1);
  CHECK(out.response->authority[0].name == N("example.net"));
}

TEST_CASE("only IPv6 server addresses are used when query-ipv4 is off", "[resolver][iterator]") {
  World w;
  w.opts.query_ipv4 = false;
  const auto v6root = IP("fd00::1");
  w.opts.root_hints = {RootHint{N("a.root-servers.net"), {kRoot, v6root}}};
  w.net.add_zone(v6root, {N("."), {rr_soa("."), rr_ns(".", "a.root-servers.net"),
                                   rr_addr("a.root-servers.net", "fd00::1"),
                                   rr_ns("net", "ns1.nic.net"), rr_addr("ns1.nic.net", "10.0.2.1"),
                                   rr_addr("ns1.nic.net", "fd00::2")}});
  w.net.add_zone(IP("fd00::2"), {N("net"), {rr_soa("net"), rr_ns("example.net", "ns1.example.net"),
                                            rr_addr("ns1.example.net", "fd00::4")}});
  w.net.add_zone(IP("fd00::4"), {N("example.net"), {rr_addr("www.example.net", "192.0.2.2")}});
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  for (const auto& q : w.net.sent()) CHECK(q.server.address.is_v6());
  CHECK(w.net.sent().size() == 4);
}

TEST_CASE("shutdown completes pending resolutions with SERVFAIL and cancels their queries",
          "[resolver][iterator]") {
  World w;
  std::optional<Outcome> out;
  w.iterator().resolve(Request{dns::Question{N("www.example.com"), RRType::A, dns::RRClass::IN}},
                       [&](Outcome o) { out = std::move(o); });
  // Run only the start and the priming send, not the replies.
  for (int i = 0; i < 10 && w.net.sent().empty(); ++i) w.net.run_one();
  REQUIRE(w.net.sent().size() == 1);
  w.iterator().shutdown();
  REQUIRE(out.has_value());
  CHECK(out->status == Status::ServFail);
  w.net.run();
  CHECK(w.net.cancelled() >= 1);
  CHECK(w.iterator().active_resolutions() == 0);
}

TEST_CASE("questions outside class IN and zone transfers are refused, asynchronously",
          "[resolver][iterator]") {
  World w;
  std::optional<Outcome> out;
  w.iterator().resolve(Request{dns::Question{N("example.com"), RRType::AXFR, dns::RRClass::IN}},
                       [&](Outcome o) { out = std::move(o); });
  CHECK_FALSE(out.has_value());
  w.net.run();
  REQUIRE(out.has_value());
  CHECK(out->status == Status::Refused);
  CHECK(w.net.sent().empty());
}

TEST_CASE("client resolutions beyond max-concurrent are SERVFAILed at once",
          "[resolver][iterator]") {
  World w;
  w.opts.max_concurrent = 2;
  std::vector<Status> got;
  for (auto name : {"www.example.com", "www.example.net", "host.example.net"})
    w.iterator().resolve(Request{dns::Question{N(name), RRType::A, dns::RRClass::IN}},
                         [&](Outcome o) { got.push_back(o.status); });
  w.net.run();
  REQUIRE(got.size() == 3);
  CHECK(std::count(got.begin(), got.end(), Status::Answer) == 2);
  CHECK(w.iterator().stats().overloaded == 1);
  CHECK(w.iterator().client_resolutions() == 0);
  // Capacity is back once they are done.
  CHECK(w.resolve("www.example.com").status == Status::Answer);
}

TEST_CASE("glueless NS names are looked up at most two at a time, and no more once servers "
          "are known",
          "[resolver][iterator]") {
  World w;
  w.opts.query_ipv6 = false;
  FakeZone test{N("test"), {rr_soa("test")}};
  for (auto ns : {"a.example.net", "b.example.net", "c.example.net", "d.example.net"})
    test.records.push_back(rr_ns("multi.test", ns));
  w.net.add_zone(kRoot, test);
  FakeZone en{N("example.net"), {rr_soa("example.net"), rr_ns("example.net", "ns1.example.net"),
                                 rr_addr("ns1.example.net", "10.0.4.1")}};
  for (auto ns : {"a.example.net", "b.example.net", "c.example.net", "d.example.net"})
    en.records.push_back(rr_addr(ns, "10.0.5.1"));
  w.net.add_zone(kExampleNet, en);
  w.net.add_zone(kGlueless, {N("multi.test"), {rr_addr("www.multi.test", "192.0.2.31")}});
  auto out = w.resolve("www.multi.test");
  CHECK(answer_lines(out) == Lines{"www.multi.test. A 192.0.2.31"});
  auto count = [&](const std::string& name) {
    size_t n = 0;
    for (const auto& q : w.net.sent()) n += lower(q.question.qname.to_text()) == name;
    return n;
  };
  CHECK(count("a.example.net.") >= 1);
  CHECK(count("b.example.net.") >= 1);
  CHECK(count("c.example.net.") == 0);
  CHECK(count("d.example.net.") == 0);
  CHECK(w.net.lines().back() == "10.0.5.1 www.multi.test. A");
}

TEST_CASE("a priming answer whose root servers have no usable address falls back to the hints",
          "[resolver][iterator]") {
  World w;
  dns::Message m;
  m.header.aa = true;
  m.answer.push_back(rr_ns(".", "x.unknown-root.test"));  // no glue, not in the hints
  w.net.script(kRoot, ".", RRType::NS, Script{Script::Kind::Reply, m, {}});
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  CHECK_FALSE(w.infra.addresses(N("x.unknown-root.test"), net::Family::V4).has_value());
}

TEST_CASE("an iterator that could reach no root server is refused at construction",
          "[resolver][iterator]") {
  World w;
  w.opts.query_ipv4 = false;  // the hints hold IPv4 addresses only
  CHECK_THROWS_AS(w.iterator(), std::invalid_argument);
  World none;
  none.opts.root_hints.clear();
  CHECK_THROWS_AS(none.iterator(), std::invalid_argument);
}

TEST_CASE("with nothing-below-NXDOMAIN off, names below an NXDOMAIN are asked again",
          "[resolver][iterator]") {
  World w;
  w.opts.nothing_below_nxdomain = false;
  CHECK(rcode_of(w.resolve("nope.example.com")) == RCode::NxDomain);
  w.net.clear_sent();
  CHECK(rcode_of(w.resolve("a.nope.example.com")) == RCode::NxDomain);
  CHECK(w.net.sent().size() == 1);
}
