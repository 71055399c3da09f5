#include "support/listen_fds.hpp"
#include "net/sockaddr.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace tern::daemon {

const char* to_string(ListenFdsError e) {
  switch (e) {
    case ListenFdsError::BadListenPid: return "LISTEN_PID is not a process id";
    case ListenFdsError::BadListenFds: return "LISTEN_FDS is not a socket count";
    case ListenFdsError::NameCountMismatch: return "LISTEN_FDNAMES does not match LISTEN_FDS";
    case ListenFdsError::NotASocket: return "a socket passed by systemd is not a socket";
  }
  return "unknown socket activation error";
}

namespace {

template <class T>
std::optional<T> parse_decimal(std::string_view s) {
  T v{};
  if (s.empty() || s.size() > 10) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

struct EnvSnapshot {
  std::optional<std::string> pid, fds, names;
};

EnvSnapshot take_env() {
  auto get = [](const char* k) -> std::optional<std::string> {
    const char* v = std::getenv(k);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  EnvSnapshot s{get("LISTEN_PID"), get("LISTEN_FDS"), get("LISTEN_FDNAMES")};
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return s;
}

}  // namespace

util::Expected<std::vector<InheritedSocket>, ListenFdsError> take_listen_fds(int first_fd) {
  const EnvSnapshot env = take_env();
  std::vector<InheritedSocket> out;
  if (!env.pid || !env.fds) return out;
  auto pid = parse_decimal<pid_t>(*env.pid);
  if (!pid || *pid <= 0) return util::unexpected(ListenFdsError::BadListenPid);
  if (*pid != ::getpid()) return out;  // meant for a process that exec'd us, or our parent
  auto count = parse_decimal<int>(*env.fds);
  if (!count || *count < 0 || *count > kMaxListenFds)
    return util::unexpected(ListenFdsError::BadListenFds);

  std::vector<std::string> names;
  if (env.names) {
    std::string_view rest = *env.names;
    while (true) {
      auto colon = rest.find(':');
      names.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    if (names.size() != static_cast<size_t>(*count))
      return util::unexpected(ListenFdsError::NameCountMismatch);
  }

  out.reserve(static_cast<size_t>(*count));
  for (int i = 0; i < *count; ++i) {
    InheritedSocket s;
    s.fd = first_fd + i;
    int flags = ::fcntl(s.fd, F_GETFD);
    if (flags < 0 || ::fcntl(s.fd, F_SETFD, flags | FD_CLOEXEC) < 0)
      return util::unexpected(ListenFdsError::NotASocket);
    socklen_t len = sizeof(s.type);
    if (::getsockopt(s.fd, SOL_SOCKET, SO_TYPE, &s.type, &len) < 0)
      return util::unexpected(ListenFdsError::NotASocket);
    sockaddr_storage ss{};
    len = sizeof(ss);
    if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      s.family = ss.ss_family;
      s.local = net::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
    }
    if (!names.empty()) s.name = names[static_cast<size_t>(i)];
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tern::daemon
