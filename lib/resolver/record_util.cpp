#include "resolver/record_util.hpp"

#include <algorithm>

#include "dns/rdata.hpp"

namespace tern::resolver {

std::optional<dns::Name> rdata_target(const dns::ResourceRecord& rr) {
  using namespace dns::rdata;
  switch (rr.type) {
    case dns::RRType::NS:
      if (auto r = Ns::decode(rr.rdata)) return r->nsdname;
      break;
    case dns::RRType::CNAME:
      if (auto r = Cname::decode(rr.rdata)) return r->target;
      break;
    case dns::RRType::DNAME:
      if (auto r = Dname::decode(rr.rdata)) return r->target;
      break;
    case dns::RRType::PTR:
      if (auto r = Ptr::decode(rr.rdata)) return r->ptrdname;
      break;
    default:
      break;
  }
  return std::nullopt;
}

std::optional<net::Address> rdata_address(const dns::ResourceRecord& rr) {
  using namespace dns::rdata;
  if (rr.type == dns::RRType::A)
    if (auto r = A::decode(rr.rdata)) return net::Address::v4(r->addr[0], r->addr[1], r->addr[2], r->addr[3]);
  if (rr.type == dns::RRType::AAAA)
    if (auto r = Aaaa::decode(rr.rdata)) return net::Address::v6(r->addr);
  return std::nullopt;
}

std::optional<uint32_t> soa_negative_ttl(const dns::ResourceRecord& soa) {
  if (soa.type != dns::RRType::SOA) return std::nullopt;
  auto r = dns::rdata::Soa::decode(soa.rdata);
  if (!r) return std::nullopt;
  return std::min(soa.ttl, r->minimum);  // RFC 2308 §5
}

dns::ResourceRecord make_address_record(const dns::Name& owner, const net::Address& a,
                                        uint32_t ttl) {
  dns::ResourceRecord rr;
  rr.name = owner;
  rr.type = a.is_v4() ? dns::RRType::A : dns::RRType::AAAA;
  rr.ttl = ttl;
  rr.rdata.assign(a.bytes().begin(), a.bytes().begin() + static_cast<long>(a.size()));
  return rr;
}

}  // namespace tern::resolver
