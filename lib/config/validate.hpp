// validate(): the rules that need more than one key to check (forward mode needs a "." zone,
// min-ttl <= max-ttl ...) or a range beyond the value's type. The loader calls it after parsing,
// passing where each key was found so errors still point into the file; the daemon can call it
// on a Config it built itself.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/error.hpp"

namespace tern::config {

struct Position {
  int line = 0;  // 1-based, 0 = not in the file
  int column = 0;
};

// Where each key path's value was found: "server.listen" -> 3:11.
struct SourceMap {
  std::string file;
  std::map<std::string, Position, std::less<>> at;

  // The key's own position, else its nearest ancestor that appears in the file.
  Position find(std::string_view key) const;
};

std::vector<ConfigError> validate(const Config& c, const SourceMap& where);

}  // namespace tern::config
