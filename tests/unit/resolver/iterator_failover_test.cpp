// Misbehaving servers: dead, lame, REFUSED, truncating, EDNS-intolerant, case-mangling, spoofed.
#include <catch2/catch.hpp>

#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;
using dns::RCode;
using dns::RRType;
using Lines = std::vector<std::string>;

namespace {
size_t count_to(const FakeTransport& net, const net::Address& a) {
  size_t n = 0;
  for (const auto& q : net.sent()) n += q.server.address == a;
  return n;
}
}  // namespace

TEST_CASE("a dead server costs one timeout, not one per query", "[resolver][failover]") {
  World w;
  w.net.behaviour(kExample).dead = true;
  for (auto name : {"www.example.com", "inzone.example.com", "nope.example.com",
                    "www.example.com", "alias.example.com"}) {
    auto out = w.resolve(name);
    CHECK(out.status == Status::Answer);
  }
  CHECK(w.iterator().stats().timeouts <= 1);
  CHECK(count_to(w.net, kExample) <= 1);
  CHECK(count_to(w.net, kExample2) >= 5);
}

TEST_CASE("after repeated timeouts a server is held down, then probed again",
          "[resolver][failover]") {
  World w;
  w.opts.selection.hold_down_after = 2;
  w.opts.selection.hold_down_ms = 30000;
  w.net.behaviour(kExample).dead = true;
  w.net.behaviour(kExample2).dead = true;
  auto first = w.resolve("www.example.com");
  CHECK(first.status == Status::ServFail);
  // Each asked once, then each retried once with its doubled timeout.
  CHECK(count_to(w.net, kExample) == 2);
  CHECK(count_to(w.net, kExample2) == 2);
  // Two timeouts in a row: held down, SERVFAIL without a query.
  w.net.clear_sent();
  auto held = w.resolve("www.example.com");
  CHECK(held.status == Status::ServFail);
  CHECK(w.net.sent().empty());
  CHECK(w.iterator().selection().held_down(kExample));
  // Every server held down: each is probed, once per probe interval, not once per query.
  w.clock.advance_ms(w.opts.selection.probe_interval_ms);
  w.net.clear_sent();
  const uint64_t t0 = w.clock.mono_ms();
  CHECK(w.resolve("www.example.com").status == Status::ServFail);
  // The fake network's clock runs through each probe's timeout, so a long resolution may
  // see a second interval begin: at most one probe per server per interval begun.
  const uint64_t allowed = (w.clock.mono_ms() - t0) / w.opts.selection.probe_interval_ms + 1;
  CHECK(count_to(w.net, kExample) >= 1);
  CHECK(count_to(w.net, kExample) <= allowed);
  CHECK(count_to(w.net, kExample2) >= 1);
  CHECK(count_to(w.net, kExample2) <= allowed);
  CHECK(allowed <= 3);
  // A server that answers its probe is back before its hold-down ends.
  w.net.behaviour(kExample2).dead = false;
  w.clock.advance_ms(w.opts.selection.probe_interval_ms);
  CHECK(w.resolve("www.example.com").status == Status::Answer);
  CHECK_FALSE(w.iterator().selection().held_down(kExample2));
  w.net.behaviour(kExample2).dead = true;
  // The hold-down ends; a recovered server is used again.
  w.net.behaviour(kExample).dead = false;
  w.clock.advance_ms(30001);
  auto back = w.resolve("www.example.com");
  CHECK(back.status == Status::Answer);
}

TEST_CASE("a lost datagram to the only server is retried once with a doubled timeout",
          "[resolver][failover]") {
  World w;
  w.resolve("host.example.net");  // learn the zone
  w.net.clear_sent();
  w.net.behaviour(kExampleNet).drop_next = 1;
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  REQUIRE(w.net.sent().size() == 2);
  CHECK(w.net.lines()[0] == w.net.lines()[1]);
  CHECK(w.net.sent()[1].timeout_ms == 2 * w.net.sent()[0].timeout_ms);
  // Twice lost: SERVFAIL after exactly two tries.
  w.net.clear_sent();
  w.net.behaviour(kExampleNet).drop_next = 2;
  CHECK(w.resolve("www.example.net", RRType::TXT).status == Status::ServFail);
  CHECK(w.net.sent().size() == 2);
}

