#include <catch2/catch.hpp>

#include "dns/edns.hpp"
#include "dns/message.hpp"

using namespace tern::dns;
using namespace tern::dns::edns;

TEST_CASE("a DNS cookie is a client cookie of 8 octets and an optional 8..32-octet server cookie",
          "[dns][edns]") {
  std::vector<uint8_t> c8(8, 1), c24(24, 2), c12(12, 3), c41(41, 4);
  REQUIRE(Cookie::decode(c8));
  CHECK(Cookie::decode(c8)->server.empty());
  REQUIRE(Cookie::decode(c24));
  CHECK(Cookie::decode(c24)->server.size() == 16);
  CHECK(Cookie::decode(c12).error() == WireError::BadEdnsOption);
  CHECK(Cookie::decode(c41).error() == WireError::BadEdnsOption);
  CHECK(Cookie::decode({}).error() == WireError::BadEdnsOption);
  CHECK(Cookie::decode(Cookie::decode(c24)->to_option().data).value() == *Cookie::decode(c24));
}

TEST_CASE("an extended DNS error carries an info code and optional text", "[dns][edns]") {
  ExtendedError e{18, "blocked by policy"};
  auto opt = e.to_option();
  CHECK(opt.code == 15);
  CHECK(ExtendedError::decode(opt.data).value() == e);
  CHECK(ExtendedError::decode(std::vector<uint8_t>{0}).error() == WireError::BadEdnsOption);
  CHECK(ede_info_name(18) == "Prohibited");
  CHECK(ede_info_name(999).empty());
}

TEST_CASE("a client subnet option must be exactly as long as its source prefix",
          "[dns][edns]") {
  ClientSubnet ecs{1, 24, 0, {192, 0, 2}};
  CHECK(ClientSubnet::decode(ecs.to_option().data).value() == ecs);
  std::vector<uint8_t> too_long{0, 1, 24, 0, 192, 0, 2, 0};
  CHECK(ClientSubnet::decode(too_long).error() == WireError::BadEdnsOption);
  std::vector<uint8_t> stray_bits{0, 1, 23, 0, 192, 0, 3};  // bit 24 set past a /23
  CHECK(ClientSubnet::decode(stray_bits).error() == WireError::BadEdnsOption);
  std::vector<uint8_t> bad_family{0, 3, 0, 0};
  CHECK(ClientSubnet::decode(bad_family).error() == WireError::BadEdnsOption);
  std::vector<uint8_t> v6_too_wide{0, 2, 129, 0};
  CHECK(ClientSubnet::decode(v6_too_wide).error() == WireError::BadEdnsOption);
}

TEST_CASE("EDNS options survive a message round trip and print like dig", "[dns][edns]") {
  Message m;
  m.header.qr = true;
  m.edns = Edns{};
  m.edns->udp_payload = 1400;
  m.edns->dnssec_ok = true;
  m.edns->options.push_back(Nsid{{'n', 's', '1'}}.to_option());
  m.edns->options.push_back(ExtendedError{3, "stale"}.to_option());
  m.edns->options.push_back(Padding{5}.to_option());
  m.edns->options.push_back(ClientSubnet{1, 24, 0, {192, 0, 2}}.to_option());
  m.edns->options.push_back(Cookie{{1, 2, 3, 4, 5, 6, 7, 8}, {}}.to_option());
  auto back = parse_message(encode_message(m));
  REQUIRE(back);
  CHECK(back->edns == m.edns);
  REQUIRE(find_option(*back->edns, EdnsOptionCode::NSID));
  CHECK(find_option(*back->edns, EdnsOptionCode::Expire) == nullptr);
  CHECK(to_text(*back->edns) ==
        "; EDNS: version: 0, flags: do; udp: 1400\n"
        "; NSID: 6e 73 31 (\"ns1\")\n"
        "; EDE: 3 (Stale Answer): (stale)\n"
        "; PAD: (5 bytes)\n"
        "; CLIENT-SUBNET: 192.0.2.0/24/0\n"
        "; COOKIE: 0102030405060708\n");
}

TEST_CASE("the extended RCODE combines the header and OPT bits", "[dns][edns]") {
  Message m;
  m.header.qr = true;
  m.edns = Edns{};
  m.set_rcode(RCode::BadVers);
  CHECK(m.header.rcode == 0);
  CHECK(m.edns->extended_rcode == 1);
  auto back = parse_message(encode_message(m));
  REQUIRE(back);
  CHECK(back->rcode() == RCode::BadVers);
  m.set_rcode(RCode::BadCookie);
  back = parse_message(encode_message(m));
  REQUIRE(back);
  CHECK(back->rcode() == RCode::BadCookie);
  CHECK(back->header.rcode == 7);
}
