// Parse and build of a typical 3-RR response: www.example.com. A with a CNAME and two A
// records (names compressed), plus an OPT with the DO bit: about 120 octets, like most
// answers a resolver relays.
#include <benchmark/benchmark.h>

#include <vector>

#include "dns/message.hpp"

using namespace tern::dns;

namespace {

Message typical_response() {
  Message m;
  m.header.id = 0xBEEF;
  m.header.qr = m.header.rd = m.header.ra = true;
  Name www = *Name::from_text("www.example.com.");
  Name web = *Name::from_text("web.example.com.");
  m.questions.push_back({www, RRType::A, RRClass::IN});
  std::vector<uint8_t> target(web.wire().begin(), web.wire().end());
  m.answer.push_back({www, RRType::CNAME, RRClass::IN, 300, target});
  m.answer.push_back({web, RRType::A, RRClass::IN, 60, {192, 0, 2, 1}});
  m.answer.push_back({web, RRType::A, RRClass::IN, 60, {192, 0, 2, 2}});
  m.edns = Edns{};
  m.edns->dnssec_ok = true;
  return m;
}

void BM_ParseTypicalResponse(benchmark::State& state) {
  auto wire = encode_message(typical_response());
  for (auto _ : state) {
    auto m = parse_message(wire);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
  state.counters["octets"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_ParseTypicalResponse);

void BM_BuildTypicalResponse(benchmark::State& state) {
  auto m = typical_response();
  std::vector<uint8_t> buf(1232);
  BuildOptions opts;
  opts.max_size = 1232;
  for (auto _ : state) {
    auto r = build_message(m, buf, opts);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_BuildTypicalResponse);

void BM_BuildTypicalResponseWithTtlOffsets(benchmark::State& state) {
  auto m = typical_response();
  std::vector<uint8_t> buf(1232);
  std::vector<uint16_t> ttls;
  ttls.reserve(16);
  BuildOptions opts;
  opts.max_size = 1232;
  opts.ttl_offsets = &ttls;
  for (auto _ : state) {
    auto r = build_message(m, buf, opts);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_BuildTypicalResponseWithTtlOffsets);

void BM_ParseThenBuild(benchmark::State& state) {
  auto wire = encode_message(typical_response());
  std::vector<uint8_t> buf(1232);
  for (auto _ : state) {
    auto m = parse_message(wire);
    auto r = build_message(*m, buf);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseThenBuild);

}  // namespace
