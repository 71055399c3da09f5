// Internal to cache/: MessageCache's state, shared by message_cache.cpp (insert, lookup,
// eviction) and cache_persist.cpp (peek, dump, load). Not part of the API.
//
// The table is open addressing with linear probing and backward-shift deletion (no
// tombstones), load factor <= 3/4, keyed by a secret-seeded SipHash (key_hash.hpp). A slot
// holds the hash next to the pointer, so a probe touches an entry only when the full 64-bit
// hash already matches (one cache miss per hit instead of one per probed slot).
// Byte accounting: every entry allocation plus kAllocOverhead, plus the slot array.
// Invariant: bytes_used() <= opts.max_bytes whenever control leaves a public method.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cache/cache_entry.hpp"
#include "cache/key_hash.hpp"
#include "cache/message_cache.hpp"
#include "dns/message.hpp"

namespace tern::cache {

namespace detail {
// What malloc spends per allocation beyond the bytes asked for (glibc: an 8-octet size word
// and 16-octet rounding), so the bound is on memory actually held, not just payload.
inline constexpr size_t kAllocOverhead = 16;
inline constexpr size_t kMinSlots = 16;
inline constexpr uint32_t kStaleTtl = 30;  // RFC 8767 §4: TTL of a stale answer
inline constexpr size_t kNoSlot = SIZE_MAX;
}  // namespace detail

namespace detail {
struct Slot {
  uint64_t hash = 0;
  Entry* entry = nullptr;  // null: empty
};
}  // namespace detail

struct MessageCache::Impl {
  Impl(const CacheOptions& o, const util::Clock& c) : opts(o), clock(c) {}
  ~Impl() { free_all(); }

  CacheOptions opts;
  const util::Clock& clock;
  KeyHasher hasher;
  std::vector<detail::Slot> slots;  // size is 0 or a power of two
  size_t count = 0;
  size_t entry_bytes = 0;
  detail::Entry* head = nullptr;  // newest
  detail::Entry* tail = nullptr;  // oldest
  detail::Entry* hand = nullptr;  // SIEVE hand; moves from tail towards head
  Stats stats;

  static size_t table_bytes_for(size_t nslots) {
    return nslots ? nslots * sizeof(detail::Slot) + detail::kAllocOverhead : 0;
  }
  static size_t slots_needed(size_t n);
  size_t bytes_used() const { return entry_bytes + table_bytes_for(slots.size()); }

  bool matches(const detail::Entry* e, uint64_t h, const CacheKey& k) const;
  size_t find(uint64_t h, const CacheKey& k) const;
  size_t slot_of(const detail::Entry* e) const;
  void rehash(size_t nslots);
  void table_put(detail::Entry* e);
  void table_erase(size_t slot);

  void link_head(detail::Entry* e);
  void unlink(detail::Entry* e);
  void erase_at(size_t slot);  // unlink, forget, free
  void free_all();

  // Expired and outside the stale window: can never be served again.
  bool dead(const detail::Entry* e, int64_t now) const;
  detail::Entry* pick_victim(int64_t now);
  void evict_to(size_t bound);

  // Stores an encoded message (question lower-case, TTLs = originals) under its key,
  // replacing any entry for the same key. False when it cannot fit the byte bound at all.
  bool store(const CacheKey& key, uint64_t h, detail::EntryKind kind, uint32_t lifetime,
             int64_t inserted_at, std::span<const uint8_t> wire,
             std::span<const uint16_t> ttl_offsets);
  // Encodes msg (already normalised) and stores it.
  bool encode_and_store(const CacheKey& key, detail::EntryKind kind, uint32_t lifetime,
                        int64_t inserted_at, const dns::Message& msg);

  // Writes e as served at `now` into out (which must hold e->wire_len octets): TTLs as
  // remaining time, or kStaleTtl when stale.
  void render(const detail::Entry* e, int64_t now, bool stale, uint8_t* out) const;
};

}  // namespace tern::cache
