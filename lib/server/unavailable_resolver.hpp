// UnavailableResolver: the resolver used when the configured mode has no implementation yet
// (recursion from the root hints is not built). Every resolution fails with ServFail, on the
// loop, as the Resolver contract requires; the daemon logs a warning at start-up saying why.
#pragma once

#include <unordered_map>

#include "resolver/resolver.hpp"
#include "server/scheduler.hpp"

namespace tern::server {

class UnavailableResolver final : public resolver::Resolver {
 public:
  explicit UnavailableResolver(Scheduler& scheduler) : scheduler_(scheduler) {}
  ~UnavailableResolver() override { shutdown(); }
  void resolve(const resolver::Request& request, resolver::Completion done) override;
  void shutdown() override;

 private:
  Scheduler& scheduler_;
  uint64_t next_ = 1;
  std::unordered_map<uint64_t, std::pair<Scheduler::TimerId, resolver::Completion>> pending_;
};

}  // namespace tern::server
