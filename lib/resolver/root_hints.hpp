// Root hints: where iteration starts before priming (RFC 9609 §2). The built-in table is the
// IANA named.root (a..m.root-servers.net, IPv4 and IPv6); `root-hints:` in the config names a
// file in the same named.root format instead (the lab writes one for its private root).
// Control plane: parse errors throw std::runtime_error naming the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dns/name.hpp"
#include "net/address.hpp"

namespace tern::resolver {

struct RootHint {
  dns::Name name;                       // e.g. a.root-servers.net.
  std::vector<net::Address> addresses;  // its A and AAAA
};

using RootHints = std::vector<RootHint>;

// The IANA root servers.
const RootHints& builtin_root_hints();

// named.root text: `owner [ttl] [IN] type rdata` lines, `;` comments. NS lines for "." name
// the servers; A/AAAA lines give their addresses. Servers without an address, records for
// other owners and other types are errors (a hints file that says something we would ignore
// is a mistake the operator should hear about).
RootHints parse_root_hints(std::string_view text);
RootHints load_root_hints(const std::string& path);

}  // namespace tern::resolver
