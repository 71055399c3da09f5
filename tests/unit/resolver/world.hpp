// Test fixtures for the iterator: record builders and a small scripted DNS tree.
//
//   .            10.0.0.1  (a.root-servers.net)
//   com.         10.0.1.1  (ns1.nic.com, glue)
//   net.         10.0.2.1  (ns1.nic.net, glue)
//   example.com. 10.0.3.1  (ns1.example.com, glue) and 10.0.3.2 (ns2.example.com, glue)
//   example.net. 10.0.4.1  (ns1.example.net, glue)
//   glueless.com. served by ns.example.net (10.0.5.1), no glue in com.
#pragma once

#include <memory>
#include <optional>

#include "fake_transport.hpp"
#include "resolver/iterator.hpp"
#include "util/bug.hpp"
#include "util/random.hpp"

namespace tern::resolver::test {

inline dns::Name N(const char* s) {
  auto n = dns::Name::from_text(s);
  REQUIRE(n.has_value());
  return *n;
}
inline net::Address IP(const char* s) {
  auto a = net::parse_address(s);
  TERN_ASSERT(a.has_value());  // also used for constants, outside any test case
  return *a;
}

inline dns::ResourceRecord rr_name(const char* owner, dns::RRType t, const char* target,
                                   uint32_t ttl = 3600) {
  dns::ResourceRecord rr{N(owner), t, dns::RRClass::IN, ttl, {}};
  auto n = N(target);
  rr.rdata.assign(n.wire().begin(), n.wire().end());
  return rr;
}
inline dns::ResourceRecord rr_ns(const char* o, const char* t, uint32_t ttl = 3600) {
  return rr_name(o, dns::RRType::NS, t, ttl);
}
inline dns::ResourceRecord rr_cname(const char* o, const char* t, uint32_t ttl = 300) {
  return rr_name(o, dns::RRType::CNAME, t, ttl);
}
inline dns::ResourceRecord rr_dname(const char* o, const char* t, uint32_t ttl = 300) {
  return rr_name(o, dns::RRType::DNAME, t, ttl);
}
inline dns::ResourceRecord rr_addr(const char* owner, const char* addr, uint32_t ttl = 3600) {
  return make_address_record(N(owner), IP(addr), ttl);
}
inline dns::ResourceRecord rr_soa(const char* zone, uint32_t minimum = 300, uint32_t ttl = 3600) {
  dns::ResourceRecord rr{N(zone), dns::RRType::SOA, dns::RRClass::IN, ttl, {}};
  std::string z = std::string(zone) == "." ? "" : zone;
  for (auto n : {N(("ns1." + z).c_str()), N(("hostmaster." + z).c_str())})
    rr.rdata.insert(rr.rdata.end(), n.wire().begin(), n.wire().end());
  for (uint32_t v : {2024010101u, 7200u, 3600u, 1209600u, minimum})
    for (int shift = 24; shift >= 0; shift -= 8) rr.rdata.push_back(static_cast<uint8_t>(v >> shift));
  return rr;
}
inline dns::ResourceRecord rr_txt(const char* owner, const char* text) {
  dns::ResourceRecord rr{N(owner), dns::RRType::TXT, dns::RRClass::IN, 300, {}};
  std::string t = text;
  rr.rdata.push_back(static_cast<uint8_t>(t.size()));
  rr.rdata.insert(rr.rdata.end(), t.begin(), t.end());
  return rr;
}

inline const net::Address kRoot = IP("10.0.0.1");
inline const net::Address kCom = IP("10.0.1.1");
inline const net::Address kNet = IP("10.0.2.1");
inline const net::Address kExample = IP("10.0.3.1");
inline const net::Address kExample2 = IP("10.0.3.2");
inline const net::Address kExampleNet = IP("10.0.4.1");
inline const net::Address kGlueless = IP("10.0.5.1");

struct World {
  util::FakeClock clock;
  util::FakeRandom random{12345};
  FakeTransport net{clock};
  InfraCache infra{clock};
  IteratorOptions opts;
  std::unique_ptr<Iterator> it;