TEST_CASE("timeouts back off exponentially up to the cap", "[resolver][failover]") {
  World w;
  w.net.behaviour(kExample).dead = true;
  w.net.behaviour(kExample2).dead = true;
  for (int i = 0; i < 4; ++i) {
    w.clock.advance_ms(w.opts.selection.hold_down_ms + 1);  // past any hold-down
    w.resolve("www.example.com");
  }
  std::vector<uint32_t> timeouts;
  for (const auto& q : w.net.sent())
    if (q.server.address == kExample) timeouts.push_back(q.timeout_ms);
  REQUIRE(timeouts.size() >= 3);
  CHECK(timeouts[0] == 800);
  CHECK(timeouts[1] == 1600);
  CHECK(timeouts[2] == 3200);
  if (timeouts.size() > 3) CHECK(timeouts[3] == 4000);
}

TEST_CASE("a server that REFUSES the zone is marked lame and skipped", "[resolver][failover]") {
  World w;
  w.net.behaviour(kExample).refuse_all = true;
  for (auto name : {"www.example.com", "inzone.example.com", "alias.example.com"}) {
    auto out = w.resolve(name);
    CHECK(out.status == Status::Answer);
  }
  CHECK(count_to(w.net, kExample) <= 1);
  CHECK(w.iterator().selection().is_lame(N("example.com"), kExample) ==
        (count_to(w.net, kExample) == 1));
}

TEST_CASE("a lame server (upward referral) is skipped for the zone", "[resolver][failover]") {
  World w;
  // kExample answers for example.com with a referral back to the root: lame.
  w.net.script(kExample, "www.example.com", RRType::A, Script{Script::Kind::Reply, [] {
                 dns::Message m;
                 m.authority.push_back(rr_ns(".", "a.root-servers.net"));
                 m.additional.push_back(rr_addr("a.root-servers.net", "10.0.0.1"));
                 return m;
               }(), {}});
  w.resolve("www.example.com", RRType::TXT);  // learn the delegation
  for (int i = 0; i < 3; ++i) {
    auto out = w.resolve("www.example.com");
    CHECK(answer_lines(out) == Lines{"www.example.com. A 192.0.2.1"});
  }
  size_t lame_queries = 0;
  for (const auto& l : w.net.lines()) lame_queries += l == "10.0.3.1 www.example.com. A";
  CHECK(lame_queries <= 1);
}

TEST_CASE("when every server of a zone fails the answer is SERVFAIL", "[resolver][failover]") {
  World w;
  w.net.behaviour(kExample).refuse_all = true;
  w.net.behaviour(kExample2).refuse_all = true;
  auto out = w.resolve("www.example.com");
  CHECK(out.status == Status::ServFail);
  CHECK(count_to(w.net, kExample) == 1);
  CHECK(count_to(w.net, kExample2) == 1);
}

TEST_CASE("a truncated UDP reply is repeated over TCP to the same server",
          "[resolver][failover]") {
  World w;
  w.net.behaviour(kExampleNet).tc_over_udp = true;
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  CHECK(w.net.lines() == Lines{"10.0.0.1 . NS", "10.0.0.1 www.example.net. A",
                               "10.0.2.1 www.example.net. A", "10.0.4.1 www.example.net. A",
                               "10.0.4.1 www.example.net. A tcp"});
  CHECK(w.iterator().stats().tcp_retries == 1);
}

TEST_CASE("FORMERR to an EDNS query is retried without EDNS and remembered",
          "[resolver][failover]") {
  World w;
  w.net.behaviour(kExampleNet).formerr_on_edns = true;
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  CHECK(w.net.lines() == Lines{"10.0.0.1 . NS", "10.0.0.1 www.example.net. A",
                               "10.0.2.1 www.example.net. A", "10.0.4.1 www.example.net. A",
                               "10.0.4.1 www.example.net. A noedns"});
  w.net.clear_sent();
  w.resolve("host.example.net");
  CHECK(w.net.lines() == Lines{"10.0.4.1 host.example.net. A noedns"});
  CHECK(w.iterator().stats().edns_fallbacks == 1);
}

TEST_CASE("the qname is sent with random 0x20 case", "[resolver][anti-spoofing]") {
  World w;
  w.resolve("www.example.com");
  bool upper = false, lower_seen = false;
  for (const auto& q : w.net.sent()) {
    auto text = q.question.qname.to_text();
    for (char c : text) {
      upper |= c >= 'A' && c <= 'Z';
      lower_seen |= c >= 'a' && c <= 'z';
    }
  }
  CHECK(upper);
  CHECK(lower_seen);
  // The answer carries our own case back, not the randomised one.
  auto out = w.resolve("www.example.com");
  CHECK(out.response->answer.at(0).name.equals_exact(N("www.example.com")));
}

