// AddressClass: the special-purpose ranges an operator names in an ACL (`allow: loopback`) and
// that rebinding protection will refuse in answers. Each class is a fixed set of prefixes from
// the IANA special-purpose registries (RFC 6890 and the RFCs cited per prefix); classify() finds
// the class of one address, class_prefixes() gives the set so an ACL can treat a class as its
// prefixes. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is classified as its IPv4 address: a
// dual-stack socket reports IPv4 clients that way, and an answer carrying ::ffff:10.0.0.1 must
// not slip past rebinding protection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "net/prefix.hpp"

namespace tern::net {

enum class AddressClass : uint8_t {
  Unspecified,    // 0.0.0.0/8 (RFC 1122 "this network"), ::/128
  Loopback,       // 127.0.0.0/8, ::1/128
  Private,        // RFC 1918 10/8, 172.16/12, 192.168/16; ULA fc00::/7 (RFC 4193)
  Shared,         // 100.64.0.0/10, carrier-grade NAT (RFC 6598)
  LinkLocal,      // 169.254.0.0/16 (RFC 3927), fe80::/10
  Multicast,      // 224.0.0.0/4, ff00::/8
  Broadcast,      // 255.255.255.255/32 (RFC 919)
  Documentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737); 2001:db8::/32
                  // (RFC 3849); 3fff::/20 (RFC 9637)
  Global,         // none of the above
};

AddressClass classify(const Address& a);

// The prefixes that make up a class (both families). Empty for Global, which is "the rest".
std::span<const Prefix> class_prefixes(AddressClass c);

// Config names: "unspecified", "loopback", "private", "shared", "link-local", "multicast",
// "broadcast", "documentation". "global" is not a name: it is not a finite prefix set.
std::string_view class_name(AddressClass c);
util::Expected<AddressClass, ParseError> parse_address_class(std::string_view name);

}  // namespace tern::net
