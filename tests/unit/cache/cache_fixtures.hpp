// Builders shared by the cache tests: responses as a resolver would hand them over, and a
// client's view of a question (key, patch, buffer).
#pragma once

#include <catch2/catch.hpp>

#include <array>
#include <initializer_list>
#include <string>
#include <vector>

#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"

namespace tern::cache::test {

inline dns::Name N(const char* s) { return *dns::Name::from_text(s); }

inline dns::ResourceRecord rr(const char* owner, dns::RRType t, uint32_t ttl,
                              std::vector<uint8_t> rdata) {
  dns::ResourceRecord r;
  r.name = N(owner);
  r.type = t;
  r.ttl = ttl;
  r.rdata = std::move(rdata);
  return r;
}

inline dns::ResourceRecord a(const char* owner, uint32_t ttl, uint8_t last = 1) {
  return rr(owner, dns::RRType::A, ttl, {192, 0, 2, last});
}

inline dns::ResourceRecord cname(const char* owner, uint32_t ttl, const char* target) {
  dns::Name t = N(target);
  auto w = t.wire();
  return rr(owner, dns::RRType::CNAME, ttl, {w.begin(), w.end()});
}

inline dns::ResourceRecord soa(const char* zone, uint32_t ttl, uint32_t minimum) {
  std::vector<uint8_t> d;
  for (const char* n : {"ns1.example.", "hostmaster.example."}) {
    dns::Name nn = N(n);
    auto w = nn.wire();
    d.insert(d.end(), w.begin(), w.end());
  }
  for (uint32_t v : {2024010101u, 7200u, 3600u, 1209600u, minimum})
    for (int s = 24; s >= 0; s -= 8) d.push_back(static_cast<uint8_t>(v >> s));
  return rr(zone, dns::RRType::SOA, ttl, std::move(d));
}

inline dns::Message response(dns::RCode rc, std::vector<dns::ResourceRecord> answer,
                             std::vector<dns::ResourceRecord> authority = {},
                             std::vector<dns::ResourceRecord> additional = {}) {
  dns::Message m;
  m.header.qr = true;
  m.header.ra = true;
  m.set_rcode(rc);
  m.answer = std::move(answer);
  m.authority = std::move(authority);
  m.additional = std::move(additional);
  return m;
}

// One client's question: the name as the client wrote it (case kept).
struct Client {
  dns::Name asked;
  dns::Name lower;
  uint16_t qtype;
  uint8_t flags;
  std::vector<uint8_t> question;  // the client's question bytes
  std::array<uint8_t, 4096> buf{};

  explicit Client(const char* qname, dns::RRType t = dns::RRType::A, uint8_t key_flags = 0)
      : asked(N(qname)), lower(asked.lowered()), qtype(dns::to_u16(t)), flags(key_flags) {
    auto w = asked.wire();
    question.assign(w.begin(), w.end());
    question.push_back(static_cast<uint8_t>(qtype >> 8));
    question.push_back(static_cast<uint8_t>(qtype));
    question.push_back(0);
    question.push_back(1);
  }
  CacheKey key() const { return CacheKey{lower.wire(), qtype, 1, flags}; }
  ReplyPatch patch(uint16_t id = 0x1234, bool rd = true, bool cd = false) const {
    return ReplyPatch{id, rd, cd, question};
  }
  std::optional<Hit> ask(MessageCache& c, StalePolicy s = StalePolicy::FreshOnly) {
    return c.lookup(key(), patch(), s, buf);
  }
  // The reply last written into buf, parsed.
  dns::Message reply(const Hit& h) const {
    auto m = dns::parse_message(std::span<const uint8_t>(buf.data(), h.size));
    REQUIRE(m.has_value());
    return *m;
  }
};

}  // namespace tern::cache::test
