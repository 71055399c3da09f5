#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <stdexcept>
#include <string>

#include "server/control_json.hpp"
#include "server/control_server.hpp"
#include "test_client.hpp"

using namespace tern::server;
using namespace tern::test;

namespace {

std::string temp_socket_path(const char* tag) {
  return "/tmp/tern-ctl-" + std::to_string(::getpid()) + "-" + tag + "/control.sock";
}

void remove_path(const std::string& path) {
  ::unlink(path.c_str());
  ::rmdir(path.substr(0, path.rfind('/')).c_str());
}

// A server with an echo command and a few misbehaving ones.
struct Fixture {
  uv_loop_t loop{};
  ControlServer server;
  std::vector<CommandArgs> seen;

  explicit Fixture(ControlOptions opts)
      : server((uv_loop_init(&loop), &loop), std::move(opts)) {
    server.add_command("echo", "echo WORD...", [this](const CommandArgs& args) -> CommandResult {
      seen.push_back(args);
      JsonWriter w;
      w.begin_array();
      for (const auto& a : args) w.value(a);
      w.end_array();
      return w.take();
    });
    server.add_command("fail", "fail", [](const CommandArgs&) -> CommandResult {
      return tern::util::unexpected(std::string("it failed on purpose"));
    });
    server.add_command("throw", "throw", [](const CommandArgs&) -> CommandResult {
      throw std::runtime_error("config file vanished");
    });
  }
  ~Fixture() {
    uv_loop_close(&loop);
    remove_path(server.path());
  }
  void run(std::function<void()> client) {
    bool closed = false;
    run_with_client(&loop, std::move(client), [&] { server.close([&] { closed = true; }); });
    CHECK(closed);
  }
  void close_unstarted() {
    server.close([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
  }
};

ControlOptions options(const char* tag) {
  ControlOptions o;
  o.path = temp_socket_path(tag);
  remove_path(o.path);
  return o;
}

}  // namespace

TEST_CASE("a text request line runs the named command with its words", "[control]") {
  Fixture f(options("text"));
  CHECK(f.server.execute("echo example.com subtree") == R"({"ok":true,"result":["example.com","subtree"]})");
  CHECK(f.server.execute("  echo   \"/var/lib/tern/my cache.dump\"  \r") ==
        R"({"ok":true,"result":["/var/lib/tern/my cache.dump"]})");
  CHECK(f.server.execute(R"(echo "a\"b\\c" "")") == R"({"ok":true,"result":["a\"b\\c",""]})");
  CHECK(f.server.execute("") == "");
  CHECK(f.server.execute("   ") == "");
  f.close_unstarted();
}

TEST_CASE("a JSON request line runs the command with its args", "[control]") {
  Fixture f(options("json"));
  CHECK(f.server.execute(R"({"cmd":"echo","args":["x y","z"]})") == R"({"ok":true,"result":["x y","z"]})");
  CHECK(f.server.execute(R"({"cmd":"echo"})") == R"({"ok":true,"result":[]})");
  CHECK(f.server.execute(R"({"cmd":"echo","args":[1]})") ==
        R"({"ok":false,"error":"bad request: \"args\" must be an array of strings"})");
  CHECK(f.server.execute(R"({"args":[]})") == R"({"ok":false,"error":"bad request: no \"cmd\" string"})");
  CHECK(f.server.execute(R"({"cmd":"echo")") ==
        R"({"ok":false,"error":"bad request: unexpected end of JSON"})");
  f.close_unstarted();
}

TEST_CASE("unknown commands, failures and exceptions become error responses", "[control]") {
  Fixture f(options("errors"));
  CHECK(f.server.execute("frobnicate") == R"j({"ok":false,"error":"unknown command 'frobnicate' (try help)"})j");
  CHECK(f.server.execute("fail") == R"({"ok":false,"error":"it failed on purpose"})");
  CHECK(f.server.execute("throw") == R"({"ok":false,"error":"throw failed: config file vanished"})");
  CHECK(f.server.execute("echo \"unterminated") ==
        R"({"ok":false,"error":"bad request: unterminated quoted word"})");
  CHECK(f.server.execute("echo a\"b") == R"({"ok":false,"error":"bad request: quote inside a word"})");
  auto help = parse_json(f.server.execute("help"));
  REQUIRE(help);
  const JsonValue* cmds = help->find("result")->find("commands");
  REQUIRE(cmds);
  CHECK(cmds->items.size() == 4);
  CHECK(cmds->items[0].find("name")->text == "echo");
  CHECK(cmds->items[0].find("usage")->text == "echo WORD...");
  f.close_unstarted();
}

TEST_CASE("the socket is created mode 0660 and answers pipelined requests in order", "[control]") {
  Fixture f(options("socket"));
  REQUIRE(f.server.start());
  struct stat st{};
  REQUIRE(::stat(f.server.path().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0660);
  std::string r1, r2, r3, after_eof;
  f.run([&] {
    int fd = connect_unix(f.server.path());
    REQUIRE(fd >= 0);
    send_all(fd, "echo one\n{\"cmd\":\"echo\",\"args\":[\"two\"]}\n\nno-such\n");
    r1 = read_line(fd);
    r2 = read_line(fd);
    r3 = read_line(fd);
    ::shutdown(fd, SHUT_WR);
    after_eof = read_all(fd);
    ::close(fd);
  });
  CHECK(r1 == R"({"ok":true,"result":["one"]})");
  CHECK(r2 == R"({"ok":true,"result":["two"]})");
  CHECK(r3 == R"j({"ok":false,"error":"unknown command 'no-such' (try help)"})j");
  CHECK(after_eof.empty());
  struct stat gone{};
  CHECK(::stat(f.server.path().c_str(), &gone) != 0);  // removed on close
}

TEST_CASE("binary garbage gets error lines and an overlong line closes the connection", "[control]") {
  Fixture f(options("garbage"));
  REQUIRE(f.server.start());
  std::string garbage_reply, long_reply, rest;
  f.run([&] {
    int fd = connect_unix(f.server.path());
    REQUIRE(fd >= 0);
    send_all(fd, std::string("\x00\xff{\x01\"\n", 6));
    garbage_reply = read_line(fd);
    send_all(fd, std::string(5000, 'x'));
    long_reply = read_line(fd);
    rest = read_all(fd);
    ::close(fd);
  });
  auto g = parse_json(garbage_reply);
  REQUIRE(g);
  CHECK_FALSE(g->find("ok")->boolean);
  CHECK(long_reply == R"({"ok":false,"error":"request line longer than 4096 bytes"})");
  CHECK(rest.empty());
  CHECK(f.seen.empty());
}

TEST_CASE("connections beyond the cap are told so and closed; idle ones time out", "[control]") {
  ControlOptions o = options("cap");
  o.max_connections = 1;
  o.idle_timeout_ms = 300;
  Fixture f(o);
  REQUIRE(f.server.start());
  std::string second, first_after_idle;
  uint64_t idle_ms = 0;
  f.run([&] {
    int a = connect_unix(f.server.path());
    REQUIRE(a >= 0);
    send_all(a, "echo a\n");
    REQUIRE(read_line(a) == R"({"ok":true,"result":["a"]})");
    int b = connect_unix(f.server.path());
    second = read_all(b);
    ::close(b);
    uint64_t t0 = uv_hrtime();
    first_after_idle = read_all(a);  // the server closes it after 300 ms of silence
    idle_ms = (uv_hrtime() - t0) / 1'000'000u;
    ::close(a);
  });
  CHECK(second == "{\"ok\":false,\"error\":\"too many control connections\"}\n");
  CHECK(first_after_idle.empty());
  CHECK(idle_ms < 4000);
}

TEST_CASE("a stale socket file is replaced but a live one or a regular file is refused", "[control]") {
  ControlOptions o = options("stale");
  {
    // Leave a socket file nobody listens on, as a crashed ternd would.
    ::mkdir(o.path.substr(0, o.path.rfind('/')).c_str(), 0755);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, o.path.c_str(), sizeof sun.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
    ::close(fd);
  }
  Fixture live(o);
  REQUIRE(live.server.start());

  uv_loop_t loop2;
  uv_loop_init(&loop2);
  {
    ControlServer second(&loop2, o);
    auto r = second.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().find("is in use by another process (is ternd already running?)") != std::string::npos);
    second.close([] {});
    uv_run(&loop2, UV_RUN_DEFAULT);
  }
  live.run([] {});

  { std::ofstream(o.path) << "not a socket"; }
  {
    ControlServer third(&loop2, o);
    auto r = third.start();
    REQUIRE_FALSE(r);
    CHECK(r.error() == "control socket " + o.path + " exists and is not a socket");
    third.close([] {});
    uv_run(&loop2, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop2);
}
