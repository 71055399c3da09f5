#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/sd_notify.hpp"

using tern::daemon::Notifier;
using tern::daemon::NotifyError;

namespace {

// A datagram socket standing in for systemd's notify socket.
class FakeSystemd {
 public:
  // abstract: bind an abstract name and return it as "@name"; otherwise a path in /tmp.
  explicit FakeSystemd(bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::string id = "tern-notify-test-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter_++);
    socklen_t len;
    if (abstract) {
      name_ = "@" + id;
      std::memcpy(sun.sun_path + 1, id.data(), id.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + id.size());
    } else {
      name_ = "/tmp/" + id + ".sock";
      path_ = name_;
      ::unlink(path_.c_str());
      std::memcpy(sun.sun_path, name_.data(), name_.size());
      len = sizeof(sun);
    }
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sun), len) == 0);
  }
  ~FakeSystemd() {
    ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& name() const { return name_; }

  // The next datagram, or "" after 2 s.
  std::string receive() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  bool nothing_pending() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  static inline int counter_ = 0;
  int fd_ = -1;
  std::string name_, path_;
};

}  // namespace

TEST_CASE("the notify messages of a start, a reload and a stop arrive in order", "[daemon][notify]") {
  FakeSystemd systemd(false);
  ::setenv("NOTIFY_SOCKET", systemd.name().c_str(), 1);
  Notifier n = Notifier::from_environment();
  ::unsetenv("NOTIFY_SOCKET");
  REQUIRE(n.enabled());

  const uint64_t before = tern::daemon::monotonic_usec();
  REQUIRE(n.ready());
  REQUIRE(n.status("serving: 12 queries, 3 cache entries"));
  REQUIRE(n.reloading());
  REQUIRE(n.ready());
  REQUIRE(n.stopping());
  const uint64_t after = tern::daemon::monotonic_usec();

  CHECK(systemd.receive() == "READY=1");
  CHECK(systemd.receive() == "STATUS=serving: 12 queries, 3 cache entries");
  std::string reload = systemd.receive();
  REQUIRE(reload.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  uint64_t usec = std::stoull(reload.substr(std::strlen("RELOADING=1\nMONOTONIC_USEC=")));
  CHECK(usec >= before);
  CHECK(usec <= after);
  CHECK(systemd.receive() == "READY=1");
  CHECK(systemd.receive() == "STOPPING=1");
  CHECK(systemd.nothing_pending());
}

TEST_CASE("an abstract notify socket written with '@' is reached", "[daemon][notify]") {
  FakeSystemd systemd(true);
  Notifier n(systemd.name());
  REQUIRE(n.ready());
  CHECK(systemd.receive() == "READY=1");
}

TEST_CASE("a newline in a status text cannot inject another assignment", "[daemon][notify]") {
  FakeSystemd systemd(false);
  Notifier n(systemd.name());
  REQUIRE(n.status("ok\nREADY=1"));
  CHECK(systemd.receive() == "STATUS=ok READY=1");
}

TEST_CASE("without NOTIFY_SOCKET notifying is a successful no-op", "[daemon][notify]") {
  ::unsetenv("NOTIFY_SOCKET");
  Notifier n = Notifier::from_environment();
  CHECK_FALSE(n.enabled());
  CHECK(n.ready());
  CHECK(n.stopping());
}

TEST_CASE("a malformed or unreachable NOTIFY_SOCKET is reported", "[daemon][notify]") {
  CHECK(Notifier("relative/path").ready().error() == NotifyError::BadSocketName);
  CHECK(Notifier("@").ready().error() == NotifyError::BadSocketName);
  CHECK(Notifier("/" + std::string(200, 'x')).ready().error() == NotifyError::BadSocketName);
  CHECK(Notifier("/tmp/tern-no-such-notify-socket").ready().error() == NotifyError::SendFailed);
}
