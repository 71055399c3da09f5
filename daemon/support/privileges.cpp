#include "support/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tern::daemon {

namespace {
std::string errno_text(int e) { return std::strerror(e); }
}  // namespace

util::Expected<UserIds, std::string> lookup_user(std::string_view user) {
  if (user.empty()) return util::unexpected(std::string("server.user is empty"));
  std::string name(user);
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 16384u);
  passwd pw{};
  passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0)
    return util::unexpected("cannot look up user '" + name + "': " + errno_text(rc));
  if (!found) return util::unexpected("user '" + name + "' does not exist (server.user)");
  return UserIds{pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : ""};
}

util::Expected<void, std::string> drop_privileges(std::string_view user) {
  auto ids = lookup_user(user);
  if (!ids) return util::unexpected(ids.error());
  const std::string name(user);
  const uid_t uid = ids->uid;
  const gid_t gid = ids->gid;

  if (::geteuid() != 0) {
    if (::getuid() == uid && ::geteuid() == uid) return {};
    return util::unexpected("cannot switch to user '" + name +
                            "': not running as root (uid " + std::to_string(::geteuid()) + ")");
  }
  // Groups first: once the uid is dropped we can no longer change them.
  if (::initgroups(name.c_str(), gid) != 0)
    return util::unexpected("initgroups(" + name + ") failed: " + errno_text(errno));
  if (::setresgid(gid, gid, gid) != 0)
    return util::unexpected("setgid(" + std::to_string(gid) + ") failed: " + errno_text(errno));
  if (::setresuid(uid, uid, uid) != 0)
    return util::unexpected("setuid(" + std::to_string(uid) + ") failed: " + errno_text(errno));

  uid_t r, e, s;
  gid_t gr, ge, gs;
  if (::getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid)
    return util::unexpected(std::string("uid did not change as requested"));
  if (::getresgid(&gr, &ge, &gs) != 0 || gr != gid || ge != gid || gs != gid)
    return util::unexpected(std::string("gid did not change as requested"));
  if (uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
    return util::unexpected(std::string("root privileges could be regained after the drop"));
  return {};
}

}  // namespace tern::daemon
