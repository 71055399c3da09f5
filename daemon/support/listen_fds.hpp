// Socket activation (sd_listen_fds(3)) without libsystemd: when ternd.socket starts ternd,
// systemd passes the bound UDP/TCP sockets as fds 3..3+N-1 and describes them in LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES. take_listen_fds() claims them once at start-up: it checks
// that they are meant for this process, marks them close-on-exec, asks each for its type and
// bound address, and removes the variables so nothing we start inherits them.
//
// Caller: daemon/run.cpp before creating listeners. Each socket is then handed to libuv with
// uv_udp_open() (SOCK_DGRAM) or uv_tcp_open() (SOCK_STREAM, already listening) instead of
// binding a new one; listeners in the config that no inherited socket covers are bound as usual.
// Invariant: an fd is returned only when LISTEN_PID names this process; every returned fd is a
// socket and the caller owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/endpoint.hpp"
#include "util/expected.hpp"

namespace tern::daemon {

// SD_LISTEN_FDS_START: systemd always passes the first socket as fd 3.
inline constexpr int kListenFdsStart = 3;
// More inherited sockets than this is a broken environment, not a configuration.
inline constexpr int kMaxListenFds = 256;

struct InheritedSocket {
  int fd = -1;
  int type = 0;                          // SOCK_DGRAM or SOCK_STREAM (SO_TYPE)
  int family = 0;                        // AF_INET, AF_INET6, AF_UNIX...
  std::optional<net::Endpoint> local;    // getsockname() for AF_INET/AF_INET6
  std::string name;                      // from LISTEN_FDNAMES (FileDescriptorName=), or ""
};

enum class ListenFdsError : uint8_t {
  BadListenPid,    // LISTEN_PID is not a decimal pid
  BadListenFds,    // LISTEN_FDS is not a decimal count in 1..kMaxListenFds
  NameCountMismatch,  // LISTEN_FDNAMES does not name exactly LISTEN_FDS sockets
  NotASocket,      // a passed fd is closed or not a socket
};
const char* to_string(ListenFdsError e);

// Returns the inherited sockets; an empty vector when ternd was not socket-activated (or the
// variables are for another process). first_fd exists for tests; systemd always uses 3.
// The environment variables are unset in every case.
util::Expected<std::vector<InheritedSocket>, ListenFdsError> take_listen_fds(
    int first_fd = kListenFdsStart);

}  // namespace tern::daemon
