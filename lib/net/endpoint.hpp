// net::Endpoint: an address and a port, as written in `listen:` and `upstreams:` keys
// (`127.0.0.1:53`, `[::1]:53`, or a bare address that takes a default port) and as passed to
// and from the socket API (net/sockaddr.hpp). A bare IPv6 address with a port,
// `::1:53`, is refused: the port cannot be told from the last group, so brackets are required.
// Where a default port applies, a bare unbracketed IPv6 address is accepted (`fd00::53`) unless
// it is ambiguous in that way: its last group is all decimal digits and what precedes it is an
// address on its own (`::1:53`, `2001:db8::1:0`). Those need brackets: `[2001:db8::1:0]`.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "net/address.hpp"
#include "net/port.hpp"

namespace tern::net {

struct Endpoint {
  Address address;
  Port port = 0;

  // `1.2.3.4:53` or `[2001:db8::1]:53`.
  std::string to_string() const;

  friend constexpr auto operator<=>(const Endpoint&, const Endpoint&) = default;
  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

// `a.b.c.d:port` or `[v6]:port`; the port is required.
util::Expected<Endpoint, ParseError> parse_endpoint(std::string_view text);
// As parse_endpoint, but a bare address (`a.b.c.d`, `v6`, `[v6]`) takes `default_port`.
util::Expected<Endpoint, ParseError> parse_endpoint(std::string_view text, Port default_port);

}  // namespace tern::net

template <>
struct std::hash<tern::net::Endpoint> {
  std::size_t operator()(const tern::net::Endpoint& e) const noexcept {
    return std::hash<tern::net::Address>{}(e.address) * 31u + e.port;
  }
};
