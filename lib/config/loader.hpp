// Loading a Config from YAML text. Every problem is collected (not just the first), each with
// file:line:column, the key path and what was expected; unknown keys suggest the nearest known
// one; keys left out keep their defaults from config.hpp. Nothing escapes as an exception: a
// YAML syntax error, a wrong node type or an unreadable file all come back as ConfigErrors.
// loader.cpp is the only file in tern that includes yaml-cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/error.hpp"
#include "util/expected.hpp"

namespace tern::config {

using LoadResult = util::Expected<Config, std::vector<ConfigError>>;

LoadResult load_file(const std::string& path);
// `name` is what errors call the text (a file name, "<stdin>", "<test>").
LoadResult load_string(std::string_view text, const std::string& name);

}  // namespace tern::config
