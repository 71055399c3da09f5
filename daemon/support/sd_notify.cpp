#include "support/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace tern::daemon {

const char* to_string(NotifyError e) {
  switch (e) {
    case NotifyError::BadSocketName: return "NOTIFY_SOCKET is not an absolute path or @abstract name";
    case NotifyError::SocketFailed: return "cannot create the notify socket";
    case NotifyError::SendFailed: return "cannot send to NOTIFY_SOCKET";
  }
  return "unknown notify error";
}

Notifier Notifier::from_environment() {
  const char* s = std::getenv("NOTIFY_SOCKET");
  return Notifier(s ? std::string(s) : std::string());
}

uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

util::Expected<void, NotifyError> Notifier::send(std::string_view message) const {
  if (socket_.empty()) return {};
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  // An abstract name has no terminating NUL and its length is exact; a path needs room for one.
  const bool abstract = socket_[0] == '@';
  if (!abstract && socket_[0] != '/') return util::unexpected(NotifyError::BadSocketName);
  if (socket_.size() < 2 || socket_.size() > sizeof(sun.sun_path) - (abstract ? 0 : 1))
    return util::unexpected(NotifyError::BadSocketName);
  std::memcpy(sun.sun_path, socket_.data(), socket_.size());
  if (abstract) sun.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() +
                                          (abstract ? 0 : 1));

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::unexpected(NotifyError::SocketFailed);
  ssize_t n;
  do {
    n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&sun), len);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != message.size())
    return util::unexpected(NotifyError::SendFailed);
  return {};
}

util::Expected<void, NotifyError> Notifier::reloading() const {
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
}

util::Expected<void, NotifyError> Notifier::status(std::string_view text) const {
  std::string msg = "STATUS=";
  msg.reserve(msg.size() + text.size());
  for (char c : text) msg.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return send(msg);
}

}  // namespace tern::daemon
