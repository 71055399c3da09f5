#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <thread>

#include "control_client.hpp"
#include "render.hpp"
#include "server/control_server.hpp"
#include "support/privileges.hpp"
#include "test_client.hpp"

using namespace tern;
using tern::ternctl::ClientErrc;

namespace {

std::string temp_path(const char* tag) {
  return "/tmp/tern-ternctl-" + std::to_string(::getpid()) + "-" + tag + ".sock";
}

// A live control socket with a `stats` and an `echo` command, served on a loop on this thread
// while `client` runs on another.
void with_server(const std::string& path, const std::function<void()>& client) {
  ::unlink(path.c_str());
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    server::ControlOptions o;
    o.path = path;
    server::ControlServer s(&loop, o);
    s.add_command("stats", "stats", [](const server::CommandArgs&) -> server::CommandResult {
      return std::string(R"({"queries":{"udp":12,"tcp":3},"cache":{"entries":5,"bytes":18446744073709551615}})");
    });
    s.add_command("echo", "echo", [](const server::CommandArgs& a) -> server::CommandResult {
      server::JsonWriter w;
      w.begin_array();
      for (const auto& x : a) w.value(x);
      w.end_array();
      return w.take();
    });
    s.add_command("flush", "flush", [](const server::CommandArgs& a) -> server::CommandResult {
      if (a.size() == 1 && a[0] == "bad..name") return util::unexpected(std::string("bad name 'bad..name'"));
      return std::string("{\"flushed\":2}");
    });
    REQUIRE(s.start());
    test::run_with_client(&loop, client, [&] { s.close([] {}); });
  }
  uv_loop_close(&loop);
}

struct Run {
  int status = -1;
  std::string out;
};

Run run_ternctl(const std::string& args) {
  std::string cmd = std::string(TERNCTL_BIN) + " " + args + " 2>&1";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace

TEST_CASE("a command goes out as JSON and its result comes back parsed", "[ternctl]") {
  const std::string path = temp_path("roundtrip");
  util::Expected<ternctl::Response, ternctl::ClientError> r =
      util::unexpected(ternctl::ClientError{ClientErrc::ConnectFailed, "not run"});
  util::Expected<ternctl::Response, ternctl::ClientError> bad =
      util::unexpected(ternctl::ClientError{ClientErrc::ConnectFailed, "not run"});
  with_server(path, [&] {
    r = ternctl::call(path, "echo", {"cache dump", "/tmp/a \"b\"", ""}, 5000);
    bad = ternctl::call(path, "nope", {}, 5000);
  });
  REQUIRE(r);
  CHECK(r->ok);
  CHECK(r->result.dump() == R"(["cache dump","/tmp/a \"b\"",""])");
  REQUIRE(bad);
  CHECK_FALSE(bad->ok);
  CHECK(bad->error == "unknown command 'nope' (try help)");
}

TEST_CASE("no socket file means ternd is not running, and says what to check", "[ternctl]") {
  auto r = ternctl::call("/tmp/tern-no-such-dir/control.sock", "status", {}, 1000);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientErrc::NotRunning);
  CHECK(r.error().message ==
        "cannot connect to /tmp/tern-no-such-dir/control.sock: no such file — is ternd running? "
        "(systemctl status ternd)");
}

TEST_CASE("a socket nobody listens on is reported as a leftover", "[ternctl]") {
  const std::string path = temp_path("stale");
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  ::close(fd);
  auto r = ternctl::call(path, "status", {}, 1000);
  ::unlink(path.c_str());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ClientErrc::NotRunning);
  CHECK(r.error().message.find("connection refused") != std::string::npos);
}

TEST_CASE("a user outside group tern is told how to get access", "[ternctl]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot switch to an unprivileged user to provoke EACCES");
    return;
  }
  const std::string path = temp_path("perm");
  std::string message;
  with_server(path, [&] {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      std::string said = "drop failed";
      if (daemon::drop_privileges("nobody")) {
        auto r = ternctl::call(path, "status", {}, 1000);
        said = r ? "connected" : r.error().message;
      }
      (void)!::write(p[1], said.data(), said.size());
      ::_exit(0);
    }
    ::close(p[1]);
    char buf[512];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) message.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    ::waitpid(pid, nullptr, 0);
  });
  CHECK(message == "cannot connect to " + path +
                       ": permission denied — run as root or add yourself to group tern");
}

