// bench_cache: which eviction policy keeps more hot answers under cache.max-size, and what a
// hit costs. Replays synthetic traces through the real MessageCache: names drawn from a Zipf
// distribution (popular names are asked far more often, as in resolver logs), optionally
// mixed with one-off names (random-subdomain floods, unique tracking names) that are asked
// once and never again. Every miss inserts the answer, as the server does after resolving.
// Output: hit ratio per (policy, Zipf exponent, cache size, share of one-off names).
#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

using namespace tern;

namespace {

struct Query {
  dns::Name name;  // lower case
  std::vector<uint8_t> question;
};

Query make_query(const std::string& text) {
  Query q{*dns::Name::from_text(text), {}};
  auto w = q.name.wire();
  q.question.assign(w.begin(), w.end());
  q.question.insert(q.question.end(), {0, 1, 0, 1});
  return q;
}

dns::Message answer_for(const dns::Name& n, uint32_t i) {
  dns::Message m;
  m.header.qr = true;
  m.header.ra = true;
  dns::ResourceRecord rr;
  rr.name = n;
  rr.type = dns::RRType::A;
  rr.ttl = 86400;
  rr.rdata = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
              static_cast<uint8_t>(i)};
  m.answer.push_back(rr);
  return m;
}

// Zipf(s) over ranks 1..n by inverse CDF.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    double acc = 0;
    for (size_t k = 0; k < n; ++k) {
      acc += 1.0 / std::pow(static_cast<double>(k + 1), s) / sum;
      cdf_[k] = acc;
    }
  }
  size_t draw(util::Random& r) const {
    double u = (r.next_u32() + 0.5) / 4294967296.0;
    return static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct Result {
  double hit_ratio;
  size_t entries;
};

Result run(cache::EvictionPolicy policy, size_t max_bytes, const std::vector<Query>& names,
           const Zipf& zipf, double one_off_share, size_t queries, uint64_t seed) {
  util::FakeClock clock;
  cache::CacheOptions o;
  o.max_bytes = max_bytes;
  o.eviction = policy;
  o.prefetch = false;
  cache::MessageCache c(o, clock);
  util::FakeRandom rnd(seed);
  std::vector<uint8_t> buf(4096);
  size_t hits = 0, counted = 0;
  uint32_t one_off = 0;
  auto one_off_limit = static_cast<uint32_t>(one_off_share * 4294967295.0);
  for (size_t i = 0; i < queries; ++i) {
    if (i % 1000 == 0) clock.advance_seconds(1);
    bool warm = i >= queries / 5;  // first 20%: warm-up, not counted
    if (one_off_limit && rnd.next_u32() < one_off_limit) {
      Query q = make_query("u" + std::to_string(one_off++) + ".flood.example");
      cache::CacheKey k{q.name.wire(), 1, 1, 0};
      if (!c.lookup(k, {1, true, false, q.question}, cache::StalePolicy::FreshOnly, buf))
        c.insert(k, answer_for(q.name, one_off));
      continue;  // one-off names cannot hit; the ratio is over the real workload
    }
    size_t rank = zipf.draw(rnd);
    const Query& q = names[rank];
    cache::CacheKey k{q.name.wire(), 1, 1, 0};
    bool hit = c.lookup(k, {1, true, false, q.question}, cache::StalePolicy::FreshOnly, buf)
                   .has_value();
    if (!hit) c.insert(k, answer_for(q.name, static_cast<uint32_t>(rank)));
    if (warm) {
      ++counted;
      hits += hit ? 1 : 0;
    }
  }
  return {static_cast<double>(hits) / static_cast<double>(counted), c.entries()};
}

}  // namespace

