#include "util/random.hpp"

#include <stdlib.h>  // arc4random (glibc >= 2.36)

namespace tern::util {

uint32_t SystemRandom::next_u32() { return arc4random(); }
uint32_t SystemRandom::uniform(uint32_t bound) { return arc4random_uniform(bound); }

SystemRandom& SystemRandom::instance() {
  static SystemRandom r;
  return r;
}

}  // namespace tern::util
