// UvScheduler: Scheduler on libuv timers, one uv_timer_t per armed timer (timers are armed on
// the miss path only, so nothing here is on the hit path). The miss path arms two or three
// timers per resolution, so a fired or cancelled timer is stopped and kept for reuse (up to
// kMaxSpare) instead of closed and freed: no allocation and no close round trip per timer.
// Invariant: a timer's memory is freed only in its close callback (STYLE.md); cancel_all()
// runs before the loop closes and closes the spares too.
#pragma once

#include <uv.h>

#include <unordered_map>
#include <vector>

#include "server/scheduler.hpp"

namespace tern::server {

class UvScheduler final : public Scheduler {
 public:
  explicit UvScheduler(uv_loop_t* loop) : loop_(loop) {}
  ~UvScheduler() override;
  TimerId after(uint64_t ms, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void cancel_all();
  size_t armed() const { return timers_.size(); }

 private:
  struct Timer;
  static void on_timer(uv_timer_t* t) noexcept;
  static void on_close(uv_handle_t* h) noexcept;
  void release(Timer* t);
  void close_timer(Timer* t);

  static constexpr size_t kMaxSpare = 4096;

  uv_loop_t* loop_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, Timer*> timers_;
  std::vector<Timer*> spare_;  // stopped, initialised, ready for after()
};

}  // namespace tern::server
