// Logging for ternd: one spdlog logger writing to stderr. Under systemd (JOURNAL_STREAM set)
// each line starts with its syslog priority, `<6>`, which journald reads as the level and
// strips (sd-daemon(3)); journald adds its own timestamps. Elsewhere lines carry an ISO time.
#pragma once

#include "config/config.hpp"

namespace tern::daemon {

void setup_logging(config::LogLevel level);
void set_log_level(config::LogLevel level);

}  // namespace tern::daemon
