// tern-iterate: resolves questions with resolver::Iterator over real sockets (client's
// NetTransport on a libuv loop), starting from a named.root hints file - the iterator's
// harness against the NSD mini-Internet of tools/lab (lab_check.py runs it for every name in
// lab.json). Questions are resolved one after another with shared infra cache and server
// statistics, as in the daemon. Each result is printed as dig prints a reply, after a
// "=== qname qtype" line, followed by the number of upstream queries it took.
//   tern-iterate --hints DIR/root.hints [--qmin off|relaxed|strict] [--no-ipv4] [--no-ipv6]
//                [--port 53] [-v] QNAME QTYPE [QNAME QTYPE ...]
// Only for loopback labs: it sends queries to whatever the hints file names.
#include <spdlog/spdlog.h>
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "client/udp_tcp_transport.hpp"
#include "dns/text.hpp"
#include "resolver/infra_cache.hpp"
#include "resolver/iterator.hpp"
#include "resolver/root_hints.hpp"
#include "resolver/scheduler.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

using namespace tern;

namespace {

// resolver::Scheduler on a uv_idle handle: posted work runs on the next loop iteration.
class UvPoster final : public resolver::Scheduler {
 public:
  explicit UvPoster(uv_loop_t* loop) {
    uv_idle_init(loop, &idle_);
    idle_.data = this;
  }
  void post(std::function<void()> fn) override {
    queue_.push_back(std::move(fn));
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&idle_))) uv_idle_start(&idle_, &on_idle);
  }
  void close() { uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr); }

 private:
  static void on_idle(uv_idle_t* h) noexcept {
    auto* self = static_cast<UvPoster*>(h->data);
    auto batch = std::move(self->queue_);
    self->queue_.clear();
    for (auto& fn : batch) fn();
    if (self->queue_.empty()) uv_idle_stop(&self->idle_);
  }
  uv_idle_t idle_{};
  std::deque<std::function<void()>> queue_;
};

int usage() {
  std::fprintf(stderr,
               "usage: tern-iterate --hints FILE [--qmin off|relaxed|strict] [--no-ipv4] "
               "[--no-ipv6] [--port N] [-v] QNAME QTYPE [QNAME QTYPE ...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  resolver::IteratorOptions opts;
  std::vector<dns::Question> questions;
  std::string hints;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--hints" && i + 1 < argc) {
      hints = argv[++i];
    } else if (a == "--qmin" && i + 1 < argc) {
      std::string m = argv[++i];
      if (m == "off") opts.qname_minimisation = resolver::QnameMinimisation::Off;
      else if (m == "strict") opts.qname_minimisation = resolver::QnameMinimisation::Strict;
      else if (m == "relaxed") opts.qname_minimisation = resolver::QnameMinimisation::Relaxed;
      else return usage();
    } else if (a == "--no-ipv4") {
      opts.query_ipv4 = false;
    } else if (a == "--no-ipv6") {
      opts.query_ipv6 = false;
    } else if (a == "--port" && i + 1 < argc) {
      opts.port = static_cast<uint16_t>(std::stoi(argv[++i]));
    } else if (a == "-v") {
      spdlog::set_level(spdlog::level::debug);
    } else if (i + 1 < argc) {
      auto n = dns::Name::from_text(a);
      auto t = dns::type_from_text(argv[++i]);
      if (!n || !t) return usage();
      questions.push_back(dns::Question{*n, *t, dns::RRClass::IN});
    } else {
      return usage();
    }
  }
  if (hints.empty() || questions.empty()) return usage();
  try {
    opts.root_hints = resolver::load_root_hints(hints);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-iterate: %s\n", e.what());
    return 1;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  auto& clock = util::SystemClock::instance();
  auto& random = util::SystemRandom::instance();
  client::NetTransport transport(&loop, random);
  UvPoster poster(&loop);
  resolver::InfraCache infra(clock);
  resolver::Iterator it(transport, poster, clock, random, opts, infra);

  size_t next = 0;
  int failures = 0;
  std::function<void()> ask = [&] {
    if (next == questions.size()) return;
    const dns::Question q = questions[next++];
    const uint64_t before = it.stats().upstream_queries;
    const uint64_t start = clock.mono_ms();
    it.resolve(resolver::Request{q}, [&, q, before, start](resolver::Outcome o) {
      dns::Message m;
      if (o.response) {
        m = *o.response;
      } else {
        m.questions.push_back(q);
        m.set_rcode(o.status == resolver::Status::Refused ? dns::RCode::Refused
                                                          : dns::RCode::ServFail);
        ++failures;
      }
      m.header.qr = true;
      m.header.ra = true;
      std::printf("=== %s %s\n%s\n;; upstream queries: %llu, %llu ms\n\n",
                  q.qname.to_text().c_str(), dns::type_to_text(q.qtype).c_str(),
                  dns::to_text(m).c_str(),
                  static_cast<unsigned long long>(it.stats().upstream_queries - before),
                  static_cast<unsigned long long>(clock.mono_ms() - start));
      std::fflush(stdout);
      poster.post(ask);
    });
  };
  ask();
  uv_run(&loop, UV_RUN_DEFAULT);

  const auto& s = it.stats();
  std::printf(";; iterator: %llu upstream queries, %llu timeouts, %llu TCP retries, %llu EDNS "
              "fallbacks, %llu 0x20 mismatches, %llu lame marks, %llu records scrubbed, "
              "%llu spoofs ignored, %llu primings\n",
              static_cast<unsigned long long>(s.upstream_queries),
              static_cast<unsigned long long>(s.timeouts),
              static_cast<unsigned long long>(s.tcp_retries),
              static_cast<unsigned long long>(s.edns_fallbacks),
              static_cast<unsigned long long>(s.case_mismatches),
              static_cast<unsigned long long>(s.lame_marks),
              static_cast<unsigned long long>(s.records_scrubbed),
              static_cast<unsigned long long>(s.spoofs_ignored),
              static_cast<unsigned long long>(s.primings));
  it.shutdown();
  transport.shutdown();
  poster.close();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return failures == 0 ? 0 : 1;
}
