// KeyHasher: the hash of a CacheKey, keyed with a per-process secret. Cache keys come from
// clients, so an unkeyed hash would let anyone fill one probe run (or one bucket) with
// colliding names and turn every lookup into a scan (hash flooding). SipHash-1-3 over the
// lower-cased qname, qtype, qclass and key flags; never allocates (it runs on every query).
// Invariant: two keys that differ only in qname letter case hash the same.
#pragma once

#include <cstdint>
#include <cstring>

#include "cache/message_cache.hpp"
#include "dns/name.hpp"

namespace tern::cache {

class KeyHasher {
 public:
  // Seeds from the system CSPRNG.
  KeyHasher();
  KeyHasher(uint64_t k0, uint64_t k1) : k0_(k0), k1_(k1) {}

  uint64_t operator()(const CacheKey& key) const {
    // Longest input: 255 octets of qname + 2 + 2 + 1.
    uint8_t buf[dns::kMaxNameWire + 5];
    size_t n = key.qname_lower.size() <= dns::kMaxNameWire ? key.qname_lower.size()
                                                           : dns::kMaxNameWire;
    for (size_t i = 0; i < n; ++i) buf[i] = dns::ascii_lower(key.qname_lower[i]);
    buf[n++] = static_cast<uint8_t>(key.qtype >> 8);
    buf[n++] = static_cast<uint8_t>(key.qtype);
    buf[n++] = static_cast<uint8_t>(key.qclass >> 8);
    buf[n++] = static_cast<uint8_t>(key.qclass);
    buf[n++] = key.flags;
    return siphash13(buf, n);
  }

  uint64_t siphash13(const uint8_t* in, size_t len) const;

 private:
  uint64_t k0_, k1_;
};

}  // namespace tern::cache
