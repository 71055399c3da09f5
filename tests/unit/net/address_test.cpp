#include "net/address.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <unordered_set>

using namespace tern::net;

namespace {

struct Bad {
  const char* text;
  Errc code;
  int part;
};

std::string canon(const char* text) {
  auto a = parse_address(text);
  REQUIRE(a.has_value());
  return a->to_string();
}

}  // namespace

TEST_CASE("well-formed dotted quads parse and print back unchanged", "[net][ipv4]") {
  const char* good[] = {"0.0.0.0",  "1.2.3.4",         "127.0.0.1",   "255.255.255.255",
                        "10.0.0.1", "192.168.100.200", "9.99.199.249"};
  for (const char* t : good) {
    INFO(t);
    auto a = parse_ipv4(t);
    REQUIRE(a.has_value());
    CHECK(a->is_v4());
    CHECK(a->to_string() == t);
  }
  auto a = parse_ipv4("192.0.2.1");
  REQUIRE(a);
  CHECK(*a == Address::v4(192, 0, 2, 1));
  CHECK(a->v4_value() == 0xc0000201u);
  CHECK(Address::v4(0xc0000201u) == *a);
}

TEST_CASE("IPv4 text that inet_aton would accept but we must not is refused with a named error",
          "[net][ipv4]") {
  const Bad bad[] = {
      {"", Errc::Empty, 0},
      {"1.2.3", Errc::WrongPartCount, 0},
      {"1", Errc::WrongPartCount, 0},
      {"1.2.3.4.5", Errc::WrongPartCount, 0},
      {"0x7f.0.0.1", Errc::HexPrefix, 1},
      {"127.0.0.0x1", Errc::HexPrefix, 4},
      {"01.2.3.4", Errc::LeadingZero, 1},
      {"1.2.3.00", Errc::LeadingZero, 4},
      {"256.1.1.1", Errc::PartTooLarge, 1},
      {"1.1.1.1000", Errc::PartTooLarge, 4},
      {"1.2.3.99999999999999999999", Errc::PartTooLarge, 4},
      {"1..2.3", Errc::EmptyPart, 2},
      {".1.2.3", Errc::EmptyPart, 1},
      {"1.2.3.", Errc::EmptyPart, 4},
      {"1.2.3.4.", Errc::WrongPartCount, 0},
      {" 1.2.3.4", Errc::Whitespace, 0},
      {"1.2.3.4\n", Errc::Whitespace, 0},
      {"1.2. 3.4", Errc::Whitespace, 0},
      {"1.2.3.-4", Errc::InvalidCharacter, 4},
      {"1.2.3.+4", Errc::InvalidCharacter, 4},
      {"a.b.c.d", Errc::InvalidCharacter, 1},
      {"1.2.3.4/8", Errc::InvalidCharacter, 4},
      {"2130706433", Errc::WrongPartCount, 0},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    auto a = parse_ipv4(b.text);
    REQUIRE_FALSE(a.has_value());
    CHECK(errc_name(a.error().code) == errc_name(b.code));
    CHECK(a.error().part == b.part);
  }
}

TEST_CASE("an error renders with its input and the part it is about", "[net][error]") {
  auto a = parse_ipv4("01.2.3.4");
  REQUIRE_FALSE(a);
  CHECK(render_error("01.2.3.4", a.error()) == "\"01.2.3.4\": leading zero in part 1");
  auto b = parse_ipv4("1.2.300.4");
  REQUIRE_FALSE(b);
  CHECK(render_error("1.2.300.4", b.error()) == "\"1.2.300.4\": part 3 is above 255");
}

TEST_CASE("IPv6 text forms of RFC 4291 section 2.2 parse to the right bytes", "[net][ipv6]") {
  auto a = parse_ipv6("2001:DB8:0:0:8:800:200C:417A");
  REQUIRE(a);
  const std::array<uint8_t, 16> want{0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,
                                     0,    8,    8,    0,    0x20, 0x0c, 0x41, 0x7a};
  CHECK(a->bytes() == want);
  auto b = parse_ipv6("2001:db8::8:800:200c:417a");
  REQUIRE(b);
  CHECK(*a == *b);

  auto mapped = parse_ipv6("::FFFF:129.144.52.38");
  REQUIRE(mapped);
  CHECK(mapped->is_v4_mapped());
  CHECK(mapped->unmapped() == Address::v4(129, 144, 52, 38));
  CHECK(Address::v4(129, 144, 52, 38).to_v4_mapped() == *mapped);

  auto compat = parse_ipv6("0:0:0:0:0:0:13.1.68.3");
  REQUIRE(compat);
  CHECK(compat->bytes()[12] == 13);
  CHECK(compat->bytes()[15] == 3);

  auto all = parse_ipv6("::");
  REQUIRE(all);
  CHECK(all->is_v6());
  CHECK(all->bytes() == std::array<uint8_t, 16>{});

  // `::` may stand for a single zero group when parsing (RFC 4291), though RFC 5952 never
  // prints it that way.
  auto one = parse_ipv6("1:2:3:4:5:6:7::");
  REQUIRE(one);
  CHECK(one->to_string() == "1:2:3:4:5:6:7:0");
  auto front = parse_ipv6("::2:3:4:5:6:7:8");
  REQUIRE(front);
  CHECK(front->to_string() == "0:2:3:4:5:6:7:8");
  CHECK(parse_ipv6("0001:0002::0003")->to_string() == "1:2::3");
}

