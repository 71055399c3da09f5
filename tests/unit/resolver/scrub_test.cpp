#include <catch2/catch.hpp>

#include "resolver/reply_analysis.hpp"
#include "resolver/scrub.hpp"
#include "world.hpp"

using namespace tern;
using namespace tern::resolver;
using namespace tern::resolver::test;
using dns::RRType;

namespace {
dns::Message reply_for(const char* qname, RRType t) {
  dns::Message m;
  m.header.qr = true;
  m.questions.push_back(dns::Question{N(qname), t, dns::RRClass::IN});
  return m;
}
}  // namespace

TEST_CASE("scrub drops answer records outside the queried zone", "[resolver][scrub]") {
  auto m = reply_for("www.example.com", RRType::A);
  m.answer.push_back(rr_addr("www.example.com", "192.0.2.1"));
  m.answer.push_back(rr_addr("www.bank.test", "6.6.6.6"));
  auto r = scrub(m, N("example.com"), N("www.example.com"), RRType::A);
  CHECK(r.dropped == 1);
  REQUIRE(m.answer.size() == 1);
  CHECK(m.answer[0].name == N("www.example.com"));
}

TEST_CASE("scrub drops unsolicited records in the zone that are not on the chain",
          "[resolver][scrub]") {
  auto m = reply_for("www.example.com", RRType::A);
  m.answer.push_back(rr_addr("www.example.com", "192.0.2.1"));
  m.answer.push_back(rr_addr("mail.example.com", "192.0.2.5"));   // not asked
  m.answer.push_back(rr_txt("www.example.com", "other type"));    // not asked
  scrub(m, N("example.com"), N("www.example.com"), RRType::A);
  CHECK(m.answer.size() == 1);
}

TEST_CASE("scrub keeps a CNAME chain while it stays in the zone", "[resolver][scrub]") {
  auto m = reply_for("a.example.com", RRType::A);
  m.answer.push_back(rr_cname("a.example.com", "b.example.com"));
  m.answer.push_back(rr_cname("b.example.com", "c.other.test"));
  m.answer.push_back(rr_addr("c.other.test", "6.6.6.6"));  // the server is not authoritative
  scrub(m, N("example.com"), N("a.example.com"), RRType::A);
  REQUIRE(m.answer.size() == 2);
  auto a = analyse_reply(m, N("example.com"), N("a.example.com"), RRType::A);
  CHECK(a.kind == ReplyKind::Chain);
  CHECK(a.next_name == N("c.other.test"));
  CHECK(a.chain_hops == 2);
}

TEST_CASE("scrub keeps only glue for the referral's NS names and inside the zone",
          "[resolver][scrub]") {
  auto m = reply_for("www.example.com", RRType::A);
  m.authority.push_back(rr_ns("example.com", "ns1.example.com"));
  m.authority.push_back(rr_ns("example.com", "ns.provider.net"));
  m.authority.push_back(rr_ns("bank.com", "ns.evil.com"));  // not above the qname
  m.additional.push_back(rr_addr("ns1.example.com", "192.0.2.53"));
  m.additional.push_back(rr_addr("ns.provider.net", "6.6.6.6"));  // out of com's bailiwick
  m.additional.push_back(rr_addr("www.example.com", "6.6.6.6"));  // not an NS name
  auto r = scrub(m, N("com"), N("www.example.com"), RRType::A);
  CHECK(r.dropped == 3);
  auto a = analyse_reply(m, N("com"), N("www.example.com"), RRType::A);
  REQUIRE(a.kind == ReplyKind::Referral);
  CHECK(a.cut == N("example.com"));
  CHECK(a.ns_names.size() == 2);
  REQUIRE(a.glue.size() == 1);
  CHECK(a.glue[0].second == IP("192.0.2.53"));
}

TEST_CASE("a referral to the zone itself or above it is lame", "[resolver][scrub]") {
  auto m = reply_for("www.example.com", RRType::A);
  m.authority.push_back(rr_ns("com", "ns1.nic.com"));
  scrub(m, N("example.com"), N("www.example.com"), RRType::A);
  CHECK(m.authority.empty());  // above the zone: out of bailiwick
  auto a = analyse_reply(m, N("example.com"), N("www.example.com"), RRType::A);
  CHECK(a.kind == ReplyKind::Lame);

  auto same = reply_for("www.example.com", RRType::A);
  same.authority.push_back(rr_ns("example.com", "ns1.example.com"));
  scrub(same, N("example.com"), N("www.example.com"), RRType::A);
  CHECK(analyse_reply(same, N("example.com"), N("www.example.com"), RRType::A).kind ==
        ReplyKind::Lame);
}

