// UpstreamHealth: which upstreams of one forward zone recently failed to answer at all, so a
// dead first upstream stops costing every query a full timeout. c-ares 1.18 keeps no such
// memory, and "failing upstream -> next" alone would wait on the dead one each time.
// An upstream that failed kFailuresToHoldDown times in a row (timeouts, refused connections)
// is asked last for a hold-down period that starts at kMinHoldDownMs and doubles with each
// further failure up to kMaxHoldDownMs. When the period ends it takes its configured place
// again (a probe); one success clears its record. An upstream that answers, even SERVFAIL,
// is alive and is never held down. Held-down upstreams are still asked when the others fail:
// this orders, it never removes.
// Pure: time is the caller's monotonic milliseconds (uv_now), so tests drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tern::client {

// One lost datagram or two must not bench an upstream; three in a row are a pattern.
inline constexpr uint32_t kFailuresToHoldDown = 3;
inline constexpr uint64_t kMinHoldDownMs = 1'000;
// An upstream that comes back is found again within a minute.
inline constexpr uint64_t kMaxHoldDownMs = 60'000;

class UpstreamHealth {
 public:
  explicit UpstreamHealth(size_t upstreams) : state_(upstreams) {}

  // Upstream indexes in the order to try them: the configured order among those not held
  // down, then the held-down ones, soonest-to-expire first.
  std::vector<size_t> order(uint64_t now_ms) const;
  bool held_down(size_t i, uint64_t now_ms) const;

  void on_success(size_t i);
  void on_failure(size_t i, uint64_t now_ms);

 private:
  struct State {
    uint32_t failures = 0;  // in a row
    uint64_t until_ms = 0;  // held down before this time
  };
  std::vector<State> state_;
};

}  // namespace tern::client
