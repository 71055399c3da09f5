// Clock: the two clocks of DESIGN.md ("Two clocks"). Record lifetimes use wall-clock seconds
// (CLOCK_REALTIME) so a dumped cache means the same after a restart; timeouts and RTTs use the
// monotonic clock. Everything that needs time takes a Clock& so tests can drive a FakeClock.
#pragma once

#include <cstdint>

namespace tern::util {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch (CLOCK_REALTIME).
  virtual int64_t wall_seconds() const = 0;
  // Milliseconds on a monotonic clock with an arbitrary origin (CLOCK_MONOTONIC).
  virtual uint64_t mono_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t wall_seconds() const override;
  uint64_t mono_ms() const override;
  static SystemClock& instance();
};

// A clock that only moves when a test says so.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wall = 1'700'000'000, uint64_t mono = 1'000'000)
      : wall_(wall), mono_(mono) {}
  int64_t wall_seconds() const override { return wall_; }
  uint64_t mono_ms() const override { return mono_; }
  void advance_seconds(int64_t s) {
    wall_ += s;
    mono_ += static_cast<uint64_t>(s) * 1000u;
  }
  void advance_ms(uint64_t ms) {
    mono_ += ms;
    wall_ = wall_ + static_cast<int64_t>(ms / 1000u);
  }

 private:
  int64_t wall_;
  uint64_t mono_;
};

}  // namespace tern::util
