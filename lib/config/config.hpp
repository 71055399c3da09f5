// config::Config: everything an operator can set, as plain structs whose member initialisers
// ARE the built-in defaults (conf/ternd.yaml documents the same values, and a unit test keeps
// the two equal). The loader fills these from YAML; the daemon turns them into each module's
// own options, so no other module ever sees YAML. Durations are std::chrono values, sizes are
// bytes, addresses are net:: values, zone names are lower case and end in '.'.
// Invariant: a Config that came out of load_file/load_string has passed validate().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "net/access_list.hpp"
#include "net/address_class.hpp"
#include "net/endpoint.hpp"
#include "net/prefix.hpp"

namespace tern::config {

using Milliseconds = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;
inline constexpr net::Port kDefaultMetricsPort = 9153;

// One `server.access-control` entry: {allow|refuse|deny: prefix | address | class name}.
struct AccessRule {
  net::AclAction action = net::AclAction::Allow;
  std::variant<net::Prefix, net::AddressClass> subject;

  friend bool operator==(const AccessRule&, const AccessRule&) = default;
};

struct TcpOptions {
  Milliseconds idle_timeout{10'000};  // RFC 7766 §6.2.3: close idle clients, seconds not minutes
  uint32_t max_connections = 1000;

  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

// CHAOS-class TXT answers for version.bind / id.server; empty means REFUSED.
struct ChaosOptions {
  std::string version;
  std::string identity;

  friend bool operator==(const ChaosOptions&, const ChaosOptions&) = default;
};

// Response rate limiting per client; qps 0 turns it off. Every `slip`-th limited answer is
// sent truncated (TC=1) so a real client can retry over TCP; 0 never slips.
struct RateLimitOptions {
  uint32_t qps = 0;
  uint32_t slip = 2;

  friend bool operator==(const RateLimitOptions&, const RateLimitOptions&) = default;
};

struct ServerOptions {
  std::vector<net::Endpoint> listen{
      {net::Address::v4(127, 0, 0, 1), 53},
      {net::Address::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 53}};
  // Loopback only: a fresh install is never an open resolver (RFC 5358).
  std::vector<AccessRule> access_control{
      {net::AclAction::Allow, net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8)},
      {net::AclAction::Allow,
       net::Prefix::host(net::Address::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}))}};
  uint16_t udp_payload_size = 1232;  // RFC 9715 / DNS Flag Day 2020
  TcpOptions tcp;
  std::string user;  // empty: keep the starting user
  ChaosOptions chaos;
  RateLimitOptions rate_limit;

  friend bool operator==(const ServerOptions&, const ServerOptions&) = default;
};

enum class ResolverMode : uint8_t { Recursive, Forward };
enum class QnameMinimisation : uint8_t { Strict, Relaxed, Off };  // RFC 9156

struct ResolverOptions {
  ResolverMode mode = ResolverMode::Recursive;
  std::string root_hints;  // empty: built-in IANA hints
  QnameMinimisation qname_minimisation = QnameMinimisation::Relaxed;
  bool query_ipv4 = true;  // send queries to authoritative servers over IPv4
  bool query_ipv6 = true;  // ... and over IPv6
  uint32_t max_concurrent = 10000;
  // Clients waiting for resolutions (coalesced ones included); more are SERVFAILed at once.
  uint32_t max_waiting_clients = 20000;

  friend bool operator==(const ResolverOptions&, const ResolverOptions&) = default;
};

struct ForwardZone {
  std::string zone;  // lower case, ends in '.'
  std::vector<net::Endpoint> upstreams;

  friend bool operator==(const ForwardZone&, const ForwardZone&) = default;
};

struct ServeStaleOptions {  // RFC 8767
  bool enabled = true;
  Seconds max_stale{86'400};
  Milliseconds client_timeout{1800};  // RFC 8767 §5 suggests 1.8 s

  friend bool operator==(const ServeStaleOptions&, const ServeStaleOptions&) = default;
};

struct CacheOptions {
  uint64_t max_size = 64 * kMiB;
  Seconds min_ttl{0};
  Seconds max_ttl{86'400};
  Seconds max_negative_ttl{3600};  // RFC 2308 §5 recommends 1-3 hours
  ServeStaleOptions serve_stale;
  bool prefetch = true;
  bool persist = false;
  std::string persist_file = "/var/lib/tern/cache.dump";

  friend bool operator==(const CacheOptions&, const CacheOptions&) = default;
};

enum class LogLevel : uint8_t { Trace, Debug, Info, Warn, Error, Critical, Off };

struct LoggingOptions {
  LogLevel level = LogLevel::Info;
  bool queries = false;

  friend bool operator==(const LoggingOptions&, const LoggingOptions&) = default;
};

struct ControlOptions {
  std::string socket = "/run/tern/control.sock";

  friend bool operator==(const ControlOptions&, const ControlOptions&) = default;
};

struct MetricsOptions {
  std::optional<net::Endpoint> listen;  // unset: no metrics endpoint

  friend bool operator==(const MetricsOptions&, const MetricsOptions&) = default;
};

struct Config {
  ServerOptions server;
  ResolverOptions resolver;
  std::vector<ForwardZone> forward;  // empty by default; longest zone match wins
  CacheOptions cache;
  LoggingOptions logging;
  ControlOptions control;
  MetricsOptions metrics;

  friend bool operator==(const Config&, const Config&) = default;
};

// Builds the per-request access list from the configured rules (classes expand to their
// prefixes; a bare address is a /32 or /128).
net::AccessList build_access_list(const std::vector<AccessRule>& rules);

// Names as written in the file, for messages and for printing a config back.
std::string_view to_string(ResolverMode m);
std::string_view to_string(QnameMinimisation q);
std::string_view to_string(LogLevel l);
std::string_view to_string(net::AclAction a);

}  // namespace tern::config
