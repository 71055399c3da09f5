// Scheduler: runs a function later on the loop thread. The Resolver contract says a completion
// never runs from inside resolve(); the iterator posts every start through this, so even an
// answer it knows at once (an RFC 8020 cut) is delivered asynchronously. server/ or client/
// implement it on libuv (a zero timeout or uv_idle); tests run it from the FakeTransport pump.
#pragma once

#include <functional>

namespace tern::resolver {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void post(std::function<void()> fn) = 0;
};

}  // namespace tern::resolver
