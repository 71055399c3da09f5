// Scheduler: one-shot timers for the pipeline (client-timeout for serve-stale), behind an
// interface so the pipeline stays free of libuv and unit tests can fire timers by hand.
// UvScheduler (uv_scheduler.hpp) is the real one.
// Invariant: a callback runs at most once, on the loop, never from inside after(); after
// cancel(id) it never runs.
#pragma once

#include <cstdint>
#include <functional>

namespace tern::server {

class Scheduler {
 public:
  using TimerId = uint64_t;  // 0 is never a valid id
  virtual ~Scheduler() = default;
  virtual TimerId after(uint64_t ms, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;
};

}  // namespace tern::server
