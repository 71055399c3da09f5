// Response classification on hand-built replies, one case per rule of classify.hpp (the golden
// packets in golden_test.cpp check the same on real server output).
#include <catch2/catch.hpp>

#include <initializer_list>

#include "dns/classify.hpp"
#include "dns/text.hpp"

using namespace tern::dns;

namespace {

Name N(const char* s) { return *Name::from_text(s); }

const Question kQ{N("www.example.com."), RRType::A, RRClass::IN};

Message reply(RCode rc, std::initializer_list<const char*> answer,
              std::initializer_list<const char*> authority, bool aa = true) {
  Message m;
  m.header.qr = true;
  m.header.aa = aa;
  m.header.rcode = static_cast<uint8_t>(rc);
  m.questions.push_back(kQ);
  for (auto* l : answer) m.answer.push_back(*rr_from_text(l, Name::root(), 300));
  for (auto* l : authority) m.authority.push_back(*rr_from_text(l, Name::root(), 300));
  return m;
}

constexpr const char* kSoa = "example.com. 600 SOA ns. host. 1 2 3 4 60";

}  // namespace

TEST_CASE("data for the question is an answer", "[dns][classify]") {
  CHECK(classify(reply(RCode::NoError, {"www.example.com. A 192.0.2.1"}, {}), kQ) ==
        ResponseKind::Answer);
}

TEST_CASE("the answer owner matches the question case-insensitively", "[dns][classify]") {
  CHECK(classify(reply(RCode::NoError, {"WWW.Example.COM. A 192.0.2.1"}, {}), kQ) ==
        ResponseKind::Answer);
}

TEST_CASE("a CNAME chain that ends in data is an answer", "[dns][classify]") {
  auto m = reply(RCode::NoError,
                 {"www.example.com. CNAME a.example.net.", "a.example.net. CNAME b.example.org.",
                  "b.example.org. A 192.0.2.1"},
                 {});
  CHECK(classify(m, kQ) == ResponseKind::Answer);
}

TEST_CASE("a CNAME without data for its target is a cname to chase", "[dns][classify]") {
  CHECK(classify(reply(RCode::NoError, {"www.example.com. CNAME a.example.net."}, {}), kQ) ==
        ResponseKind::Cname);
}

TEST_CASE("a CNAME asked for by type is the answer itself", "[dns][classify]") {
  Question q{kQ.qname, RRType::CNAME, RRClass::IN};
  auto m = reply(RCode::NoError, {"www.example.com. CNAME a.example.net."}, {});
  m.questions[0] = q;
  CHECK(classify(m, q) == ResponseKind::Answer);
}

TEST_CASE("a DNAME above the qname without further data is a dname to chase", "[dns][classify]") {
  auto m = reply(RCode::NoError,
                 {"example.com. DNAME example.net.", "www.example.com. CNAME www.example.net."}, {});
  CHECK(classify(m, kQ) == ResponseKind::Dname);
}

TEST_CASE("a DNAME substitution that ends in data is an answer", "[dns][classify]") {
  auto m = reply(RCode::NoError, {"example.com. DNAME example.net.", "www.example.net. A 192.0.2.1"},
                 {});
  CHECK(classify(m, kQ) == ResponseKind::Answer);
}

TEST_CASE("NXDOMAIN at the end of a CNAME chain is NXDOMAIN for the target", "[dns][classify]") {
  auto m = reply(RCode::NxDomain, {"www.example.com. CNAME gone.example.net."}, {kSoa});
  CHECK(classify(m, kQ) == ResponseKind::NxDomain);
}

TEST_CASE("a CNAME with an SOA in authority is NODATA for the target", "[dns][classify]") {
  auto m = reply(RCode::NoError, {"www.example.com. CNAME a.example.com."}, {kSoa});
  CHECK(classify(m, kQ) == ResponseKind::NoData);
}

TEST_CASE("a CNAME loop inside one reply stops at the chain limit", "[dns][classify]") {
  auto m = reply(RCode::NoError,
                 {"www.example.com. CNAME b.example.com.", "b.example.com. CNAME www.example.com."},
                 {});
  CHECK(classify(m, kQ) == ResponseKind::Cname);
}

