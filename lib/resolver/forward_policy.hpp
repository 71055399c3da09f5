// ForwardPolicy: which queries go to upstream resolvers instead of being iterated, and to
// which upstreams. Built from the operator's `forward:` zones (and `resolver.mode: forward`,
// which the daemon maps to one zone for the root). The server asks has_zone_for() to choose
// the forwarder or the iterator; the forwarder asks match() for the upstream list.
// Matching is by the longest zone that is an ancestor of (or equal to) the qname, compared
// case-insensitively (RFC 4343): with zones `example.` and `corp.example.`, `a.corp.example.`
// goes to the second and `b.example.` to the first.
// Invariant: every zone has at least one upstream and no zone appears twice; create() checks.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/name.hpp"
#include "net/endpoint.hpp"
#include "util/expected.hpp"

namespace tern::resolver {

struct ForwardZone {
  dns::Name zone;
  // In the order the operator wrote them: the first is asked first, the next only when the
  // one before it fails (timeout, SERVFAIL, REFUSED, unusable reply).
  std::vector<net::Endpoint> upstreams;
};

enum class ForwardPolicyError : uint8_t {
  NoUpstreams,    // a zone with an empty upstream list could never be answered
  DuplicateZone,  // the same zone twice (in any case): which list would win is unclear
};

std::string_view to_string(ForwardPolicyError e);

class ForwardPolicy {
 public:
  ForwardPolicy() = default;  // forwards nothing

  // Control plane (config load/reload): rejects an unusable list as a whole.
  static util::Expected<ForwardPolicy, ForwardPolicyError> create(std::vector<ForwardZone> zones);

  // The zone with the most labels that is at or above qname, or nullptr.
  const ForwardZone* match(const dns::Name& qname) const;
  bool has_zone_for(const dns::Name& qname) const { return match(qname) != nullptr; }

  const std::vector<ForwardZone>& zones() const { return zones_; }
  bool empty() const { return zones_.empty(); }

 private:
  std::vector<ForwardZone> zones_;
  std::unordered_map<dns::Name, size_t, dns::NameHash> index_;  // zone -> position in zones_
  unsigned deepest_ = 0;  // label count of the deepest zone: longer suffixes cannot match
};

}  // namespace tern::resolver
