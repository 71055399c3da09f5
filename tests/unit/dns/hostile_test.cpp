// The hostile-input catalogue: one case per defect or attack, each rejected with its named
// WireError (never a crash, loop or over-read: the suite also runs under ASan/UBSan).
// Modelled on PowerDNS's test-dnsname_cc.cc. Packets are built octet by octet here so each
// case shows exactly what is wrong.
#include <catch2/catch.hpp>

#include <vector>

#include "dns/message.hpp"
#include "dns/rdata.hpp"
#include "dns/wire_reader.hpp"

using namespace tern::dns;

namespace {

using Bytes = std::vector<uint8_t>;

struct Packet {
  Bytes b;
  Packet(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    b = {0x12, 0x34, 0x81, 0x80};
    for (uint16_t c : {qd, an, ns, ar}) u16(c);
  }
  Packet& u8(unsigned v) { b.push_back(static_cast<uint8_t>(v)); return *this; }
  Packet& u16(unsigned v) { u8(v >> 8); return u8(v & 0xFF); }
  Packet& u32(uint32_t v) { u16(v >> 16); return u16(v & 0xFFFF); }
  Packet& raw(const Bytes& r) { b.insert(b.end(), r.begin(), r.end()); return *this; }
  Packet& name(const char* dotted) {  // uncompressed, "" = root
    std::string s(dotted);
    size_t start = 0;
    while (start < s.size()) {
      size_t dot = s.find('.', start);
      if (dot == std::string::npos) dot = s.size();
      u8(static_cast<unsigned>(dot - start));
      for (size_t i = start; i < dot; ++i) u8(static_cast<uint8_t>(s[i]));
      start = dot + 1;
    }
    return u8(0);
  }
  Packet& question(const char* n, unsigned type = 1) { name(n); u16(type); return u16(1); }
  // Record header after the owner: type, class IN, ttl, rdlength.
  Packet& rr_head(unsigned type, unsigned rdlen, unsigned rclass = 1) {
    u16(type); u16(rclass); u32(300); return u16(rdlen);
  }
  Packet& opt(unsigned rdlen = 0) { u8(0); u16(41); u16(1232); u32(0); return u16(rdlen); }
};

WireError parse_error(const Bytes& b) {
  auto m = parse_message(b);
  REQUIRE_FALSE(m.has_value());
  return m.error();
}

}  // namespace

// ---- framing ------------------------------------------------------------------------------------

TEST_CASE("an empty datagram is rejected as truncated", "[dns][hostile]") {
  CHECK(parse_error({}) == WireError::Truncated);
}

TEST_CASE("a message shorter than the 12-octet header is rejected as truncated", "[dns][hostile]") {
  Packet p(0, 0, 0, 0);
  p.b.resize(11);
  CHECK(parse_error(p.b) == WireError::Truncated);
}

TEST_CASE("a bare header with zero counts is accepted", "[dns][hostile]") {
  CHECK(parse_message(Packet(0, 0, 0, 0).b).has_value());
}

TEST_CASE("a question count that exceeds the packet is rejected before any allocation",
          "[dns][hostile]") {
  Packet p(65535, 0, 0, 0);
  p.question("a");
  CHECK(parse_error(p.b) == WireError::CountExceedsPacket);
}

TEST_CASE("record counts that exceed the packet are rejected before any allocation",
          "[dns][hostile]") {
  Packet p(1, 40, 0, 0);
  p.question("a").name("").rr_head(1, 4).u32(0x01020304);
  CHECK(parse_error(p.b) == WireError::CountExceedsPacket);
}

TEST_CASE("a plausible count whose records are cut short is rejected as truncated",
          "[dns][hostile]") {
  Packet p(0, 2, 0, 0);
  p.name("").rr_head(1, 4).u32(0x01020304);
  p.name("").rr_head(1, 4).u16(0x0102);  // second A record: only 2 of 4 RDATA octets
  CHECK(parse_error(p.b) == WireError::Truncated);
}

TEST_CASE("octets after the last record are rejected as trailing data", "[dns][hostile]") {
  Packet p(1, 0, 0, 0);
  p.question("a").u8(0);
  CHECK(parse_error(p.b) == WireError::TrailingData);
}

TEST_CASE("an RDLENGTH that runs past the end of the packet is rejected", "[dns][hostile]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(65280, 200).u32(0);
  CHECK(parse_error(p.b) == WireError::Truncated);
}

// ---- names --------------------------------------------------------------------------------------