TEST_CASE("NXDOMAIN with an SOA is NXDOMAIN", "[dns][classify]") {
  CHECK(classify(reply(RCode::NxDomain, {}, {kSoa}), kQ) == ResponseKind::NxDomain);
}

TEST_CASE("NOERROR with an empty answer and an SOA is NODATA", "[dns][classify]") {
  CHECK(classify(reply(RCode::NoError, {}, {kSoa}), kQ) == ResponseKind::NoData);
}

TEST_CASE("NOERROR with nothing at all is NODATA without a negative TTL", "[dns][classify]") {
  auto m = reply(RCode::NoError, {}, {});
  CHECK(classify(m, kQ) == ResponseKind::NoData);
  CHECK_FALSE(negative_ttl(m).has_value());
}

TEST_CASE("NS for an ancestor without SOA and without AA is a referral", "[dns][classify]") {
  auto m = reply(RCode::NoError, {}, {"example.com. NS ns1.example.com."}, false);
  CHECK(classify(m, kQ) == ResponseKind::Referral);
}

TEST_CASE("NS in the authority of an authoritative empty answer is NODATA", "[dns][classify]") {
  auto m = reply(RCode::NoError, {}, {"example.com. NS ns1.example.com."}, true);
  CHECK(classify(m, kQ) == ResponseKind::NoData);
}

TEST_CASE("NS for a name that is not an ancestor of qname is not a referral", "[dns][classify]") {
  auto m = reply(RCode::NoError, {}, {"other.org. NS ns1.other.org."}, false);
  CHECK(classify(m, kQ) == ResponseKind::NoData);
}

TEST_CASE("an answer section about other names does not answer", "[dns][classify]") {
  CHECK(classify(reply(RCode::NoError, {"evil.example.org. A 192.0.2.66"}, {}), kQ) ==
        ResponseKind::Malformed);
}

TEST_CASE("a reply for another question is malformed", "[dns][classify]") {
  auto m = reply(RCode::NoError, {"www.example.com. A 192.0.2.1"}, {});
  Question other{N("www.example.com."), RRType::AAAA, RRClass::IN};
  CHECK(classify(m, other) == ResponseKind::Malformed);
  m.header.qr = false;
  CHECK(classify(m, kQ) == ResponseKind::Malformed);
}

TEST_CASE("a truncated reply says so before anything else", "[dns][classify]") {
  auto m = reply(RCode::NoError, {}, {});
  m.header.tc = true;
  CHECK(classify(m, kQ) == ResponseKind::Truncated);
}

TEST_CASE("error RCODEs classify by name, even without a question", "[dns][classify]") {
  auto m = reply(RCode::ServFail, {}, {});
  CHECK(classify(m, kQ) == ResponseKind::ServFail);
  m.questions.clear();
  m.header.rcode = static_cast<uint8_t>(RCode::Refused);
  CHECK(classify(m, kQ) == ResponseKind::Refused);
  m.header.rcode = static_cast<uint8_t>(RCode::FormErr);
  CHECK(classify(m, kQ) == ResponseKind::FormErr);
  m.header.rcode = static_cast<uint8_t>(RCode::NotImp);
  CHECK(classify(m, kQ) == ResponseKind::NotImp);
  m.header.rcode = static_cast<uint8_t>(RCode::YXDomain);
  CHECK(classify(m, kQ) == ResponseKind::Error);
  m.header.rcode = 0;
  CHECK(classify(m, kQ) == ResponseKind::Malformed);  // NOERROR must echo the question
}

TEST_CASE("the negative TTL is the smaller of the SOA TTL and its MINIMUM", "[dns][classify]") {
  CHECK(negative_ttl(reply(RCode::NxDomain, {}, {kSoa})) == 60u);  // TTL 600, MINIMUM 60
  CHECK(negative_ttl(reply(RCode::NxDomain, {}, {"example.com. 30 SOA ns. host. 1 2 3 4 60"})) ==
        30u);
}
