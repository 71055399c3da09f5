#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/clock.hpp"
#include "util/expected.hpp"
#include "util/random.hpp"

using tern::util::Expected;
using tern::util::unexpected;

namespace {
enum class Err { Bad = 1 };
Expected<int, Err> half(int v) {
  if (v % 2) return unexpected(Err::Bad);
  return v / 2;
}
}  // namespace

TEST_CASE("an Expected holds either the value or the error", "[util]") {
  auto ok = half(8);
  REQUIRE(ok.has_value());
  CHECK(*ok == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == Err::Bad);
  CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("Expected<void> reports success or the error", "[util]") {
  Expected<void, std::string> ok;
  CHECK(ok.has_value());
  Expected<void, std::string> bad = unexpected(std::string("why"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "why");
}

TEST_CASE("the fake clock moves only when told and keeps both clocks in step", "[util]") {
  tern::util::FakeClock c(1000, 5000);
  CHECK(c.wall_seconds() == 1000);
  c.advance_seconds(3);
  CHECK(c.wall_seconds() == 1003);
  CHECK(c.mono_ms() == 8000);
}

TEST_CASE("the system random source does not repeat itself", "[util]") {
  auto& r = tern::util::SystemRandom::instance();
  uint32_t a = r.next_u32(), b = r.next_u32(), c = r.next_u32();
  CHECK_FALSE((a == b && b == c));
  for (int i = 0; i < 1000; ++i) CHECK(r.uniform(7) < 7u);
}

TEST_CASE("the system random source serves fresh values across pool refills", "[util]") {
  // The pool holds 64 values; 10 refills' worth must hold no repeat (a refill bug would hand
  // out the same octets again) and must cover the high and low bits.
  tern::util::SystemRandom r;
  std::vector<uint32_t> v;
  for (size_t i = 0; i < 640; ++i) v.push_back(r.next_u32());
  uint32_t ored = 0, anded = ~0u;
  for (uint32_t x : v) ored |= x, anded &= x;
  CHECK(ored == ~0u);
  CHECK(anded == 0u);
  std::sort(v.begin(), v.end());
  CHECK(std::adjacent_find(v.begin(), v.end()) == v.end());  // 640 draws of 32 bits: p(dup) ~ 5e-5
}

TEST_CASE("the system random source's uniform() covers the range evenly", "[util]") {
  tern::util::SystemRandom r;
  CHECK(r.uniform(1) == 0u);
  // 70,000 draws over 7 buckets: each expects 10,000 with sd ~93; 10 sd is a bug, not luck.
  std::array<int, 7> counts{};
  for (int i = 0; i < 70000; ++i) {
    uint32_t x = r.uniform(7);
    REQUIRE(x < 7u);
    ++counts[x];
  }
  for (int c : counts) CHECK(std::abs(c - 10000) < 930);
  // A bound just above 2^31 rejects almost half of all draws: still in range, still terminates.
  const uint32_t big = (1u << 31) + 1;
  uint32_t hi = 0;
  for (int i = 0; i < 1000; ++i) hi = std::max(hi, r.uniform(big));
  CHECK(hi < big);
  CHECK(hi > (1u << 30));
}
