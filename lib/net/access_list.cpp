#include "net/access_list.hpp"

namespace tern::net {

void AccessList::add(const Prefix& prefix, AclAction action) { rules_.push_back({prefix, action}); }

AclAction AccessList::decide(const Address& client) const {
  const Address a = client.unmapped();
  const Rule* best = nullptr;
  for (const Rule& r : rules_) {
    // `>=` makes the later of two equally specific rules win.
    if (r.prefix.contains(a) && (best == nullptr || r.prefix.length() >= best->prefix.length()))
      best = &r;
  }
  return best ? best->action : AclAction::Refuse;
}

}  // namespace tern::net
