// Coalescer: concurrent identical misses share one upstream resolution (DESIGN.md "Coalesce";
// RFC 5452 §5 also asks for no duplicate in-flight queries, which would multiply a spoofer's
// chances). Keyed exactly like the message cache (lower-cased qname, qtype, qclass, DO/CD).
//
// The server calls join() on a miss: the first caller for a key becomes the Leader and starts
// the resolution; later callers are Joined and only wait. When the resolution completes, the
// server calls complete() and answers every waiter it gets back (the leader's included).
// A key holds at most max_waiters waiters; join() answers Full beyond that and the server
// should reply SERVFAIL to that client, so a flood of one name cannot grow memory without
// bound. Waiter is whatever the server needs to reply (endpoint, ID, question bytes ...).
//
// Invariant: a key is present iff its resolution is in flight; complete() removes it, so a
// join() after complete() starts a new resolution. Single-threaded (one per loop). Not on the
// hit path, so it may allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/key_hash.hpp"
#include "cache/message_cache.hpp"
#include "dns/name.hpp"

namespace tern::cache {

// Enough for a burst of clients asking one popular name at once; beyond this each extra
// client costs memory for no gain (they would all get the same answer).
inline constexpr size_t kMaxWaitersPerKey = 1024;

enum class JoinResult : uint8_t {
  Leader,  // first for this key: start the resolution, then complete() when it is done
  Joined,  // a resolution is already in flight: wait for complete()
  Full,    // too many waiters on this key: answer SERVFAIL now; the waiter was not kept
};

template <class Waiter>
class Coalescer {
 public:
  explicit Coalescer(size_t max_waiters = kMaxWaitersPerKey) : max_waiters_(max_waiters) {}

  JoinResult join(const CacheKey& key, Waiter w) {
    auto [it, first] = pending_.try_emplace(encode(key));
    auto& waiters = it->second;
    if (!first && waiters.size() >= max_waiters_) return JoinResult::Full;
    waiters.push_back(std::move(w));
    ++total_waiters_;
    return first ? JoinResult::Leader : JoinResult::Joined;
  }

  // Hands back every waiter of key (in join order) and forgets the key. Empty if none.
  std::vector<Waiter> complete(const CacheKey& key) {
    auto it = pending_.find(encode(key));
    if (it == pending_.end()) return {};
    std::vector<Waiter> out = std::move(it->second);
    pending_.erase(it);
    total_waiters_ -= out.size();
    return out;
  }

  bool in_flight(const CacheKey& key) const { return pending_.count(encode(key)) != 0; }
  size_t keys() const { return pending_.size(); }
  size_t waiters() const { return total_waiters_; }

  // Shutdown: every waiter of every key, keys forgotten (the server answers them SERVFAIL).
  std::vector<Waiter> drain() {
    std::vector<Waiter> out;
    out.reserve(total_waiters_);
    for (auto& [k, ws] : pending_)
      for (auto& w : ws) out.push_back(std::move(w));
    pending_.clear();
    total_waiters_ = 0;
    return out;
  }

 private:
  // The key as bytes: lower-cased qname, qtype, qclass, flags (unambiguous: the qname is a
  // self-delimiting wire name).
  static std::string encode(const CacheKey& key) {
    std::string s;
    s.reserve(key.qname_lower.size() + 5);
    for (uint8_t c : key.qname_lower) s.push_back(static_cast<char>(dns::ascii_lower(c)));
    s.push_back(static_cast<char>(key.qtype >> 8));
    s.push_back(static_cast<char>(key.qtype & 0xFF));
    s.push_back(static_cast<char>(key.qclass >> 8));
    s.push_back(static_cast<char>(key.qclass & 0xFF));
    s.push_back(static_cast<char>(key.flags));
    return s;
  }

  struct Hash {
    KeyHasher hasher;
    size_t operator()(const std::string& s) const {
      return static_cast<size_t>(
          hasher.siphash13(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
  };

  size_t max_waiters_;
  size_t total_waiters_ = 0;
  std::unordered_map<std::string, std::vector<Waiter>, Hash> pending_;
};

}  // namespace tern::cache
