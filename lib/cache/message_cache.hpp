// MessageCache: the fast path of DESIGN.md. Holds complete responses in encoded wire form
// (without OPT), keyed by (lower-cased qname, qtype, qclass, DO, CD), together with the offsets
// of their TTL fields and absolute wall-clock expiry. A hit is a copy into the caller's buffer
// plus patches (ID, the client's question bytes, flags, TTLs as remaining time): no heap
// allocation, no re-encoding, no logging. Misses, inserts and eviction may allocate.
//
// Callers: server/ (lookup on every query; insert when a resolution completes), resolver/
// (insert). Time comes in through util::Clock (wall seconds for lifetimes), so tests drive it.
//
// Invariants: bytes_used() never exceeds Options::max_bytes after any call returns; a stored
// entry is never served past expiry + max_stale; a stale answer carries TTL 30 (RFC 8767 §4).
// One instance per loop thread: no locking inside. Coalescing of misses: cache/inflight.hpp.
//
// Boundaries, decided once: an entry is fresh while now < inserted + lifetime (at the expiry
// second it is stale: a fresh answer never carries TTL 0); stale while
// now - expiry < max_stale. Every record in an entry is clamped to the entry lifetime.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>

#include "dns/message.hpp"
#include "util/clock.hpp"

namespace tern::cache {

// Which entry leaves when the byte bound is reached. SIEVE is the default: on a Zipf trace
// mixed with one-hit scans it keeps more hot answers than LRU, and a hit only sets a bit (LRU
// relinks the list on every hit). Figures: tools/bench_cache and the report in its README.
enum class EvictionPolicy : uint8_t { Sieve, Lru };

struct CacheOptions {
  size_t max_bytes = 64u << 20;        // cache.max-size: every byte held is accounted
  uint32_t min_ttl = 0;                // cache.min-ttl
  uint32_t max_ttl = 86400;            // cache.max-ttl
  uint32_t max_negative_ttl = 3600;    // cache.max-negative-ttl (RFC 2308 §5)
  uint32_t servfail_ttl = 5;           // RFC 9520 §3.2: cache failures briefly (1..5 minutes max)
  bool serve_stale = true;             // cache.serve-stale.enabled (RFC 8767)
  uint32_t max_stale = 86400;          // cache.serve-stale.max-stale
  bool prefetch = true;                // cache.prefetch
  EvictionPolicy eviction = EvictionPolicy::Sieve;
};

// Key flags: the request bits that change what a correct answer is.
enum KeyFlags : uint8_t { kKeyDO = 1, kKeyCD = 2 };

// What identifies a cached answer. qname_lower is the lower-cased uncompressed wire qname.
struct CacheKey {
  std::span<const uint8_t> qname_lower;
  uint16_t qtype = 0;
  uint16_t qclass = 1;
  uint8_t flags = 0;  // KeyFlags
};

// What the server patches into a hit. question_wire: the client's question exactly as it
// arrived (qname in the client's case, qtype, qclass), so 0x20-style case is echoed.
struct ReplyPatch {
  uint16_t id = 0;
  bool rd = false;
  bool cd = false;
  std::span<const uint8_t> question_wire;
};

enum class HitKind : uint8_t {
  Fresh,     // within TTL
  Prefetch,  // within TTL but in its last 10%: the caller should start one background refresh
  Stale,     // expired, within max-stale: only when the caller allowed stale (RFC 8767)
};

enum class StalePolicy : uint8_t { FreshOnly, AllowStale };

struct Hit {
  size_t size = 0;  // bytes written to out (a complete message without OPT; arcount excludes OPT)
  HitKind kind = HitKind::Fresh;
};

class MessageCache {
 public:
  MessageCache(const CacheOptions& opts, const util::Clock& clock);
  ~MessageCache();
  MessageCache(const MessageCache&) = delete;
  MessageCache& operator=(const MessageCache&) = delete;

  // Stores a complete response for the question (already scrubbed and matched to it).
  // Works out the lifetime itself: positive answers the minimum TTL of answer+authority
  // clamped to [min_ttl, max_ttl]; NXDOMAIN/NODATA min(SOA TTL, SOA MINIMUM) (RFC 2308 §5)
  // clamped by max_negative_ttl; SERVFAIL servfail_ttl; TTL 0 not cached. Other rcodes
  // (REFUSED, FORMERR...) are not cached. Replaces an existing entry for the key.
  // Details: a zero TTL anywhere in answer/authority (or the SOA) means not cached, whatever
  // min_ttl says; min_ttl does not raise negative lifetimes; a negative answer without SOA is
  // not cached (RFC 2308 §5); a NOERROR answer that is only a CNAME chain without SOA is kept
  // as data; additional RRsets that would expire before the entry are left out; truncated
  // replies and meta-type questions (AXFR...) are not cached; an uncacheable reply leaves an
  // existing entry alone, and a SERVFAIL never replaces an entry that is still fresh or
  // servable stale (that data is what serve-stale answers with).
  void insert(const CacheKey& key, const dns::Message& response);

  // Writes a reply into out when the key is cached and usable; nullopt otherwise (or when out
  // cannot hold it). Never allocates. TTLs in the reply are the remaining lifetime (30 for
  // stale). A Prefetch kind is reported at most once per entry lifetime.
  std::optional<Hit> lookup(const CacheKey& key, const ReplyPatch& patch, StalePolicy stale,
                            std::span<uint8_t> out);

  // ternctl flush: one name (all types), or that name and everything below it.
  enum class FlushScope : uint8_t { Name, Subtree };
  size_t flush(const dns::Name& name, FlushScope scope);
  void clear();

  // ternctl lookup: what the cache holds for key, decoded, with TTLs as a lookup now would
  // write them (remaining lifetime, or 30 when stale). Does not count as a hit, does not
  // change eviction state. nullopt when absent or past the stale window.
  enum class EntryState : uint8_t { Fresh, Stale };
  struct Peek {
    dns::Message message;  // question in lower case, no OPT, flags as stored
    int64_t inserted_at = 0;
    int64_t expires_at = 0;  // absolute wall seconds
    EntryState state = EntryState::Fresh;
  };
  std::optional<Peek> peek(const CacheKey& key) const;

  // Cache persistence (ternctl dump/load). dump writes every entry still servable (fresh, or
  // stale within max-stale when serve-stale is on) with its absolute times, behind a magic and
  // version header; false on a stream error. load reads such a stream, validates every entry
  // like an insert (hostile input: a bad file never crashes or corrupts the cache), skips
  // entries no longer servable, stops at the first framing error, and returns how many it
  // stored.
  bool dump(std::ostream& out) const;
  size_t load(std::istream& in);

  size_t bytes_used() const;
  size_t entries() const;
  // hits: fresh answers (Prefetch included); stale_hits: stale answers (not in hits); misses:
  // lookups that wrote nothing; evictions: entries dropped for the byte bound or found dead.
  struct Stats {
    uint64_t hits = 0, misses = 0, stale_hits = 0, inserts = 0, evictions = 0, prefetches = 0;
  };
  const Stats& stats() const;
  void set_options(const CacheOptions& opts);  // reload: shrinking max_bytes evicts at once

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace tern::cache
