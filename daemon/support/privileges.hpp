// Privilege drop for `server.user`: started as root (outside systemd, or with User= unset),
// ternd binds its listeners and control socket first, then becomes the configured user for
// good. Under systemd the unit already runs as the tern user with CAP_NET_BIND_SERVICE, and
// this is a no-op because the user is already the target.
//
// Caller: daemon/run.cpp, after every listener is bound and before READY=1.
// Invariant: on success the real, effective and saved uid/gid are all the target's, the
// supplementary groups are the target's, and setuid(0) fails — checked, not assumed.
// On failure nothing is half-done that would leave a process running as root: the caller
// must exit.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "util/expected.hpp"

namespace tern::daemon {

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// Looks the user up in the passwd database; the error text names the user.
util::Expected<UserIds, std::string> lookup_user(std::string_view user);

// Switches the process to `user` (initgroups, setgid, setuid) and verifies root cannot be
// regained. When the process already runs as that user it succeeds without changes; when it
// runs as another non-root user it fails ("not running as root").
util::Expected<void, std::string> drop_privileges(std::string_view user);

}  // namespace tern::daemon
