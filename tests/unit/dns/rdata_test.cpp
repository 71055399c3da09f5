// Typed RDATA: value <-> bytes <-> text tables checked in every direction, plus the choices
// rdata.hpp documents (TXT needs a string, DS digest sizes, bitmap shape, SVCB rules).
#include <catch2/catch.hpp>

#include "dns/presentation.hpp"
#include "dns/rdata.hpp"

using namespace tern::dns;
using tern::dns::rdata::Bytes;

namespace {

Bytes hex(const char* h) {
  std::string s;
  for (const char* p = h; *p; ++p)
    if (*p != ' ') s.push_back(*p);
  auto b = from_hex(s);
  REQUIRE(b);
  return *b;
}

rdata::Result<Bytes> parse_text(RRType t, const std::string& text, const char* origin = ".") {
  auto toks = tokenize(text);
  REQUIRE(toks);
  return rdata::from_text(t, *toks, *Name::from_text(origin));
}

struct Row {
  RRType type;
  const char* text;  // canonical dig-like text
  const char* wire;  // uncompressed RDATA, hex
};

const Row kRows[] = {
    {RRType::A, "192.0.2.1", "C0000201"},
    {RRType::AAAA, "2001:db8::1", "20010DB8000000000000000000000001"},
    {RRType::NS, "ns1.example.", "036E7331076578616D706C6500"},
    {RRType::CNAME, "a\\.b.example.", "03612E62076578616D706C6500"},
    {RRType::DNAME, "new.example.", "036E6577076578616D706C6500"},
    {RRType::PTR, ".", "00"},
    {RRType::SOA, "ns. host. 1 7200 3600 1209600 300",
     "026E7300 04686F737400 00000001 00001C20 00000E10 00127500 0000012C"},
    {RRType::MX, "10 mail.example.", "000A 046D61696C076578616D706C6500"},
    {RRType::TXT, "\"hello world\" \"\" \"q\\\"\\\\\\255\"", "0B68656C6C6F20776F726C64 00 0471225CFF"},
    {RRType::SRV, "10 60 5060 sip.example.", "000A 003C 13C4 03736970076578616D706C6500"},
    {RRType::CAA, "0 issue \"ca.example; x=1\"", "00 05 6973737565 63612E6578616D706C653B20783D31"},
    {RRType::DS, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
     "EC45 05 01 2BB183AF5F22588179A53B0A98631FAD1A292118"},
    {RRType::DS, "1 13 200 AB", "0001 0D C8 AB"},  // unknown digest type: any length
    {RRType::DNSKEY, "257 3 13 AQID", "0101 03 0D 010203"},
    {RRType::RRSIG, "A 13 2 300 20261211134307 20261127121307 22809 example. AQIDBA==",
     "0001 0D 02 0000012C 6B1BFDEB 6B0973D3 5919 076578616D706C6500 01020304"},
    {RRType::NSEC, "host.example. A MX RRSIG NSEC TYPE1234",
     "04686F7374076578616D706C6500 0006 40010000 0003 04 1B 0000000000000000000000000000000000000000000000000000 20"},
    {RRType::NSEC3, "1 1 12 AABBCCDD 2T7B4G7VPA5SMI47J63VIT5V1A25ONJR A RRSIG",
     "01 01 000C 04AABBCCDD 14 174EB240FFCA8BCB48879987F974BF0A845C5E7B 0006 400000000002"},
    {RRType::NSEC3, "1 0 0 - 2T7B4G7VPA5SMI47J63VIT5V1A25ONJR",  // empty non-terminal
     "01 00 0000 00 14 174EB240FFCA8BCB48879987F974BF0A845C5E7B"},
    {RRType::NSEC3PARAM, "1 0 0 -", "01 00 0000 00"},
    {RRType::NSEC3PARAM, "1 0 10 2146A94BEC3B429B", "01 00 000A 08 2146A94BEC3B429B"},
    {RRType::HTTPS, "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1",
     "0001 00 0001 0006 02683202683 3 0003 0002 20FB 0004 0008 C0000201C0000202 0006 0010 20010DB8000000000000000000000001"},
    {RRType::SVCB, "0 svc.example.", "0000 03737663076578616D706C6500"},
    {RRType::SVCB, "16 foo.example. mandatory=alpn,ipv4hint alpn=\"h2\" no-default-alpn ipv4hint=192.0.2.1 ech=AQI= key65000=\"x\\001\"",
     "0010 03666F6F076578616D706C6500 0000 0004 00010004 0001 0003 026832 0002 0000 0004 0004 C0000201 0005 0002 0102 FDE8 0002 7801"},
    {static_cast<RRType>(65280), "\\# 3 010203", "010203"},
    {static_cast<RRType>(65280), "\\# 0", ""},
};

}  // namespace

TEST_CASE("typed RDATA converts between text and wire form both ways", "[dns][rdata]") {
  for (const Row& row : kRows) {
    INFO(type_to_text(row.type) << " " << row.text);
    Bytes wire = hex(row.wire);
    auto from_text = parse_text(row.type, row.text);
    REQUIRE(from_text);
    CHECK(to_hex(*from_text) == to_hex(wire));
    CHECK(rdata::to_text(row.type, wire) == row.text);
    auto typed = rdata::decode(row.type, wire);
    REQUIRE(typed);
    CHECK(rdata::encode(*typed) == wire);
  }
}

