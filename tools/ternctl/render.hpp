// How ternctl prints a result: nested objects are flattened into aligned "key  value" rows
// (cache.entries  1234), arrays of scalars are joined, arrays of objects are indexed
// (servers[0].address). --json prints the result as compact JSON instead.
#pragma once

#include <string>

#include "server/control_json.hpp"

namespace tern::ternctl {

std::string render_table(const server::JsonValue& result);

}  // namespace tern::ternctl
