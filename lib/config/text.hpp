// The scalar grammars of the configuration file (sizes, durations, counts, zone names) and the
// "did you mean" helper, kept apart from yaml-cpp so they are testable on their own. Each
// returns the value or a message that says what was expected, ready for a ConfigError.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/expected.hpp"

namespace tern::config {

// Decimal digits only, at most `max`.
util::Expected<uint64_t, std::string> parse_count(std::string_view text, uint64_t max);
// `64MiB`, `512KiB`, `1GiB` or plain bytes `1048576`.
util::Expected<uint64_t, std::string> parse_size(std::string_view text);
// `1800ms`, `10s`, `5m`, `1h`, `1d`, or `0`. At most 10 years, which is longer than any
// timer or TTL we hold and keeps every arithmetic on it far from overflow.
util::Expected<Milliseconds, std::string> parse_duration(std::string_view text);
// As parse_duration, but the value must be whole seconds (TTLs are seconds on the wire).
util::Expected<Seconds, std::string> parse_seconds(std::string_view text);
// `true` or `false` (YAML 1.2 core schema spellings: true, True, TRUE ...).
util::Expected<bool, std::string> parse_bool(std::string_view text);
// A dotted zone name in presentation form without escapes: labels of letters, digits, '-' and
// '_', 1-63 octets each, 255 octets in wire form at most. Returns it lower-cased and ending in
// '.'; "." is the root.
util::Expected<std::string, std::string> normalise_zone(std::string_view text);

std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a plausible typo.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace tern::config