TEST_CASE("a name that runs past the end of the packet is rejected as truncated",
          "[dns][hostile][name]") {
  Packet p(1, 0, 0, 0);
  p.u8(5).u8('a').u8('b');
  p.u16(1).u16(1);  // 5 octets that the label would swallow, then nothing
  CHECK(parse_error(p.b) == WireError::Truncated);
}

TEST_CASE("a compression pointer to itself is rejected, not followed forever",
          "[dns][hostile][name]") {
  Packet p(1, 0, 0, 0);
  p.u16(0xC00C).u16(1).u16(1);  // the qname at offset 12 points to offset 12
  CHECK(parse_error(p.b) == WireError::PointerNotBackward);
}

TEST_CASE("two compression pointers that point at each other are rejected",
          "[dns][hostile][name]") {
  // Question name at 12 is a pointer to 14 (forward) which points back to 12: a loop.
  Packet p(1, 0, 0, 0);
  p.u16(0xC00E).u16(0xC00C).u16(1).u16(1);
  CHECK(parse_error(p.b) == WireError::PointerNotBackward);
}

TEST_CASE("a compression pointer that points forward is rejected", "[dns][hostile][name]") {
  Packet p(1, 1, 0, 0);
  p.u16(0xC012).u16(1).u16(1);  // qname -> offset 18, the answer's owner, later in the packet
  p.name("a").rr_head(1, 4).u32(0);
  CHECK(parse_error(p.b) == WireError::PointerNotBackward);
}

TEST_CASE("a compression pointer into the name's own labels is rejected", "[dns][hostile][name]") {
  // qname at 12: "\001a" then a pointer to 13, inside the label just read.
  Packet p(1, 0, 0, 0);
  p.u8(1).u8('a').u16(0xC00D).u16(1).u16(1);
  CHECK(parse_error(p.b) == WireError::PointerNotBackward);
}

TEST_CASE("a compression pointer cut after its first octet is rejected as truncated",
          "[dns][hostile][name]") {
  // An answer owner of 11 octets (enough to pass the count check): a 9-octet label, then a
  // pointer's first octet as the last octet of the packet.
  Packet p(0, 1, 0, 0);
  p.u8(9);
  for (int i = 0; i < 9; ++i) p.u8('a');
  p.u8(0xC0);
  CHECK(parse_error(p.b) == WireError::Truncated);
}

namespace {
// An opaque record whose RDATA holds "\001a\000" and then `hops` pointers, each to the one
// before; an A record whose owner points at the last of them.
Bytes pointer_chain(unsigned hops) {
  Packet p(0, 2, 0, 0);
  p.name("").rr_head(65280, 3 + 2 * hops);
  size_t base = p.b.size();
  p.u8(1).u8('a').u8(0);
  size_t prev = base;
  for (unsigned i = 0; i < hops; ++i) {
    size_t here = p.b.size();
    p.u16(0xC000u | static_cast<unsigned>(prev));
    prev = here;
  }
  p.u16(0xC000u | static_cast<unsigned>(prev)).rr_head(1, 4).u32(0);
  return p.b;
}
}  // namespace

TEST_CASE("a chain of backward pointers longer than the hop cap is rejected",
          "[dns][hostile][name]") {
  CHECK(parse_error(pointer_chain(kMaxCompressionHops + 5)) == WireError::TooManyPointers);
}

TEST_CASE("a long but capped chain of backward pointers is followed", "[dns][hostile][name]") {
  auto m = parse_message(pointer_chain(kMaxCompressionHops - 2));
  REQUIRE(m);
  CHECK(m->answer[1].name == *Name::from_text("a."));
}

TEST_CASE("label type 0b01 (extended label, RFC 6891) is rejected", "[dns][hostile][name]") {
  Packet p(1, 0, 0, 0);
  p.u8(0x41).u8('x').u8(0).u16(1).u16(1);
  CHECK(parse_error(p.b) == WireError::BadLabelType);
}

TEST_CASE("label type 0b10 (reserved) is rejected", "[dns][hostile][name]") {
  Packet p(1, 0, 0, 0);
  p.u8(0x81).u8('x').u8(0).u16(1).u16(1);
  CHECK(parse_error(p.b) == WireError::BadLabelType);
}

TEST_CASE("a 64-octet label cannot exist on the wire and is refused in text", "[dns][hostile][name]") {
  // 64 = 0b01000000: on the wire it reads as label type 0b01.
  Packet p(1, 0, 0, 0);
  p.u8(64);
  for (int i = 0; i < 64; ++i) p.u8('a');
  p.u8(0).u16(1).u16(1);
  CHECK(parse_error(p.b) == WireError::BadLabelType);
  CHECK(Name::from_text(std::string(64, 'a') + ".").error() == WireError::LabelTooLong);
  CHECK(Name::from_text(std::string(63, 'a') + ".").has_value());
}