TEST_CASE("typed RDATA exposes its fields", "[dns][rdata]") {
  auto soa = rdata::Soa::decode(hex("026E7300 04686F737400 00000001 00001C20 00000E10 00127500 0000012C"));
  REQUIRE(soa);
  CHECK(soa->mname == *Name::from_text("ns."));
  CHECK(soa->serial == 1);
  CHECK(soa->minimum == 300);
  auto mx = rdata::Mx::decode(hex("000A 046D61696C076578616D706C6500"));
  REQUIRE(mx);
  CHECK(mx->preference == 10);
  auto nsec = rdata::Nsec::decode(hex("04686F7374076578616D706C6500 0006 40010000 0003"));
  REQUIRE(nsec);
  CHECK(nsec->types.contains(RRType::MX));
  CHECK_FALSE(nsec->types.contains(RRType::AAAA));
  auto https = rdata::Svcb::decode(*parse_text(RRType::HTTPS, "1 . port=443"));
  REQUIRE(https);
  REQUIRE(https->find(rdata::SvcKey::Port));
  CHECK(https->find(rdata::SvcKey::Port)->value == Bytes{0x01, 0xBB});
}

TEST_CASE("relative names and @ in RDATA text hang below the origin", "[dns][rdata]") {
  auto mx = parse_text(RRType::MX, "10 mail", "example.");
  REQUIRE(mx);
  CHECK(rdata::to_text(RRType::MX, *mx) == "10 mail.example.");
  auto ns = parse_text(RRType::NS, "@", "example.");
  REQUIRE(ns);
  CHECK(rdata::to_text(RRType::NS, *ns) == "example.");
}

TEST_CASE("the RFC 3597 generic form is accepted for known types and checked against them",
          "[dns][rdata]") {
  auto a = parse_text(RRType::A, "\\# 4 C0000201");
  REQUIRE(a);
  CHECK(*a == hex("C0000201"));
  CHECK(parse_text(RRType::A, "\\# 3 C00002").error() == WireError::RdataLengthMismatch);
  CHECK(parse_text(RRType::A, "\\# 5 C0000201").error() == WireError::BadText);  // length lies
}

TEST_CASE("RDATA that does not decode under its type prints in the generic form", "[dns][rdata]") {
  CHECK(rdata::to_text(RRType::MX, hex("000A")) == "\\# 2 000A");
}

TEST_CASE("long base64 and hex fields print in 56-character chunks as dig does", "[dns][rdata]") {
  Bytes key(64, 0xAB);
  rdata::Dnskey k{256, 3, 13, key};
  std::string t = k.to_text();
  CHECK(t.substr(0, 9) == "256 3 13 ");
  CHECK(t[9 + 56] == ' ');
  auto back = parse_text(RRType::DNSKEY, t);
  REQUIRE(back);
  Bytes wire;
  k.encode(wire);
  CHECK(*back == wire);
}

TEST_CASE("the DNSKEY key tag follows RFC 4034 appendix B", "[dns][rdata]") {
  // The root KSK-2017 (key tag 20326), as published by IANA.
  auto key = from_base64(
      "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWX"
      "gnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/"
      "EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzu"
      "DWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=");
  REQUIRE(key);
  rdata::Dnskey k{257, 3, 8, *key};
  CHECK(k.key_tag() == 20326);
}

TEST_CASE("text that does not fit its type is refused", "[dns][rdata]") {
  CHECK_FALSE(parse_text(RRType::A, "192.0.2"));
  CHECK_FALSE(parse_text(RRType::A, "192.0.2.1 extra"));
  CHECK_FALSE(parse_text(RRType::AAAA, "192.0.2.1"));
  CHECK_FALSE(parse_text(RRType::MX, "70000 mail."));
  CHECK_FALSE(parse_text(RRType::SOA, "ns. host. 1 2 3 4"));
  CHECK_FALSE(parse_text(RRType::TXT, ""));
  CHECK_FALSE(parse_text(RRType::TXT, "\"" + std::string(256, 'x') + "\""));
  CHECK_FALSE(parse_text(RRType::CAA, "0 is-sue \"x\""));
  CHECK_FALSE(parse_text(RRType::DS, "1 13 2 ABCD"));  // SHA-256 digest of 2 octets
  CHECK_FALSE(parse_text(RRType::NSEC, "next. NOTATYPE"));
  CHECK_FALSE(parse_text(RRType::NSEC3, "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJW"));  // W not base32hex
  CHECK_FALSE(parse_text(RRType::HTTPS, "1 . port=443 port=80"));
  CHECK_FALSE(parse_text(RRType::HTTPS, "1 . mandatory=port"));
  CHECK_FALSE(parse_text(RRType::HTTPS, "1 . key65535=\"x\""));
  CHECK_FALSE(parse_text(RRType::RRSIG, "A 13 2 300 20261399000000 20261127121307 1 x. AA=="));
}

TEST_CASE("type bitmaps are encoded canonically and decoded strictly", "[dns][rdata]") {
  rdata::TypeBitmap bm{{RRType::NS, RRType::A, static_cast<RRType>(1234), RRType::A}};
  Bytes w;
  bm.encode(w);
  // Window 0: A and NS in one octet; window 4: type 1234 = 4 * 256 + 210 -> octet 26, bit 2.
  CHECK(to_hex(w) == "000160" "041B" + std::string(52, '0') + "20");
  auto back = rdata::TypeBitmap::decode(w);
  REQUIRE(back);
  CHECK(back->types == std::vector<RRType>{RRType::A, RRType::NS, static_cast<RRType>(1234)});
  CHECK(rdata::TypeBitmap::decode(hex("0002 6000")).error() == WireError::BadTypeBitmap);  // trailing zero
  CHECK(rdata::TypeBitmap::decode(hex("00")).error() == WireError::BadTypeBitmap);
  CHECK(rdata::TypeBitmap::decode({}).has_value());
}
