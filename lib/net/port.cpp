#include "net/port.hpp"

namespace tern::net {

using util::unexpected;

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

}  // namespace tern::net
