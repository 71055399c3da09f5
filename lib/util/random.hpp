// Random: the source of every unpredictable value an off-path attacker must not guess
// (query IDs, source ports, 0x20 case bits; RFC 5452 §9.2). The system implementation draws
// kernel randomness (glibc's arc4random_buf, i.e. getrandom(2)), never rand()/mt19937. Tests
// inject a deterministic FakeRandom.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tern::util {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint32_t next_u32() = 0;
  // Uniform in [0, bound); bound must be > 0.
  virtual uint32_t uniform(uint32_t bound) = 0;
  uint16_t next_u16() { return static_cast<uint16_t>(next_u32() & 0xffffu); }
};

// glibc 2.36's arc4random() is one getrandom(2) system call per value (its ChaCha20 buffer was
// dropped before release), and the miss path draws several values per upstream query (ID,
// source port, 0x20 bits). So values are served from a pool of kernel random octets refilled
// kPoolSize octets at a time: the same quality (every octet comes from getrandom and is used
// once), one system call per 64 values. Not thread-safe: instance() is per thread, and ternd
// does not fork after start (a forked child would repeat the parent's unused pool).
class SystemRandom final : public Random {
 public:
  uint32_t next_u32() override;
  // Unbiased: rejection sampling, no modulo bias.
  uint32_t uniform(uint32_t bound) override;
  static SystemRandom& instance();

  static constexpr size_t kPoolSize = 256;

 private:
  void refill();
  std::array<uint8_t, kPoolSize> pool_{};
  size_t used_ = kPoolSize;  // empty until the first draw
};

// Deterministic xorshift sequence for tests only.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed = 0x9e3779b97f4a7c15ull) : s_(seed ? seed : 1) {}
  uint32_t next_u32() override {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return static_cast<uint32_t>(s_ >> 16);
  }
  uint32_t uniform(uint32_t bound) override { return next_u32() % bound; }

 private:
  uint64_t s_;
};

}  // namespace tern::util
