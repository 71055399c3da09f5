#include "server/rate_limiter.hpp"

#include <algorithm>

namespace tern::server {

namespace {

// Refill never needs more than one second's worth: a bucket holds at most qps tokens.
constexpr uint64_t kMaxRefillMs = 1000;
// Token amounts are kept in thousandths of a query: qps tokens per second is then exactly
// qps thousandths per millisecond.
constexpr uint64_t kMilli = 1000;

uint64_t mix(uint64_t x) {
  // The 64-bit finaliser of MurmurHash3: every input bit affects every output bit.
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace

RateLimiter::RateLimiter(RateLimit limit, uint64_t key0, uint64_t key1)
    : key0_(key0), key1_(key1) {
  set_limit(limit);
}

void RateLimiter::set_limit(RateLimit limit) {
  bool reset = limit.qps != limit_.qps;
  limit_ = limit;
  if (limit_.qps == 0) {
    buckets_.reset();
    return;
  }
  if (!buckets_ || reset) buckets_ = std::make_unique<Bucket[]>(kRateLimitBuckets);
}

size_t RateLimiter::bucket_of(const net::Address& client) const {
  const auto& b = client.bytes();
  uint64_t hi = 0, lo = 0;
  if (client.is_v4()) {
    // The /24, tagged so that it never equals a v6 /56.
    lo = (uint64_t{b[0]} << 16) | (uint64_t{b[1]} << 8) | uint64_t{b[2]};
    hi = 4;
  } else {
    for (unsigned i = 0; i < kRateLimitV6Prefix / 8; ++i) lo = (lo << 8) | uint64_t{b[i]};
    hi = 6;
  }
  uint64_t h = mix(lo ^ key0_);
  h = mix(h ^ hi ^ key1_);
  return static_cast<size_t>(h & (kRateLimitBuckets - 1));
}

RateVerdict RateLimiter::check(const net::Address& client, uint64_t now_ms) {
  if (limit_.qps == 0 || !buckets_) return RateVerdict::Pass;
  Bucket& b = buckets_[bucket_of(client)];
  const uint64_t cap = uint64_t{limit_.qps} * kMilli;
  if (b.last_ms == 0) {
    b.tokens = cap;
  } else if (now_ms > b.last_ms) {
    uint64_t elapsed = std::min(now_ms - b.last_ms, kMaxRefillMs);
    b.tokens = std::min(cap, b.tokens + elapsed * limit_.qps);
  }
  // A clock that stands still (or a bucket last touched "later") refills nothing.
  b.last_ms = std::max(now_ms, b.last_ms == 0 ? uint64_t{1} : b.last_ms);
  if (b.tokens >= kMilli) {
    b.tokens -= kMilli;
    return RateVerdict::Pass;
  }
  ++b.limited;
  if (limit_.slip != 0 && b.limited % limit_.slip == 0) return RateVerdict::Slip;
  return RateVerdict::Drop;
}

}  // namespace tern::server
