#include "config/text.hpp"

#include <algorithm>
#include <vector>

namespace tern::config {
namespace {

using util::unexpected;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits into `out`, false on overflow past `max`.
bool to_u64(std::string_view s, uint64_t max, uint64_t& out) {
  uint64_t v = 0;
  for (char c : s) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

constexpr int64_t kMaxDurationMs = int64_t{10} * 365 * 86'400'000;

}  // namespace

util::Expected<uint64_t, std::string> parse_count(std::string_view text, uint64_t max) {
  if (!all_digits(text)) return unexpected("expected a whole number 0.." + std::to_string(max));
  uint64_t v = 0;
  if (!to_u64(text, max, v))
    return unexpected("expected a whole number 0.." + std::to_string(max) + ", got " +
                      std::string(text));
  return v;
}

util::Expected<uint64_t, std::string> parse_size(std::string_view text) {
  const std::string expected = "expected a size like 64MiB, 512KiB, 1GiB or a number of bytes";
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return unexpected(expected);
  std::string_view unit = text.substr(i);
  uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = kKiB;
  else if (unit == "MiB")
    mult = kMiB;
  else if (unit == "GiB")
    mult = kGiB;
  else if (unit == "K" || unit == "KB" || unit == "k" || unit == "kB" || unit == "M" ||
           unit == "MB" || unit == "G" || unit == "GB")
    return unexpected(expected + " (units are binary: KiB, MiB, GiB)");
  else
    return unexpected(expected);
  uint64_t n = 0;
  if (!to_u64(text.substr(0, i), UINT64_MAX / mult, n)) return unexpected("size too large");
  return n * mult;
}

util::Expected<Milliseconds, std::string> parse_duration(std::string_view text) {
  const std::string expected = "expected a duration like 1800ms, 10s, 5m, 1h or 1d";
  if (text == "0") return Milliseconds{0};
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return unexpected(expected);
  std::string_view unit = text.substr(i);
  int64_t mult = 0;
  if (unit == "ms")
    mult = 1;
  else if (unit == "s")
    mult = 1000;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else if (unit.empty())
    return unexpected(expected + " (a unit is required)");
  else
    return unexpected(expected);
  uint64_t n = 0;
  const uint64_t max = static_cast<uint64_t>(kMaxDurationMs / mult);
  if (!to_u64(text.substr(0, i), max, n)) return unexpected("duration longer than 10 years");
  return Milliseconds{static_cast<int64_t>(n) * mult};
}

util::Expected<Seconds, std::string> parse_seconds(std::string_view text) {
  auto d = parse_duration(text);
  if (!d) return unexpected(d.error());
  if (d->count() % 1000 != 0) return unexpected(std::string("expected whole seconds, like 30s"));
  return std::chrono::duration_cast<Seconds>(*d);
}

util::Expected<bool, std::string> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return unexpected(std::string("expected true or false"));
}

util::Expected<std::string, std::string> normalise_zone(std::string_view text) {
  if (text.empty()) return unexpected(std::string("expected a zone name like example.com. or ."));
  if (text == ".") return std::string(".");
  std::string out;
  out.reserve(text.size() + 1);
  std::size_t label = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (label == 0) return unexpected("empty label in zone name \"" + std::string(text) + "\"");
      label = 0;
      out += '.';
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok)
      return unexpected("invalid character '" + std::string(1, c) + "' in zone name \"" +
                        std::string(text) + "\" (letters, digits, '-' and '_' only)");
    if (++label > 63)  // RFC 1035 §2.3.4
      return unexpected("label longer than 63 octets in zone name \"" + std::string(text) + "\"");
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (out.back() != '.') out += '.';
  // Wire length: one length octet per label plus the root's zero octet equals text length + 1
  // for a name ending in '.'.
  if (out.size() + 1 > 255)  // RFC 1035 §2.3.4
    return unexpected("zone name longer than 255 octets: \"" + std::string(text) + "\"");
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  if (word.size() > 64) return best;  // no key is that long; keep the quadratic work small
  std::size_t best_d = 0;
  for (std::string_view c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (!best || d < best_d) {
      best = c;
      best_d = d;
    }
  }
  // A typo, not a different word: at most a third of the longer name, and at least 2 allowed.
  if (best && best_d <= std::max<std::size_t>(2, std::max(word.size(), best->size()) / 3))
    return best;
  return std::nullopt;
}

}  // namespace tern::config
