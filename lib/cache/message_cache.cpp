#include "cache/message_cache.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#include "cache/message_cache_impl.hpp"
#include "dns/wire_reader.hpp"
#include "util/bug.hpp"

namespace tern::cache {

using detail::Entry;
using detail::EntryKind;
using detail::kNoSlot;

// ---------------------------------------------------------------------------------------------
// Table

size_t MessageCache::Impl::slots_needed(size_t n) {
  size_t cap = detail::kMinSlots;
  while (n * 4 > cap * 3) cap *= 2;
  return cap;
}

bool MessageCache::Impl::matches(const Entry* e, uint64_t h, const CacheKey& k) const {
  if (e->hash != h || e->key_flags != k.flags || e->qname_len != k.qname_lower.size())
    return false;
  const uint8_t* q = e->wire() + dns::kHeaderSize;
  for (size_t i = 0; i < e->qname_len; ++i)
    if (dns::ascii_lower(k.qname_lower[i]) != q[i]) return false;
  return dns::load_u16(q + e->qname_len) == k.qtype && dns::load_u16(q + e->qname_len + 2) == k.qclass;
}

size_t MessageCache::Impl::find(uint64_t h, const CacheKey& k) const {
  if (slots.empty()) return kNoSlot;
  size_t mask = slots.size() - 1;
  for (size_t i = static_cast<size_t>(h) & mask;; i = (i + 1) & mask) {
    const detail::Slot& s = slots[i];
    if (!s.entry) return kNoSlot;
    if (s.hash == h && matches(s.entry, h, k)) return i;
  }
}

size_t MessageCache::Impl::slot_of(const Entry* e) const {
  size_t mask = slots.size() - 1;
  for (size_t i = static_cast<size_t>(e->hash) & mask;; i = (i + 1) & mask) {
    if (slots[i].entry == e) return i;
    if (!slots[i].entry) TERN_BUG("cache entry missing from its table");
  }
}

void MessageCache::Impl::table_put(Entry* e) {
  size_t mask = slots.size() - 1;
  size_t i = static_cast<size_t>(e->hash) & mask;
  while (slots[i].entry) i = (i + 1) & mask;
  slots[i] = {e->hash, e};
}

void MessageCache::Impl::rehash(size_t nslots) {
  std::vector<detail::Slot> old;
  old.swap(slots);
  slots.assign(nslots, detail::Slot{});
  slots.shrink_to_fit();
  for (const detail::Slot& s : old)
    if (s.entry) table_put(s.entry);
}

// Backward-shift deletion: pull later members of the probe run into the hole when the hole
// lies between their home slot and where they sit, so lookups never need tombstones.
void MessageCache::Impl::table_erase(size_t hole) {
  size_t mask = slots.size() - 1;
  size_t j = hole;
  while (true) {
    j = (j + 1) & mask;
    if (!slots[j].entry) break;
    size_t home = static_cast<size_t>(slots[j].hash) & mask;
    bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      slots[hole] = slots[j];
      hole = j;
    }
  }
  slots[hole] = detail::Slot{};
}

// ---------------------------------------------------------------------------------------------
// Eviction list

void MessageCache::Impl::link_head(Entry* e) {
  e->newer = nullptr;
  e->older = head;
  if (head) head->newer = e;
  head = e;
  if (!tail) tail = e;
}

void MessageCache::Impl::unlink(Entry* e) {
  if (hand == e) hand = e->newer;
  if (e->newer) e->newer->older = e->older; else head = e->older;
  if (e->older) e->older->newer = e->newer; else tail = e->newer;
  e->newer = e->older = nullptr;
}

void MessageCache::Impl::erase_at(size_t slot) {
  Entry* e = slots[slot].entry;
  table_erase(slot);
  unlink(e);
  entry_bytes -= e->alloc_size + detail::kAllocOverhead;
  --count;
  e->~Entry();
  ::operator delete(static_cast<void*>(e));
}

void MessageCache::Impl::free_all() {
  Entry* e = head;
  while (e) {
    Entry* next = e->older;
    e->~Entry();
    ::operator delete(static_cast<void*>(e));
    e = next;
  }
  head = tail = hand = nullptr;
  count = 0;
  entry_bytes = 0;
  std::vector<detail::Slot>().swap(slots);
}

