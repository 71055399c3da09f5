#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "support/listen_fds.hpp"

using tern::daemon::ListenFdsError;
using tern::daemon::take_listen_fds;

namespace {

// Fds where the test places "inherited" sockets, far from anything Catch2 or libc holds.
constexpr int kFirst = 200;

int bound_socket(int type) {
  int fd = ::socket(AF_INET, type, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  if (type == SOCK_STREAM) REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

// Moves fd to `at` without close-on-exec, as systemd passes it.
void place(int fd, int at) {
  REQUIRE(::dup2(fd, at) == at);
  ::close(fd);
}

void set_env(const std::string& pid, const std::string& fds, const char* names) {
  ::setenv("LISTEN_PID", pid.c_str(), 1);
  ::setenv("LISTEN_FDS", fds.c_str(), 1);
  if (names)
    ::setenv("LISTEN_FDNAMES", names, 1);
  else
    ::unsetenv("LISTEN_FDNAMES");
}

bool env_cleared() {
  return !std::getenv("LISTEN_PID") && !std::getenv("LISTEN_FDS") && !std::getenv("LISTEN_FDNAMES");
}

}  // namespace

TEST_CASE("sockets passed by systemd come back with their type, address and name", "[daemon][listen]") {
  place(bound_socket(SOCK_DGRAM), kFirst);
  place(bound_socket(SOCK_STREAM), kFirst + 1);
  set_env(std::to_string(::getpid()), "2", "dns-udp:dns-tcp");

  auto got = take_listen_fds(kFirst);
  REQUIRE(got);
  REQUIRE(got->size() == 2);
  const auto& udp = (*got)[0];
  const auto& tcp = (*got)[1];
  CHECK(udp.fd == kFirst);
  CHECK(udp.type == SOCK_DGRAM);
  CHECK(udp.family == AF_INET);
  CHECK(udp.name == "dns-udp");
  REQUIRE(udp.local);
  CHECK(udp.local->address.to_string() == "127.0.0.1");
  CHECK(udp.local->port != 0);
  CHECK(tcp.type == SOCK_STREAM);
  CHECK(tcp.name == "dns-tcp");
  REQUIRE(tcp.local);
  CHECK(tcp.local->address.to_string() == "127.0.0.1");
  CHECK((::fcntl(kFirst, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(kFirst + 1, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(env_cleared());
  ::close(kFirst);
  ::close(kFirst + 1);
}

TEST_CASE("sockets meant for another process are left alone", "[daemon][listen]") {
  place(bound_socket(SOCK_DGRAM), kFirst);
  set_env(std::to_string(::getpid() + 1), "1", nullptr);
  auto got = take_listen_fds(kFirst);
  REQUIRE(got);
  CHECK(got->empty());
  CHECK((::fcntl(kFirst, F_GETFD) & FD_CLOEXEC) == 0);
  CHECK(env_cleared());
  ::close(kFirst);
}

TEST_CASE("without LISTEN_PID there is nothing to take", "[daemon][listen]") {
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  auto got = take_listen_fds(kFirst);
  REQUIRE(got);
  CHECK(got->empty());
}

TEST_CASE("a broken socket-activation environment is an error", "[daemon][listen]") {
  const std::string me = std::to_string(::getpid());
  set_env("12abc", "1", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::BadListenPid);
  CHECK(env_cleared());
  set_env(me, "-1", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::BadListenFds);
  set_env(me, "100000", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::BadListenFds);
  set_env(me, "", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::BadListenFds);

  place(bound_socket(SOCK_DGRAM), kFirst);
  set_env(me, "1", "a:b");
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::NameCountMismatch);
  ::close(kFirst);

  // A count that runs past the sockets actually passed: the fd is closed.
  set_env(me, "1", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::NotASocket);

  // An fd that is open but not a socket.
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  place(pipefd[0], kFirst);
  set_env(me, "1", nullptr);
  CHECK(take_listen_fds(kFirst).error() == ListenFdsError::NotASocket);
  ::close(kFirst);
  ::close(pipefd[1]);
}
