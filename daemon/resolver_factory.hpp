// The Resolver the configuration asks for, assembled from the library's parts:
//   resolver.mode: forward    -> CaresForwarder over the `forward:` zones (one must be ".")
//   resolver.mode: recursive  -> the Iterator on a NetTransport, with every `forward:` zone
//                                routed to the CaresForwarder first (longest zone wins)
// Throws std::runtime_error with an operator-readable message (control plane) when a part
// cannot be built, e.g. an unreadable root-hints file; the caller keeps the old resolver then.
#pragma once

#include <uv.h>

#include <memory>

#include "config/config.hpp"
#include "resolver/resolver.hpp"
#include "server/scheduler.hpp"

namespace tern::daemon {

std::unique_ptr<resolver::Resolver> make_resolver(const config::Config& cfg, uv_loop_t* loop,
                                                  server::Scheduler& scheduler);

}  // namespace tern::daemon
