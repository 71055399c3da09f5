#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <unordered_set>

#include "net/sockaddr.hpp"

using namespace tern::net;

TEST_CASE("ports are decimal 0 to 65535 and the system range is below 1024", "[net][port]") {
  CHECK(*parse_port("0") == 0);
  CHECK(*parse_port("53") == 53);
  CHECK(*parse_port("65535") == 65535);
  CHECK(parse_port("65536").error().code == Errc::PortTooLarge);
  CHECK(parse_port("999999999999").error().code == Errc::PortTooLarge);
  CHECK(parse_port("").error().code == Errc::PortMissing);
  CHECK(parse_port("053").error().code == Errc::PortLeadingZero);
  CHECK(parse_port("-1").error().code == Errc::PortInvalid);
  CHECK(parse_port("+53").error().code == Errc::PortInvalid);
  CHECK(parse_port("5 3").error().code == Errc::PortInvalid);
  CHECK(parse_port("domain").error().code == Errc::PortInvalid);
  CHECK(is_system_port(0));
  CHECK(is_system_port(53));
  CHECK(is_system_port(1023));
  CHECK_FALSE(is_system_port(1024));
  CHECK_FALSE(is_system_port(5353));
}

TEST_CASE("endpoints parse from address:port and [v6]:port and print back", "[net][endpoint]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"127.0.0.1:53", "127.0.0.1:53"},
      {"0.0.0.0:0", "0.0.0.0:0"},
      {"[::1]:53", "[::1]:53"},
      {"[2001:DB8:0:0:1:0:0:1]:5301", "[2001:db8::1:0:0:1]:5301"},
      {"[::ffff:192.0.2.1]:853", "[::ffff:192.0.2.1]:853"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto e = parse_endpoint(c.in);
    REQUIRE(e.has_value());
    CHECK(e->to_string() == c.out);
  }
  auto e = parse_endpoint("192.0.2.1:5301");
  REQUIRE(e);
  CHECK(e->address == Address::v4(192, 0, 2, 1));
  CHECK(e->port == 5301);
}

TEST_CASE("a bare address takes the default port only where one is offered", "[net][endpoint]") {
  CHECK(parse_endpoint("127.0.0.1", 53)->to_string() == "127.0.0.1:53");
  CHECK(parse_endpoint("::1", 53)->to_string() == "[::1]:53");
  CHECK(parse_endpoint("[::1]", 53)->to_string() == "[::1]:53");
  CHECK(parse_endpoint("127.0.0.1:5301", 53)->to_string() == "127.0.0.1:5301");
  CHECK(parse_endpoint("127.0.0.1").error().code == Errc::PortMissing);
  CHECK(parse_endpoint("[::1]").error().code == Errc::PortMissing);
  CHECK(parse_endpoint("::1").error().code == Errc::Ipv6NeedsBrackets);
  CHECK(parse_endpoint("fd00::53", 53)->to_string() == "[fd00::53]:53");
  CHECK(parse_endpoint("2001:db8::1", 53)->to_string() == "[2001:db8::1]:53");
  CHECK(parse_endpoint("2001:db8::1:ab", 53)->to_string() == "[2001:db8::1:ab]:53");
  // Ambiguous: is it ::1 port 53, or the address ::1:53? Brackets decide.
  CHECK(parse_endpoint("::1:53", 53).error().code == Errc::Ipv6NeedsBrackets);
  CHECK(parse_endpoint("2001:db8::1:0", 53).error().code == Errc::Ipv6NeedsBrackets);
  CHECK(parse_endpoint("[::1:53]", 53)->to_string() == "[::1:53]:53");
}

TEST_CASE("malformed endpoints are refused with a named error", "[net][endpoint]") {
  struct Bad {
    const char* text;
    Errc code;
  };
  const Bad bad[] = {
      {"", Errc::Empty},
      {"127.0.0.1:", Errc::PortMissing},
      {"[::1]:", Errc::PortMissing},
      {"127.0.0.1:65536", Errc::PortTooLarge},
      {"127.0.0.1:053", Errc::PortLeadingZero},
      {"127.0.0.1:dns", Errc::PortInvalid},
      {"[::1", Errc::UnclosedBracket},
      {"[::1]53", Errc::UnclosedBracket},
      {"[::1]]:53", Errc::UnclosedBracket},
      {"[127.0.0.1]:53", Errc::BracketsOnIpv4},
      {"2001:db8::1:99999", Errc::Ipv6NeedsBrackets},
      {"[fe80::1%eth0]:53", Errc::ZoneIdNotSupported},
      {"01.2.3.4:53", Errc::LeadingZero},
      {"1.2.3:53", Errc::WrongPartCount},
      {"localhost:53", Errc::WrongPartCount},
      {" 127.0.0.1:53", Errc::Whitespace},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    auto e = parse_endpoint(b.text);
    REQUIRE_FALSE(e.has_value());
    CHECK(errc_name(e.error().code) == errc_name(b.code));
  }
  CHECK(render_error("::1:53", parse_endpoint("::1:53").error()) ==
        "\"::1:53\": an IPv6 address with a port must be written [addr]:port");
}

TEST_CASE("endpoints convert to sockaddr_in and sockaddr_in6 and back", "[net][sockaddr]") {
  auto v4 = *parse_endpoint("192.0.2.7:5301");
  SockAddr s4 = to_sockaddr(v4);
  REQUIRE(s4.length == sizeof(sockaddr_in));
  sockaddr_in sin;
  std::memcpy(&sin, &s4.storage, sizeof sin);
  CHECK(sin.sin_family == AF_INET);
  CHECK(ntohs(sin.sin_port) == 5301);
  CHECK(ntohl(sin.sin_addr.s_addr) == 0xc0000207u);
  CHECK(from_sockaddr(s4.get(), s4.length) == v4);

  auto v6 = *parse_endpoint("[2001:db8::53]:853");
  SockAddr s6 = to_sockaddr(v6);
  REQUIRE(s6.length == sizeof(sockaddr_in6));
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &s6.storage, sizeof sin6);
  CHECK(sin6.sin6_family == AF_INET6);
  CHECK(ntohs(sin6.sin6_port) == 853);
  char buf[INET6_ADDRSTRLEN];
  REQUIRE(inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof buf) != nullptr);
  CHECK(std::string(buf) == "2001:db8::53");
  CHECK(from_sockaddr(s6.get(), s6.length) == v6);
}

TEST_CASE("from_sockaddr refuses short lengths and foreign families", "[net][sockaddr]") {
  auto s4 = to_sockaddr(*parse_endpoint("127.0.0.1:53"));
  CHECK_FALSE(from_sockaddr(s4.get(), s4.length - 1).has_value());
  CHECK_FALSE(from_sockaddr(s4.get(), 0).has_value());
  CHECK_FALSE(from_sockaddr(nullptr, sizeof(sockaddr_in)).has_value());
  auto s6 = to_sockaddr(*parse_endpoint("[::1]:53"));
  CHECK_FALSE(from_sockaddr(s6.get(), sizeof(sockaddr_in)).has_value());
  sockaddr_storage unix_like{};
  unix_like.ss_family = AF_UNIX;
  CHECK_FALSE(from_sockaddr(reinterpret_cast<sockaddr*>(&unix_like), sizeof unix_like).has_value());
}

TEST_CASE("endpoints are hashable values", "[net][endpoint]") {
  std::unordered_set<Endpoint> set{*parse_endpoint("127.0.0.1:53"), *parse_endpoint("127.0.0.1:54"),
                                   *parse_endpoint("[::1]:53"), *parse_endpoint("127.0.0.1", 53)};
  CHECK(set.size() == 3);
}
