// Typed views of EDNS(0) options (RFC 6891 §6.1.2). parse_message keeps every option as
// {code, octets} in Edns::options, framed but uninterpreted, so an odd option never costs a
// whole reply; whoever acts on an option decodes it here with the checks its RFC requires.
// Each view has decode(option data) -> Expected and to_option() for building.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dns/message.hpp"
#include "dns/types.hpp"
#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns::edns {

template <class T>
using Result = util::Expected<T, WireError>;

// RFC 7873 §4: an 8-octet client cookie, optionally followed by an 8..32-octet server cookie.
struct Cookie {
  std::array<uint8_t, 8> client{};
  std::vector<uint8_t> server;
  static Result<Cookie> decode(std::span<const uint8_t> data);
  EdnsOption to_option() const;
  bool operator==(const Cookie&) const = default;
};

// RFC 7830: padding octets (SHOULD be zero; any content is accepted on receipt).
struct Padding {
  uint16_t length = 0;
  static Result<Padding> decode(std::span<const uint8_t> data);
  EdnsOption to_option() const;
  bool operator==(const Padding&) const = default;
};

// RFC 8914: INFO-CODE and optional UTF-8 EXTRA-TEXT (not NUL-terminated).
struct ExtendedError {
  uint16_t info_code = 0;
  std::string extra_text;
  static Result<ExtendedError> decode(std::span<const uint8_t> data);
  EdnsOption to_option() const;
  bool operator==(const ExtendedError&) const = default;
};

// RFC 5001: an opaque server identifier (empty in a query).
struct Nsid {
  std::vector<uint8_t> id;
  static Result<Nsid> decode(std::span<const uint8_t> data);
  EdnsOption to_option() const;
  bool operator==(const Nsid&) const = default;
};

// RFC 7871 §6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS truncated to
// ceil(source/8) octets with the bits past the prefix zero.
struct ClientSubnet {
  uint16_t family = 1;  // 1 = IPv4, 2 = IPv6
  uint8_t source_prefix = 0, scope_prefix = 0;
  std::vector<uint8_t> address;
  static Result<ClientSubnet> decode(std::span<const uint8_t> data);
  EdnsOption to_option() const;
  bool operator==(const ClientSubnet&) const = default;
};

// The first option with this code, if any.
const EdnsOption* find_option(const Edns& e, EdnsOptionCode code);

// Human names of RFC 8914 INFO-CODEs ("Stale Answer", "DNSSEC Bogus"...), "" when unassigned.
std::string_view ede_info_name(uint16_t code);

// dig-like lines for the OPT pseudosection, each starting with "; ".
std::string to_text(const Edns& e);

}  // namespace tern::dns::edns
