// The cache-hit path must not touch the heap (DESIGN.md "A cache hit is a copy and a patch"):
// global operator new is counted while the pipeline handles a hit.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "cache/message_cache.hpp"
#include "fakes.hpp"
#include "server/pipeline.hpp"
#include "util/clock.hpp"

// GCC sees std::free on memory from (our own, malloc-based) operator new and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// Every form that pairs with the plain deletes must come from the same malloc, or a sanitizer
// runtime's own operator new would be freed by our delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;

namespace {
// Records only the size of what it is given, so the sink itself does not allocate.
class CountingSink final : public ReplySink {
 public:
  void send_reply(const ClientRef&, std::span<const uint8_t> reply) override {
    ++replies;
    last_size = reply.size();
  }
  size_t replies = 0;
  size_t last_size = 0;
};
}  // namespace

TEST_CASE("a cache hit, with OPT and with truncation, allocates nothing", "[server][pipeline]") {
  util::FakeClock clock;
  cache::MessageCache cache(cache::CacheOptions{}, clock);
  FakeResolver resolver;
  FakeScheduler scheduler;
  PipelineOptions opts;
  opts.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
  Pipeline pipeline(opts, cache, resolver, scheduler, clock);
  CountingSink sink;
  ClientRef client{{net::Address::v4(127, 0, 0, 1), 5353}, Protocol::Udp, &sink, 0};

  std::vector<dns::ResourceRecord> rrs;
  for (int i = 0; i < 4; ++i) rrs.push_back(txt_record("big.example.", 300, 200));
  auto plain = make_query({.qname = "Big.Example.", .qtype = dns::RRType::TXT});
  auto edns = make_query({.qname = "big.example.", .qtype = dns::RRType::TXT, .edns = true,
                          .payload = 4096, .dnssec_ok = false});
  REQUIRE(pipeline.handle(plain, client) == Disposition::Deferred);
  resolver.complete(0, answer(rrs));
  REQUIRE(sink.replies == 1);

  g_allocations = 0;
  g_counting = true;
  Disposition d1 = pipeline.handle(plain, client);  // truncated: no EDNS, 512 limit
  size_t truncated_size = sink.last_size;
  Disposition d2 = pipeline.handle(edns, client);   // whole, with OPT
  size_t whole_size = sink.last_size;
  g_counting = false;

  CHECK(d1 == Disposition::Replied);
  CHECK(d2 == Disposition::Replied);
  CHECK(truncated_size < 512);
  CHECK(whole_size > 800);
  CHECK(g_allocations == 0);
  CHECK(resolver.calls.size() == 1);
}
