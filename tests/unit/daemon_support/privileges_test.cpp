#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "support/privileges.hpp"

using tern::daemon::drop_privileges;
using tern::daemon::lookup_user;

namespace {

// Runs fn in a forked child (a drop cannot be undone in the test process) and returns what it
// wrote to the pipe: "" on success, otherwise the first failed check.
template <class Fn>
std::string in_child(Fn fn) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    std::string r = fn();
    if (!r.empty()) (void)!::write(p[1], r.data(), r.size());
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return out;
}

}  // namespace

TEST_CASE("a root process drops to the configured user for good", "[daemon][privileges]") {
  if (::geteuid() != 0) {
    WARN("not running as root: the drop itself cannot be exercised");
    return;
  }
  auto nobody = lookup_user("nobody");
  REQUIRE(nobody);
  std::string failure = in_child([&]() -> std::string {
    auto r = drop_privileges("nobody");
    if (!r) return "drop failed: " + r.error();
    if (::getuid() != nobody->uid || ::geteuid() != nobody->uid) return "uid not nobody";
    if (::getgid() != nobody->gid || ::getegid() != nobody->gid) return "gid not nobody's";
    gid_t groups[64];
    int n = ::getgroups(64, groups);
    for (int i = 0; i < n; ++i)
      if (groups[i] == 0) return "still in group root";
    if (::setuid(0) == 0) return "setuid(0) succeeded after the drop";
    if (::seteuid(0) == 0) return "seteuid(0) succeeded after the drop";
    if (::setgid(0) == 0) return "setgid(0) succeeded after the drop";
    // Dropping again to the same user is a no-op; to another user it is refused.
    if (!drop_privileges("nobody")) return "second drop to the same user failed";
    auto again = drop_privileges("root");
    if (again) return "a non-root process switched to root";
    if (again.error().find("not running as root") == std::string::npos)
      return "unclear error: " + again.error();
    return "";
  });
  CHECK(failure == "");
}

TEST_CASE("an unknown user is refused with a message naming it", "[daemon][privileges]") {
  auto r = drop_privileges("tern-no-such-user-x");
  REQUIRE_FALSE(r);
  CHECK(r.error().find("tern-no-such-user-x") != std::string::npos);
  CHECK(r.error().find("does not exist") != std::string::npos);
  CHECK_FALSE(drop_privileges(""));
  CHECK(::geteuid() == ::getuid());  // nothing changed in this process
}
