#include "server/control_json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tern::server {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one (RFC 3629 §4).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  util::Expected<JsonValue, JsonError> run() {
    JsonValue v;
    if (!parse_value(v, 0)) return util::unexpected(err_);
    skip_ws();
    if (pos_ != s_.size()) return util::unexpected(JsonError::TrailingGarbage);
    return v;
  }

 private:
  bool fail(JsonError e) {
    err_ = e;
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail(JsonError::BadLiteral);
    pos_ += word.size();
    return true;
  }

  bool parse_value(JsonValue& v, int depth) {
    if (depth > kMaxJsonDepth) return fail(JsonError::TooDeep);
    skip_ws();
    if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
    char c = s_[pos_];
    switch (c) {
      case 'n': v.kind = JsonValue::Kind::Null; return literal("null");
      case 't': v.kind = JsonValue::Kind::Bool; v.boolean = true; return literal("true");
      case 'f': v.kind = JsonValue::Kind::Bool; v.boolean = false; return literal("false");
      case '"': v.kind = JsonValue::Kind::String; return parse_string(v.text);
      case '[': return parse_array(v, depth);
      case '{': return parse_object(v, depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(v);
        return fail(JsonError::UnexpectedCharacter);
    }
  }

  bool parse_number(JsonValue& v) {
    // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    size_t start = pos_;
    auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (s_[pos_] == '-') ++pos_;
    if (!digit()) return fail(JsonError::BadNumber);
    if (s_[pos_] == '0') ++pos_;
    else while (digit()) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit()) return fail(JsonError::BadNumber);
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit()) return fail(JsonError::BadNumber);
      while (digit()) ++pos_;
    }
    v.kind = JsonValue::Kind::Number;
    v.text = std::string(s_.substr(start, pos_ - start));
    v.number = std::strtod(v.text.c_str(), nullptr);
    return true;
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return fail(JsonError::BadEscape);
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_++];
      uint32_t d;
      if (h >= '0' && h <= '9') d = static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') d = static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') d = static_cast<uint32_t>(h - 'A' + 10);
      else return fail(JsonError::BadEscape);
      out = out << 4 | d;
    }
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<uint8_t>(c) < 0x20) return fail(JsonError::ControlCharacter);
      if (c != '\\') {
        size_t len = utf8_sequence(s_, pos_);
        if (len == 0) return fail(JsonError::BadString);
        out.append(s_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      if (++pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
            uint32_t lo;
            if (s_.substr(pos_, 2) != "\\u") return fail(JsonError::BadEscape);
            pos_ += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail(JsonError::BadEscape);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail(JsonError::BadEscape);
          }
          append_utf8(out, cp);
          break;
        }
        default: return fail(JsonError::BadEscape);
      }
    }
  }

  bool parse_array(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::Array;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      v.items.emplace_back();
      if (!parse_value(v.items.back(), depth + 1)) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == ']') { ++pos_; return true; }
      return fail(JsonError::UnexpectedCharacter);
    }
  }

  bool parse_object(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::Object;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      if (s_[pos_] != '"') return fail(JsonError::UnexpectedCharacter);
      v.keys.emplace_back();
      if (!parse_string(v.keys.back())) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      if (s_[pos_] != ':') return fail(JsonError::UnexpectedCharacter);
      ++pos_;
      v.items.emplace_back();
      if (!parse_value(v.items.back(), depth + 1)) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail(JsonError::UnexpectedEnd);
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == '}') { ++pos_; return true; }
      return fail(JsonError::UnexpectedCharacter);
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  JsonError err_ = JsonError::UnexpectedEnd;
};

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c == '"') { out += "\\\""; ++i; continue; }
    if (c == '\\') { out += "\\\\"; ++i; continue; }
    if (c < 0x20 || c == 0x7F) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
          char buf[8];
          (void)std::snprintf(buf, sizeof buf, "\\u%04x", c);  // a control char: 6 chars + NUL
          out += buf;
        }
      }
      ++i;
      continue;
    }
    size_t len = utf8_sequence(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  out.push_back('"');
}

void JsonWriter::separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}
JsonWriter& JsonWriter::begin_object() { separate(); out_.push_back('{'); need_comma_ = false; return *this; }
JsonWriter& JsonWriter::end_object() { out_.push_back('}'); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::begin_array() { separate(); out_.push_back('['); need_comma_ = false; return *this; }
JsonWriter& JsonWriter::end_array() { out_.push_back(']'); need_comma_ = true; return *this; }
JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) { separate(); append_json_string(out_, s); return *this; }
JsonWriter& JsonWriter::value(uint64_t n) { separate(); out_ += std::to_string(n); return *this; }
JsonWriter& JsonWriter::value(int64_t n) { separate(); out_ += std::to_string(n); return *this; }
JsonWriter& JsonWriter::value(double d) {
  separate();
  if (!std::isfinite(d)) {
    out_ += "null";  // JSON has no NaN or infinity
  } else {
    char buf[32];
    (void)std::snprintf(buf, sizeof buf, "%.17g", d);  // %.17g of a double: at most 24 chars
    out_ += buf;
  }
  return *this;
}
JsonWriter& JsonWriter::value(bool b) { separate(); out_ += b ? "true" : "false"; return *this; }
JsonWriter& JsonWriter::null() { separate(); out_ += "null"; return *this; }
JsonWriter& JsonWriter::raw(std::string_view json) { separate(); out_.append(json); return *this; }

const JsonValue* JsonValue::find(std::string_view key) const {
  if (kind != Kind::Object) return nullptr;
  for (size_t i = keys.size(); i-- > 0;)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

std::string JsonValue::dump() const {
  std::string out;
  switch (kind) {
    case Kind::Null: return "null";
    case Kind::Bool: return boolean ? "true" : "false";
    case Kind::Number: return text;
    case Kind::String: append_json_string(out, text); return out;
    case Kind::Array:
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        out += items[i].dump();
      }
      out.push_back(']');
      return out;
    case Kind::Object:
      out.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, keys[i]);
        out.push_back(':');
        out += items[i].dump();
      }
      out.push_back('}');
      return out;
  }
  return out;
}

const char* to_string(JsonError e) {
  switch (e) {
    case JsonError::UnexpectedEnd: return "unexpected end of JSON";
    case JsonError::UnexpectedCharacter: return "unexpected character in JSON";
    case JsonError::BadLiteral: return "bad JSON literal";
    case JsonError::BadNumber: return "bad JSON number";
    case JsonError::BadString: return "invalid UTF-8 in JSON string";
    case JsonError::BadEscape: return "bad escape in JSON string";
    case JsonError::ControlCharacter: return "control character in JSON string";
    case JsonError::TooDeep: return "JSON nested too deeply";
    case JsonError::TrailingGarbage: return "trailing data after JSON";
  }
  return "bad JSON";
}

util::Expected<JsonValue, JsonError> parse_json(std::string_view text) { return Parser(text).run(); }

}  // namespace tern::server