TEST_CASE("malformed IPv6 literals are refused with a named error", "[net][ipv6]") {
  const Bad bad[] = {
      {"", Errc::Empty, 0},
      {"1:2:3:4:5:6:7", Errc::TooFewGroups, 0},
      {"1:2:3:4:5:6:7:8:9", Errc::TooManyGroups, 0},
      {"1:2:3:4::5:6:7:8", Errc::TooManyGroups, 0},
      {"1::2::3", Errc::MultipleDoubleColon, 0},
      {":::", Errc::StrayColon, 0},
      {"1:::2", Errc::StrayColon, 0},
      {":1:2:3:4:5:6:7", Errc::StrayColon, 0},
      {"1:2:3:4:5:6:7:", Errc::StrayColon, 0},
      {":1::", Errc::StrayColon, 0},
      {"::1:", Errc::StrayColon, 0},
      {"12345::", Errc::GroupTooLong, 1},
      {"1::g", Errc::InvalidCharacter, 2},
      {"fe80::1%eth0", Errc::ZoneIdNotSupported, 0},
      {"fe80::1%1", Errc::ZoneIdNotSupported, 0},
      {"::1.2.3.4:5", Errc::MisplacedIpv4, 1},
      {"1.2.3.4::", Errc::MisplacedIpv4, 1},
      {"::ffff:1.2.3", Errc::WrongPartCount, 0},
      {"::ffff:01.2.3.4", Errc::LeadingZero, 1},
      {"::ffff:1.2.3.256", Errc::PartTooLarge, 4},
      {"1:2:3:4:5:6:7:1.2.3.4", Errc::TooManyGroups, 0},
      {" ::1", Errc::Whitespace, 0},
      {"[::1]", Errc::InvalidCharacter, 1},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    auto a = parse_ipv6(b.text);
    REQUIRE_FALSE(a.has_value());
    CHECK(errc_name(a.error().code) == errc_name(b.code));
    CHECK(a.error().part == b.part);
  }
  CHECK(render_error("fe80::1%eth0", parse_ipv6("fe80::1%eth0").error()) ==
        "\"fe80::1%eth0\": zone ids ('%...') are not supported");
}

TEST_CASE("IPv6 addresses print in the RFC 5952 canonical form", "[net][ipv6][rfc5952]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      // §4.2.1: shorten as much as possible, compress the zero run.
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      // §4.2.3: the longest run wins even when it is not first.
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      // §4.2.3: on equal runs, the first is compressed.
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
      // §4.2.2: a single zero group is not `::`.
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      // §4.1: leading zeros dropped; §4.3: lower case.
      {"2001:0DB8:000A:00B0:0C00:0000:0000:0001", "2001:db8:a:b0:c00::1"},
      {"2001:db8::0:1", "2001:db8::1"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"fe80:0:0:0:0:0:0:1", "fe80::1"},
      {"ff02::1:ff00:1", "ff02::1:ff00:1"},
      {"0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"},
      // §5: IPv4-mapped keeps its dotted tail.
      {"::ffff:c000:0201", "::ffff:192.0.2.1"},
      {"0:0:0:0:0:FFFF:192.0.2.1", "::ffff:192.0.2.1"},
      // Other embedded forms print as plain hex.
      {"::192.0.2.1", "::c000:201"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    CHECK(canon(c.in) == c.out);
    // The canonical form is a fixed point.
    CHECK(canon(c.out) == c.out);
  }
}

TEST_CASE("parse_address picks the family from the text", "[net]") {
  CHECK(parse_address("1.2.3.4")->is_v4());
  CHECK(parse_address("::1")->is_v6());
  CHECK(parse_address("fe80::1%lo").error().code == Errc::ZoneIdNotSupported);
  CHECK(parse_address("host.example").error().code == Errc::WrongPartCount);
  CHECK(parse_address("my.host.example.com").error().code == Errc::InvalidCharacter);
}

TEST_CASE("addresses compare, order and hash as values", "[net]") {
  const Address a = *parse_address("10.0.0.1");
  const Address b = *parse_address("10.0.0.2");
  const Address c = *parse_address("::a00:1");
  CHECK(a == *parse_address("10.0.0.1"));
  CHECK(a != b);
  CHECK(a < b);
  CHECK(a != c);  // same low bytes, different family
  CHECK(a < c);   // IPv4 sorts before IPv6
  std::unordered_set<Address> set{a, b, c, *parse_address("10.0.0.1")};
  CHECK(set.size() == 3);
  static_assert(sizeof(Address) <= 20, "Address stays a small value");
  static_assert(std::is_trivially_copyable_v<Address>);
}
