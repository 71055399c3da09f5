// ConfigError: one thing wrong with a configuration, located the way an editor wants it
// (file:line:column) and named the way the docs name it (`server.listen[1]`). The loader
// collects every error it can find in one pass so an operator fixes a file in one round trip.
#pragma once

#include <string>

namespace tern::config {

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when the problem has no place in the file (a missing key)
  int column = 0;   // 1-based; 0 with line 0
  std::string key;  // dotted key path, lists indexed from 0: "server.listen[1]"; may be empty
  std::string message;

  // "file:line:col: key: message", dropping the parts that are unknown.
  std::string to_string() const;

  friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

}  // namespace tern::config
