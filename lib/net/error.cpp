#include "net/error.hpp"

#include "net/prefix.hpp"

namespace tern::net {

std::string_view errc_name(Errc c) {
  switch (c) {
    case Errc::Empty: return "Empty";
    case Errc::Whitespace: return "Whitespace";
    case Errc::InvalidCharacter: return "InvalidCharacter";
    case Errc::WrongPartCount: return "WrongPartCount";
    case Errc::EmptyPart: return "EmptyPart";
    case Errc::LeadingZero: return "LeadingZero";
    case Errc::PartTooLarge: return "PartTooLarge";
    case Errc::HexPrefix: return "HexPrefix";
    case Errc::GroupTooLong: return "GroupTooLong";
    case Errc::TooManyGroups: return "TooManyGroups";
    case Errc::TooFewGroups: return "TooFewGroups";
    case Errc::MultipleDoubleColon: return "MultipleDoubleColon";
    case Errc::StrayColon: return "StrayColon";
    case Errc::MisplacedIpv4: return "MisplacedIpv4";
    case Errc::ZoneIdNotSupported: return "ZoneIdNotSupported";
    case Errc::PortMissing: return "PortMissing";
    case Errc::PortInvalid: return "PortInvalid";
    case Errc::PortLeadingZero: return "PortLeadingZero";
    case Errc::PortTooLarge: return "PortTooLarge";
    case Errc::UnclosedBracket: return "UnclosedBracket";
    case Errc::Ipv6NeedsBrackets: return "Ipv6NeedsBrackets";
    case Errc::BracketsOnIpv4: return "BracketsOnIpv4";
    case Errc::PrefixLengthMissing: return "PrefixLengthMissing";
    case Errc::PrefixLengthInvalid: return "PrefixLengthInvalid";
    case Errc::PrefixLengthTooLarge: return "PrefixLengthTooLarge";
    case Errc::HostBitsSet: return "HostBitsSet";
    case Errc::UnknownClass: return "UnknownClass";
  }
  return "?";
}

std::string describe(ParseError e) {
  const std::string n = std::to_string(e.part);
  switch (e.code) {
    case Errc::Empty: return "empty";
    case Errc::Whitespace: return "contains whitespace";
    case Errc::InvalidCharacter:
      return e.part ? "invalid character in part " + n : "invalid character";
    case Errc::WrongPartCount: return "an IPv4 address needs exactly four dotted parts";
    case Errc::EmptyPart: return "empty part " + n;
    case Errc::LeadingZero: return "leading zero in part " + n;
    case Errc::PartTooLarge: return "part " + n + " is above 255";
    case Errc::HexPrefix: return "hexadecimal part " + n + " (only decimal is accepted)";
    case Errc::GroupTooLong: return "group " + n + " has more than four hex digits";
    case Errc::TooManyGroups: return "more than eight IPv6 groups";
    case Errc::TooFewGroups: return "fewer than eight IPv6 groups and no '::'";
    case Errc::MultipleDoubleColon: return "'::' appears more than once";
    case Errc::StrayColon: return "stray ':'";
    case Errc::MisplacedIpv4: return "an embedded IPv4 address must be the last 32 bits";
    case Errc::ZoneIdNotSupported: return "zone ids ('%...') are not supported";
    case Errc::PortMissing: return "port missing";
    case Errc::PortInvalid: return "port is not a decimal number";
    case Errc::PortLeadingZero: return "port has a leading zero";
    case Errc::PortTooLarge: return "port is above 65535";
    case Errc::UnclosedBracket: return "expected '[' IPv6 ']' optionally followed by ':port'";
    case Errc::Ipv6NeedsBrackets: return "an IPv6 address with a port must be written [addr]:port";
    case Errc::BracketsOnIpv4: return "brackets are only for IPv6; write a.b.c.d:port";
    case Errc::PrefixLengthMissing: return "prefix length missing (expected addr/len)";
    case Errc::PrefixLengthInvalid: return "prefix length is not a decimal number";
    case Errc::PrefixLengthTooLarge: return "prefix length is longer than the address";
    case Errc::HostBitsSet: return "host bits set";
    case Errc::UnknownClass: return "unknown address class";
  }
  return "invalid";
}

std::string render_error(std::string_view input, ParseError e) {
  std::string out = "\"" + std::string(input) + "\": " + describe(e);
  if (e.code == Errc::HostBitsSet) {
    // Re-derive the suggestion from the input: the network with host bits cleared.
    const std::size_t slash = input.find('/');
    if (slash != std::string_view::npos) {
      auto a = parse_address(input.substr(0, slash));
      std::string_view digits = input.substr(slash + 1);
      bool ok = !digits.empty() && digits.size() <= 3;
      unsigned len = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') ok = false;
        len = len * 10 + static_cast<unsigned>(c - '0');
      }
      if (ok && a && len <= a->bit_width())
        out += "; did you mean " + Prefix::make(*a, len).to_string();
    }
  }
  return out;
}

}  // namespace tern::net
