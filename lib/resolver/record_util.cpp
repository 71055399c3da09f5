#include "resolver/record_util.hpp"

#include <algorithm>
#include <array>

#include "dns/wire_reader.hpp"

namespace tern::resolver {

std::optional<dns::Name> rdata_target(const dns::ResourceRecord& rr) {
  if (rr.type != dns::RRType::NS && rr.type != dns::RRType::CNAME &&
      rr.type != dns::RRType::DNAME && rr.type != dns::RRType::PTR)
    return std::nullopt;
  auto n = dns::Name::from_wire(rr.rdata);
  if (!n) return std::nullopt;
  return *n;
}

std::optional<net::Address> rdata_address(const dns::ResourceRecord& rr) {
  if (rr.type == dns::RRType::A && rr.rdata.size() == 4)
    return net::Address::v4(rr.rdata[0], rr.rdata[1], rr.rdata[2], rr.rdata[3]);
  if (rr.type == dns::RRType::AAAA && rr.rdata.size() == 16) {
    std::array<uint8_t, 16> b{};
    std::copy(rr.rdata.begin(), rr.rdata.end(), b.begin());
    return net::Address::v6(b);
  }
  return std::nullopt;
}

std::optional<uint32_t> soa_negative_ttl(const dns::ResourceRecord& soa) {
  // MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM: the last four octets are MINIMUM.
  if (soa.type != dns::RRType::SOA || soa.rdata.size() < 2 + 20) return std::nullopt;
  uint32_t minimum = dns::load_u32(soa.rdata.data() + soa.rdata.size() - 4);
  return std::min(soa.ttl, minimum);
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
