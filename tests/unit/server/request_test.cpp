#include <catch2/catch.hpp>

#include "dns/request.hpp"
#include "fakes.hpp"

using namespace tern;
using namespace tern::server::test;
using dns::RequestError;

TEST_CASE("the edge parse gives header, question bytes and the EDNS summary", "[dns][request]") {
  auto q = make_query({.qname = "MiXeD.example.", .edns = true, .payload = 4096, .dnssec_ok = true});
  auto v = dns::parse_request(q);
  REQUIRE(v.has_value());
  CHECK(v->header.id == 0x1234);
  CHECK(v->qname.equals_exact(*dns::Name::from_text("MiXeD.example.")));
  CHECK(v->question_wire.size() == v->qname.wire_size() + 4);
  CHECK(v->question_wire.data() == q.data() + 12);
  CHECK(v->edns.present);
  CHECK(v->edns.udp_payload == 4096);
  CHECK(v->edns.dnssec_ok);
}

TEST_CASE("an EDNS payload size below 512 is read as 512", "[dns][request]") {
  auto q = make_query({.edns = true, .payload = 100});
  auto v = dns::parse_request(q);
  REQUIRE(v.has_value());
  CHECK(v->edns.udp_payload == 512);
}

TEST_CASE("each defect of a query is named", "[dns][request]") {
  auto base = make_query({});
  std::vector<uint8_t> q;

  q.assign(base.begin(), base.begin() + 11);
  CHECK(dns::parse_request(q).error() == RequestError::NoHeader);

  q = base;
  q[2] |= 0x80;
  CHECK(dns::parse_request(q).error() == RequestError::NotAQuery);

  q = base;
  q[2] = static_cast<uint8_t>(q[2] | (4 << 3));  // NOTIFY
  CHECK(dns::parse_request(q).error() == RequestError::OpcodeNotQuery);

  q = base;
  q[5] = 0;
  CHECK(dns::parse_request(q).error() == RequestError::QuestionCount);

  q = base;
  q[12] = 0xC0;  // a compression pointer as the qname
  q[13] = 0x00;
  CHECK(dns::parse_request(q).error() == RequestError::MalformedQuestion);

  q = base;
  q[12] = 64;  // label too long
  CHECK(dns::parse_request(q).error() == RequestError::MalformedQuestion);

  q = base;
  q.push_back(0);  // trailing byte
  CHECK(dns::parse_request(q).error() == RequestError::MalformedRecords);

  q = base;
  q[11] = 200;  // ARCOUNT far beyond the packet
  CHECK(dns::parse_request(q).error() == RequestError::MalformedRecords);

  q = make_query({.edns = true});
  q[q.size() - 11] = 1;  // OPT owner not the root: "\x01" then the rest is garbage
  CHECK_FALSE(dns::parse_request(q).has_value());

  q = make_query({.edns = true});
  q[q.size() - 1] = 4;  // RDLENGTH 4 with an option header that is missing
  q.insert(q.end(), {0, 10, 0, 9});  // option 10, length 9, no data
  CHECK(dns::parse_request(q).error() == RequestError::MalformedOpt);
}

TEST_CASE("an OPT in the answer section is a malformed OPT", "[dns][request]") {
  auto q = make_query({.edns = true});
  q[7] = 1;   // ANCOUNT 1
  q[11] = 0;  // ARCOUNT 0
  CHECK(dns::parse_request(q).error() == RequestError::MalformedOpt);
}
