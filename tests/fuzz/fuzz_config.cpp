// Fuzz target: arbitrary text -> config::load_string. The loader's contract (loader.hpp) is that
// nothing escapes as an exception: YAML syntax errors, wrong node types and bad values all come
// back as ConfigErrors. Checked here: no crash, no UB, no leak, no exception; a failure carries
// at least one error and every error names the file it was given.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string_view>

#include "config/loader.hpp"
#include "util/bug.hpp"

using namespace tern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // a config file is small; bigger inputs only slow the search
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto r = config::load_string(text, "fuzz.yaml");
    if (!r) {
      TERN_ASSERT(!r.error().empty());
      for (const auto& e : r.error()) {
        TERN_ASSERT(e.file == "fuzz.yaml");
        TERN_ASSERT(e.line >= 0 && e.column >= 0);
        (void)e.to_string();
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_string threw: %s\n", e.what());
    TERN_BUG("config::load_string let an exception escape");
  } catch (...) {
    TERN_BUG("config::load_string let a non-std exception escape");
  }
  return 0;
}