TEST_CASE("a 256-octet name is rejected and a 255-octet name accepted", "[dns][hostile][name]") {
  auto make = [](size_t last_label) {
    Packet p(1, 0, 0, 0);
    for (int k = 0; k < 3; ++k) {
      p.u8(63);
      for (int i = 0; i < 63; ++i) p.u8('a');
    }
    p.u8(static_cast<unsigned>(last_label));
    for (size_t i = 0; i < last_label; ++i) p.u8('b');
    p.u8(0).u16(1).u16(1);
    return p.b;
  };
  // 3 * 64 + 1 + 61 + 1 = 255 octets; one more octet of label is 256.
  auto ok = parse_message(make(61));
  REQUIRE(ok);
  CHECK(ok->questions[0].qname.wire_size() == 255);
  CHECK(parse_error(make(62)) == WireError::NameTooLong);
}

TEST_CASE("a name that exceeds 255 octets only through compression is rejected",
          "[dns][hostile][name]") {
  // qname: 4 x 50-octet labels = 204 octets + root. The answer owner prepends 60 octets and
  // points at the qname: 265 octets in all.
  Packet p(1, 1, 0, 0);
  for (int k = 0; k < 4; ++k) {
    p.u8(50);
    for (int i = 0; i < 50; ++i) p.u8('q');
  }
  p.u8(0).u16(1).u16(1);
  p.u8(59);
  for (int i = 0; i < 59; ++i) p.u8('x');
  p.u16(0xC00C).rr_head(1, 4).u32(0);
  CHECK(parse_error(p.b) == WireError::NameTooLong);
}

// ---- RDATA --------------------------------------------------------------------------------------