TEST_CASE("negative replies are told apart by rcode, SOA and AA", "[resolver][scrub]") {
  auto nx = reply_for("nope.example.com", RRType::A);
  nx.header.aa = true;
  nx.set_rcode(dns::RCode::NxDomain);
  nx.authority.push_back(rr_soa("example.com"));
  scrub(nx, N("example.com"), N("nope.example.com"), RRType::A);
  auto a = analyse_reply(nx, N("example.com"), N("nope.example.com"), RRType::A);
  CHECK(a.kind == ReplyKind::NxDomain);
  REQUIRE(a.soa.has_value());

  auto nodata = reply_for("www.example.com", RRType::AAAA);
  nodata.header.aa = true;
  nodata.authority.push_back(rr_soa("example.com"));
  nodata.authority.push_back(rr_soa("other.test"));  // dropped: out of bailiwick
  auto r = scrub(nodata, N("example.com"), N("www.example.com"), RRType::AAAA);
  CHECK(r.dropped == 1);
  CHECK(analyse_reply(nodata, N("example.com"), N("www.example.com"), RRType::AAAA).kind ==
        ReplyKind::NoData);

  auto err = reply_for("www.example.com", RRType::A);
  err.set_rcode(dns::RCode::ServFail);
  CHECK(analyse_reply(err, N("example.com"), N("www.example.com"), RRType::A).kind ==
        ReplyKind::Error);
}

TEST_CASE("a DNAME is turned into a synthesized CNAME, ignoring the server's", "[resolver][scrub]") {
  auto m = reply_for("x.old.example.com", RRType::A);
  m.answer.push_back(rr_dname("old.example.com", "new.example.com"));
  m.answer.push_back(rr_cname("x.old.example.com", "evil.test"));  // does not match the DNAME
  m.answer.push_back(rr_addr("x.new.example.com", "192.0.2.7"));
  scrub(m, N("example.com"), N("x.old.example.com"), RRType::A);
  auto a = analyse_reply(m, N("example.com"), N("x.old.example.com"), RRType::A);
  REQUIRE(a.kind == ReplyKind::Answer);
  REQUIRE(a.records.size() == 3);
  CHECK(a.records[1].type == RRType::CNAME);
  CHECK(*rdata_target(a.records[1]) == N("x.new.example.com"));
  CHECK(a.records[2].name == N("x.new.example.com"));
}

TEST_CASE("a DNAME substitution longer than 255 octets is YXDOMAIN", "[resolver][scrub]") {
  std::string longname;
  for (int i = 0; i < 3; ++i) longname += std::string(60, 'a') + ".";
  std::string qname = longname + "old.example.com";
  auto m = reply_for(qname.c_str(), RRType::A);
  std::string target = std::string(60, 'b') + ".example.com";
  m.answer.push_back(rr_dname("old.example.com", target.c_str()));
  scrub(m, N("example.com"), N(qname.c_str()), RRType::A);
  auto a = analyse_reply(m, N("example.com"), N(qname.c_str()), RRType::A);
  CHECK(a.kind == ReplyKind::YxDomain);
}

TEST_CASE("malformed RDATA in NS and CNAME records is not used", "[resolver][scrub]") {
  auto m = reply_for("www.example.com", RRType::A);
  dns::ResourceRecord bad{N("www.example.com"), RRType::CNAME, dns::RRClass::IN, 300, {3, 'a'}};
  m.answer.push_back(bad);
  dns::ResourceRecord badns{N("example.com"), RRType::NS, dns::RRClass::IN, 300, {0xC0, 0x0C}};
  m.authority.push_back(badns);
  scrub(m, N("com"), N("www.example.com"), RRType::A);
  auto a = analyse_reply(m, N("com"), N("www.example.com"), RRType::A);
  CHECK(a.kind == ReplyKind::Lame);
  CHECK(a.records.empty());
}
