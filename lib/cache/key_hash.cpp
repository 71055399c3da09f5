#include "cache/key_hash.hpp"

#include "util/random.hpp"

namespace tern::cache {

namespace {

inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
};

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t random_u64() {
  auto& r = util::SystemRandom::instance();
  return (static_cast<uint64_t>(r.next_u32()) << 32) | r.next_u32();
}

}  // namespace

KeyHasher::KeyHasher() : k0_(random_u64()), k1_(random_u64()) {}

// SipHash-1-3 (Aumasson & Bernstein): one compression round per word, three finalisation
// rounds; the variant Rust's HashMap and Python use for untrusted keys.
uint64_t KeyHasher::siphash13(const uint8_t* in, size_t len) const {
  SipState s{k0_ ^ 0x736f6d6570736575ull, k1_ ^ 0x646f72616e646f6dull,
             k0_ ^ 0x6c7967656e657261ull, k1_ ^ 0x7465646279746573ull};
  size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = load_le64(in + i);
    s.v3 ^= m;
    s.round();
    s.v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < (len & 7); ++i) last |= static_cast<uint64_t>(in[full + i]) << (8 * i);
  s.v3 ^= last;
  s.round();
  s.v0 ^= last;
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace tern::cache
