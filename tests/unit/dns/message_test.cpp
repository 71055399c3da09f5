// Message-level behaviour beyond core_test.cpp: every header flag and RCODE survives a round
// trip, and truncation keeps whole RRsets, sets TC only for answer/authority cuts, and always
// keeps the OPT record.
#include <catch2/catch.hpp>

#include "dns/message.hpp"
#include "dns/text.hpp"

using namespace tern::dns;

namespace {
Name N(const char* s) { return *Name::from_text(s); }
ResourceRecord R(const std::string& line) { return *rr_from_text(line, Name::root(), 300); }
}  // namespace

TEST_CASE("every header flag, opcode and RCODE survives build and parse", "[dns][message]") {
  for (unsigned bit = 0; bit < 16; ++bit) {
    if (bit < 4 || (bit >= 11 && bit < 15)) continue;  // RCODE and OPCODE fields, below
    Message m;
    m.header.set_flags(static_cast<uint16_t>(1u << bit));
    m.header.id = static_cast<uint16_t>(0x8000u >> bit);
    auto back = parse_message(encode_message(m));
    REQUIRE(back);
    CHECK(back->header.flags() == (1u << bit));
    CHECK(back->header.id == m.header.id);
  }
  for (unsigned op : {0u, 1u, 2u, 4u, 5u, 6u, 15u}) {
    Message m;
    m.header.opcode = static_cast<Opcode>(op);
    auto back = parse_message(encode_message(m));
    REQUIRE(back);
    CHECK(static_cast<unsigned>(back->header.opcode) == op);
  }
  for (unsigned rc = 0; rc < 4096; rc += 7) {
    Message m;
    m.edns = Edns{};
    m.set_rcode(static_cast<RCode>(rc));
    auto back = parse_message(encode_message(m));
    REQUIRE(back);
    CHECK(static_cast<unsigned>(back->rcode()) == rc);
  }
}

TEST_CASE("truncation keeps the RRsets that fit whole and sets TC", "[dns][message]") {
  Message m;
  m.header.qr = true;
  m.questions.push_back({N("example."), RRType::TXT, RRClass::IN});
  std::string big(200, 'x');
  m.answer.push_back(R("a.example. TXT \"small\""));
  for (int i = 0; i < 3; ++i) m.answer.push_back(R("b.example. TXT \"" + big + std::to_string(i) + "\""));
  m.edns = Edns{};
  BuildOptions o;
  o.max_size = 512;
  auto wire = encode_message(m, o);
  auto back = parse_message(wire);
  REQUIRE(back);
  CHECK(back->header.tc);
  REQUIRE(back->answer.size() == 1);  // the 3-record RRset (~700 octets) went whole
  CHECK(back->answer[0].name == N("a.example."));
  CHECK(back->edns.has_value());
}

TEST_CASE("additional records that do not fit are left out without TC", "[dns][message]") {
  Message m;
  m.header.qr = true;
  m.questions.push_back({N("example."), RRType::NS, RRClass::IN});
  m.answer.push_back(R("example. NS ns.example."));
  std::string big(250, 'g');
  m.additional.push_back(R("ns.example. A 192.0.2.1"));
  m.additional.push_back(R("ns.example. TXT \"" + big + "\" \"" + big + "\""));
  m.edns = Edns{};
  BuildOptions o;
  o.max_size = 512;
  auto wire = encode_message(m, o);
  auto back = parse_message(wire);
  REQUIRE(back);
  CHECK_FALSE(back->header.tc);
  CHECK(back->answer.size() == 1);
  CHECK(back->additional.size() == 1);
  CHECK(back->edns.has_value());
}

TEST_CASE("a size limit below header, question and OPT fails the build", "[dns][message]") {
  Message m;
  m.questions.push_back({N("example."), RRType::A, RRClass::IN});
  m.edns = Edns{};
  std::vector<uint8_t> buf(30);
  CHECK(build_message(m, buf).error() == WireError::BufferTooSmall);
}

TEST_CASE("names are compressed on build but never inside SRV RDATA", "[dns][message]") {
  Message m;
  m.header.qr = true;
  m.questions.push_back({N("_sip._tcp.example.com."), RRType::SRV, RRClass::IN});
  m.answer.push_back(R("_sip._tcp.example.com. SRV 1 1 5060 sip.example.com."));
  m.answer.push_back(R("example.com. MX 10 sip.example.com."));
  auto wire = encode_message(m);
  auto back = parse_message(wire);
  REQUIRE(back);
  CHECK(back->answer == m.answer);
  BuildOptions off;
  off.compression = Compression::Off;
  CHECK(wire.size() < encode_message(m, off).size());
  // RFC 2782 / RFC 3597 §4: the SRV target goes out in full.
  std::string w(wire.begin(), wire.end());
  CHECK(w.find(std::string("\x03sip\x07" "example\x03" "com\x00", 17)) != std::string::npos);
}

TEST_CASE("UPDATE deletions with class ANY and empty RDATA are not malformed", "[dns][message]") {
  Message m;
  m.header.opcode = Opcode::Update;
  m.questions.push_back({N("example."), RRType::SOA, RRClass::IN});
  m.authority.push_back({N("www.example."), RRType::A, RRClass::ANY, 0, {}});
  m.authority.push_back({N("www.example."), RRType::SOA, RRClass::NONE, 0, {}});
  auto back = parse_message(encode_message(m));
  REQUIRE(back);
  CHECK(back->authority == m.authority);
  // The same empty A RDATA in class IN is still refused.
  m.authority[0].rclass = RRClass::IN;
  CHECK(parse_message(encode_message(m)).error() == WireError::RdataLengthMismatch);
}

TEST_CASE("every octet value survives a name's text form", "[dns][message][name]") {
  for (unsigned b = 0; b < 256; ++b) {
    uint8_t label[3] = {static_cast<uint8_t>(b), 'x', static_cast<uint8_t>(255 - b)};
    auto n = Name::root().prepend(label);
    REQUIRE(n);
    auto back = Name::from_text(n->to_text());
    REQUIRE(back);
    CHECK(back->equals_exact(*n));
  }
  CHECK(N("A\\066C.Example.").lowered().to_text() == "abc.example.");
}
