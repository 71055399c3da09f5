#include "util/random.hpp"

#include <stdlib.h>  // arc4random_buf (glibc >= 2.36: getrandom(2), never fails)

#include <cstring>

namespace tern::util {

void SystemRandom::refill() {
  arc4random_buf(pool_.data(), pool_.size());
  used_ = 0;
}

uint32_t SystemRandom::next_u32() {
  if (pool_.size() - used_ < sizeof(uint32_t)) refill();
  uint32_t v;
  std::memcpy(&v, pool_.data() + used_, sizeof v);
  used_ += sizeof v;
  return v;
}

uint32_t SystemRandom::uniform(uint32_t bound) {
  if (bound < 2) return 0;
  // Values below (2^32 mod bound) would make the low residues more likely: redraw them.
  const uint32_t reject_below = static_cast<uint32_t>(-bound) % bound;
  for (;;) {
    uint32_t v = next_u32();
    if (v >= reject_below) return v % bound;
  }
}

SystemRandom& SystemRandom::instance() {
  static thread_local SystemRandom r;
  return r;
}

}  // namespace tern::util
