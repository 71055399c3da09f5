#include "util/clock.hpp"

#include <ctime>

namespace tern::util {

int64_t SystemClock::wall_seconds() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

uint64_t SystemClock::mono_ms() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000u;
}

SystemClock& SystemClock::instance() {
  static SystemClock c;
  return c;
}

}  // namespace tern::util
