#include "net/endpoint.hpp"

#include <optional>

namespace tern::net {
namespace {
using util::unexpected;
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
    const bool decimal_tail =
        !tail.empty() && tail.find_first_not_of("0123456789") == std::string_view::npos;
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

}  // namespace tern::net
