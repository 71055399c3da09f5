#include <catch2/catch.hpp>
#include <string>

#include "server/metrics_http.hpp"
#include "test_client.hpp"

using namespace tern::server;
using namespace tern::test;

namespace {

struct Fixture {
  uv_loop_t loop{};
  int renders = 0;
  MetricsHttpServer server;
  uint16_t port = 0;

  explicit Fixture(MetricsHttpOptions opts = {})
      : server((uv_loop_init(&loop), &loop),
               [this](std::string& out) {
                 ++renders;
                 out += "# HELP tern_x_total X.\n# TYPE tern_x_total counter\ntern_x_total 1\n";
               },
               opts) {
    auto ep = tern::net::parse_endpoint("127.0.0.1:0");
    REQUIRE(ep);
    REQUIRE(server.start(*ep));
    port = server.endpoint().port;
    REQUIRE(port != 0);
  }
  ~Fixture() { uv_loop_close(&loop); }

  // Runs the loop while `client` talks to the server, then closes the server.
  void run(std::function<void()> client) {
    bool closed = false;
    run_with_client(&loop, std::move(client), [&] { server.close([&] { closed = true; }); });
    CHECK(closed);
    CHECK(server.connections() == 0);
  }
};

std::string http_exchange(uint16_t port, const std::string& request) {
  int fd = connect_tcp(port);
  if (fd < 0) return "connect failed";
  send_all(fd, request);
  std::string r = read_all(fd);
  ::close(fd);
  return r;
}

}  // namespace

TEST_CASE("GET /metrics returns the exposition with the Prometheus content type and closes", "[metrics][http]") {
  Fixture f;
  std::string reply;
  f.run([&] { reply = http_exchange(f.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"); });
  CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(reply.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(reply.find("Connection: close\r\n") != std::string::npos);
  const std::string body = "# HELP tern_x_total X.\n# TYPE tern_x_total counter\ntern_x_total 1\n";
  CHECK(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(reply.substr(reply.size() - body.size()) == body);
  CHECK(f.renders == 1);
  CHECK(f.server.stats().requests == 1);
}

TEST_CASE("other paths, methods and malformed requests get 404, 405 and 400", "[metrics][http]") {
  Fixture f;
  std::string not_found, query_ok, post, garbage, old_version, head;
  f.run([&] {
    not_found = http_exchange(f.port, "GET / HTTP/1.1\r\n\r\n");
    query_ok = http_exchange(f.port, "GET /metrics?name[]=x HTTP/1.0\n\n");
    post = http_exchange(f.port, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    garbage = http_exchange(f.port, std::string("\x16\x03\x01\x02\x00\x01\x00\r\n\r\n", 11));
    old_version = http_exchange(f.port, "GET /metrics HTTP/2.0\r\n\r\n");
    head = http_exchange(f.port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  });
  CHECK(not_found.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(query_ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(post.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(garbage.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(old_version.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");  // headers only
  CHECK(f.server.stats().not_found == 1);
}

TEST_CASE("an endless request head is cut off at the limit", "[metrics][http]") {
  Fixture f;
  std::string reply;
  f.run([&] {
    int fd = connect_tcp(f.port);
    REQUIRE(fd >= 0);
    send_all(fd, "GET /metrics HTTP/1.1\r\n");
    std::string header = "X-Filler: " + std::string(1000, 'a') + "\r\n";
    for (int i = 0; i < 10; ++i)
      if (!send_all(fd, header)) break;
    reply = read_all(fd);
    ::close(fd);
  });
  CHECK(reply.rfind("HTTP/1.1 431 ", 0) == 0);
  CHECK(f.renders == 0);
}

TEST_CASE("a client that never finishes its request is disconnected at the timeout", "[metrics][http]") {
  MetricsHttpOptions opts;
  opts.request_timeout_ms = 200;
  Fixture f(opts);
  std::string reply = "unset";
  uint64_t start = uv_hrtime();
  uint64_t elapsed_ms = 0;
  f.run([&] {
    int fd = connect_tcp(f.port);
    REQUIRE(fd >= 0);
    send_all(fd, "GET /metr");
    reply = read_all(fd);  // EOF from the server, well before the 5 s receive timeout
    elapsed_ms = (uv_hrtime() - start) / 1'000'000u;
    ::close(fd);
  });
  CHECK(reply.empty());
  CHECK(elapsed_ms >= 150);
  CHECK(elapsed_ms < 4000);
  CHECK(f.server.stats().timeouts == 1);
}

TEST_CASE("connections beyond the cap are closed at once", "[metrics][http]") {
  MetricsHttpOptions opts;
  opts.max_connections = 2;
  opts.request_timeout_ms = 3000;
  Fixture f(opts);
  std::string third;
  std::string first_reply;
  f.run([&] {
    int a = connect_tcp(f.port);
    int b = connect_tcp(f.port);
    send_all(a, "GET /met");  // held open, unfinished
    send_all(b, "GET /met");
    int c = connect_tcp(f.port);
    third = read_all(c);  // closed without a response
    ::close(c);
    send_all(a, "rics HTTP/1.1\r\n\r\n");
    first_reply = read_all(a);
    ::close(a);
    ::close(b);
  });
  CHECK(third.empty());
  CHECK(first_reply.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(f.server.stats().refused == 1);
}

TEST_CASE("a port already in use is reported with its address", "[metrics][http]") {
  Fixture f;
  uv_loop_t loop2;
  uv_loop_init(&loop2);
  {
    MetricsHttpServer second(&loop2, [](std::string&) {});
    auto r = second.start(f.server.endpoint());
    REQUIRE_FALSE(r);
    CHECK(r.error().find("127.0.0.1:" + std::to_string(f.port)) != std::string::npos);
    CHECK(r.error().find("address already in use") != std::string::npos);
    second.close([] {});
    uv_run(&loop2, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop2);
  f.run([] {});
}
