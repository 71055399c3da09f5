#include <catch2/catch.hpp>

#include "dns/text.hpp"

using namespace tern::dns;

namespace {
Name N(const char* s) { return *Name::from_text(s); }
}  // namespace

TEST_CASE("a record prints in dig's one-line form", "[dns][text]") {
  ResourceRecord rr{N("example.com"), RRType::A, RRClass::IN, 300, {192, 0, 2, 1}};
  CHECK(to_text(rr) == "example.com. 300 IN A 192.0.2.1");
  ResourceRecord odd{N("x."), static_cast<RRType>(65280), static_cast<RRClass>(42), 0, {0xAB}};
  CHECK(to_text(odd) == "x. 0 CLASS42 TYPE65280 \\# 1 AB");
}

TEST_CASE("a record line parses with optional TTL and class in either order", "[dns][text]") {
  auto origin = N("example.com.");
  auto a = rr_from_text("www 60 IN A 192.0.2.1", origin, 300);
  REQUIRE(a);
  CHECK(a->name == N("www.example.com."));
  CHECK(a->ttl == 60);
  auto b = rr_from_text("www IN 60 A 192.0.2.1", origin, 300);
  REQUIRE(b);
  CHECK(*b == *a);
  auto c = rr_from_text("@ MX 10 mail ; comment", origin, 300);
  REQUIRE(c);
  CHECK(c->name == origin);
  CHECK(c->ttl == 300);
  CHECK(c->rclass == RRClass::IN);
  CHECK(to_text(*c) == "example.com. 300 IN MX 10 mail.example.com.");
  auto t = rr_from_text("t TXT \"a b\" (c) \"semi;colon\"", origin, 1);
  REQUIRE(t);
  CHECK(to_text(*t) == "t.example.com. 1 IN TXT \"a b\" \"c\" \"semi;colon\"");
}

TEST_CASE("a record line that does not parse names its defect", "[dns][text]") {
  auto o = Name::root();
  CHECK(rr_from_text("", o, 0).error() == WireError::BadText);
  CHECK(rr_from_text("x. 300 IN", o, 0).error() == WireError::BadText);
  CHECK(rr_from_text("x. 300 IN NOTATYPE 1", o, 0).error() == WireError::BadText);
  CHECK(rr_from_text("x. IN TXT \"unterminated", o, 0).error() == WireError::BadText);
  CHECK(rr_from_text(std::string(64, 'a') + ". A 192.0.2.1", o, 0).error() ==
        WireError::LabelTooLong);
}

TEST_CASE("a small zone text with directives, blank owners and parentheses parses",
          "[dns][text]") {
  const char* zone =
      "$ORIGIN example.\n"
      "$TTL 3600\n"
      "@ IN SOA ns hostmaster (\n"
      "      1 ; serial\n"
      "      7200 3600 1209600 300 )\n"
      "  IN NS ns\n"
      "ns 60 A 192.0.2.53\n"
      "\n"
      "; a comment line\n"
      "www CNAME ns\n";
  auto rrs = zone_from_text(zone, Name::root(), 0);
  REQUIRE(rrs);
  REQUIRE(rrs->size() == 4);
  CHECK(to_text((*rrs)[0]) ==
        "example. 3600 IN SOA ns.example. hostmaster.example. 1 7200 3600 1209600 300");
  CHECK(to_text((*rrs)[1]) == "example. 3600 IN NS ns.example.");
  CHECK(to_text((*rrs)[2]) == "ns.example. 60 IN A 192.0.2.53");
  CHECK(to_text((*rrs)[3]) == "www.example. 3600 IN CNAME ns.example.");
}

TEST_CASE("a zone text error reports the line where the record starts", "[dns][text]") {
  auto bad = zone_from_text("a 1 A 192.0.2.1\nb 1 A 300.0.0.1\n", Name::root(), 0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 2);
  auto open = zone_from_text("a 1 TXT ( \"x\"\n", Name::root(), 0);
  REQUIRE_FALSE(open);
  CHECK(open.error().line == 1);
  CHECK_FALSE(zone_from_text("  1 A 192.0.2.1\n", Name::root(), 0));  // no previous owner
}

TEST_CASE("a message prints like dig with header, flags, OPT and sections", "[dns][text]") {
  Message m;
  m.header.id = 4660;
  m.header.qr = m.header.rd = m.header.ra = true;
  m.header.rcode = 3;
  m.questions.push_back({N("nx.example."), RRType::A, RRClass::IN});
  m.authority.push_back(*rr_from_text("example. 300 IN SOA ns. host. 1 2 3 4 5", Name::root(), 0));
  CHECK(to_text(m) ==
        ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 4660\n"
        ";; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0\n"
        "\n;; QUESTION SECTION:\n"
        ";nx.example. IN A\n"
        "\n;; AUTHORITY SECTION:\n"
        "example. 300 IN SOA ns. host. 1 2 3 4 5\n");
}

TEST_CASE("an RFC 2136 deletion with empty RDATA prints and parses as \\# 0", "[dns][text]") {
  ResourceRecord rr{N("www.example."), RRType::A, RRClass::ANY, 0, {}};
  CHECK(to_text(rr) == "www.example. 0 ANY A \\# 0");
  auto back = rr_from_text(to_text(rr), Name::root(), 0);
  REQUIRE(back);
  CHECK(*back == rr);
  CHECK_FALSE(rr_from_text("www.example. 0 IN A \\# 0", Name::root(), 0));
}
