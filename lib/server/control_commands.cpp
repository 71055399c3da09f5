#include "server/control_commands.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <utility>

#include "dns/name.hpp"
#include "dns/text.hpp"
#include "dns/types.hpp"

namespace tern::server {

namespace {

using util::unexpected;

CommandResult fail(std::string msg) { return unexpected(std::move(msg)); }

void write_records(JsonWriter& w, const char* key, const std::vector<dns::ResourceRecord>& rrs) {
  w.key(key).begin_array();
  for (const auto& rr : rrs)
    w.value(dns::to_text(rr));  // presentation form, as dig prints it
  w.end_array();
}

void write_cache_numbers(JsonWriter& w, const cache::MessageCache& c) {
  const auto& s = c.stats();
  w.key("cache").begin_object()
      .key("entries").value(static_cast<uint64_t>(c.entries()))
      .key("bytes").value(static_cast<uint64_t>(c.bytes_used()))
      .key("hits").value(s.hits)
      .key("misses").value(s.misses)
      .key("stale_hits").value(s.stale_hits)
      .key("inserts").value(s.inserts)
      .key("evictions").value(s.evictions)
      .key("prefetches").value(s.prefetches)
      .end_object();
}

}  // namespace

void register_standard_commands(ControlServer& server, ControlContext ctx) {
  auto shared = std::make_shared<ControlContext>(std::move(ctx));
  if (!shared->cache || !shared->clock) std::abort();  // wiring bug, not input

  server.add_command("status", "status", [c = shared](const CommandArgs& args) -> CommandResult {
    if (!args.empty()) return fail("status takes no arguments");
    JsonWriter w;
    w.begin_object()
        .key("version").value(c->version)
        .key("uptime_seconds").value(c->clock->wall_seconds() - c->started_at);
    if (c->queries_served)
      w.key("queries").value(c->queries_served());
    else if (c->metrics)
      w.key("queries").value(c->metrics->queries_total(Transport::Udp) +
                             c->metrics->queries_total(Transport::Tcp));
    w.key("cache_entries").value(static_cast<uint64_t>(c->cache->entries()))
        .key("cache_bytes").value(static_cast<uint64_t>(c->cache->bytes_used()));
    if (c->status_extra) c->status_extra(w);
    w.end_object();
    return w.take();
  });

  server.add_command("stats", "stats", [c = shared](const CommandArgs& args) -> CommandResult {
    if (!args.empty()) return fail("stats takes no arguments");
    JsonWriter w;
    w.begin_object();
    if (const Metrics* m = c->metrics) {
      w.key("queries").begin_object()
          .key("udp").value(m->queries_total(Transport::Udp))
          .key("tcp").value(m->queries_total(Transport::Tcp))
          .key("dropped_udp").value(m->dropped(Transport::Udp))
          .key("dropped_tcp").value(m->dropped(Transport::Tcp))
          .end_object();
      w.key("rcodes").begin_object();
      for (uint16_t r = 0; r <= 5; ++r)
        w.key(dns::rcode_to_text(static_cast<dns::RCode>(r))).value(m->rcode_total(r));
      w.end_object();
      w.key("answers").begin_object()
          .key("cache").value(m->answers(AnswerSource::Cache))
          .key("stale").value(m->answers(AnswerSource::Stale))
          .key("resolved").value(m->answers(AnswerSource::Resolved))
          .key("local").value(m->answers(AnswerSource::Local))
          .end_object();
      w.key("tcp_connections_open").value(m->tcp_open());
    }
    write_cache_numbers(w, *c->cache);
    if (c->stats_extra) c->stats_extra(w);
    w.end_object();
    return w.take();
  });

  server.add_command("flush", "flush [NAME [subtree]]", [c = shared](const CommandArgs& args) -> CommandResult {
    if (args.size() > 2 || (args.size() == 2 && args[1] != "subtree"))
      return fail("usage: flush [NAME [subtree]]");
    JsonWriter w;
    if (args.empty()) {
      const size_t n = c->cache->entries();
      c->cache->clear();
      return w.begin_object().key("flushed").value(static_cast<uint64_t>(n)).end_object().take();
    }
    auto name = dns::Name::from_text(args[0]);
    if (!name) return fail("'" + args[0] + "' is not a domain name");
    const auto scope = args.size() == 2 ? cache::MessageCache::FlushScope::Subtree
                                        : cache::MessageCache::FlushScope::Name;
    const size_t n = c->cache->flush(*name, scope);
    return w.begin_object().key("flushed").value(static_cast<uint64_t>(n)).end_object().take();
  });

  server.add_command("lookup", "lookup NAME TYPE", [c = shared](const CommandArgs& args) -> CommandResult {
    if (args.size() != 2) return fail("usage: lookup NAME TYPE");
    auto name = dns::Name::from_text(args[0]);
    if (!name) return fail("'" + args[0] + "' is not a domain name");
    auto type = dns::type_from_text(args[1]);
    if (!type) return fail("'" + args[1] + "' is not a record type");
    const dns::Name lower = name->lowered();
    JsonWriter w;
    w.begin_object()
        .key("name").value(lower.to_text())
        .key("type").value(dns::type_to_text(*type))
        .key("entries").begin_array();
    // The cache keeps separate answers per DO/CD combination (they differ in content).
    for (uint8_t flags : {uint8_t{0}, uint8_t{cache::kKeyDO}, uint8_t{cache::kKeyCD},
                          uint8_t{cache::kKeyDO | cache::kKeyCD}}) {
      cache::CacheKey key{lower.wire(), dns::to_u16(*type), dns::to_u16(dns::RRClass::IN), flags};
      auto peek = c->cache->peek(key);
      if (!peek) continue;
      std::string f = (flags & cache::kKeyDO) ? "do" : "";
      if (flags & cache::kKeyCD) f += f.empty() ? "cd" : ",cd";
      w.begin_object()
          .key("flags").value(f)
          .key("state").value(peek->state == cache::MessageCache::EntryState::Fresh ? "fresh" : "stale")
          .key("rcode").value(dns::rcode_to_text(peek->message.rcode()))
          .key("expires_in").value(peek->expires_at - c->clock->wall_seconds());
      write_records(w, "answer", peek->message.answer);
      write_records(w, "authority", peek->message.authority);
      w.end_object();
    }
    w.end_array().end_object();
    return w.take();
  });

  server.add_command("cache", "cache dump FILE | cache load FILE", [c = shared](const CommandArgs& args) -> CommandResult {
    if (args.size() != 2 || (args[0] != "dump" && args[0] != "load"))
      return fail("usage: cache dump FILE | cache load FILE");
    const std::string& file = args[1];
    JsonWriter w;
    if (args[0] == "dump") {
      // Written beside the target and renamed: a reader never sees half a dump.
      const std::string tmp = file + ".tmp";
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return fail("cannot write " + tmp);
        if (!c->cache->dump(out) || !out.flush()) {
          (void)std::remove(tmp.c_str());  // best effort: the command fails either way
          return fail("writing " + tmp + " failed");
        }
      }
      if (std::rename(tmp.c_str(), file.c_str()) != 0) {
        (void)std::remove(tmp.c_str());  // best effort: the command fails either way
        return fail("cannot rename " + tmp + " to " + file);
      }
      return w.begin_object().key("file").value(file)
          .key("entries").value(static_cast<uint64_t>(c->cache->entries())).end_object().take();
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail("cannot read " + file);
    const size_t loaded = c->cache->load(in);
    return w.begin_object().key("file").value(file)
        .key("loaded").value(static_cast<uint64_t>(loaded)).end_object().take();
  });

  server.add_command("reload", "reload", [c = shared](const CommandArgs& args) -> CommandResult {
    if (!args.empty()) return fail("reload takes no arguments");
    if (!c->reload) return fail("reload is not available");
    auto r = c->reload();
    if (!r) return fail(r.error());
    JsonWriter w;
    w.begin_object().key("warnings").begin_array();
    for (const auto& warning : *r) w.value(warning);
    w.end_array().end_object();
    return w.take();
  });

  server.add_command("log-level", "log-level LEVEL", [c = shared](const CommandArgs& args) -> CommandResult {
    if (args.size() != 1) return fail("usage: log-level LEVEL");
    if (!c->set_log_level) return fail("log-level is not available");
    auto r = c->set_log_level(args[0]);
    if (!r) return fail(r.error());
    return JsonWriter().begin_object().key("level").value(args[0]).end_object().take();
  });
}

}  // namespace tern::server