bool MessageCache::Impl::dead(const Entry* e, int64_t now) const {
  if (now < e->expires_at) return false;
  bool may_stale = opts.serve_stale && e->kind != EntryKind::Failure;
  return !(may_stale && now - e->expires_at < static_cast<int64_t>(opts.max_stale));
}

// SIEVE (Zhang et al., NSDI '24): new entries enter at the head unvisited; a hit only sets
// `visited`; the hand walks from the tail towards the head clearing visited bits and evicts
// the first unvisited entry, then stays there for the next eviction. One-hit entries leave
// quickly, entries hit since the last pass survive. Dead entries go regardless of the bit.
Entry* MessageCache::Impl::pick_victim(int64_t now) {
  if (opts.eviction == EvictionPolicy::Lru) return tail;
  Entry* h = hand ? hand : tail;
  while (h->visited && !dead(h, now)) {
    h->visited = false;
    h = h->newer ? h->newer : tail;
  }
  hand = h->newer;
  return h;
}

void MessageCache::Impl::evict_to(size_t bound) {
  if (bytes_used() <= bound) return;
  int64_t now = clock.wall_seconds();
  while (head && bytes_used() > bound) {
    erase_at(slot_of(pick_victim(now)));
    ++stats.evictions;
  }
  // With nothing left, give back the slot array too (a bound smaller than an empty table).
  if (!head && bytes_used() > bound) std::vector<detail::Slot>().swap(slots);
}

// ---------------------------------------------------------------------------------------------
// Storing

bool MessageCache::Impl::store(const CacheKey& key, uint64_t h, EntryKind kind,
                               uint32_t lifetime, int64_t inserted_at,
                               std::span<const uint8_t> wire,
                               std::span<const uint16_t> ttl_offsets) {
  if (size_t old = find(h, key); old != kNoSlot) erase_at(old);
  size_t alloc = sizeof(Entry) + 2 * ttl_offsets.size() + wire.size();
  size_t cost = alloc + detail::kAllocOverhead;
  size_t nslots = std::max(slots.size(), slots_needed(count + 1));
  if (cost + table_bytes_for(nslots) > opts.max_bytes) return false;
  if (nslots != slots.size()) rehash(nslots);
  evict_to(opts.max_bytes - cost);
  if (slots.empty()) rehash(slots_needed(count + 1));  // evict_to may have released it

  void* mem = ::operator new(alloc);
  Entry* e = new (mem) Entry;
  e->hash = h;
  e->inserted_at = inserted_at;
  e->expires_at = inserted_at + lifetime;
  e->alloc_size = alloc;
  e->lifetime = lifetime;
  e->wire_len = static_cast<uint16_t>(wire.size());
  e->n_ttls = static_cast<uint16_t>(ttl_offsets.size());
  e->qname_len = static_cast<uint8_t>(key.qname_lower.size());
  e->key_flags = key.flags;
  e->kind = kind;
  uint8_t* d = e->data();
  for (size_t i = 0; i < ttl_offsets.size(); ++i) dns::store_u16(d + 2 * i, ttl_offsets[i]);
  std::memcpy(e->wire(), wire.data(), wire.size());
  link_head(e);
  table_put(e);
  ++count;
  entry_bytes += cost;
  ++stats.inserts;
  return true;
}

bool MessageCache::Impl::encode_and_store(const CacheKey& key, EntryKind kind,
                                          uint32_t lifetime, int64_t inserted_at,
                                          const dns::Message& msg) {
  constexpr size_t kMaxMessage = 65535;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kMaxMessage);
  std::vector<uint16_t> offsets;
  dns::BuildOptions bo;
  bo.max_size = kMaxMessage;
  bo.compression = dns::Compression::On;
  bo.ttl_offsets = &offsets;
  auto built = dns::build_message(msg, {buf.get(), kMaxMessage}, bo);
  if (!built || built->truncated) return false;
  std::span<const uint8_t> wire(buf.get(), built->size);
  // The key must describe exactly the question we stored (lookups compare against it).
  if (wire.size() < dns::kHeaderSize + key.qname_lower.size() + 4) return false;
  return store(key, hasher(key), kind, lifetime, inserted_at, wire, offsets);
}

