#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "../server_ops/test_client.hpp"
#include "dns/name.hpp"
#include "support/operations.hpp"
#include "support/privileges.hpp"

using namespace tern;
using namespace tern::daemon;

namespace {

// systemd's notify socket, played by the test.
struct NotifySink {
  int fd;
  std::string path;
  NotifySink() : path("/tmp/tern-ops-notify-" + std::to_string(::getpid()) + ".sock") {
    ::unlink(path.c_str());
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  }
  ~NotifySink() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    while (::poll(&p, 1, 0) == 1) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

dns::Message a_response(const char* owner, uint32_t ttl) {
  dns::Message m;
  m.header.qr = true;
  m.header.ra = true;
  dns::ResourceRecord rr;
  rr.name = *dns::Name::from_text(owner);
  rr.type = dns::RRType::A;
  rr.ttl = ttl;
  rr.rdata = {192, 0, 2, 1};
  m.answer.push_back(rr);
  return m;
}

void insert(cache::MessageCache& c, const char* name, uint32_t ttl) {
  dns::Name lower = dns::Name::from_text(name)->lowered();
  c.insert(cache::CacheKey{lower.wire(), 1, 1, 0}, a_response(name, ttl));
}

std::string http_get(uint16_t port) {
  int fd = test::connect_tcp(port);
  if (fd < 0) return "";
  test::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = test::read_all(fd);
  ::close(fd);
  return r;
}

}  // namespace

TEST_CASE("ternd's operations start, answer ternctl and scrapes, notify in order and persist the cache across a restart", "[daemon][operations]") {
  NotifySink systemd;
  ::setenv("NOTIFY_SOCKET", systemd.path.c_str(), 1);
  const std::string dir = "/tmp/tern-ops-" + std::to_string(::getpid());
  config::Config cfg;
  cfg.control.socket = dir + "/run/control.sock";
  cfg.metrics.listen = *net::parse_endpoint("127.0.0.1:0");
  cfg.cache.persist = true;
  cfg.cache.persist_file = dir + "/cache.dump";
  ::mkdir(dir.c_str(), 0755);
  ::unlink(cfg.cache.persist_file.c_str());

  util::FakeClock clock;
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<config::LogLevel> levels;
  int reloads = 0;

  {
    cache::MessageCache cache(cache::CacheOptions{}, clock);
    Operations ops(&loop, clock, "0.1.0");
    OperationsHooks hooks;
    hooks.reload = [&]() -> util::Expected<std::vector<std::string>, std::string> {
      ++reloads;
      return std::vector<std::string>{};
    };
    hooks.set_log_level = [&](config::LogLevel l) { levels.push_back(l); };
    auto started = ops.start(cfg, cache, hooks);
    REQUIRE(started);
    CHECK(ops.loaded_entries() == 0);
    insert(cache, "short.example", 60);
    insert(cache, "long.example", 3600);
    ops.metrics().query_answered(server::Transport::Udp, 1, 0, server::AnswerSource::Cache, 30);
    ops.ready();
    const uint16_t port = ops.metrics_endpoint()->port;

    std::string status, level, bad_level, scrape;
    test::run_with_client(
        &loop,
        [&] {
          int fd = test::connect_unix(cfg.control.socket);
          REQUIRE(fd >= 0);
          test::send_all(fd, "status\nlog-level debug\nlog-level loud\nreload\n");
          status = test::read_line(fd);
          level = test::read_line(fd);
          bad_level = test::read_line(fd);
          test::read_line(fd);
          ::close(fd);
          scrape = http_get(port);
        },
        [&] {
          ops.reloading();
          ops.reloaded();
          ops.stop([] {});
        });

    CHECK(status.find("\"queries\":1") != std::string::npos);
    CHECK(status.find("\"cache_entries\":2") != std::string::npos);
    CHECK(level == R"({"ok":true,"result":{"level":"debug"}})");
    CHECK(bad_level ==
          R"j({"ok":false,"error":"unknown level 'loud' (trace, debug, info, warn, error, critical, off)"})j");
    CHECK(levels == std::vector<config::LogLevel>{config::LogLevel::Debug});
    CHECK(reloads == 1);
    CHECK(scrape.find("tern_cache_entries 2\n") != std::string::npos);
    CHECK(scrape.find("tern_queries_total{transport=\"udp\",qtype=\"A\",rcode=\"NOERROR\"} 1\n") !=
          std::string::npos);

    auto msgs = systemd.drain();
    REQUIRE(msgs.size() == 6);
    CHECK(msgs[0] == "READY=1");
    CHECK(msgs[1] == "STATUS=serving: 1 queries, 2 cache entries");
    CHECK(msgs[2].rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
    CHECK(msgs[3] == "READY=1");
    CHECK(msgs[4] == "STATUS=serving: 1 queries, 2 cache entries");
    CHECK(msgs[5] == "STOPPING=1");
    struct stat st{};
    CHECK(::stat(cfg.control.socket.c_str(), &st) != 0);  // removed at stop
    CHECK(::stat(cfg.cache.persist_file.c_str(), &st) == 0);
  }

  // Restart two minutes later: the 60 s entry has expired (its stale window aside) and the
  // other is back with its remaining lifetime.
  clock.advance_seconds(120);
  {
    cache::CacheOptions co;
    co.serve_stale = false;
    cache::MessageCache cache(co, clock);
    Operations ops(&loop, clock, "0.1.0");
    config::Config again = cfg;
    again.metrics.listen.reset();
    REQUIRE(ops.start(again, cache, {}));
    CHECK(ops.loaded_entries() == 1);
    CHECK(cache.entries() == 1);
    bool stopped = false;
    ops.stop([&] { stopped = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(stopped);
  }
  ::unsetenv("NOTIFY_SOCKET");
  CHECK(uv_loop_close(&loop) == 0);
  ::unlink(cfg.cache.persist_file.c_str());
  ::rmdir((dir + "/run").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a control socket that cannot be created fails start with its reason", "[daemon][operations]") {
  ::unsetenv("NOTIFY_SOCKET");
  config::Config cfg;
  cfg.control.socket = "/proc/tern-cannot/control.sock";
  util::FakeClock clock;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    cache::MessageCache cache(cache::CacheOptions{}, clock);
    Operations ops(&loop, clock, "0.1.0");
    auto r = ops.start(cfg, cache, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().find("/proc/tern-cannot") != std::string::npos);
    ops.stop([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("log levels are named as in the config", "[daemon][operations]") {
  CHECK(parse_log_level("warn") == config::LogLevel::Warn);
  CHECK(parse_log_level("off") == config::LogLevel::Off);
  CHECK_FALSE(parse_log_level("WARN"));
  CHECK_FALSE(parse_log_level("warning"));
}

TEST_CASE("started as root with server.user, ternd binds first and then runs as that user", "[daemon][operations][privileges]") {
  if (::geteuid() != 0) {
    WARN("not root: the bind-then-drop sequence cannot be exercised");
    return;
  }
  ::unsetenv("NOTIFY_SOCKET");
  auto nobody = lookup_user("nobody");
  REQUIRE(nobody);
  const std::string dir = "/tmp/tern-ops-drop-" + std::to_string(::getpid());
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    auto result = [&]() -> std::string {
      config::Config cfg;
      cfg.server.user = "nobody";
      cfg.control.socket = dir + "/control.sock";
      cfg.metrics.listen = *net::parse_endpoint("127.0.0.1:0");
      util::FakeClock clock;
      uv_loop_t loop;
      uv_loop_init(&loop);
      cache::MessageCache cache(cache::CacheOptions{}, clock);
      Operations ops(&loop, clock, "0.1.0");
      auto r = ops.start(cfg, cache, {});
      if (!r) return "start failed: " + r.error();
      if (::getuid() != nobody->uid || ::geteuid() != nobody->uid) return "still root after start";
      if (::getgid() != nobody->gid) return "gid not nobody's";
      struct stat st{};
      if (::stat(cfg.control.socket.c_str(), &st) != 0) return "no control socket";
      if (st.st_uid != nobody->uid || (st.st_mode & 0777) != 0660) return "socket not nobody's 0660";
      if (::stat(dir.c_str(), &st) != 0 || st.st_uid != nobody->uid) return "socket dir not nobody's";
      if (::setuid(0) == 0) return "root regained";
      bool stopped = false;
      ops.stop([&] { stopped = true; });
      uv_run(&loop, UV_RUN_DEFAULT);
      if (!stopped) return "stop did not finish";
      if (::stat(cfg.control.socket.c_str(), &st) == 0) return "socket left behind after the drop";
      return "";
    }();
    (void)!::write(p[1], result.data(), result.size());
    ::_exit(0);
  }
  ::close(p[1]);
  std::string failure;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) failure.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  ::rmdir(dir.c_str());
  CHECK(failure == "");
}
