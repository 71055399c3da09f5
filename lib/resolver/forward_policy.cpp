#include "resolver/forward_policy.hpp"

#include <algorithm>

namespace tern::resolver {

std::string_view to_string(ForwardPolicyError e) {
  switch (e) {
    case ForwardPolicyError::NoUpstreams:
      return "forward zone has no upstreams";
    case ForwardPolicyError::DuplicateZone:
      return "forward zone listed twice";
  }
  return "unknown forward policy error";
}

util::Expected<ForwardPolicy, ForwardPolicyError> ForwardPolicy::create(
    std::vector<ForwardZone> zones) {
  ForwardPolicy p;
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].upstreams.empty()) return util::unexpected(ForwardPolicyError::NoUpstreams);
    if (!p.index_.emplace(zones[i].zone, i).second)
      return util::unexpected(ForwardPolicyError::DuplicateZone);
    p.deepest_ = std::max(p.deepest_, zones[i].zone.label_count());
  }
  p.zones_ = std::move(zones);
  return p;
}

const ForwardZone* ForwardPolicy::match(const dns::Name& qname) const {
  if (index_.empty()) return nullptr;
  // Walk the qname's ancestors from the deepest one a zone could be, towards the root: the
  // first hit is the longest match. At most 128 hash lookups, no allocation (Name is inline).
  dns::Name n = qname.suffix(std::min(qname.label_count(), deepest_));
  while (true) {
    auto it = index_.find(n);
    if (it != index_.end()) return &zones_[it->second];
    if (n.is_root()) return nullptr;
    n = n.parent();
  }
}

}  // namespace tern::resolver
