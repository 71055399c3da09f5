// Message: a parsed DNS message (RFC 1035 §4.1) with EDNS (RFC 6891) lifted out of the
// additional section. RDATA is held in uncompressed wire form: names inside the RDATA of types
// that may carry compressed names are decompressed on parse, so a record's bytes never depend
// on the packet it came from; typed views (dns/rdata.hpp) decode them on demand.
// parse_message() is the only way untrusted bytes become a Message; build_message() writes one
// into a caller's buffer within a size limit, truncating at an RRset boundary (RFC 2181 §9).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns {

struct Question {
  Name qname;
  RRType qtype = RRType::A;
  RRClass qclass = RRClass::IN;
  bool operator==(const Question&) const = default;  // qname compares case-insensitively
};

struct ResourceRecord {
  Name name;
  RRType type = RRType::A;
  RRClass rclass = RRClass::IN;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;  // uncompressed wire form
  bool operator==(const ResourceRecord&) const = default;
};

struct EdnsOption {
  uint16_t code = 0;
  std::vector<uint8_t> data;
  bool operator==(const EdnsOption&) const = default;
};

struct Edns {
  uint16_t udp_payload = 1232;  // sender's UDP payload size (RFC 6891 §6.2.3; RFC 9715)
  uint8_t extended_rcode = 0;   // upper 8 bits of the 12-bit RCODE
  uint8_t version = 0;
  bool dnssec_ok = false;
  uint16_t z = 0;  // the other 15 flag bits, echoed never, kept for logs
  std::vector<EdnsOption> options;
  bool operator==(const Edns&) const = default;
};

enum class Section : uint8_t { Answer = 0, Authority = 1, Additional = 2 };

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answer;
  std::vector<ResourceRecord> authority;
  std::vector<ResourceRecord> additional;  // without the OPT record
  std::optional<Edns> edns;

  // The full 12-bit RCODE: header bits plus OPT's extended bits (RFC 6891 §6.1.3).
  RCode rcode() const;
  // Sets the header and (when EDNS is present) the extended bits; values > 15 need EDNS.
  void set_rcode(RCode r);
  std::vector<ResourceRecord>& section(Section s);
  const std::vector<ResourceRecord>& section(Section s) const;
  bool operator==(const Message&) const = default;
};

// Parses a whole message. Rejects (with the named defect): truncation anywhere, counts that
// exceed the packet, trailing bytes, bad names, RDATA whose length does not match its type's
// layout, RDATA of a typed well-known type that rdata::validate() refuses (any class), an OPT
// outside the additional section, twice, or not owned by the root. EDNS option contents are
// framed (code, length) but not interpreted here: see dns/edns.hpp for the typed views.
util::Expected<Message, WireError> parse_message(std::span<const uint8_t> wire);

// Reads the RDATA of one record (rdlength octets at r's position) into uncompressed form.
// Exposed for the cache and fast paths that scan records without building a Message.
bool read_rdata(WireReader& r, RRType type, uint16_t rdlength, std::vector<uint8_t>& out);

struct BuildOptions {
  size_t max_size = 65535;  // e.g. the client's UDP payload size
  Compression compression = Compression::On;
  // When set, receives the offset of every TTL field written (OPT's excluded), in order.
  std::vector<uint16_t>* ttl_offsets = nullptr;
};

struct BuildResult {
  size_t size = 0;
  bool truncated = false;  // TC was set because answer/authority data did not fit
};

// Encodes msg into out. Counts in msg.header are ignored and recomputed. If the message does
// not fit max_size, whole RRsets are left out from the end: a cut in answer or authority sets
// TC and drops everything after it; additional records are left out silently (RFC 2181 §9).
// The OPT record is always kept. Fails only when even header + question + OPT do not fit.
util::Expected<BuildResult, WireError> build_message(const Message& msg, std::span<uint8_t> out,
                                                     const BuildOptions& opts = {});
std::vector<uint8_t> encode_message(const Message& msg, const BuildOptions& opts = {});

// Writes the RDATA of rr (uncompressed form) re-compressing names where RFC 3597 §4 allows it
// (the RFC 1035 types only).
void write_rdata(WireWriter& w, const ResourceRecord& rr, Compression c);

}  // namespace tern::dns
