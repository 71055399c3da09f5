// AccessList: who may query us. Built once from `server.access-control` and consulted for every
// request, so decide() is a scan of a small vector with no allocation. The rule is Unbound's:
// the most specific matching prefix wins; between rules with the same prefix the later one wins
// (so a later line can override an earlier one); no match at all is Refuse, so a fresh install
// is never an open resolver (RFC 5358). IPv4-mapped client addresses (::ffff:a.b.c.d, as a
// dual-stack socket reports IPv4 peers) are matched as their IPv4 address.
#pragma once

#include <cstdint>
#include <vector>

#include "net/prefix.hpp"

namespace tern::net {

enum class AclAction : uint8_t {
  Allow,   // serve the query
  Refuse,  // answer REFUSED
  Deny,    // drop silently
};

class AccessList {
 public:
  struct Rule {
    Prefix prefix;
    AclAction action;
    friend bool operator==(const Rule&, const Rule&) = default;
  };

  // Rules are added in configuration order; order only matters between equal prefixes.
  void add(const Prefix& prefix, AclAction action);
  AclAction decide(const Address& client) const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

}  // namespace tern::net