int main(int argc, char** argv) {
  bool hit_only = argc > 1 && std::string(argv[1]) == "hit";
  constexpr size_t kNames = 100'000;
  constexpr size_t kQueries = 2'000'000;
  std::vector<Query> names;
  names.reserve(kNames);
  for (size_t i = 0; i < kNames; ++i)
    names.push_back(make_query("name" + std::to_string(i) + ".zone" + std::to_string(i % 97) +
                               ".example"));

  // What one entry costs, to size the cache as a share of the working set.
  size_t per_entry;
  {
    util::FakeClock clock;
    cache::MessageCache c({}, clock);
    for (size_t i = 0; i < 10'000; ++i) {
      cache::CacheKey k{names[i].name.wire(), 1, 1, 0};
      c.insert(k, answer_for(names[i].name, static_cast<uint32_t>(i)));
    }
    per_entry = c.bytes_used() / c.entries();
  }
  std::printf("names %zu, queries %zu (first 20%% warm-up), ~%zu bytes per entry\n", kNames,
              kQueries, per_entry);
  std::printf("%-6s %-10s %-9s %8s %8s %8s\n", "zipf", "cache", "one-off", "LRU", "SIEVE",
              "diff");
  for (double s : {0.8, 1.0, 1.2}) {
    if (hit_only) break;
    Zipf zipf(kNames, s);
    for (double share : {0.01, 0.05, 0.20}) {
      for (double oneoff : {0.0, 0.3}) {
        size_t bytes = static_cast<size_t>(share * kNames) * per_entry;
        auto lru = run(cache::EvictionPolicy::Lru, bytes, names, zipf, oneoff, kQueries, 11);
        auto sieve = run(cache::EvictionPolicy::Sieve, bytes, names, zipf, oneoff, kQueries, 11);
        char cache_col[16], oneoff_col[16];
        std::snprintf(cache_col, sizeof cache_col, "%.0f%%", share * 100);
        std::snprintf(oneoff_col, sizeof oneoff_col, "%.0f%%", oneoff * 100);
        std::printf("%-6.1f %-10s %-9s %7.2f%% %7.2f%% %+7.2f\n", s, cache_col, oneoff_col,
                    lru.hit_ratio * 100, sieve.hit_ratio * 100,
                    (sieve.hit_ratio - lru.hit_ratio) * 100);
        std::fflush(stdout);
      }
    }
  }

  // Hit-path cost: lookups of resident names (the server's fast path), both policies.
  for (auto policy : {cache::EvictionPolicy::Lru, cache::EvictionPolicy::Sieve}) {
    util::FakeClock clock;
    cache::CacheOptions o;
    o.eviction = policy;
    o.prefetch = false;
    cache::MessageCache c(o, clock);
    for (size_t i = 0; i < kNames; ++i) {
      cache::CacheKey k{names[i].name.wire(), 1, 1, 0};
      c.insert(k, answer_for(names[i].name, static_cast<uint32_t>(i)));
    }
    std::vector<uint8_t> buf(4096);
    util::FakeRandom rnd(5);
    Zipf zipf(kNames, 1.0);
    std::vector<size_t> order(kQueries);
    for (auto& r : order) r = zipf.draw(rnd);
    size_t ok = 0;
    // CPU time of this thread: the machine may be shared, wall time would measure the others.
    auto cpu_ns = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
    };
    double t0 = cpu_ns();
    for (size_t r : order) {
      cache::CacheKey k{names[r].name.wire(), 1, 1, 0};
      ok += c.lookup(k, {1, true, false, names[r].question}, cache::StalePolicy::FreshOnly, buf)
                ? 1u
                : 0u;
    }
    double ns = cpu_ns() - t0;
    std::printf("%s hit path: %.0f ns CPU per lookup (%zu/%zu hits, %zu entries, %zu bytes)\n",
                policy == cache::EvictionPolicy::Lru ? "LRU  " : "SIEVE",
                ns / static_cast<double>(kQueries), ok, kQueries, c.entries(),
                c.bytes_used());
    // The same few names over and over: the code path alone, with everything in L1/L2.
    t0 = cpu_ns();
    ok = 0;
    for (size_t i = 0; i < kQueries; ++i) {
      const Query& q = names[i & 7];
      cache::CacheKey k{q.name.wire(), 1, 1, 0};
      ok += c.lookup(k, {1, true, false, q.question}, cache::StalePolicy::FreshOnly, buf) ? 1u
                                                                                          : 0u;
    }
    ns = cpu_ns() - t0;
    std::printf("%s hit path, 8 hot names: %.0f ns CPU per lookup (%zu hits)\n",
                policy == cache::EvictionPolicy::Lru ? "LRU  " : "SIEVE",
                ns / static_cast<double>(kQueries), ok);
  }
  return 0;
}
