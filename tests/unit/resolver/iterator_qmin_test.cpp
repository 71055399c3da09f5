// QNAME minimisation, RFC 9156.
#include <catch2/catch.hpp>

#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;
using dns::RCode;
using dns::RRType;
using Lines = std::vector<std::string>;

namespace {
// Lines without the server address (the example.com servers are two).
Lines questions(const FakeTransport& net) {
  Lines v;
  for (const auto& q : net.sent())
    v.push_back(lower(q.question.qname.to_text()) + " " + dns::type_to_text(q.question.qtype));
  return v;
}
}  // namespace

TEST_CASE("with QNAME minimisation each server sees one label more than its zone",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Relaxed;
  auto out = w.resolve("www.example.com", RRType::TXT);
  CHECK(rcode_of(out) == RCode::NoError);
  CHECK(w.net.lines()[0] == "10.0.0.1 . NS");
  CHECK(w.net.lines()[1] == "10.0.0.1 com. A");          // the root learns only "com"
  CHECK(w.net.lines()[2] == "10.0.1.1 example.com. A");  // com learns "example.com"
  CHECK(questions(w.net) == Lines{". NS", "com. A", "example.com. A", "www.example.com. TXT"});
}

TEST_CASE("QNAME minimisation walks empty non-terminals one label at a time",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Strict;
  auto out = w.resolve("deep.a.b.c.example.com");
  CHECK(answer_lines(out) == Lines{"deep.a.b.c.example.com. A 192.0.2.9"});
  CHECK(questions(w.net) == Lines{". NS", "com. A", "example.com. A", "c.example.com. A",
                                  "b.c.example.com. A", "a.b.c.example.com. A",
                                  "deep.a.b.c.example.com. A"});
}

TEST_CASE("after four single-label steps the remaining labels are added in larger steps",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Relaxed;
  // 14 labels below example.com: empty non-terminals all the way down.
  std::string name = "x";
  for (int i = 13; i >= 1; --i) name += ".l" + std::to_string(i);
  name += ".example.com";
  w.net.add_zone(kExample, {N("example.com"), {rr_soa("example.com"),
                                               rr_addr(name.c_str(), "192.0.2.77")}});
  w.net.add_zone(kExample2, {N("example.com"), {rr_soa("example.com"),
                                                rr_addr(name.c_str(), "192.0.2.77")}});
  auto out = w.resolve(name.c_str());
  CHECK(answer_lines(out).size() == 1);
  size_t to_zone = 0;
  for (const auto& q : w.net.sent())
    to_zone += q.server.address == kExample || q.server.address == kExample2;
  // RFC 9156 §2.3: at most MAX_MINIMISE_COUNT (10) minimised queries in total, plus the
  // final full query; 2 of them went to root and com.
  CHECK(to_zone <= 10 - 2 + 1);
  CHECK(questions(w.net).back() == lower(N(name.c_str()).to_text()) + " A");
}

TEST_CASE("relaxed QNAME minimisation falls back to the full name after an NXDOMAIN for an "
          "empty non-terminal",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Relaxed;
  w.net.behaviour(kExample).nxdomain_ent = true;
  w.net.behaviour(kExample2).nxdomain_ent = true;
  auto out = w.resolve("deep.a.b.c.example.com");
  CHECK(answer_lines(out) == Lines{"deep.a.b.c.example.com. A 192.0.2.9"});
  CHECK(questions(w.net) == Lines{". NS", "com. A", "example.com. A", "c.example.com. A",
                                  "deep.a.b.c.example.com. A"});
}

TEST_CASE("strict QNAME minimisation takes the NXDOMAIN for an ancestor as final",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Strict;
  w.net.behaviour(kExample).nxdomain_ent = true;
  w.net.behaviour(kExample2).nxdomain_ent = true;
  auto out = w.resolve("deep.a.b.c.example.com");
  CHECK(rcode_of(out) == RCode::NxDomain);
  CHECK(questions(w.net).back() == "c.example.com. A");
}

TEST_CASE("relaxed QNAME minimisation falls back to the full name when a server errors on the "
          "minimised one",
          "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Relaxed;
  dns::Message servfail;
  servfail.set_rcode(RCode::ServFail);
  w.net.script(kExampleNet, "a.www.example.net", RRType::A,
               Script{Script::Kind::Reply, servfail, {}});
  w.net.script(kExampleNet, "b.a.www.example.net", RRType::A,
               Script{Script::Kind::Reply, [] {
                        dns::Message m;
                        m.header.aa = true;
                        m.answer.push_back(rr_addr("b.a.www.example.net", "192.0.2.55"));
                        return m;
                      }(),
                      {}});
  auto out = w.resolve("b.a.www.example.net");
  CHECK(answer_lines(out) == Lines{"b.a.www.example.net. A 192.0.2.55"});
  auto q = questions(w.net);
  REQUIRE(q.size() >= 2);
  CHECK(q[q.size() - 2] == "a.www.example.net. A");
  CHECK(q.back() == "b.a.www.example.net. A");
}

TEST_CASE("with QNAME minimisation off the full name goes to every server", "[resolver][qmin]") {
  World w;
  w.opts.qname_minimisation = QnameMinimisation::Off;
  w.resolve("deep.a.b.c.example.com");
  for (const auto& q : questions(w.net))
    CHECK((q == ". NS" || q == "deep.a.b.c.example.com. A"));
}
