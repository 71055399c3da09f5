#include "control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tern::ternctl {

namespace {

// One response line is a few KiB (stats) to a few MiB (lookup of a big RRset list at most).
constexpr size_t kMaxResponse = 16u << 20;

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

ClientError connect_error(const std::string& path, int err) {
  const std::string head = "cannot connect to " + path + ": ";
  switch (err) {
    case ENOENT:
      return {ClientErrc::NotRunning,
              head + "no such file — is ternd running? (systemctl status ternd)"};
    case ECONNREFUSED:
      return {ClientErrc::NotRunning,
              head + "connection refused — ternd is not running (the socket is left over)"};
    case EACCES:
    case EPERM:
      return {ClientErrc::PermissionDenied,
              head + "permission denied — run as root or add yourself to group tern"};
    default:
      return {ClientErrc::ConnectFailed, head + std::strerror(err)};
  }
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

util::Expected<Response, ClientError> call(const std::string& socket_path, const std::string& cmd,
                                           const std::vector<std::string>& args,
                                           int timeout_ms) {
  sockaddr_un sun{};
  if (socket_path.empty() || socket_path.size() >= sizeof sun.sun_path)
    return util::unexpected(
        ClientError{ClientErrc::ConnectFailed, "control socket path '" + socket_path + "' is empty or too long"});
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, socket_path.data(), socket_path.size());

  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return util::unexpected(ClientError{ClientErrc::ConnectFailed, std::strerror(errno)});
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0)
    return util::unexpected(connect_error(socket_path, errno));

  server::JsonWriter w;
  w.begin_object().key("cmd").value(cmd).key("args").begin_array();
  for (const auto& a : args) w.value(a);
  w.end_array().end_object();
  std::string request = w.take() + "\n";

  const int64_t deadline = now_ms() + timeout_ms;
  auto wait = [&](short events) -> bool {
    while (true) {
      int64_t left = deadline - now_ms();
      if (left <= 0) return false;
      pollfd p{s.fd, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r > 0) return true;
      if (r == 0) return false;
      if (errno != EINTR) return false;
    }
  };
  const std::string timeout_msg = "no answer from ternd within " + std::to_string(timeout_ms / 1000) +
                                  " s (is it stuck? see journalctl -u ternd)";

  size_t off = 0;
  while (off < request.size()) {
    if (!wait(POLLOUT)) return util::unexpected(ClientError{ClientErrc::Timeout, timeout_msg});
    ssize_t n = ::send(s.fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return util::unexpected(ClientError{ClientErrc::Disconnected,
                                          std::string("ternd closed the connection: ") + std::strerror(errno)});
    off += static_cast<size_t>(n);
  }

  std::string line;
  char buf[65536];
  while (true) {
    size_t nl = line.find('\n');
    if (nl != std::string::npos) {
      line.resize(nl);
      break;
    }
    if (line.size() > kMaxResponse)
      return util::unexpected(ClientError{ClientErrc::BadResponse, "response from ternd is too long"});
    if (!wait(POLLIN)) return util::unexpected(ClientError{ClientErrc::Timeout, timeout_msg});
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return util::unexpected(
          ClientError{ClientErrc::Disconnected, "ternd closed the connection without answering"});
    line.append(buf, static_cast<size_t>(n));
  }

  auto v = server::parse_json(line);
  if (!v || !v->is_object())
    return util::unexpected(ClientError{ClientErrc::BadResponse, "ternd sent a response that is not JSON"});
  const server::JsonValue* ok = v->find("ok");
  if (!ok || ok->kind != server::JsonValue::Kind::Bool)
    return util::unexpected(ClientError{ClientErrc::BadResponse, "ternd's response has no \"ok\""});
  Response r;
  r.ok = ok->boolean;
  if (r.ok) {
    if (const server::JsonValue* res = v->find("result")) r.result = *res;
  } else {
    const server::JsonValue* e = v->find("error");
    r.error = e && e->is_string() ? e->text : "unspecified error";
  }
  return r;
}

}  // namespace tern::ternctl