void MessageCache::Impl::render(const Entry* e, int64_t now, bool stale, uint8_t* out) const {
  std::memcpy(out, e->wire(), e->wire_len);
  int64_t elapsed = now > e->inserted_at ? now - e->inserted_at : 0;
  for (size_t i = 0; i < e->n_ttls; ++i) {
    uint8_t* p = out + e->ttl_offset(i);
    uint32_t ttl = detail::kStaleTtl;
    if (!stale) {
      int64_t left = static_cast<int64_t>(dns::load_u32(p)) - elapsed;
      ttl = left > 0 ? static_cast<uint32_t>(left) : 0;
    }
    dns::store_u32(p, ttl);
  }
}

// ---------------------------------------------------------------------------------------------
// Lifetime rules

namespace {

struct Plan {
  EntryKind kind;
  uint32_t lifetime;
};

uint32_t clamp_ttl(uint32_t ttl, const CacheOptions& o) {
  return std::min(std::max(ttl, o.min_ttl), o.max_ttl);
}

// RFC 2181 §8: a TTL with the top bit set is treated as zero.
uint32_t ttl_of(const dns::ResourceRecord& rr) { return rr.ttl > 0x7FFFFFFFu ? 0 : rr.ttl; }

uint32_t min_ttl_of(const std::vector<dns::ResourceRecord>& rrs) {
  uint32_t m = UINT32_MAX;
  for (auto& rr : rrs) m = std::min(m, ttl_of(rr));
  return m;
}

// RFC 2308 §5: the negative TTL is the smaller of the SOA record's TTL and its MINIMUM field.
std::optional<uint32_t> soa_negative_ttl(const std::vector<dns::ResourceRecord>& authority) {
  for (auto& rr : authority) {
    if (rr.type != dns::RRType::SOA) continue;
    dns::WireReader r(rr.rdata);
    r.skip_name();  // MNAME
    r.skip_name();  // RNAME
    r.skip(16);     // SERIAL REFRESH RETRY EXPIRE
    uint32_t minimum = r.u32();
    if (!r.ok() || r.remaining() != 0) continue;
    return std::min(ttl_of(rr), minimum);
  }
  return std::nullopt;
}

bool answers_qtype(const dns::Message& m, dns::RRType qtype) {
  if (qtype == dns::RRType::ANY) return !m.answer.empty();
  for (auto& rr : m.answer)
    if (rr.type == qtype) return true;
  return false;
}

std::optional<Plan> plan_for(const CacheOptions& o, dns::RRType qtype, const dns::Message& m) {
  if (m.header.opcode != dns::Opcode::Query || m.header.tc) return std::nullopt;
  if (dns::is_meta_type(qtype) && qtype != dns::RRType::ANY) return std::nullopt;  // AXFR...
  dns::RCode rc = m.rcode();
  if (rc == dns::RCode::ServFail) {
    if (o.servfail_ttl == 0) return std::nullopt;
    return Plan{EntryKind::Failure, o.servfail_ttl};
  }
  if (rc != dns::RCode::NoError && rc != dns::RCode::NxDomain) return std::nullopt;
  uint32_t data_min = std::min(min_ttl_of(m.answer), min_ttl_of(m.authority));
  bool positive = rc == dns::RCode::NoError && answers_qtype(m, qtype);
  auto soa = soa_negative_ttl(m.authority);
  if (!positive && !soa) {
    // RFC 2308 §5: a negative answer without SOA must not be cached. A NOERROR answer that
    // holds only a CNAME/DNAME chain (its end not resolved) is still data worth keeping.
    if (rc != dns::RCode::NoError || m.answer.empty()) return std::nullopt;
    positive = true;
  }
  if (positive) {
    if (data_min == 0) return std::nullopt;  // TTL 0: "do not cache" (RFC 1035 §3.2.1)
    return Plan{EntryKind::Positive, clamp_ttl(data_min, o)};
  }
  // Negative (NXDOMAIN or NODATA, possibly at the end of a CNAME chain). min-ttl does not
  // raise it: the SOA minimum is the zone's own statement of how long non-existence holds,
  // and stretching it delays new names (Unbound applies min-ttl and later had to add
  // cache-min-negative-ttl to undo that). max-negative-ttl caps it (RFC 2308 §5).
  uint32_t ttl = std::min(*soa, o.max_negative_ttl);
  if (!m.answer.empty()) ttl = std::min(ttl, std::min(min_ttl_of(m.answer), o.max_ttl));
  if (ttl == 0) return std::nullopt;
  return Plan{EntryKind::Negative, ttl};
}

// Copies one section with each RRset's TTL set to min(RRset minimum, lifetime) (RFC 2181 §5.2:
// TTLs within an RRset are equal). Optional sections drop an RRset that would not outlive the
// entry, so no record is ever served past its own TTL.
void copy_section(const std::vector<dns::ResourceRecord>& in, std::vector<dns::ResourceRecord>& out,
                  uint32_t lifetime, const CacheOptions& o, bool optional_section) {
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    size_t j = i + 1;
    while (j < in.size() && in[j].type == in[i].type && in[j].rclass == in[i].rclass &&
           in[j].name == in[i].name)
      ++j;
    uint32_t m = UINT32_MAX;
    for (size_t k = i; k < j; ++k) m = std::min(m, ttl_of(in[k]));
    uint32_t ttl = std::min(clamp_ttl(m, o), lifetime);
    bool keep = !dns::is_meta_type(in[i].type);
    if (optional_section) keep = keep && m != 0 && ttl == lifetime;
    if (keep) {
      for (size_t k = i; k < j; ++k) {
        out.push_back(in[k]);
        out.back().ttl = ttl;
      }
    }
    i = j;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

MessageCache::MessageCache(const CacheOptions& opts, const util::Clock& clock)
    : impl_(new Impl(opts, clock)) {}

MessageCache::~MessageCache() { delete impl_; }

void MessageCache::insert(const CacheKey& key, const dns::Message& response) {
  Impl& m = *impl_;
  auto qn = dns::Name::from_wire(key.qname_lower);
  if (!qn) return;
  auto qtype = static_cast<dns::RRType>(key.qtype);
  auto plan = plan_for(m.opts, qtype, response);
  if (!plan) return;  // an uncacheable reply leaves what we hold alone
  int64_t now = m.clock.wall_seconds();
  uint64_t h = m.hasher(key);
  if (plan->kind == EntryKind::Failure) {
    // A failed refresh must not destroy data still fit to serve: fresh data keeps being
    // served and expired data is what serve-stale answers with (RFC 8767 §4).
    size_t old = m.find(h, key);
    if (old != kNoSlot && m.slots[old].entry->kind != EntryKind::Failure &&
        !m.dead(m.slots[old].entry, now))
      return;
  }
  dns::Message msg;
  msg.header.qr = true;
  msg.header.ra = true;
  msg.header.ad = response.header.ad;
  msg.header.rcode = static_cast<uint8_t>(response.header.rcode & 0xFu);
  msg.questions.push_back({qn->lowered(), qtype, static_cast<dns::RRClass>(key.qclass)});
  if (plan->kind != EntryKind::Failure) {
    copy_section(response.answer, msg.answer, plan->lifetime, m.opts, false);
    copy_section(response.authority, msg.authority, plan->lifetime, m.opts, false);
    copy_section(response.additional, msg.additional, plan->lifetime, m.opts, true);
  }
  m.encode_and_store(key, plan->kind, plan->lifetime, now, msg);
}

std::optional<Hit> MessageCache::lookup(const CacheKey& key, const ReplyPatch& patch,
                                        StalePolicy stale, std::span<uint8_t> out) {
  Impl& m = *impl_;
  size_t qlen = key.qname_lower.size();
  size_t slot = (qlen == 0 || qlen > dns::kMaxNameWire) ? kNoSlot : m.find(m.hasher(key), key);
  if (slot == kNoSlot) {
    ++m.stats.misses;
    return std::nullopt;
  }
  Entry* e = m.slots[slot].entry;
  int64_t now = m.clock.wall_seconds();
  HitKind kind = HitKind::Fresh;
  if (now >= e->expires_at) {  // expiry second itself is no longer fresh
    if (m.dead(e, now)) {
      m.erase_at(slot);
      ++m.stats.evictions;
      ++m.stats.misses;
      return std::nullopt;
    }
    if (stale == StalePolicy::FreshOnly) {
      ++m.stats.misses;
      return std::nullopt;
    }
    kind = HitKind::Stale;
  }
  // The client's question replaces ours byte for byte, so it must be the same name (in any
  // case), type and class: compression pointers into it then still spell the right names.
  const uint8_t* q = e->wire() + dns::kHeaderSize;
  bool same_question = patch.question_wire.size() == size_t{e->qname_len} + 4u &&
                       std::memcmp(patch.question_wire.data() + e->qname_len,
                                   q + e->qname_len, 4) == 0;
  for (size_t i = 0; same_question && i < e->qname_len; ++i)
    same_question = dns::ascii_lower(patch.question_wire[i]) == q[i];
  if (!same_question || out.size() < e->wire_len) {
    ++m.stats.misses;
    return std::nullopt;
  }
  if (kind == HitKind::Fresh && m.opts.prefetch && e->kind != EntryKind::Failure &&
      !e->prefetch_done &&
      (e->expires_at - now) * 10 <= static_cast<int64_t>(e->lifetime)) {  // last 10%
    kind = HitKind::Prefetch;
    e->prefetch_done = true;
    ++m.stats.prefetches;
  }

  uint8_t* o = out.data();
  m.render(e, now, kind == HitKind::Stale, o);
  dns::store_u16(o, patch.id);
  uint16_t stored = dns::load_u16(e->wire() + 2);
  uint16_t flags = static_cast<uint16_t>(dns::kFlagQR | dns::kFlagRA |
                                         (stored & (dns::kFlagTC | dns::kFlagAD | 0x000Fu)));
  if (patch.rd) flags |= dns::kFlagRD;
  if (patch.cd) flags |= dns::kFlagCD;
  dns::store_u16(o + 2, flags);
  std::memcpy(o + dns::kHeaderSize, patch.question_wire.data(), patch.question_wire.size());

  if (m.opts.eviction == EvictionPolicy::Lru) {
    m.unlink(e);
    m.link_head(e);
  } else {
    e->visited = true;
  }
  if (kind == HitKind::Stale) ++m.stats.stale_hits; else ++m.stats.hits;
  return Hit{e->wire_len, kind};
}

size_t MessageCache::flush(const dns::Name& name, FlushScope scope) {
  Impl& m = *impl_;
  size_t removed = 0;
  Entry* e = m.head;
  while (e) {
    Entry* next = e->older;
    auto qn = dns::Name::from_wire({e->wire() + dns::kHeaderSize, e->qname_len});
    if (qn && (scope == FlushScope::Name ? *qn == name : qn->is_subdomain_of(name))) {
      m.erase_at(m.slot_of(e));
      ++removed;
    }
    e = next;
  }
  return removed;
}

void MessageCache::clear() { impl_->free_all(); }

size_t MessageCache::bytes_used() const { return impl_->bytes_used(); }
size_t MessageCache::entries() const { return impl_->count; }
const MessageCache::Stats& MessageCache::stats() const { return impl_->stats; }

void MessageCache::set_options(const CacheOptions& opts) {
  Impl& m = *impl_;
  m.opts = opts;
  m.hand = nullptr;
  // Size the slot array for what will remain, not for what was: evict until the entries
  // plus a right-sized table fit, then shrink the table to that size.
  int64_t now = m.clock.wall_seconds();
  while (m.head &&
         m.entry_bytes + Impl::table_bytes_for(Impl::slots_needed(m.count)) > opts.max_bytes) {
    m.erase_at(m.slot_of(m.pick_victim(now)));
    ++m.stats.evictions;
  }
  if (!m.slots.empty() && Impl::slots_needed(m.count) < m.slots.size())
    m.rehash(Impl::slots_needed(m.count));
  m.evict_to(opts.max_bytes);  // releases an empty table that alone breaks the bound
}

}  // namespace tern::cache