TEST_CASE("A RDATA shorter than four octets is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(1, 3).u8(1).u8(2).u8(3);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("AAAA RDATA longer than sixteen octets is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(28, 17);
  for (int i = 0; i < 17; ++i) p.u8(0);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("MX RDATA with octets after the exchange name is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(15, 6).u16(10).name("m").u8(0xFF);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("SOA RDATA without its five counters is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(6, 2 + 16).name("").name("").u32(1).u32(2).u32(3).u32(4);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("a name inside RDATA that runs past RDLENGTH into the next record is rejected",
          "[dns][hostile][rdata]") {
  Packet p(0, 2, 0, 0);
  p.name("").rr_head(2, 3).u8(5).u8('a').u8('b');  // NS: label of 5 in a 3-octet RDATA
  p.name("").rr_head(1, 4).u32(0);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("a compression pointer inside RDATA that points into the same RDATA forward is rejected",
          "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  size_t rd = p.b.size() + 1 + 10;
  p.name("").rr_head(5, 4).u16(0xC000u | static_cast<unsigned>(rd + 2)).u8(0).u8(0);
  CHECK(parse_error(p.b) == WireError::PointerNotBackward);
}

TEST_CASE("a TXT character-string longer than its RDATA is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(16, 3).u8(10).u8('a').u8('b');
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("a TXT record without any character-string is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(16, 0);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("a DS whose SHA-256 digest is one octet short is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(43, 4 + 31).u16(12345).u8(13).u8(2);
  for (int i = 0; i < 31; ++i) p.u8(0xAB);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("an RRSIG shorter than its fixed fields is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(46, 10);
  for (int i = 0; i < 10; ++i) p.u8(0);
  CHECK(parse_error(p.b) == WireError::RdataLengthMismatch);
}

TEST_CASE("an NSEC bitmap with windows out of order is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(47, 1 + 3 + 3).name("").u8(1).u8(1).u8(0x40).u8(0).u8(1).u8(0x40);
  CHECK(parse_error(p.b) == WireError::BadTypeBitmap);
}

TEST_CASE("an NSEC bitmap block of zero or 33 octets is rejected", "[dns][hostile][rdata]") {
  Packet zero(0, 1, 0, 0);
  zero.name("").rr_head(47, 1 + 2).name("").u8(0).u8(0);
  CHECK(parse_error(zero.b) == WireError::BadTypeBitmap);
  Packet big(0, 1, 0, 0);
  big.name("").rr_head(47, 1 + 2 + 33).name("").u8(0).u8(33);
  for (int i = 0; i < 33; ++i) big.u8(0xFF);
  CHECK(parse_error(big.b) == WireError::BadTypeBitmap);
}

TEST_CASE("an NSEC3 bitmap that runs past the RDATA is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(50, 5 + 2 + 2 + 1).u8(1).u8(0).u16(0).u8(0).u8(1).u8(0xAA).u8(0).u8(8).u8(0x40);
  CHECK(parse_error(p.b) == WireError::BadTypeBitmap);
}

TEST_CASE("SVCB parameters out of key order are rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(64, 2 + 1 + 6 + 4).u16(1).name("").u16(3).u16(2).u16(443).u16(2).u16(0);
  CHECK(parse_error(p.b) == WireError::BadSvcParam);
}

TEST_CASE("an SVCB key that appears twice is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(65, 2 + 1 + 6 + 6).u16(1).name("").u16(3).u16(2).u16(443).u16(3).u16(2).u16(80);
  CHECK(parse_error(p.b) == WireError::BadSvcParam);
}

TEST_CASE("an SVCB mandatory list naming an absent key is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(65, 2 + 1 + 6).u16(1).name("").u16(0).u16(2).u16(3);
  CHECK(parse_error(p.b) == WireError::BadSvcParam);
}

TEST_CASE("an SVCB port value of the wrong size is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(64, 2 + 1 + 7).u16(1).name("").u16(3).u16(3).u8(1).u8(2).u8(3);
  CHECK(parse_error(p.b) == WireError::BadSvcParam);
}

TEST_CASE("a CAA record with an empty tag is rejected", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(257, 3).u8(0).u8(0).u8('x');
  CHECK(parse_error(p.b) == WireError::BadRdataField);
}

TEST_CASE("unknown types are never rejected for their content", "[dns][hostile][rdata]") {
  Packet p(0, 1, 0, 0);
  p.name("").rr_head(65280, 3).u8(0xC0).u8(0xFF).u8(0x41);  // looks like garbage names: opaque
  auto m = parse_message(p.b);
  REQUIRE(m);
  CHECK(m->answer[0].rdata == Bytes{0xC0, 0xFF, 0x41});
}

// ---- EDNS ---------------------------------------------------------------------------------------

TEST_CASE("an OPT record in the answer section is rejected", "[dns][hostile][edns]") {
  Packet p(0, 1, 0, 0);
  p.opt();
  CHECK(parse_error(p.b) == WireError::OptNotInAdditional);
}

TEST_CASE("an OPT record in the authority section is rejected", "[dns][hostile][edns]") {
  Packet p(0, 0, 1, 0);
  p.opt();
  CHECK(parse_error(p.b) == WireError::OptNotInAdditional);
}

TEST_CASE("a second OPT record is rejected", "[dns][hostile][edns]") {
  Packet p(0, 0, 0, 2);
  p.opt().opt();
  CHECK(parse_error(p.b) == WireError::DuplicateOpt);
}

TEST_CASE("an OPT record not owned by the root is rejected", "[dns][hostile][edns]") {
  Packet p(0, 0, 0, 1);
  p.name("x").u16(41).u16(1232).u32(0).u16(0);
  CHECK(parse_error(p.b) == WireError::OptNameNotRoot);
}

TEST_CASE("an EDNS option whose length runs past the OPT RDATA is rejected", "[dns][hostile][edns]") {
  Packet p(0, 0, 0, 1);
  p.opt(6).u16(10).u16(8).u16(0);
  CHECK(parse_error(p.b) == WireError::BadEdnsOption);
}

TEST_CASE("an EDNS option header cut in half is rejected", "[dns][hostile][edns]") {
  Packet p(0, 0, 0, 1);
  p.opt(2).u16(10);
  CHECK(parse_error(p.b) == WireError::BadEdnsOption);
}

// ---- writer -------------------------------------------------------------------------------------

TEST_CASE("the writer never compresses a name against its own unwritten labels",
          "[dns][hostile][writer]") {
  // Found by fuzz_message: "\001.\001.\001.x." used to be written as labels plus a pointer into
  // itself, because each label became a compression target before the name was complete.
  Message m;
  m.header.qr = true;
  auto owner = Name::from_text("\\001.\\001.\\001.\\001.x.");
  REQUIRE(owner);
  m.answer.push_back({*owner, RRType::A, RRClass::IN, 1, {1, 2, 3, 4}});
  std::vector<uint8_t> buf(512, 0x01);  // stale octets that look like more "\001" labels
  auto r = build_message(m, buf);
  REQUIRE(r);
  auto back = parse_message(std::span<const uint8_t>(buf.data(), r->size));
  REQUIRE(back);
  CHECK(back->answer[0].name == *owner);
}
