#include "net/prefix.hpp"

#include <catch2/catch.hpp>

#include "net/access_list.hpp"
#include "net/address_class.hpp"

using namespace tern::net;

namespace {
Address addr(const char* t) {
  auto a = parse_address(t);
  REQUIRE(a.has_value());
  return *a;
}
Prefix pfx(const char* t) {
  auto p = parse_prefix(t);
  INFO(t);
  REQUIRE(p.has_value());
  return *p;
}
}  // namespace

TEST_CASE("CIDR prefixes parse, print and contain the right addresses", "[net][prefix]") {
  CHECK(pfx("10.0.0.0/8").to_string() == "10.0.0.0/8");
  CHECK(pfx("0.0.0.0/0").to_string() == "0.0.0.0/0");
  CHECK(pfx("192.0.2.1/32").to_string() == "192.0.2.1/32");
  CHECK(pfx("2001:DB8::/32").to_string() == "2001:db8::/32");
  CHECK(pfx("::/0").to_string() == "::/0");
  CHECK(pfx("::1/128").to_string() == "::1/128");

  const Prefix ten = pfx("10.0.0.0/8");
  CHECK(ten.contains(addr("10.0.0.0")));
  CHECK(ten.contains(addr("10.255.255.255")));
  CHECK_FALSE(ten.contains(addr("11.0.0.0")));
  CHECK_FALSE(ten.contains(addr("9.255.255.255")));
  CHECK_FALSE(ten.contains(addr("::ffff:10.0.0.1")));  // families never mix here

  const Prefix odd = pfx("172.16.0.0/12");
  CHECK(odd.contains(addr("172.31.255.255")));
  CHECK_FALSE(odd.contains(addr("172.32.0.0")));

  const Prefix doc6 = pfx("2001:db8::/32");
  CHECK(doc6.contains(addr("2001:db8:ffff::1")));
  CHECK_FALSE(doc6.contains(addr("2001:db9::1")));
  CHECK_FALSE(doc6.contains(addr("10.0.0.1")));

  const Prefix seven = pfx("fc00::/7");
  CHECK(seven.contains(addr("fd12:3456::1")));
  CHECK_FALSE(seven.contains(addr("fe00::1")));

  CHECK(pfx("0.0.0.0/0").contains(addr("255.255.255.255")));
  CHECK(pfx("::/0").contains(addr("ffff::1")));
  CHECK(ten.contains(pfx("10.1.0.0/16")));
  CHECK_FALSE(pfx("10.1.0.0/16").contains(ten));
  CHECK(Prefix::host(addr("::1")) == pfx("::1/128"));
}

TEST_CASE("a prefix with host bits set is an error that suggests the network", "[net][prefix]") {
  auto p = parse_prefix("10.1.2.3/8");
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::HostBitsSet);
  CHECK(render_error("10.1.2.3/8", p.error()) ==
        "\"10.1.2.3/8\": host bits set; did you mean 10.0.0.0/8");
  auto q = parse_prefix("2001:db8::1/32");
  REQUIRE_FALSE(q);
  CHECK(render_error("2001:db8::1/32", q.error()) ==
        "\"2001:db8::1/32\": host bits set; did you mean 2001:db8::/32");
}

TEST_CASE("malformed prefixes are refused with a named error", "[net][prefix]") {
  struct Bad {
    const char* text;
    Errc code;
  };
  const Bad bad[] = {
      {"", Errc::Empty},
      {"10.0.0.0", Errc::PrefixLengthMissing},
      {"10.0.0.0/", Errc::PrefixLengthMissing},
      {"10.0.0.0/33", Errc::PrefixLengthTooLarge},
      {"::/129", Errc::PrefixLengthTooLarge},
      {"10.0.0.0/1000", Errc::PrefixLengthTooLarge},
      {"10.0.0.0/08", Errc::PrefixLengthInvalid},
      {"10.0.0.0/-8", Errc::PrefixLengthInvalid},
      {"10.0.0.0/8/8", Errc::PrefixLengthInvalid},
      {"10.0.0/8", Errc::WrongPartCount},
      {"010.0.0.0/8", Errc::LeadingZero},
      {"fe80::%eth0/10", Errc::ZoneIdNotSupported},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    auto p = parse_prefix(b.text);
    REQUIRE_FALSE(p.has_value());
    CHECK(errc_name(p.error().code) == errc_name(b.code));
  }
}