TEST_CASE("a server that does not echo the 0x20 case is retried without it, once",
          "[resolver][anti-spoofing]") {
  World w;
  w.net.behaviour(kExampleNet).no_case_echo = true;
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  auto sent = w.net.sent();
  REQUIRE(sent.size() == 5);
  CHECK(sent[3].server.address == kExampleNet);
  CHECK(sent[4].server.address == kExampleNet);
  CHECK(sent[4].question.qname.equals_exact(N("www.example.net")));  // plain case
  CHECK(w.iterator().stats().case_mismatches == 1);
  w.net.clear_sent();
  w.resolve("host.example.net");
  CHECK(w.net.sent().size() == 1);  // remembered
}

TEST_CASE("a reply for another question is ignored and counted", "[resolver][anti-spoofing]") {
  World w;
  w.resolve("www.example.com", RRType::TXT);  // learn the zone
  dns::Message poison;
  poison.header.aa = true;
  poison.answer.push_back(rr_addr("www.example.com", "6.6.6.6"));
  for (auto server : {kExample, kExample2})
    w.net.script(server, "www.example.com", RRType::A,
                 Script{Script::Kind::Reply, poison,
                        dns::Question{N("other.example.com"), RRType::A, dns::RRClass::IN}});
  auto out = w.resolve("www.example.com");
  CHECK(out.status == Status::ServFail);
  CHECK(w.iterator().stats().spoofs_ignored == 2);
}

TEST_CASE("poison in a reply (out-of-bailiwick answer and glue) is scrubbed, not used",
          "[resolver][anti-spoofing]") {
  World w;
  w.opts.query_ipv6 = false;
  // The example.net server adds an answer for a com name and glue for www.example.com.
  dns::Message m;
  m.header.aa = true;
  m.answer.push_back(rr_addr("www.example.net", "192.0.2.2"));
  m.answer.push_back(rr_addr("www.example.com", "6.6.6.6"));
  m.authority.push_back(rr_ns("example.com", "ns.evil.net"));
  m.additional.push_back(rr_addr("ns1.example.com", "6.6.6.6"));
  w.net.script(kExampleNet, "www.example.net", RRType::A, Script{Script::Kind::Reply, m, {}});
  auto out = w.resolve("www.example.net");
  CHECK(answer_lines(out) == Lines{"www.example.net. A 192.0.2.2"});
  CHECK(w.iterator().stats().records_scrubbed >= 3);
  CHECK_FALSE(w.infra.addresses(N("ns1.example.com"), net::Family::V4).has_value());
  w.net.clear_sent();
  auto com = w.resolve("www.example.com");
  CHECK(answer_lines(com) == Lines{"www.example.com. A 192.0.2.1"});
  for (const auto& q : w.net.sent()) CHECK(q.server.address != IP("6.6.6.6"));
}

TEST_CASE("an unreachable server (ICMP or RST) is passed over at once", "[resolver][failover]") {
  World w;
  w.resolve("www.example.com", RRType::TXT);
  for (auto server : {kExample, kExample2})
    w.net.script(server, "www.example.com", RRType::A, Script{Script::Kind::NetworkError, {}, {}});
  const uint64_t start = w.clock.mono_ms();
  auto out = w.resolve("www.example.com");
  CHECK(out.status == Status::ServFail);
  CHECK(w.clock.mono_ms() - start < 100);  // no timeout was waited for
  CHECK(count_to(w.net, kExample) >= 1);
  CHECK(count_to(w.net, kExample2) >= 1);
}

TEST_CASE("a reply with QR clear is ignored as a spoof", "[resolver][anti-spoofing]") {
  World w;
  w.resolve("www.example.com", RRType::TXT);
  dns::Message m;
  m.header.aa = true;
  m.answer.push_back(rr_addr("www.example.com", "6.6.6.6"));
  Script s{Script::Kind::Reply, m, {}};
  s.clear_qr = true;
  w.net.script(kExample, "www.example.com", RRType::A, s);
  auto out = w.resolve("www.example.com");
  CHECK(answer_lines(out) == Lines{"www.example.com. A 192.0.2.1"});
  size_t asked = 0;
  for (const auto& l : w.net.lines()) asked += l == "10.0.3.1 www.example.com. A";
  CHECK(asked <= 1);
  CHECK(w.iterator().stats().spoofs_ignored == asked);
  // With both servers forging, nothing is accepted.
  w.net.script(kExample2, "www.example.com", RRType::A, s);
  w.infra.clear();
  w.net.clear_sent();
  CHECK(w.resolve("www.example.com").status == Status::ServFail);
}
