// net::ParseError: why a piece of operator or network text is not an address, port, endpoint,
// prefix or address class. Parsers in net/ never throw; they return Expected<T, ParseError>.
// `part` says where the defect is (1-based IPv4 part, IPv6 group, or 0 when it does not apply),
// so render_error() can say `"01.2.3.4": leading zero in part 1` without re-parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tern::net {

enum class Errc : uint8_t {
  Empty,                 // nothing to parse
  Whitespace,            // leading, trailing or inner blanks: never trimmed silently
  InvalidCharacter,      // a character that has no place in this form
  WrongPartCount,        // IPv4 needs exactly four dotted parts (no `1.2.3` shorthand)
  EmptyPart,             // `1..2.3`, `1.2.3.`
  LeadingZero,           // `01.2.3.4`: would be octal in inet_aton, so it is refused
  PartTooLarge,          // an IPv4 part above 255
  HexPrefix,             // `0x7f.0.0.1`
  GroupTooLong,          // an IPv6 group of more than four hex digits
  TooManyGroups,         // more than eight IPv6 groups (or eight plus `::`)
  TooFewGroups,          // fewer than eight groups and no `::`
  MultipleDoubleColon,   // `::` may appear once
  StrayColon,            // a single leading or trailing colon, or `:::`
  MisplacedIpv4,         // an embedded IPv4 part that is not the last 32 bits
  ZoneIdNotSupported,    // `fe80::1%eth0`: scoped addresses are not accepted
  PortMissing,           // `1.2.3.4:` or `[::1]:`
  PortInvalid,           // not a decimal number
  PortLeadingZero,       // `053`
  PortTooLarge,          // above 65535
  UnclosedBracket,       // `[::1` or `[::1]x`
  Ipv6NeedsBrackets,     // `::1:53`: the port cannot be told from the last group
  BracketsOnIpv4,        // `[1.2.3.4]:53`
  PrefixLengthMissing,   // `10.0.0.0/`
  PrefixLengthInvalid,   // not a decimal number, or with a leading zero
  PrefixLengthTooLarge,  // above 32 (IPv4) or 128 (IPv6)
  HostBitsSet,           // `10.1.2.3/8`: almost always a typo for 10.0.0.0/8
  UnknownClass,          // an address class name we do not know
};

struct ParseError {
  Errc code;
  uint8_t part = 0;  // 1-based part/group index where it applies, else 0

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// A short phrase without the input: "leading zero in part 1".
std::string describe(ParseError e);

// The phrase quoted with its input: "\"01.2.3.4\": leading zero in part 1". For HostBitsSet the
// message carries the fix: "\"10.1.2.3/8\": host bits set; did you mean 10.0.0.0/8".
std::string render_error(std::string_view input, ParseError e);

// The enumerator's name, for tests and logs: "LeadingZero".
std::string_view errc_name(Errc c);

}  // namespace tern::net
