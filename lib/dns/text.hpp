// Text form of records and messages, as dig prints them, for logs and tests; and a parser of
// that form (one record per line, or a small zone file) for test fixtures. Nothing on the
// packet path uses this.
//   to_text(rr):  "example.com. 300 IN A 192.0.2.1" (single spaces, RDATA as rdata::to_text)
//   to_text(msg): ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660" + flags line +
//                 OPT pseudosection + QUESTION/ANSWER/AUTHORITY/ADDITIONAL sections.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns {

std::string to_text(const ResourceRecord& rr);
std::string to_text(const Question& q);  // ";www.example.com. IN A"
std::string flags_to_text(const Header& h);  // "qr aa rd ra" in dig's order
std::string to_text(const Message& m);

// One record in presentation form: owner [ttl] [class] type rdata... Owner "@" is the origin
// and relative owners/RDATA names hang below origin; TTL and class may come in either order
// and default to default_ttl and IN. Comments (';') and parentheses are ignored; quoted
// strings and the RFC 3597 "\#" form are understood.
util::Expected<ResourceRecord, WireError> rr_from_text(std::string_view line, const Name& origin,
                                                       uint32_t default_ttl);

struct ZoneTextError {
  WireError error = WireError::BadText;
  size_t line = 0;  // 1-based line where the failing record starts
};

// A small zone file: $ORIGIN and $TTL directives, records whose owner is left blank (line
// starts with white space) repeat the previous owner, parenthesised records may span lines.
util::Expected<std::vector<ResourceRecord>, ZoneTextError> zone_from_text(std::string_view text,
                                                                          const Name& origin,
                                                                          uint32_t default_ttl);

}  // namespace tern::dns
