#include <catch2/catch.hpp>

#include <string>

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