TEST_CASE("special addresses are classified, v4-mapped as their IPv4", "[net][class]") {
  struct Case {
    const char* a;
    AddressClass c;
  };
  const Case cases[] = {
      {"0.0.0.0", AddressClass::Unspecified},
      {"0.1.2.3", AddressClass::Unspecified},
      {"::", AddressClass::Unspecified},
      {"127.0.0.1", AddressClass::Loopback},
      {"127.255.255.254", AddressClass::Loopback},
      {"::1", AddressClass::Loopback},
      {"10.1.2.3", AddressClass::Private},
      {"172.16.0.1", AddressClass::Private},
      {"172.31.255.255", AddressClass::Private},
      {"172.32.0.1", AddressClass::Global},
      {"192.168.1.1", AddressClass::Private},
      {"fc00::1", AddressClass::Private},
      {"fdff:ffff::1", AddressClass::Private},
      {"100.64.0.1", AddressClass::Shared},
      {"100.127.255.255", AddressClass::Shared},
      {"100.128.0.0", AddressClass::Global},
      {"169.254.1.1", AddressClass::LinkLocal},
      {"fe80::1", AddressClass::LinkLocal},
      {"febf::1", AddressClass::LinkLocal},
      {"fec0::1", AddressClass::Global},
      {"224.0.0.1", AddressClass::Multicast},
      {"239.255.255.255", AddressClass::Multicast},
      {"ff02::1", AddressClass::Multicast},
      {"255.255.255.255", AddressClass::Broadcast},
      {"192.0.2.1", AddressClass::Documentation},
      {"198.51.100.1", AddressClass::Documentation},
      {"203.0.113.255", AddressClass::Documentation},
      {"2001:db8::1", AddressClass::Documentation},
      {"3fff::1", AddressClass::Documentation},
      {"8.8.8.8", AddressClass::Global},
      {"2606:4700::1111", AddressClass::Global},
      {"::ffff:127.0.0.1", AddressClass::Loopback},
      {"::ffff:10.0.0.1", AddressClass::Private},
      {"::ffff:192.0.2.1", AddressClass::Documentation},
      {"::ffff:8.8.8.8", AddressClass::Global},
      {"::ffff:0.0.0.0", AddressClass::Unspecified},
  };
  for (const Case& c : cases) {
    INFO(c.a);
    CHECK(class_name(classify(addr(c.a))) == class_name(c.c));
  }
}

TEST_CASE("class names parse and every class prefix classifies as its class", "[net][class]") {
  for (const char* name : {"unspecified", "loopback", "private", "shared", "link-local",
                           "multicast", "broadcast", "documentation"}) {
    INFO(name);
    auto c = parse_address_class(name);
    REQUIRE(c.has_value());
    CHECK(class_name(*c) == name);
    REQUIRE_FALSE(class_prefixes(*c).empty());
    for (const Prefix& p : class_prefixes(*c)) CHECK(classify(p.network()) == *c);
  }
  CHECK(parse_address_class("global").error().code == Errc::UnknownClass);
  CHECK(parse_address_class("Loopback").error().code == Errc::UnknownClass);
  CHECK(class_prefixes(AddressClass::Global).empty());
}

TEST_CASE("the access list picks the most specific rule and the later of equals", "[net][acl]") {
  AccessList acl;
  acl.add(pfx("10.0.0.0/8"), AclAction::Allow);
  acl.add(pfx("10.1.0.0/16"), AclAction::Deny);
  acl.add(pfx("10.1.2.0/24"), AclAction::Allow);
  acl.add(pfx("127.0.0.0/8"), AclAction::Allow);
  acl.add(pfx("127.0.0.0/8"), AclAction::Refuse);  // same prefix later: overrides
  acl.add(pfx("::1/128"), AclAction::Allow);

  CHECK(acl.decide(addr("10.9.9.9")) == AclAction::Allow);
  CHECK(acl.decide(addr("10.1.9.9")) == AclAction::Deny);
  CHECK(acl.decide(addr("10.1.2.9")) == AclAction::Allow);
  CHECK(acl.decide(addr("127.0.0.1")) == AclAction::Refuse);
  CHECK(acl.decide(addr("::1")) == AclAction::Allow);
  // Dual-stack sockets report IPv4 peers as mapped addresses.
  CHECK(acl.decide(addr("::ffff:10.1.9.9")) == AclAction::Deny);
  // No match refuses: never an open resolver.
  CHECK(acl.decide(addr("192.0.2.1")) == AclAction::Refuse);
  CHECK(acl.decide(addr("2001:db8::1")) == AclAction::Refuse);
  CHECK(AccessList{}.decide(addr("127.0.0.1")) == AclAction::Refuse);

  // Order does not matter between different lengths: a broad rule after a narrow one still
  // loses to it.
  AccessList b;
  b.add(pfx("192.168.1.0/24"), AclAction::Deny);
  b.add(pfx("0.0.0.0/0"), AclAction::Allow);
  CHECK(b.decide(addr("192.168.1.5")) == AclAction::Deny);
  CHECK(b.decide(addr("8.8.8.8")) == AclAction::Allow);
}
