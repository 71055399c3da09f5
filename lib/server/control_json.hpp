// The small JSON the control protocol needs (ternctl <-> ternd, one object per line), written
// here rather than adding a dependency. JsonWriter builds compact one-line JSON; parse_json reads
// RFC 8259 text into a JsonValue tree with a nesting limit, because a control client (or a
// ternd answering ternctl) is still an untrusted peer: any byte sequence yields a value or an
// error, never a crash or unbounded recursion.
//
// Callers: server/control_server (requests in, responses out), tools/ternctl (responses in).
// Invariant: JsonWriter output is always valid JSON on one line (every control character in a
// string is escaped, so a newline can never split a response).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace tern::server {

// Appends s as a JSON string literal (quotes included). Invalid UTF-8 bytes are replaced by
// U+FFFD so the output is always valid JSON text.
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(uint64_t n);
  JsonWriter& value(int64_t n);
  JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  // Inserts already-encoded JSON (e.g. a handler's result).
  JsonWriter& raw(std::string_view json);
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

struct JsonValue {
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  // For String: the decoded text. For Number: the literal as written, so large integers
  // (counters) print exactly.
  std::string text;
  std::vector<JsonValue> items;   // Array elements or Object values
  std::vector<std::string> keys;  // Object keys, parallel to items

  bool is_string() const { return kind == Kind::String; }
  bool is_object() const { return kind == Kind::Object; }
  bool is_array() const { return kind == Kind::Array; }
  // The value of `key` in an object (the last one if repeated); nullptr if absent.
  const JsonValue* find(std::string_view key) const;
  // Back to compact JSON text.
  std::string dump() const;
};

enum class JsonError : uint8_t {
  UnexpectedEnd, UnexpectedCharacter, BadLiteral, BadNumber, BadString, BadEscape,
  ControlCharacter, TooDeep, TrailingGarbage,
};
const char* to_string(JsonError e);

// Nesting deeper than this is refused: real control messages are 3 levels deep.
inline constexpr int kMaxJsonDepth = 32;

util::Expected<JsonValue, JsonError> parse_json(std::string_view text);

}  // namespace tern::server
