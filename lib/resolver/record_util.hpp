// The few RDATA fields the iterator needs (NS/CNAME/DNAME targets, A/AAAA addresses, the
// SOA MINIMUM), decoded with dns/rdata.hpp from the uncompressed form Message keeps. Anything
// malformed gives nullopt, so hostile RDATA is simply not used.
#pragma once

#include <cstdint>
#include <optional>

#include "dns/message.hpp"
#include "net/address.hpp"

namespace tern::resolver {

// NS, CNAME, DNAME (and PTR): the single name that is the whole RDATA.
std::optional<dns::Name> rdata_target(const dns::ResourceRecord& rr);
// A or AAAA.
std::optional<net::Address> rdata_address(const dns::ResourceRecord& rr);
// RFC 2308 §5: the negative TTL is min(SOA TTL, SOA MINIMUM).
std::optional<uint32_t> soa_negative_ttl(const dns::ResourceRecord& soa);

dns::ResourceRecord make_address_record(const dns::Name& owner, const net::Address& a,
                                        uint32_t ttl);

}  // namespace tern::resolver
