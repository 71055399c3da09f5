// Blocking socket helpers for the server_ops tests: a client runs on its own thread while the
// test thread runs the libuv loop, and tells the loop to finish through a uv_async_t.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <uv.h>

namespace tern::test {

// Connects to 127.0.0.1:port (or a unix path) with 5 s send/receive timeouts; -1 on failure.
inline int connect_tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof(sun.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Everything until EOF (or the receive timeout).
inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// One line (without the newline); "" on EOF/timeout.
inline std::string read_line(int fd) {
  std::string out;
  char c;
  while (::recv(fd, &c, 1, 0) == 1) {
    if (c == '\n') return out;
    out.push_back(c);
  }
  return out;
}

// Runs `client` on a thread while `loop` runs here; when the client returns, `finish` is run
// on the loop thread (it must close every handle so uv_run returns).
inline void run_with_client(uv_loop_t* loop, std::function<void()> client,
                            std::function<void()> finish) {
  struct Ctx {
    std::function<void()> finish;
  } ctx{std::move(finish)};
  uv_async_t async;
  uv_async_init(loop, &async, [](uv_async_t* a) noexcept {
    auto* c = static_cast<Ctx*>(a->data);
    c->finish();
    uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
  });
  async.data = &ctx;
  std::thread t([&] {
    client();
    uv_async_send(&async);
  });
  uv_run(loop, UV_RUN_DEFAULT);
  t.join();
}

}  // namespace tern::test
