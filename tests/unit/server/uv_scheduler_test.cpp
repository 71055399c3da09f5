// UvScheduler on a real libuv loop: timers fire once, cancelled ones never, reused timers
// (the spare list) behave like new ones, and cancel_all() leaves nothing open.
#include <catch2/catch.hpp>

#include <uv.h>

#include <functional>
#include <vector>

#include "server/uv_scheduler.hpp"

using tern::server::UvScheduler;

namespace {

void run_bounded(uv_loop_t* loop, int max_iterations = 1000) {
  for (int i = 0; i < max_iterations && uv_run(loop, UV_RUN_ONCE) != 0; ++i) {
  }
}

}  // namespace

TEST_CASE("scheduler timers fire once in order, cancelled ones never, across reuse",
          "[server][scheduler]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    UvScheduler s(&loop);
    std::vector<int> fired;
    // Several rounds: from the second on, every timer comes from the spare list.
    for (int round = 0; round < 4; ++round) {
      fired.clear();
      auto a = s.after(3, [&] { fired.push_back(3); });
      auto b = s.after(1, [&] { fired.push_back(1); });
      auto c = s.after(2, [&] { fired.push_back(2); });
      REQUIRE(a != 0);
      REQUIRE(b != 0);
      REQUIRE(c != 0);
      CHECK(a != b);
      s.cancel(c);
      s.cancel(c);  // twice is harmless
      CHECK(s.armed() == 2);
      run_bounded(&loop);
      CHECK(fired == std::vector<int>{1, 3});
      CHECK(s.armed() == 0);
      s.cancel(a);  // already fired: nothing happens
    }
    // A callback may arm the next timer (it may get its own, just released, timer back).
    int chain = 0;
    std::function<void()> step = [&] {
      if (++chain < 5) s.after(0, step);
    };
    s.after(0, step);
    run_bounded(&loop);
    CHECK(chain == 5);
    // A timer cancelled from another timer's callback in the same iteration does not run.
    bool ran = false;
    UvScheduler::TimerId victim = 0;
    s.after(1, [&] { s.cancel(victim); });
    victim = s.after(1, [&] { ran = true; });
    run_bounded(&loop);
    CHECK_FALSE(ran);
    s.after(1000000, [] {});
    s.cancel_all();
  }
  run_bounded(&loop);
  CHECK(uv_loop_close(&loop) == 0);  // every handle, spares included, was closed
}
