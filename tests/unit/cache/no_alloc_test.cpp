// The hit path must not touch the heap (DESIGN.md: "A cache hit is a copy and a patch").
// Replacing the global operator new is program-wide, so it only counts while a thread-local
// flag is set around the call under test.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "cache/message_cache.hpp"
#include "cache_fixtures.hpp"
#include "util/clock.hpp"

// GCC sees std::free on memory from (our own, malloc-based) operator new and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
// Every form that pairs with the plain deletes below must come from the same malloc, or a
// sanitizer runtime's own operator new would be freed by our delete.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

using namespace tern;
using namespace tern::cache;
using namespace tern::cache::test;

namespace {
size_t allocations_during(const auto& fn) {
  g_allocations = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_allocations;
}
}  // namespace

TEST_CASE("a cache hit, fresh, prefetch or stale, allocates nothing", "[cache][alloc]") {
  util::FakeClock clock;
  MessageCache cache({}, clock);
  Client c("WWW.Example.COM");
  cache.insert(c.key(), response(dns::RCode::NoError,
                                 {cname("www.example.com", 100, "web.example.com"),
                                  a("web.example.com", 100, 1), a("web.example.com", 100, 2)}));
  // The counter works: an insert allocates.
  CHECK(allocations_during([&] {
          cache.insert(c.key(), response(dns::RCode::NoError, {a("www.example.com", 100)}));
        }) > 0);
  cache.insert(c.key(), response(dns::RCode::NoError,
                                 {cname("www.example.com", 100, "web.example.com"),
                                  a("web.example.com", 100, 1), a("web.example.com", 100, 2)}));
  CacheKey key = c.key();
  ReplyPatch patch = c.patch();
  std::optional<Hit> h;
  CHECK(allocations_during([&] { h = cache.lookup(key, patch, StalePolicy::FreshOnly, c.buf); }) == 0);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Fresh);
  clock.advance_seconds(95);
  CHECK(allocations_during([&] { h = cache.lookup(key, patch, StalePolicy::FreshOnly, c.buf); }) == 0);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Prefetch);
  clock.advance_seconds(100);
  CHECK(allocations_during([&] { h = cache.lookup(key, patch, StalePolicy::AllowStale, c.buf); }) == 0);
  REQUIRE(h);
  CHECK(h->kind == HitKind::Stale);
  // A miss allocates nothing either.
  Client other("other.example");
  CHECK(allocations_during([&] {
          h = cache.lookup(other.key(), other.patch(), StalePolicy::FreshOnly, other.buf);
        }) == 0);
  CHECK_FALSE(h);
}