TEST_CASE("a daemon that never answers times out, one that sends garbage is refused", "[ternctl]") {
  const std::string path = temp_path("silent");
  ::unlink(path.c_str());
  int ls = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof sun.sun_path - 1);
  REQUIRE(::bind(ls, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  REQUIRE(::listen(ls, 4) == 0);
  // Connections queue in the backlog and are never answered.
  auto t0 = std::chrono::steady_clock::now();
  auto silent = ternctl::call(path, "status", {}, 300);
  auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(silent);
  CHECK(silent.error().code == ClientErrc::Timeout);
  CHECK(waited >= std::chrono::milliseconds(250));
  CHECK(waited < std::chrono::seconds(3));

  ::close(::accept(ls, nullptr, nullptr));  // the timed-out client's connection, long gone
  std::thread liar([&] {
    int c = ::accept(ls, nullptr, nullptr);
    test::read_line(c);
    test::send_all(c, "this is not json\n");
    ::close(c);
    c = ::accept(ls, nullptr, nullptr);
    test::read_line(c);
    ::close(c);  // hangs up without a word
  });
  auto garbage = ternctl::call(path, "status", {}, 3000);
  auto hangup = ternctl::call(path, "status", {}, 3000);
  liar.join();
  ::close(ls);
  ::unlink(path.c_str());
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code == ClientErrc::BadResponse);
  REQUIRE_FALSE(hangup);
  CHECK(hangup.error().code == ClientErrc::Disconnected);
}

TEST_CASE("results print as an aligned table of flattened keys", "[ternctl]") {
  auto v = server::parse_json(
      R"({"version":"0.1.0","queries":{"udp":12,"tcp":3},"listen":["127.0.0.1:53","[::1]:53"],)"
      R"("servers":[{"address":"127.53.0.1","rtt_ms":3.5}],"healthy":true,"note":null,"evil":"a\u001b[2Jb"})");
  REQUIRE(v);
  CHECK(ternctl::render_table(*v) ==
        "version             0.1.0\n"
        "queries.udp         12\n"
        "queries.tcp         3\n"
        "listen              127.0.0.1:53, [::1]:53\n"
        "servers[0].address  127.53.0.1\n"
        "servers[0].rtt_ms   3.5\n"
        "healthy             yes\n"
        "note                -\n"
        "evil                a\\x1b[2Jb\n");
  CHECK(ternctl::render_table(server::JsonValue{}) == "ok\n");
}

TEST_CASE("the ternctl binary prints tables or JSON and exits 0, 1, 2 or 3", "[ternctl]") {
  const std::string path = temp_path("binary");
  Run table, json, failed, unknown_cmd;
  with_server(path, [&] {
    table = run_ternctl("-s " + path + " stats");
    json = run_ternctl("-s " + path + " stats --json");
    failed = run_ternctl("-s " + path + " flush bad..name");
    unknown_cmd = run_ternctl("-s " + path + " frobnicate");
  });
  CHECK(table.status == 0);
  CHECK(table.out ==
        "queries.udp    12\nqueries.tcp    3\ncache.entries  5\ncache.bytes    18446744073709551615\n");
  CHECK(json.status == 0);
  CHECK(json.out == R"({"queries":{"udp":12,"tcp":3},"cache":{"entries":5,"bytes":18446744073709551615}})" "\n");
  CHECK(failed.status == 1);
  CHECK(failed.out == "ternctl: flush: bad name 'bad..name'\n");
  CHECK(unknown_cmd.status == 1);

  Run usage = run_ternctl("-s " + path + " flush a b");
  CHECK(usage.status == 2);
  CHECK(usage.out.rfind("ternctl: wrong arguments for flush\n", 0) == 0);
  Run down = run_ternctl("-s " + path + " status");
  CHECK(down.status == 3);
  CHECK(down.out == "ternctl: cannot connect to " + path +
                        ": no such file — is ternd running? (systemctl status ternd)\n");
}
