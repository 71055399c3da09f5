#include "server/unavailable_resolver.hpp"

namespace tern::server {

void UnavailableResolver::resolve(const resolver::Request&, resolver::Completion done) {
  uint64_t n = next_++;
  auto id = scheduler_.after(0, [this, n]() {
    auto it = pending_.find(n);
    if (it == pending_.end()) return;
    auto fn = std::move(it->second.second);
    pending_.erase(it);
    fn(resolver::Outcome{resolver::Status::ServFail, std::nullopt});
  });
  pending_.emplace(n, std::make_pair(id, std::move(done)));
}

void UnavailableResolver::shutdown() {
  auto all = std::move(pending_);
  pending_.clear();
  for (auto& [n, entry] : all) {
    scheduler_.cancel(entry.first);
    entry.second(resolver::Outcome{resolver::Status::ServFail, std::nullopt});
  }
}

}  // namespace tern::server
