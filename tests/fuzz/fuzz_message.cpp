// Fuzz target: untrusted bytes -> parse_message -> build -> parse again.
// Properties checked (abort on failure, so libFuzzer and the replay test both catch them):
//  1. parse never crashes or over-reads (ASan), whatever the input;
//  2. a parsed message re-encodes without compression to bytes that parse back to an equal
//     Message (field-by-field, RDATA byte-exact), unless the uncompressed form exceeds 64 KiB;
//  3. with compression the result parses back too, and decompresses to the same bytes modulo
//     ASCII case (the writer compresses case-insensitively, RFC 4343);
//  4. building under a small size limit yields a parseable message within the limit;
//  5. every record's RDATA decodes under its type and re-encodes to the same octets, and its
//     text form parses back to an equal record (dig-like printer vs fixture parser);
//  6. printing, classification and the EDNS option views never crash.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "dns/classify.hpp"
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "dns/rdata.hpp"
#include "dns/text.hpp"
#include "util/bug.hpp"

using namespace tern::dns;

namespace {

std::vector<uint8_t> lower_all(std::vector<uint8_t> v) {
  for (auto& b : v) b = ascii_lower(b);
  return v;
}

void check_round_trip(const Message& m) {
  BuildOptions off;
  off.compression = Compression::Off;
  std::vector<uint8_t> buf(65535);
  auto plain = build_message(m, buf, off);
  TERN_ASSERT(plain.has_value());  // 65535 always holds header + question + OPT of a parsed one
  std::vector<uint8_t> plain_wire(buf.begin(), buf.begin() + static_cast<long>(plain->size));
  if (!plain->truncated) {
    auto back = parse_message(plain_wire);
    TERN_ASSERT(back.has_value());
    TERN_ASSERT(*back == m);
  }

  auto comp = build_message(m, buf);
  TERN_ASSERT(comp.has_value());
  TERN_ASSERT(comp->size <= plain->size);
  std::vector<uint8_t> comp_wire(buf.begin(), buf.begin() + static_cast<long>(comp->size));
  auto back2 = parse_message(comp_wire);
  TERN_ASSERT(back2.has_value());
  if (!comp->truncated && !plain->truncated) {
    auto again = build_message(*back2, buf, off);
    TERN_ASSERT(again.has_value());
    std::vector<uint8_t> w(buf.begin(), buf.begin() + static_cast<long>(again->size));
    TERN_ASSERT(lower_all(w) == lower_all(plain_wire));
  }

  BuildOptions small;
  small.max_size = 512;
  auto cut = build_message(m, buf, small);
  if (cut) {
    TERN_ASSERT(cut->size <= 512);
    auto back3 = parse_message(std::span<const uint8_t>(buf.data(), cut->size));
    TERN_ASSERT(back3.has_value());
    TERN_ASSERT(back3->edns.has_value() == m.edns.has_value());
  }
}

void check_records(const Message& m) {
  for (const auto* sec : {&m.answer, &m.authority, &m.additional}) {
    for (const auto& rr : *sec) {
      bool update_meta = rr.rdata.empty() &&
                         (rr.rclass == RRClass::ANY || rr.rclass == RRClass::NONE);
      if (!update_meta) {
        auto typed = rdata::decode(rr.type, rr.rdata);
        TERN_ASSERT(typed.has_value());  // parse_message validated it
        TERN_ASSERT(rdata::encode(*typed) == rr.rdata);
      }
      std::string text = to_text(rr);
      auto back = rr_from_text(text, Name::root(), 0);
      if (!back || !(*back == rr)) {
        std::fprintf(stderr, "text round trip failed: %s\n", text.c_str());
        TERN_BUG("record text form does not parse back");
      }
    }
  }
}

void check_views(const Message& m) {
  (void)to_text(m);
  if (!m.questions.empty()) (void)classify(m, m.questions[0]);
  (void)negative_ttl(m);
  if (m.edns) {
    for (auto& o : m.edns->options) {
      (void)edns::Cookie::decode(o.data);
      (void)edns::ExtendedError::decode(o.data);
      (void)edns::ClientSubnet::decode(o.data);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = parse_message(std::span<const uint8_t>(data, size));
  if (!m) return 0;
  check_round_trip(*m);
  check_records(*m);
  check_views(*m);
  return 0;
}
