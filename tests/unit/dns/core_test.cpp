#include <catch2/catch.hpp>

#include <vector>

#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

using namespace tern::dns;

namespace {
Name N(const char* s) { return *Name::from_text(s); }
std::vector<uint8_t> bytes(std::initializer_list<int> l) {
  std::vector<uint8_t> v;
  for (int b : l) v.push_back(static_cast<uint8_t>(b));
  return v;
}
std::vector<uint8_t> wire_of(const Name& n) { return {n.wire().begin(), n.wire().end()}; }
}  // namespace

TEST_CASE("names convert between text and wire form", "[dns][name]") {
  auto n = N("www.Example.com");
  CHECK(n.to_text() == "www.Example.com.");
  CHECK(n.wire_size() == 17);
  CHECK(n.label_count() == 3);
  CHECK(N(".").is_root());
  CHECK(N("a\\.b.c.").label_count() == 2);
  CHECK(N("a\\.b.c.").to_text() == "a\\.b.c.");
  CHECK(N("\\000\\255.x").to_text() == "\\000\\255.x.");
  CHECK_FALSE(Name::from_text("a..b").has_value());
  CHECK(Name::from_text(std::string(64, 'a')).error() == WireError::LabelTooLong);
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'x') + ".";
  CHECK(Name::from_text(long_name).error() == WireError::NameTooLong);
}

TEST_CASE("names compare case-insensitively and know their ancestors", "[dns][name]") {
  CHECK(N("WWW.example.COM") == N("www.EXAMPLE.com"));
  CHECK_FALSE(N("WWW.example.COM").equals_exact(N("www.EXAMPLE.com")));
  CHECK(N("a.b.example.com").is_subdomain_of(N("Example.com")));
  CHECK(N("example.com").is_subdomain_of(N("example.com")));
  CHECK(N("example.com").is_subdomain_of(N(".")));
  CHECK_FALSE(N("badexample.com").is_subdomain_of(N("example.com")));
  CHECK(N("a.b.c").parent() == N("b.c"));
  CHECK(N("a.b.c").suffix(1) == N("c"));
  CHECK(N("A.b").hash() == N("a.B").hash());
  CHECK(N("a.example").canonical_compare(N("Z.a.example")) < 0);
  CHECK(N("\\001.z.example").canonical_compare(N("*.z.example")) < 0);
  auto r = N("x.old.example").replace_suffix(N("old.example"), N("new.test"));
  REQUIRE(r);
  CHECK(*r == N("x.new.test"));
}

TEST_CASE("a compression pointer that does not point backwards is rejected", "[dns][wire]") {
  // At offset 0 a pointer to offset 0: itself.
  auto self = bytes({0xC0, 0x00});
  WireReader r1(self);
  r1.name();
  CHECK(r1.error() == WireError::PointerNotBackward);
  // A label then a pointer forward to offset 4.
  auto fwd = bytes({1, 'a', 0xC0, 0x04, 0});
  WireReader r2(fwd);
  r2.name();
  CHECK(r2.error() == WireError::PointerNotBackward);
}

TEST_CASE("a compressed name is decoded and the reader continues after the pointer", "[dns][wire]") {
  auto w = bytes({3, 'c', 'o', 'm', 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0xC0, 0x00, 0xAB});
  WireReader r(w, 5);
  auto n = r.name();
  REQUIRE(r.ok());
  CHECK(n == N("example.com"));
  CHECK(r.u8() == 0xAB);
}

TEST_CASE("reserved label types are rejected", "[dns][wire]") {
  auto w = bytes({0x41, 0});
  WireReader r(w);
  r.name();
  CHECK(r.error() == WireError::BadLabelType);
}

TEST_CASE("a message survives build and parse with compression", "[dns][message]") {
  Message m;
  m.header.id = 0x1234;
  m.header.qr = m.header.rd = m.header.ra = true;
  m.questions.push_back({N("www.example.com"), RRType::A, RRClass::IN});
  m.answer.push_back({N("www.example.com"), RRType::CNAME, RRClass::IN, 300,
                      wire_of(N("web.example.com"))});
  m.answer.push_back({N("web.example.com"), RRType::A, RRClass::IN, 60, bytes({192, 0, 2, 1})});
  m.edns = Edns{};
  m.edns->dnssec_ok = true;
  std::vector<uint16_t> ttls;
  BuildOptions o;
  o.ttl_offsets = &ttls;
  auto wire = encode_message(m, o);
  REQUIRE_FALSE(wire.empty());
  CHECK(ttls.size() == 2);
  CHECK(load_u32(wire.data() + ttls[0]) == 300);
  CHECK(load_u32(wire.data() + ttls[1]) == 60);
  CHECK(wire.size() < 100);  // compressed
  auto back = parse_message(wire);
  REQUIRE(back);
  CHECK(back->header.flags() == m.header.flags());
  CHECK(back->header.ancount == 2);
  CHECK(back->header.arcount == 1);  // the OPT
  CHECK(back->questions == m.questions);
  CHECK(back->answer == m.answer);
  CHECK(back->edns == m.edns);
}

TEST_CASE("a response over the size limit is cut at an RRset boundary with TC", "[dns][message]") {
  Message m;
  m.header.qr = true;
  m.questions.push_back({N("big.example"), RRType::TXT, RRClass::IN});
  for (int i = 0; i < 10; ++i) {
    std::vector<uint8_t> txt(1, 200);
    txt.resize(201, static_cast<uint8_t>('a' + i));
    m.answer.push_back({N("big.example"), RRType::TXT, RRClass::IN, 60, txt});
  }
  m.edns = Edns{};
  BuildOptions o;
  o.max_size = 512;
  auto wire = encode_message(m, o);
  REQUIRE_FALSE(wire.empty());
  CHECK(wire.size() <= 512);
  auto back = parse_message(wire);
  REQUIRE(back);
  CHECK(back->header.tc);
  CHECK(back->answer.empty());  // the whole RRset did not fit
  CHECK(back->edns.has_value());
}

TEST_CASE("counts that exceed the packet are rejected before any allocation", "[dns][message]") {
  auto w = bytes({0, 1, 0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0});
  CHECK(parse_message(w).error() == WireError::CountExceedsPacket);
}
