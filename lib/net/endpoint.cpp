#include "net/endpoint.hpp"

#include <cstring>

namespace tern::net {
namespace {
using util::unexpected;
}

util::Expected<Port, ParseError> parse_port(std::string_view text) {
  if (text.empty()) return unexpected(ParseError{Errc::PortMissing});
  for (char c : text)
    if (c < '0' || c > '9') return unexpected(ParseError{Errc::PortInvalid});
  if (text.size() > 1 && text[0] == '0') return unexpected(ParseError{Errc::PortLeadingZero});
  if (text.size() > 5) return unexpected(ParseError{Errc::PortTooLarge});
  uint32_t v = 0;
  for (char c : text) v = v * 10 + static_cast<uint32_t>(c - '0');
  if (v > 65535) return unexpected(ParseError{Errc::PortTooLarge});
  return static_cast<Port>(v);
}

namespace {

util::Expected<Endpoint, ParseError> parse(std::string_view text, std::optional<Port> dflt) {
  if (text.empty()) return unexpected(ParseError{Errc::Empty});
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return unexpected(ParseError{Errc::UnclosedBracket});
    std::string_view inside = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (inside.find(':') == std::string_view::npos && inside.find('.') != std::string_view::npos)
      return unexpected(ParseError{Errc::BracketsOnIpv4});
    auto a = parse_ipv6(inside);
    if (!a) return unexpected(a.error());
    if (rest.empty()) {
      if (!dflt) return unexpected(ParseError{Errc::PortMissing});
      return Endpoint{*a, *dflt};
    }
    if (rest.front() != ':') return unexpected(ParseError{Errc::UnclosedBracket});
    auto p = parse_port(rest.substr(1));
    if (!p) return unexpected(p.error());
    return Endpoint{*a, *p};
  }
  const std::size_t first = text.find(':');
  if (first == std::string_view::npos) {
    auto a = parse_ipv4(text);
    if (!a) return unexpected(a.error());
    if (!dflt) return unexpected(ParseError{Errc::PortMissing});
    return Endpoint{*a, *dflt};
  }
  if (text.find(':', first + 1) != std::string_view::npos) {
    // Two or more colons: an IPv6 literal. Bare it may take the default port; with a port it
    // needs brackets.
    auto a = parse_ipv6(text);
    if (!a) {
      if (text.find('.') == std::string_view::npos && a.error().code != Errc::ZoneIdNotSupported &&
          parse_ipv6(text.substr(0, text.rfind(':'))))
        return unexpected(ParseError{Errc::Ipv6NeedsBrackets});
      return unexpected(a.error());
    }
    if (!dflt) return unexpected(ParseError{Errc::Ipv6NeedsBrackets});
    // `::1:53` is a valid address, but an operator who wrote it almost surely meant [::1]:53.
    // When the last group is decimal and the rest is an address on its own, refuse to guess.
    const std::size_t last = text.rfind(':');
    std::string_view tail = text.substr(last + 1);
    const bool decimal_tail = !tail.empty() && tail.find_first_not_of("0123456789") ==
                                                   std::string_view::npos;
    if (decimal_tail && parse_ipv6(text.substr(0, last)))
      return unexpected(ParseError{Errc::Ipv6NeedsBrackets});
    return Endpoint{*a, *dflt};
  }
  auto a = parse_ipv4(text.substr(0, first));
  if (!a) return unexpected(a.error());
  auto p = parse_port(text.substr(first + 1));
  if (!p) return unexpected(p.error());
  return Endpoint{*a, *p};
}

}  // namespace

util::Expected<Endpoint, ParseError> parse_endpoint(std::string_view text) {
  return parse(text, std::nullopt);
}

util::Expected<Endpoint, ParseError> parse_endpoint(std::string_view text, Port default_port) {
  return parse(text, default_port);
}

std::string Endpoint::to_string() const {
  if (address.is_v4()) return address.to_string() + ':' + std::to_string(port);
  return '[' + address.to_string() + "]:" + std::to_string(port);
}

SockAddr to_sockaddr(const Endpoint& e) {
  SockAddr out;
  if (e.address.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(e.port);
    std::memcpy(&sin.sin_addr, e.address.bytes().data(), 4);
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.length = sizeof sin;
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(e.port);
    std::memcpy(&sin6.sin6_addr, e.address.bytes().data(), 16);
    std::memcpy(&out.storage, &sin6, sizeof sin6);
    out.length = sizeof sin6;
  }
  return out;
}

std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t length) {
  if (sa == nullptr || length < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  sa_family_t family;
  std::memcpy(&family, reinterpret_cast<const char*>(sa) + offsetof(sockaddr, sa_family),
              sizeof family);
  if (family == AF_INET) {
    if (length < static_cast<socklen_t>(sizeof(sockaddr_in))) return std::nullopt;
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    uint8_t b[4];
    std::memcpy(b, &sin.sin_addr, 4);
    return Endpoint{Address::v4(b[0], b[1], b[2], b[3]), ntohs(sin.sin_port)};
  }
  if (family == AF_INET6) {
    if (length < static_cast<socklen_t>(sizeof(sockaddr_in6))) return std::nullopt;
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &sin6.sin6_addr, 16);
    return Endpoint{Address::v6(b), ntohs(sin6.sin6_port)};
  }
  return std::nullopt;
}

}  // namespace tern::net
