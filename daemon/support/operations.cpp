#include "support/operations.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>

#include "server/control_commands.hpp"
#include "support/privileges.hpp"

namespace tern::daemon {

std::optional<config::LogLevel> parse_log_level(std::string_view text) {
  using L = config::LogLevel;
  for (L l : {L::Trace, L::Debug, L::Info, L::Warn, L::Error, L::Critical, L::Off})
    if (config::to_string(l) == text) return l;
  return std::nullopt;
}

Operations::Operations(uv_loop_t* loop, const util::Clock& clock, std::string version)
    : loop_(loop),
      clock_(clock),
      version_(std::move(version)),
      started_at_(clock.wall_seconds()),
      notifier_(Notifier::from_environment()) {}

Operations::~Operations() {
  // stop() must have completed: the servers abort if destroyed with open handles.
}

util::Expected<void, std::string> Operations::start(const config::Config& cfg,
                                                    cache::MessageCache& cache,
                                                    OperationsHooks hooks) {
  cache_ = &cache;
  hooks_ = std::move(hooks);
  persist_ = cfg.cache.persist;
  persist_file_ = cfg.cache.persist_file;

  std::optional<UserIds> target;
  const bool dropping = !cfg.server.user.empty() && ::geteuid() == 0;
  if (dropping) {
    auto ids = lookup_user(cfg.server.user);
    if (!ids) return util::unexpected(ids.error());
    target = *ids;
  }

  // cache.persist: entries dumped at the last stop, those past their stale window skipped.
  if (persist_) {
    std::ifstream in(persist_file_, std::ios::binary);
    if (in) {
      loaded_ = cache.load(in);
      spdlog::info("[cache] loaded {} entries from {}", loaded_, persist_file_);
    } else {
      spdlog::info("[cache] no saved cache at {}: starting empty", persist_file_);
    }
    if (target) {  // the dump at stop is written as server.user
      std::string dir = persist_file_.substr(0, persist_file_.rfind('/'));
      if (!dir.empty() && ::mkdir(dir.c_str(), 0750) == 0 &&
          ::chown(dir.c_str(), target->uid, target->gid) != 0)
        spdlog::warn("[cache] cannot hand {} to {}", dir, cfg.server.user);
    }
  }

  if (!cfg.control.socket.empty()) {
    server::ControlOptions co;
    co.path = cfg.control.socket;
    if (target) {
      co.owner = target->uid;
      co.group = target->gid;
    }
    control_ = std::make_unique<server::ControlServer>(loop_, co);
    server::ControlContext ctx;
    ctx.cache = &cache;
    // Per-query counters only when the pipeline reports replies to metrics(); otherwise they
    // would read zero next to the pipeline's own counts.
    ctx.metrics = hooks_.queries_served ? nullptr : &metrics_;
    ctx.queries_served = hooks_.queries_served;
    ctx.clock = &clock_;
    ctx.version = version_;
    ctx.started_at = started_at_;
    ctx.reload = hooks_.reload;
    if (hooks_.set_log_level) {
      ctx.set_log_level = [set = hooks_.set_log_level](std::string_view text)
          -> util::Expected<void, std::string> {
        auto level = parse_log_level(text);
        if (!level)
          return util::unexpected("unknown level '" + std::string(text) +
                                  "' (trace, debug, info, warn, error, critical, off)");
        set(*level);
        return {};
      };
    }
    ctx.status_extra = hooks_.status_extra;
    ctx.stats_extra = hooks_.stats_extra;
    server::register_standard_commands(*control_, std::move(ctx));
    if (auto r = control_->start(); !r) return util::unexpected(r.error());
    spdlog::info("[control] listening on {}", cfg.control.socket);
  }

  if (cfg.metrics.listen) {
    metrics_.set_cache_reader([&cache] {
      const auto& s = cache.stats();
      server::CacheReading c;
      c.hits = s.hits;
      c.misses = s.misses;
      c.stale_hits = s.stale_hits;
      c.inserts = s.inserts;
      c.evictions = s.evictions;
      c.entries = cache.entries();
      c.bytes = cache.bytes_used();
      return c;
    });
    http_ = std::make_unique<server::MetricsHttpServer>(
        loop_, [this](std::string& out) { metrics_.render(out); });
    if (auto r = http_->start(*cfg.metrics.listen); !r) return util::unexpected(r.error());
    spdlog::info("[metrics] serving /metrics on {}", http_->endpoint().to_string());
  }

  if (target) {
    if (auto r = drop_privileges(cfg.server.user); !r) return util::unexpected(r.error());
    spdlog::info("[daemon] running as {} (uid {}, gid {})", cfg.server.user, target->uid,
                 target->gid);
  } else if (!cfg.server.user.empty()) {
    // Not root: fine when we already are that user (systemd User=), an error otherwise.
    if (auto r = drop_privileges(cfg.server.user); !r) return util::unexpected(r.error());
  }
  started_ = true;
  return {};
}

std::string Operations::status_line() const {
  uint64_t queries = hooks_.queries_served
                         ? hooks_.queries_served()
                         : metrics_.queries_total(server::Transport::Udp) +
                               metrics_.queries_total(server::Transport::Tcp);
  size_t entries = cache_ ? cache_->entries() : 0;
  return "serving: " + std::to_string(queries) + " queries, " + std::to_string(entries) +
         " cache entries";
}

std::optional<net::Endpoint> Operations::metrics_endpoint() const {
  if (!http_) return std::nullopt;
  return http_->endpoint();
}

void Operations::send_status() {
  if (auto r = notifier_.status(status_line()); !r)
    spdlog::debug("[daemon] sd_notify STATUS: {}", to_string(r.error()));
}

void Operations::ready() {
  if (auto r = notifier_.ready(); !r)
    spdlog::warn("[daemon] sd_notify READY=1: {}", to_string(r.error()));
  if (!notifier_.enabled() || timer_open_) return;
  send_status();
  uv_timer_init(loop_, &status_timer_);
  status_timer_.data = this;
  timer_open_ = true;
  uv_timer_start(
      &status_timer_,
      [](uv_timer_t* t) noexcept { static_cast<Operations*>(t->data)->send_status(); },
      kStatusIntervalMs, kStatusIntervalMs);
  // The status refresh alone must not keep the loop (and so ternd) alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&status_timer_));
}

void Operations::reloading() {
  if (auto r = notifier_.reloading(); !r)
    spdlog::warn("[daemon] sd_notify RELOADING=1: {}", to_string(r.error()));
}

void Operations::reloaded() {
  if (auto r = notifier_.ready(); !r)
    spdlog::warn("[daemon] sd_notify READY=1: {}", to_string(r.error()));
  send_status();
}

void Operations::stopping() {
  if (stopping_sent_) return;
  stopping_sent_ = true;
  if (auto r = notifier_.stopping(); !r)
    spdlog::warn("[daemon] sd_notify STOPPING=1: {}", to_string(r.error()));
}

void Operations::stop(std::function<void()> done) {
  stopping();
  on_stopped_ = std::move(done);
  if (persist_ && cache_ && started_) {  // a failed start must not overwrite the saved cache
    // As `ternctl cache dump`: a temporary file renamed when complete.
    const std::string tmp = persist_file_ + ".tmp";
    bool ok = false;
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      ok = out && cache_->dump(out) && out.flush();
    }
    if (ok && std::rename(tmp.c_str(), persist_file_.c_str()) == 0) {
      spdlog::info("[cache] saved {} entries to {}", cache_->entries(), persist_file_);
    } else {
      (void)std::remove(tmp.c_str());  // best effort: the save already failed, said below
      spdlog::error("[cache] cannot save the cache to {}", persist_file_);
    }
  }
  closing_ = 1;  // held until every close below has been started
  if (timer_open_) {
    ++closing_;
    uv_close(reinterpret_cast<uv_handle_t*>(&status_timer_), [](uv_handle_t* h) noexcept {
      auto* self = static_cast<Operations*>(h->data);
      self->timer_open_ = false;
      --self->closing_;
      self->maybe_done();
    });
  }
  if (control_) {
    ++closing_;
    control_->close([this] {
      --closing_;
      maybe_done();
    });
  }
  if (http_) {
    ++closing_;
    http_->close([this] {
      --closing_;
      maybe_done();
    });
  }
  --closing_;
  maybe_done();
}

void Operations::maybe_done() {
  if (closing_ != 0 || !on_stopped_) return;
  auto done = std::move(on_stopped_);
  on_stopped_ = nullptr;
  done();
}

}  // namespace tern::daemon
