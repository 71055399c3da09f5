#include <catch2/catch.hpp>

#include "client/upstream_health.hpp"

using namespace tern::client;
using V = std::vector<size_t>;

TEST_CASE("healthy upstreams are tried in the configured order", "[client][health]") {
  UpstreamHealth h(3);
  CHECK(h.order(0) == V{0, 1, 2});
}

TEST_CASE("two failures in a row do not bench an upstream, the third does", "[client][health]") {
  UpstreamHealth h(3);
  h.on_failure(0, 1000);
  h.on_failure(0, 1100);
  CHECK(h.order(1200) == V{0, 1, 2});
  h.on_failure(0, 1200);
  CHECK(h.held_down(0, 1200));
  CHECK(h.order(1200) == V{1, 2, 0});
  // The hold-down ends and the upstream is probed in its place again.
  CHECK(h.order(1200 + kMinHoldDownMs) == V{0, 1, 2});
}

TEST_CASE("a success clears an upstream's failures", "[client][health]") {
  UpstreamHealth h(2);
  h.on_failure(0, 0);
  h.on_failure(0, 0);
  h.on_success(0);
  h.on_failure(0, 0);
  h.on_failure(0, 0);
  CHECK_FALSE(h.held_down(0, 0));
}

TEST_CASE("each failed probe doubles the hold-down up to its cap", "[client][health]") {
  UpstreamHealth h(1);
  uint64_t now = 0;
  for (uint32_t i = 0; i < kFailuresToHoldDown; ++i) h.on_failure(0, now);
  uint64_t expect = kMinHoldDownMs;
  for (int probe = 0; probe < 10; ++probe) {
    CHECK(h.held_down(0, now + expect - 1));
    CHECK_FALSE(h.held_down(0, now + expect));
    now += expect;
    h.on_failure(0, now);  // the probe fails
    expect = std::min(expect * 2, kMaxHoldDownMs);
  }
  CHECK(expect == kMaxHoldDownMs);
}

TEST_CASE("failures that land during a hold-down do not stretch it", "[client][health]") {
  UpstreamHealth h(1);
  for (uint32_t i = 0; i < kFailuresToHoldDown; ++i) h.on_failure(0, 0);
  for (int i = 0; i < 20; ++i) h.on_failure(0, 10);
  CHECK_FALSE(h.held_down(0, kMinHoldDownMs));
}

TEST_CASE("when every upstream is held down all are still tried, soonest back first",
          "[client][health]") {
  UpstreamHealth h(3);
  for (uint32_t i = 0; i < kFailuresToHoldDown; ++i) h.on_failure(2, 0);
  for (uint32_t i = 0; i < kFailuresToHoldDown; ++i) h.on_failure(0, 100);
  for (uint32_t i = 0; i < kFailuresToHoldDown; ++i) h.on_failure(1, 200);
  CHECK(h.order(300) == V{2, 0, 1});
}

TEST_CASE("an index outside the list is ignored", "[client][health]") {
  UpstreamHealth h(1);
  h.on_failure(5, 0);
  h.on_success(5);
  CHECK_FALSE(h.held_down(5, 0));
  CHECK(h.order(0) == V{0});
}
