#include "server/uv_scheduler.hpp"

#include <spdlog/spdlog.h>

namespace tern::server {

struct UvScheduler::Timer {
  uv_timer_t handle;
  UvScheduler* owner;
  TimerId id;
  std::function<void()> fn;
};

UvScheduler::~UvScheduler() { cancel_all(); }

Scheduler::TimerId UvScheduler::after(uint64_t ms, std::function<void()> fn) {
  Timer* t;
  if (!spare_.empty()) {
    t = spare_.back();
    spare_.pop_back();
    t->owner = this;
    t->id = next_id_++;
    t->fn = std::move(fn);
  } else {
    t = new Timer{{}, this, next_id_++, std::move(fn)};
    int rc = uv_timer_init(loop_, &t->handle);
    if (rc != 0) {
      spdlog::error("[server] uv_timer_init: {}", uv_strerror(rc));
      delete t;  // never initialised: nothing for libuv to close
      return 0;
    }
    t->handle.data = t;
  }
  int rc = uv_timer_start(&t->handle, &UvScheduler::on_timer, ms, 0);
  if (rc != 0) {
    spdlog::error("[server] uv_timer_start: {}", uv_strerror(rc));
    close_timer(t);
    return 0;
  }
  timers_.emplace(t->id, t);
  return t->id;
}

void UvScheduler::on_timer(uv_timer_t* h) noexcept {
  auto* t = static_cast<Timer*>(h->data);
  UvScheduler* self = t->owner;
  auto fn = std::move(t->fn);
  if (self) self->release(t);
  try {
    if (fn) fn();
  } catch (const std::exception& e) {
    spdlog::error("[server] timer callback threw: {}", e.what());
  }
}

void UvScheduler::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  release(it->second);
}

void UvScheduler::release(Timer* t) {
  timers_.erase(t->id);
  t->fn = nullptr;
  uv_timer_stop(&t->handle);
  if (spare_.size() < kMaxSpare) {
    t->owner = nullptr;  // a stale on_timer for it cannot happen: it is stopped
    spare_.push_back(t);
    return;
  }
  close_timer(t);
}

void UvScheduler::close_timer(Timer* t) {
  t->owner = nullptr;
  t->fn = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&t->handle), &UvScheduler::on_close);
}

void UvScheduler::cancel_all() {
  while (!timers_.empty()) release(timers_.begin()->second);
  for (Timer* t : spare_) close_timer(t);
  spare_.clear();
}

void UvScheduler::on_close(uv_handle_t* h) noexcept { delete static_cast<Timer*>(h->data); }

}  // namespace tern::server
