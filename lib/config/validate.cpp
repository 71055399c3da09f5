#include "config/validate.hpp"

#include <set>

namespace tern::config {

Position SourceMap::find(std::string_view key) const {
  while (true) {
    if (auto it = at.find(key); it != at.end()) return it->second;
    const std::size_t cut = key.find_last_of(".[");
    if (cut == std::string_view::npos || cut == 0) return {};
    key = key.substr(0, cut);
  }
}

namespace {

constexpr uint16_t kMinUdpPayload = 512;   // RFC 1035 §2.3.4: every resolver handles 512
constexpr uint16_t kMaxUdpPayload = 4096;  // RFC 6891 §6.2.5's ceiling; above it fragments

class Checker {
 public:
  explicit Checker(const SourceMap& w) : where_(w) {}

  void fail(const std::string& key, std::string message) {
    const Position p = where_.find(key);
    errors_.push_back({where_.file, p.line, p.column, key, std::move(message)});
  }
  std::vector<ConfigError> take() { return std::move(errors_); }

 private:
  const SourceMap& where_;
  std::vector<ConfigError> errors_;
};

}  // namespace

std::vector<ConfigError> validate(const Config& c, const SourceMap& where) {
  Checker k(where);

  if (c.server.listen.empty())
    k.fail("server.listen", "must list at least one address:port to serve on");
  {
    std::set<net::Endpoint> seen;
    for (std::size_t i = 0; i < c.server.listen.size(); ++i) {
      if (!seen.insert(c.server.listen[i]).second)
        k.fail("server.listen[" + std::to_string(i) + "]",
               "duplicate listen address " + c.server.listen[i].to_string());
    }
  }
  if (c.server.udp_payload_size < kMinUdpPayload || c.server.udp_payload_size > kMaxUdpPayload)
    k.fail("server.udp-payload-size", "must be within 512..4096 (1232 avoids fragmentation)");
  if (c.server.tcp.idle_timeout.count() <= 0)
    k.fail("server.tcp.idle-timeout", "must be longer than 0 (RFC 7766 §6.2.3)");
  if (c.server.tcp.max_connections == 0)
    k.fail("server.tcp.max-connections", "must be at least 1 (TCP is mandatory, RFC 9210)");

  if (!c.resolver.query_ipv4 && !c.resolver.query_ipv6)
    k.fail("resolver.query-ipv6", "query-ipv4 and query-ipv6 cannot both be false");
  if (c.resolver.max_concurrent == 0) k.fail("resolver.max-concurrent", "must be at least 1");
  if (c.resolver.max_waiting_clients == 0)
    k.fail("resolver.max-waiting-clients", "must be at least 1");

  {
    std::set<std::string> zones;
    bool has_root = false;
    for (std::size_t i = 0; i < c.forward.size(); ++i) {
      const ForwardZone& z = c.forward[i];
      const std::string key = "forward[" + std::to_string(i) + "]";
      if (z.zone.empty()) continue;  // the loader already reported it
      if (!zones.insert(z.zone).second)
        k.fail(key + ".zone", "duplicate forward zone \"" + z.zone + "\"");
      if (z.zone == ".") has_root = true;
      if (z.upstreams.empty()) k.fail(key + ".upstreams", "must list at least one upstream");
    }
    if (c.resolver.mode == ResolverMode::Forward && !has_root)
      k.fail("resolver.mode",
             "forward mode needs a forward zone for \".\" (add {zone: \".\", upstreams: [...]})");
  }

  if (c.cache.min_ttl > c.cache.max_ttl) k.fail("cache.min-ttl", "must not exceed cache.max-ttl");
  if (c.cache.persist && c.cache.persist_file.empty())
    k.fail("cache.persist-file", "must name a file when cache.persist is true");

  return k.take();
}

}  // namespace tern::config
