// TEMPORARY stand-in for cache::MessageCache until lib/cache's implementation is merged into
// this branch; it is deleted at that merge. Behaviour follows message_cache.hpp closely enough
// for the pipeline tests: positive lifetime = min TTL, negative = min(SOA TTL, MINIMUM),
// prefetch reported once in the last 10%, stale within max_stale with TTL 30.
#include <algorithm>
#include <map>
#include <string>

#include "cache/message_cache.hpp"
#include "dns/wire_reader.hpp"

namespace tern::cache {

struct MessageCache::Impl {
  CacheOptions opts;
  const util::Clock* clock;
  struct Entry {
    dns::Message msg;
    int64_t inserted = 0, expires = 0;
    bool prefetched = false;
  };
  std::map<std::string, Entry> map;
  Stats stats;
  static std::string k(const CacheKey& key) {
    std::string s(reinterpret_cast<const char*>(key.qname_lower.data()), key.qname_lower.size());
    s += std::to_string(key.qtype) + "/" + std::to_string(key.qclass) + "/" + std::to_string(key.flags);
    return s;
  }
};

MessageCache::MessageCache(const CacheOptions& opts, const util::Clock& clock) : impl_(new Impl) {
  impl_->opts = opts;
  impl_->clock = &clock;
}
MessageCache::~MessageCache() { delete impl_; }

void MessageCache::insert(const CacheKey& key, const dns::Message& m) {
  uint32_t ttl = UINT32_MAX;
  auto rc = m.rcode();
  if (rc == dns::RCode::NoError && !m.answer.empty()) {
    for (auto& rr : m.answer) ttl = std::min(ttl, rr.ttl);
    for (auto& rr : m.authority) ttl = std::min(ttl, rr.ttl);
  } else if (rc == dns::RCode::NoError || rc == dns::RCode::NxDomain) {
    for (auto& rr : m.authority)
      if (rr.type == dns::RRType::SOA && rr.rdata.size() >= 4)
        ttl = std::min({ttl, rr.ttl, dns::load_u32(rr.rdata.data() + rr.rdata.size() - 4)});
    if (ttl == UINT32_MAX) return;
  } else {
    return;
  }
  if (ttl == 0) return;
  auto now = impl_->clock->wall_seconds();
  impl_->map[Impl::k(key)] = {m, now, now + ttl, false};
  ++impl_->stats.inserts;
}

std::optional<Hit> MessageCache::lookup(const CacheKey& key, const ReplyPatch& patch,
                                        StalePolicy stale, std::span<uint8_t> out) {
  auto it = impl_->map.find(Impl::k(key));
  if (it == impl_->map.end()) return std::nullopt;
  auto& e = it->second;
  auto now = impl_->clock->wall_seconds();
  HitKind kind = HitKind::Fresh;
  if (now >= e.expires) {
    if (stale != StalePolicy::AllowStale || !impl_->opts.serve_stale ||
        now >= e.expires + impl_->opts.max_stale)
      return std::nullopt;
    kind = HitKind::Stale;
  } else if (!e.prefetched && (e.expires - now) * 10 <= (e.expires - e.inserted)) {
    e.prefetched = true;
    kind = HitKind::Prefetch;
  }
  dns::Message m = e.msg;
  m.header.id = patch.id;
  m.header.qr = true;
  m.header.rd = patch.rd;
  m.header.cd = patch.cd;
  dns::WireReader r(patch.question_wire);
  dns::Question q;
  q.qname = r.name();
  q.qtype = static_cast<dns::RRType>(r.u16());
  q.qclass = static_cast<dns::RRClass>(r.u16());
  m.questions = {q};
  m.edns.reset();
  uint32_t ttl = kind == HitKind::Stale ? 30u : static_cast<uint32_t>(e.expires - now);
  for (auto* s : {&m.answer, &m.authority, &m.additional})
    for (auto& rr : *s) rr.ttl = std::min(rr.ttl, ttl);
  dns::BuildOptions bo;
  bo.max_size = out.size();
  auto b = dns::build_message(m, out, bo);
  if (!b) return std::nullopt;
  return Hit{b->size, kind};
}

size_t MessageCache::flush(const dns::Name&, FlushScope) { return 0; }
void MessageCache::clear() { impl_->map.clear(); }
size_t MessageCache::bytes_used() const { return 0; }
size_t MessageCache::entries() const { return impl_->map.size(); }
const MessageCache::Stats& MessageCache::stats() const { return impl_->stats; }
void MessageCache::set_options(const CacheOptions& opts) { impl_->opts = opts; }

}  // namespace tern::cache
