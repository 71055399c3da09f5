// Ports: a decimal 0-65535 from operator text, and the one fact about a port the daemon needs
// to explain a failed bind: ports below 1024 are the system range (binding one needs root or
// CAP_NET_BIND_SERVICE on Linux).
#pragma once

#include <cstdint>
#include <string_view>

#include "net/error.hpp"
#include "util/expected.hpp"

namespace tern::net {

using Port = uint16_t;

inline constexpr Port kDnsPort = 53;
// Ports 0-1023 (RFC 6335 §6 "System Ports").
inline constexpr Port kFirstUserPort = 1024;

constexpr bool is_system_port(Port p) { return p < kFirstUserPort; }

// Decimal digits only, no sign, no leading zero (other than "0" itself), at most 65535.
util::Expected<Port, ParseError> parse_port(std::string_view text);

}  // namespace tern::net
