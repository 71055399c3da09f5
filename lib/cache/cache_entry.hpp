// Internal to cache/: one stored answer and the table that finds it. Not part of the API.
//
// An Entry is a single allocation: this struct, then the TTL offsets (2 octets each, big
// endian) and then the encoded message. The message's TTL fields hold each record's original
// TTL (already clamped to the entry lifetime), so the stored bytes are never written after
// insert and a hit derives every TTL from them: ttl = original - (now - inserted_at).
// Invariant: wire()[12 .. 12 + qname_len + 4) is the lower-cased question, and every TTL
// offset + 4 <= wire_len (build_message produced them).
#pragma once

#include <cstdint>
#include <cstring>

namespace tern::cache::detail {

enum class EntryKind : uint8_t {
  Positive,  // data for the question (possibly through a CNAME chain)
  Negative,  // NXDOMAIN or NODATA, lifetime from the SOA (RFC 2308 §5)
  Failure,   // SERVFAIL, cached briefly (RFC 9520 §3.2); never served stale or prefetched
};

struct Entry {
  Entry* newer = nullptr;  // eviction list: head is the newest insert
  Entry* older = nullptr;
  uint64_t hash = 0;
  int64_t inserted_at = 0;  // wall seconds
  int64_t expires_at = 0;   // wall seconds; fresh while now < expires_at
  size_t alloc_size = 0;    // this allocation: sizeof(Entry) + offsets + wire
  uint32_t lifetime = 0;
  uint16_t wire_len = 0;
  uint16_t n_ttls = 0;
  uint8_t qname_len = 0;
  uint8_t key_flags = 0;
  EntryKind kind = EntryKind::Positive;
  bool visited = false;        // SIEVE: hit since the hand last passed
  bool prefetch_done = false;  // Prefetch reported once per lifetime

  uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  const uint8_t* wire() const { return data() + std::size_t{2} * n_ttls; }
  uint8_t* wire() { return data() + std::size_t{2} * n_ttls; }
  uint16_t ttl_offset(size_t i) const {
    const uint8_t* p = data() + 2u * i;
    return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
  }
};

}  // namespace tern::cache::detail
