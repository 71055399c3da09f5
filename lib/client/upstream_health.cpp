#include "client/upstream_health.hpp"

#include <algorithm>

namespace tern::client {

bool UpstreamHealth::held_down(size_t i, uint64_t now_ms) const {
  return i < state_.size() && state_[i].until_ms > now_ms;
}

std::vector<size_t> UpstreamHealth::order(uint64_t now_ms) const {
  std::vector<size_t> up, down;
  for (size_t i = 0; i < state_.size(); ++i) (held_down(i, now_ms) ? down : up).push_back(i);
  std::stable_sort(down.begin(), down.end(),
                   [&](size_t a, size_t b) { return state_[a].until_ms < state_[b].until_ms; });
  up.insert(up.end(), down.begin(), down.end());
  return up;
}

void UpstreamHealth::on_success(size_t i) {
  if (i < state_.size()) state_[i] = State{};
}

void UpstreamHealth::on_failure(size_t i, uint64_t now_ms) {
  if (i >= state_.size()) return;
  State& s = state_[i];
  // Failures of queries sent before a hold-down began land while it runs: they say nothing
  // new and must not stretch it.
  if (s.until_ms > now_ms) return;
  if (s.failures < 64) ++s.failures;
  if (s.failures < kFailuresToHoldDown) return;
  uint32_t doublings = std::min<uint32_t>(s.failures - kFailuresToHoldDown, 16);
  s.until_ms = now_ms + std::min(kMaxHoldDownMs, kMinHoldDownMs << doublings);
}

}  // namespace tern::client
