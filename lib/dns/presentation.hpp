// Presentation-format building blocks (RFC 1035 §5.1) shared by the RDATA text forms and the
// zone-text parser: a tokenizer that knows quotes, parentheses and comments, character-string
// escaping as dig prints it, and the binary-to-text encodings DNS uses (hex, base64 RFC 4648 §4,
// base32hex RFC 4648 §7 for NSEC3). Only tests, logs and config fixtures use text: nothing on
// the packet path calls into here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.hpp"
#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns {

struct Token {
  std::string text;     // raw text between delimiters; escapes are kept, quotes removed
  bool quoted = false;  // some part of the token was inside double quotes
};

// Splits one logical line into tokens. Whitespace separates tokens unless quoted or escaped;
// ';' starts a comment to the end of the line (outside quotes); '(' and ')' are dropped so a
// caller may join a parenthesised multi-line record into one line first. Fails on an
// unterminated quote.
util::Expected<std::vector<Token>, WireError> tokenize(std::string_view line);

// Decodes \X and \DDD escapes of a token into octets (a character-string body, <= max octets).
util::Expected<std::vector<uint8_t>, WireError> unescape(std::string_view text, size_t max = 255);
// Escapes octets for use inside double quotes: '"' and '\' get a backslash, octets outside
// 0x20..0x7e become \DDD (as dig prints TXT).
std::string escape_char_string(std::span<const uint8_t> s);
std::string quoted_char_string(std::span<const uint8_t> s);  // with the quotes

// A domain name field: "@" is the origin, otherwise relative names hang below origin.
util::Expected<Name, WireError> name_from_token(std::string_view text, const Name& origin);

std::optional<uint8_t> parse_u8(std::string_view s);
std::optional<uint16_t> parse_u16(std::string_view s);
std::optional<uint32_t> parse_u32(std::string_view s);

std::string to_hex(std::span<const uint8_t> b);  // upper case, as dig prints digests
util::Expected<std::vector<uint8_t>, WireError> from_hex(std::string_view s);
std::string to_base64(std::span<const uint8_t> b);
util::Expected<std::vector<uint8_t>, WireError> from_base64(std::string_view s);
std::string to_base32hex(std::span<const uint8_t> b);  // upper case, no padding (RFC 5155 §3.3)
util::Expected<std::vector<uint8_t>, WireError> from_base32hex(std::string_view s);

// RRSIG times (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC for the 32-bit seconds value.
std::string time_to_text(uint32_t t);
std::optional<uint32_t> time_from_text(std::string_view s);

// Splits s into chunks of `width` characters separated by one space, as dig prints long
// base64 and hex fields on one line.
std::string chunked(const std::string& s, size_t width = 56);

// Joins tokens[from..] without separators (hex and base64 fields may be split by spaces).
std::string join_tokens(std::span<const Token> tokens, size_t from);

// The RFC 3597 §5 generic form "\# <len> <hex>".
std::string generic_rdata_to_text(std::span<const uint8_t> rdata);
// tokens start at "\#"; returns nullopt-like error BadText when malformed.
util::Expected<std::vector<uint8_t>, WireError> generic_rdata_from_text(std::span<const Token> t);

}  // namespace tern::dns
