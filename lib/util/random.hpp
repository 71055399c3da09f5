// Random: the source of every unpredictable value an off-path attacker must not guess
// (query IDs, source ports, 0x20 case bits; RFC 5452 §9.2). The system implementation is
// glibc's arc4random (ChaCha20 keyed from getrandom), never rand()/mt19937. Tests inject a
// deterministic FakeRandom.
#pragma once

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

class SystemRandom final : public Random {
 public:
  uint32_t next_u32() override;
  uint32_t uniform(uint32_t bound) override;
  static SystemRandom& instance();
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
