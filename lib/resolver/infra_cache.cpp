#include "resolver/infra_cache.hpp"

#include <algorithm>

#include "resolver/limits.hpp"

namespace tern::resolver {
namespace {

uint32_t clamp_ttl(uint32_t ttl) { return std::clamp(ttl, kMinInfraTtl, kMaxInfraTtl); }
constexpr size_t kEntryOverhead = 96;  // list node, hash node, key string, Entry

}  // namespace

InfraCache::InfraCache(const util::Clock& clock, size_t max_bytes)
    : clock_(clock), max_bytes_(max_bytes) {}

InfraCache::Key::Key(Kind k, const dns::Name& n) {
  const auto low = n.lowered();
  const auto wire = low.wire();
  buf_[0] = static_cast<char>(k);
  std::copy(wire.begin(), wire.end(), buf_.begin() + 1);
  size_ = 1 + wire.size();
}

InfraCache::Entry* InfraCache::live(std::string_view k) {
  Entry* e = map_.find(k);
  if (!e) return nullptr;
  if (e->expires > clock_.wall_seconds()) return e;
  bytes_ -= e->bytes;
  map_.erase(k);
  return nullptr;
}

void InfraCache::store(std::string_view k, Entry e) {
  e.bytes += kEntryOverhead + k.size();
  if (const Entry* old = map_.peek(k)) bytes_ -= old->bytes;
  bytes_ += e.bytes;
  map_.put(std::string(k), std::move(e));
  while (bytes_ > max_bytes_ && !map_.empty()) {
    bytes_ -= map_.coldest().second.bytes;
    map_.pop_coldest();
  }
}

void InfraCache::put_delegation(const dns::Name& zone, const std::vector<dns::Name>& ns,
                                uint32_t ttl) {
  if (ns.empty()) return;
  Entry e;
  e.expires = clock_.wall_seconds() + clamp_ttl(ttl);
  e.bytes = zone.wire_size() + ns.size() * sizeof(dns::Name);
  e.value = Delegation{zone, ns};
  store(Key(Kind::Delegation, zone).view(), std::move(e));
}

std::optional<Delegation> InfraCache::delegation(const dns::Name& zone) {
  if (Entry* e = live(Key(Kind::Delegation, zone).view())) return std::get<Delegation>(e->value);
  return std::nullopt;
}

std::optional<Delegation> InfraCache::find_delegation(const dns::Name& name) {
  dns::Name cur = name;
  for (;;) {
    if (auto d = delegation(cur)) return d;
    if (cur.is_root()) return std::nullopt;
    cur = cur.parent();
  }
}

void InfraCache::put_addresses(const dns::Name& host, net::Family family,
                               const std::vector<net::Address>& addrs, uint32_t ttl) {
  Entry e;
  e.expires = clock_.wall_seconds() + (addrs.empty() ? std::min(ttl, kMaxInfraTtl)
                                                     : clamp_ttl(ttl));
  e.bytes = host.wire_size() + addrs.size() * sizeof(net::Address);
  AddrSet set;
  for (const auto& a : addrs)
    if (a.family() == family &&
        std::find(set.addrs.begin(), set.addrs.end(), a) == set.addrs.end())
      set.addrs.push_back(a);
  e.value = std::move(set);
  store(Key(family == net::Family::V4 ? Kind::A : Kind::AAAA, host).view(), std::move(e));
}

std::optional<std::vector<net::Address>> InfraCache::addresses(const dns::Name& host,
                                                                 net::Family family) {
  if (Entry* e = live(Key(family == net::Family::V4 ? Kind::A : Kind::AAAA, host).view()))
    return std::get<AddrSet>(e->value).addrs;
  return std::nullopt;
}

void InfraCache::put_nxdomain(const dns::Name& name, const dns::ResourceRecord& soa,
                              uint32_t ttl) {
  ttl = std::min(ttl, kMaxInfraTtl);
  if (ttl == 0) return;
  Entry e;
  e.expires = clock_.wall_seconds() + ttl;
  e.bytes = name.wire_size() + soa.rdata.size() + sizeof(dns::ResourceRecord);
  e.value = NxEntry{soa};
  store(Key(Kind::NxDomain, name).view(), std::move(e));
}

std::optional<NxDomainCut> InfraCache::find_nxdomain(const dns::Name& name) {
  dns::Name cur = name;
  for (;;) {
    if (Entry* e = live(Key(Kind::NxDomain, cur).view())) {
      NxDomainCut cut{cur, std::get<NxEntry>(e->value).soa};
      int64_t left = e->expires - clock_.wall_seconds();
      cut.soa.ttl = static_cast<uint32_t>(std::min<int64_t>(left, cut.soa.ttl));
      return cut;
    }
    if (cur.is_root()) return std::nullopt;
    cur = cur.parent();
  }
}

void InfraCache::clear() {
  map_.clear();
  bytes_ = 0;
}

}  // namespace tern::resolver
