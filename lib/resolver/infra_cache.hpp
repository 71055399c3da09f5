// InfraCache: what the iterator has learned about the shape of the DNS, shared by every
// resolution so the next query starts at the deepest known zone cut instead of the root:
// delegations (zone cut -> NS names), NS addresses (name -> A / AAAA, from glue or lookups;
// an empty set remembers a failed lookup), and RFC 8020 NXDOMAIN cuts (nothing exists at or
// below the name, with the SOA to answer with). Answers for clients live in cache/, not here.
// Lifetimes are absolute wall-clock seconds (DESIGN.md "Two clocks"); delegation and address
// TTLs are clamped to [kMinInfraTtl, kMaxInfraTtl].
// Invariant: bytes_used() <= max_bytes after every call; least recently used entries go first.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dns/message.hpp"
#include "net/address.hpp"
#include "resolver/lru_map.hpp"
#include "util/clock.hpp"

namespace tern::resolver {

struct Delegation {
  dns::Name zone;
  std::vector<dns::Name> ns_names;
};

struct NxDomainCut {
  dns::Name name;            // the name that does not exist
  dns::ResourceRecord soa;   // TTL already decremented to the remaining lifetime
};

class InfraCache {
 public:
  explicit InfraCache(const util::Clock& clock, size_t max_bytes = 8u << 20);

  void put_delegation(const dns::Name& zone, const std::vector<dns::Name>& ns, uint32_t ttl);
  // The deepest live delegation at or above name.
  std::optional<Delegation> find_delegation(const dns::Name& name);
  // An exact zone's delegation, when live.
  std::optional<Delegation> delegation(const dns::Name& zone);

  void put_addresses(const dns::Name& host, net::Family family,
                     const std::vector<net::Address>& addrs, uint32_t ttl);
  // nullopt: unknown. An empty vector: known to have none (or the lookup failed recently).
  std::optional<std::vector<net::Address>> addresses(const dns::Name& host, net::Family family);

  // RFC 8020: nothing exists at or below name for ttl seconds.
  void put_nxdomain(const dns::Name& name, const dns::ResourceRecord& soa, uint32_t ttl);
  // The NXDOMAIN cut at or above name, if any is live.
  std::optional<NxDomainCut> find_nxdomain(const dns::Name& name);

  size_t bytes_used() const { return bytes_; }
  size_t entries() const { return map_.size(); }
  void clear();

 private:
  struct AddrSet {
    std::vector<net::Address> addrs;
  };
  struct NxEntry {
    dns::ResourceRecord soa;
  };
  struct Entry {
    int64_t expires = 0;
    size_t bytes = 0;
    std::variant<Delegation, AddrSet, NxEntry> value;
  };
  enum class Kind : char { Delegation = 'D', A = '4', AAAA = '6', NxDomain = 'N' };
  // Kind, then the owner's lowered wire form: built on the stack, no allocation per lookup.
  class Key {
   public:
    Key(Kind k, const dns::Name& n);
    std::string_view view() const { return {buf_.data(), size_}; }

   private:
    std::array<char, 1 + dns::kMaxNameWire> buf_;
    size_t size_ = 0;
  };
  Entry* live(std::string_view key);
  void store(std::string_view key, Entry e);

  const util::Clock& clock_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  LruMap<std::string, Entry, StringKeyHash> map_;
};

}  // namespace tern::resolver