  World() {
    opts.root_hints = {RootHint{N("a.root-servers.net"), {kRoot}}};
    opts.qname_minimisation = QnameMinimisation::Off;  // tests that want it say so
    net.add_zone(kRoot, {N("."), {rr_soa("."), rr_ns(".", "a.root-servers.net"),
                                  rr_addr("a.root-servers.net", "10.0.0.1"),
                                  rr_ns("com", "ns1.nic.com"), rr_addr("ns1.nic.com", "10.0.1.1"),
                                  rr_ns("net", "ns1.nic.net"), rr_addr("ns1.nic.net", "10.0.2.1")}});
    net.add_zone(kCom, {N("com"), {rr_soa("com"), rr_ns("com", "ns1.nic.com"),
                                   rr_addr("ns1.nic.com", "10.0.1.1"),
                                   rr_ns("example.com", "ns1.example.com"),
                                   rr_ns("example.com", "ns2.example.com"),
                                   rr_addr("ns1.example.com", "10.0.3.1"),
                                   rr_addr("ns2.example.com", "10.0.3.2"),
                                   rr_ns("glueless.com", "ns.example.net")}});
    net.add_zone(kNet, {N("net"), {rr_soa("net"), rr_ns("net", "ns1.nic.net"),
                                   rr_addr("ns1.nic.net", "10.0.2.1"),
                                   rr_ns("example.net", "ns1.example.net"),
                                   rr_addr("ns1.example.net", "10.0.4.1")}});
    FakeZone example{N("example.com"),
                     {rr_soa("example.com"), rr_ns("example.com", "ns1.example.com"),
                      rr_ns("example.com", "ns2.example.com"),
                      rr_addr("ns1.example.com", "10.0.3.1"), rr_addr("ns2.example.com", "10.0.3.2"),
                      rr_addr("www.example.com", "192.0.2.1"),
                      rr_addr("deep.a.b.c.example.com", "192.0.2.9"),
                      rr_cname("alias.example.com", "www.example.net"),
                      rr_cname("inzone.example.com", "www.example.com"),
                      rr_dname("old.example.com", "example.net"),
                      rr_txt("www.example.com", "hello")}};
    net.add_zone(kExample, example);
    net.add_zone(kExample2, example);
    net.add_zone(kExampleNet, {N("example.net"), {rr_soa("example.net"),
                                                  rr_ns("example.net", "ns1.example.net"),
                                                  rr_addr("ns1.example.net", "10.0.4.1"),
                                                  rr_addr("www.example.net", "192.0.2.2"),
                                                  rr_addr("host.example.net", "192.0.2.4"),
                                                  rr_addr("ns.example.net", "10.0.5.1")}});
    net.add_zone(kGlueless, {N("glueless.com"), {rr_soa("glueless.com"),
                                                 rr_ns("glueless.com", "ns.example.net"),
                                                 rr_addr("www.glueless.com", "192.0.2.3")}});
  }

  Iterator& iterator() {
    if (!it) it = std::make_unique<Iterator>(net, net, clock, random, opts, infra);
    return *it;
  }

  Outcome resolve(const char* name, dns::RRType type = dns::RRType::A) {
    std::optional<Outcome> out;
    int calls = 0;
    iterator().resolve(Request{dns::Question{N(name), type, dns::RRClass::IN}},
                       [&](Outcome o) {
                         ++calls;
                         out = std::move(o);
                       });
    REQUIRE_FALSE(out.has_value());  // never synchronously
    net.run();
    REQUIRE(calls == 1);
    return *out;
  }
};

inline std::vector<std::string> answer_lines(const Outcome& o) {
  std::vector<std::string> v;
  if (!o.response) return v;
  for (const auto& rr : o.response->answer) {
    std::string s = lower(rr.name.to_text()) + " " + dns::type_to_text(rr.type);
    if (auto a = rdata_address(rr)) s += " " + a->to_string();
    if (auto t = rdata_target(rr)) s += " " + lower(t->to_text());
    v.push_back(s);
  }
  return v;
}

inline dns::RCode rcode_of(const Outcome& o) {
  REQUIRE(o.status == Status::Answer);
  REQUIRE(o.response.has_value());
  return o.response->rcode();
}

}  // namespace tern::resolver::test
