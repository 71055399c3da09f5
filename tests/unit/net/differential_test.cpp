// Our parsers against glibc's inet_pton, which is strict in the same ways (no leading zeros in
// dotted parts, no shorthand): on random strings over the address alphabet both must agree on
// accept/reject and on the bytes, and whatever we accept must survive a print/parse round trip.
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "net/endpoint.hpp"
#include "net/prefix.hpp"
#include "util/random.hpp"

using namespace tern::net;

namespace {

std::string random_text(tern::util::Random& rng, std::string_view alphabet, uint32_t max_len) {
  std::string s;
  const uint32_t n = rng.uniform(max_len + 1);
  for (uint32_t i = 0; i < n; ++i)
    s += alphabet[rng.uniform(static_cast<uint32_t>(alphabet.size()))];
  return s;
}

// Random but address-shaped: 3-5 parts of 0-4 digits, so many inputs are valid and the rest
// sit right at the edges (leading zeros, 256, empty parts).
std::string random_v4(tern::util::Random& rng) {
  std::string s;
  const uint32_t parts = 3 + rng.uniform(3);
  for (uint32_t p = 0; p < parts; ++p) {
    if (p) s += '.';
    s += random_text(rng, rng.uniform(4) == 0 ? "0123456789" : "0125", rng.uniform(5) == 0 ? 4 : 3);
  }
  if (rng.uniform(20) == 0) s += random_text(rng, "0123456789.x ", 3);
  return s;
}

// Random but address-shaped: groups of hex digits joined by ':' or '::', sometimes a dotted
// tail, so a useful share of the inputs are valid.
std::string random_v6(tern::util::Random& rng) {
  std::string s;
  const uint32_t groups = rng.uniform(10);
  for (uint32_t g = 0; g < groups; ++g) {
    if (g) s += rng.uniform(8) == 0 ? "::" : ":";
    s += random_text(rng, "0123456789abcdefABCDEF", rng.uniform(3) == 0 ? 5 : 4);
  }
  if (rng.uniform(4) == 0) s += (rng.uniform(2) ? ":" : "::") + random_text(rng, "0123456789.", 15);
  if (rng.uniform(10) == 0) s = "::" + s;
  if (rng.uniform(10) == 0) s += "::";
  return s;
}

}  // namespace

TEST_CASE("IPv4 parsing agrees with inet_pton on random dotted text", "[net][ipv4][differential]") {
  tern::util::FakeRandom rng(12345);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string s =
        rng.uniform(4) == 0 ? random_text(rng, "0123456789.", 16) : random_v4(rng);
    in_addr ref{};
    const bool ref_ok = inet_pton(AF_INET, s.c_str(), &ref) == 1;
    auto ours = parse_ipv4(s);
    INFO(s);
    REQUIRE(ours.has_value() == ref_ok);
    if (ref_ok) {
      ++accepted;
      REQUIRE(std::memcmp(ours->bytes().data(), &ref, 4) == 0);
      REQUIRE(*parse_ipv4(ours->to_string()) == *ours);
    }
  }
  CHECK(accepted > 100);  // the generator does reach valid addresses
}

TEST_CASE("IPv6 parsing agrees with inet_pton and round-trips through RFC 5952 text",
          "[net][ipv6][differential]") {
  tern::util::FakeRandom rng(67890);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string s = random_v6(rng);
    in6_addr ref{};
    const bool ref_ok = inet_pton(AF_INET6, s.c_str(), &ref) == 1;
    auto ours = parse_ipv6(s);
    INFO(s);
    REQUIRE(ours.has_value() == ref_ok);
    if (ref_ok) {
      ++accepted;
      REQUIRE(std::memcmp(ours->bytes().data(), &ref, 16) == 0);
      const std::string text = ours->to_string();
      INFO(text);
      REQUIRE(*parse_ipv6(text) == *ours);
      REQUIRE(parse_ipv6(text)->to_string() == text);
      // glibc's inet_ntop prints RFC 5952 too, except that it also writes deprecated
      // IPv4-compatible addresses (::a.b.c.d) in dotted form.
      char buf[INET6_ADDRSTRLEN];
      REQUIRE(inet_ntop(AF_INET6, &ref, buf, sizeof buf) != nullptr);
      if (std::string(buf).find('.') == std::string::npos || ours->is_v4_mapped())
        REQUIRE(text == buf);
    }
  }
  CHECK(accepted > 1000);
}

TEST_CASE("endpoint and prefix parsers never crash on random text and round-trip what they accept",
          "[net][differential]") {
  tern::util::FakeRandom rng(4242);
  for (int i = 0; i < 50000; ++i) {
    const std::string s = random_text(rng, "0123456789abcdef:.[]/% x", 48);
    INFO(s);
    if (auto e = parse_endpoint(s)) {
      REQUIRE(*parse_endpoint(e->to_string()) == *e);
    } else {
      REQUIRE_FALSE(render_error(s, e.error()).empty());
    }
    if (auto e = parse_endpoint(s, 53)) REQUIRE(*parse_endpoint(e->to_string()) == *e);
    if (auto p = parse_prefix(s)) {
      REQUIRE(*parse_prefix(p->to_string()) == *p);
    } else {
      REQUIRE_FALSE(render_error(s, p.error()).empty());
    }
  }
}
