// RateLimiter: per-client response rate limiting for UDP (`server.rate-limit`). A spoofed-source
// flood turns an open or reachable resolver into an amplifier aimed at the spoofed victim; a
// per-network budget caps what one victim can receive, and the "slip" TC=1 replies let a real
// client behind that network still get its answer over TCP (which proves its address).
//
// Clients are keyed by network, as BIND's RRL does (ipv4-prefix-length 24, ipv6-prefix-length
// 56): one attacker rotating addresses inside its /24 or /56 still shares one budget.
// Each network has a token bucket refilled at `qps` per second, holding at most `qps` tokens
// (burst = qps). Time comes from the caller (monotonic milliseconds), so tests drive it.
//
// Memory is fixed: kBuckets buckets allocated when limiting is switched on (control plane),
// nothing per packet. Networks are hashed into the table with a per-process random key;
// networks whose hashes collide share a bucket (and so a budget). With 64Ki buckets that only
// bites when tens of thousands of networks are active at once, and the random key keeps an
// attacker from choosing networks that collide with a victim's on purpose.
//
// Callers: Pipeline, for UDP queries of clients the ACL admits. TCP is never limited.
#pragma once

#include <cstdint>
#include <memory>

#include "net/address.hpp"

namespace tern::server {

struct RateLimit {
  uint32_t qps = 0;   // queries per second per network; 0 = off
  uint32_t slip = 2;  // every slip-th limited query gets a TC=1 reply; 0 = drop them all

  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

// What to do with one query.
enum class RateVerdict : uint8_t { Pass, Slip, Drop };

// Networks of the same size as BIND RRL's defaults.
inline constexpr unsigned kRateLimitV4Prefix = 24;
inline constexpr unsigned kRateLimitV6Prefix = 56;
// 64Ki buckets x 24 octets = 1.5 MiB: enough that unrelated networks rarely share one.
inline constexpr size_t kRateLimitBuckets = size_t{1} << 16;

class RateLimiter {
 public:
  // `key0`/`key1` seed the bucket hash; the pipeline passes values from the system CSPRNG.
  RateLimiter(RateLimit limit, uint64_t key0, uint64_t key1);

  // Reload: a different qps starts every network with a full bucket again.
  void set_limit(RateLimit limit);
  const RateLimit& limit() const { return limit_; }
  bool enabled() const { return limit_.qps != 0; }

  // Charges one query from `client` at monotonic time `now_ms`. Pass when limiting is off.
  RateVerdict check(const net::Address& client, uint64_t now_ms);

  // The bucket index a client maps to (tests check aggregation and collisions with it).
  size_t bucket_of(const net::Address& client) const;

 private:
  struct Bucket {
    uint64_t last_ms = 0;   // last refill; 0 = never used (full)
    uint64_t tokens = 0;    // in thousandths of a query, so refill is exact integer math
    // Limited queries so far (wrapping), for slip. Not reset when a query passes: a client
    // just over the limit would otherwise see the same position in every short episode.
    uint32_t limited = 0;
  };

  RateLimit limit_;
  uint64_t key0_, key1_;
  std::unique_ptr<Bucket[]> buckets_;  // null while limiting is off
};

}  // namespace tern::server
