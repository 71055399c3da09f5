#include "render.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace tern::ternctl {

namespace {

using server::JsonValue;

bool is_scalar(const JsonValue& v) {
  return v.kind != JsonValue::Kind::Array && v.kind != JsonValue::Kind::Object;
}

std::string scalar_text(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::Null: return "-";
    case JsonValue::Kind::Bool: return v.boolean ? "yes" : "no";
    case JsonValue::Kind::Number:
    case JsonValue::Kind::String: return v.text;
    default: return v.dump();
  }
}

// Operator-facing text must not carry terminal escapes from a name in the cache.
std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void flatten(const JsonValue& v, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& rows) {
  if (v.kind == JsonValue::Kind::Object) {
    if (v.items.empty() && !prefix.empty()) rows.emplace_back(prefix, "{}");
    for (size_t i = 0; i < v.items.size(); ++i)
      flatten(v.items[i], prefix.empty() ? v.keys[i] : prefix + "." + v.keys[i], rows);
    return;
  }
  if (v.kind == JsonValue::Kind::Array) {
    bool scalars = true;
    for (const auto& item : v.items) scalars = scalars && is_scalar(item);
    if (scalars) {
      std::string joined;
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) joined += ", ";
        joined += scalar_text(v.items[i]);
      }
      rows.emplace_back(prefix, joined.empty() ? "-" : joined);
      return;
    }
    for (size_t i = 0; i < v.items.size(); ++i)
      flatten(v.items[i], prefix + "[" + std::to_string(i) + "]", rows);
    return;
  }
  rows.emplace_back(prefix, scalar_text(v));
}

}  // namespace

std::string render_table(const JsonValue& result) {
  if (result.kind == JsonValue::Kind::Null) return "ok\n";
  if (is_scalar(result)) return printable(scalar_text(result)) + "\n";
  std::vector<std::pair<std::string, std::string>> rows;
  flatten(result, "", rows);
  size_t width = 0;
  for (const auto& [k, _] : rows) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : rows) {
    std::string key = printable(k);
    out += key;
    out.append(width + 2 - k.size(), ' ');
    out += printable(v);
    out.push_back('\n');
  }
  return out;
}

}  // namespace tern::ternctl
