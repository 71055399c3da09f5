// The Resolver the configuration asks for, assembled from the library's parts:
//   resolver.mode: forward    -> CaresForwarder over the `forward:` zones (one must be ".")
//   resolver.mode: recursive  -> the Iterator on a NetTransport, with every `forward:` zone
//                                routed to the CaresForwarder first (longest zone wins)
// Throws std::runtime_error with an operator-readable message (control plane) when a part
// cannot be built, e.g. an unreadable root-hints file; the caller keeps the old resolver then.
#pragma once

#include <uv.h>

#include <memory>

#include "client/upstream_observer.hpp"
#include "config/config.hpp"
#include "resolver/resolver.hpp"
#include "server/scheduler.hpp"

namespace tern::daemon {

// `observer` (may be nullptr) receives per-upstream counts from the transport and the
// forwarder; it must outlive the resolver (the daemon passes server::Metrics).
std::unique_ptr<resolver::Resolver> make_resolver(const config::Config& cfg, uv_loop_t* loop,
                                                  server::Scheduler& scheduler,
                                                  client::UpstreamObserver* observer);

}  // namespace tern::daemon
