// UpstreamObserver: how client/ reports what happens with each upstream server (queries sent,
// timeouts, rejected replies, errors) to whoever exports it — server::Metrics, wired by the
// daemon. client/ never includes server/ (DESIGN.md): it counts into plain counters it got
// from the observer.
//
// Hot path: a transport asks the observer once per server and keeps the pointer
// (UpstreamCounterCache), so sending a query or rejecting a datagram is an increment, never a
// string or an allocation.
// Invariant: a counters reference handed out stays valid for the observer's whole life; the
// observer outlives every transport that uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "net/endpoint.hpp"

namespace tern::client {

struct UpstreamCounters {
  uint64_t queries = 0;         // queries sent
  uint64_t timeouts = 0;        // no reply in time
  uint64_t spoof_attempts = 0;  // replies with a wrong source, ID or question (RFC 5452)
  uint64_t errors = 0;          // network errors, malformed replies
};

class UpstreamObserver {
 public:
  virtual ~UpstreamObserver() = default;
  // The counters for one server, created on first use. May allocate the first time a server
  // is seen; must not allocate when asked again for a known server (or when it has stopped
  // creating new ones: then it may hand out one shared overflow set).
  virtual UpstreamCounters& upstream_counters(const net::Endpoint& server) = 0;
};

// An iterating resolver meets thousands of servers: the transport remembers this many
// pointers; beyond that it asks the observer each time (still no allocation, see above).
inline constexpr size_t kMaxCachedUpstreams = 1024;

class UpstreamCounterCache {
 public:
  explicit UpstreamCounterCache(UpstreamObserver* observer) : observer_(observer) {}
  // nullptr without an observer: callers skip counting then.
  UpstreamCounters* get(const net::Endpoint& server) {
    if (observer_ == nullptr) return nullptr;
    if (auto it = cache_.find(server); it != cache_.end()) return it->second;
    UpstreamCounters* c = &observer_->upstream_counters(server);
    if (cache_.size() < kMaxCachedUpstreams) cache_.emplace(server, c);
    return c;
  }
  size_t cached() const { return cache_.size(); }

 private:
  UpstreamObserver* observer_;
  std::unordered_map<net::Endpoint, UpstreamCounters*> cache_;
};

}  // namespace tern::client
