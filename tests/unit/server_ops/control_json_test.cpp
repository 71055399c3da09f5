#include <catch2/catch.hpp>
#include <string>

#include "server/control_json.hpp"

using namespace tern::server;

TEST_CASE("the JSON writer escapes quotes, backslashes and control characters onto one line", "[json]") {
  JsonWriter w;
  w.begin_object()
      .key("s").value("a\"b\\c\nd\te\x01")
      .key("n").value(uint64_t{18446744073709551615u})
      .key("i").value(int64_t{-3})
      .key("b").value(true)
      .key("z").null()
      .key("a").begin_array().value("x").value(1).end_array()
      .key("o").begin_object().end_object()
      .end_object();
  CHECK(w.str() ==
        R"({"s":"a\"b\\c\nd\te\u0001","n":18446744073709551615,"i":-3,"b":true,"z":null,"a":["x",1],"o":{}})");
  CHECK(w.str().find('\n') == std::string::npos);
}

TEST_CASE("invalid UTF-8 written as a JSON string becomes U+FFFD", "[json]") {
  std::string out;
  append_json_string(out, std::string("ok\xff\xc3\xa9\xc3", 6));
  CHECK(out == "\"ok\xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(out, "\xed\xa0\x80");  // an encoded surrogate is not UTF-8
  CHECK(out == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("parsing reads objects, arrays, escapes and keeps number text exact", "[json]") {
  auto v = parse_json(
      R"( {"cmd":"flush","args":["ex\u00e9mple.com","\ud83d\ude00",""],"n":18446744073709551615,"f":-1.5e3,"t":true,"x":null} )");
  REQUIRE(v);
  REQUIRE(v->is_object());
  REQUIRE(v->find("cmd"));
  CHECK(v->find("cmd")->text == "flush");
  const JsonValue* args = v->find("args");
  REQUIRE(args);
  REQUIRE(args->items.size() == 3);
  CHECK(args->items[0].text == "ex\xc3\xa9mple.com");
  CHECK(args->items[1].text == "\xf0\x9f\x98\x80");
  CHECK(v->find("n")->text == "18446744073709551615");
  CHECK(v->find("f")->number == -1500.0);
  CHECK(v->find("t")->boolean);
  CHECK(v->find("x")->kind == JsonValue::Kind::Null);
  CHECK(v->find("missing") == nullptr);
  CHECK(parse_json(v->dump())->dump() == v->dump());
}

TEST_CASE("malformed JSON is an error naming the defect, never a crash", "[json]") {
  struct Case {
    std::string text;
    JsonError error;
  };
  const Case cases[] = {
      {"", JsonError::UnexpectedEnd},
      {"{", JsonError::UnexpectedEnd},
      {"{\"a\" 1}", JsonError::UnexpectedCharacter},
      {"{\"a\":1,}", JsonError::UnexpectedCharacter},
      {"[1,]", JsonError::UnexpectedCharacter},
      {"[1 2]", JsonError::UnexpectedCharacter},
      {"tru", JsonError::BadLiteral},
      {"01", JsonError::TrailingGarbage},
      {"-", JsonError::BadNumber},
      {"1.", JsonError::BadNumber},
      {"1e", JsonError::BadNumber},
      {"\"abc", JsonError::UnexpectedEnd},
      {"\"a\nb\"", JsonError::ControlCharacter},
      {"\"\\x\"", JsonError::BadEscape},
      {"\"\\u12\"", JsonError::BadEscape},
      {"\"\\ud800\"", JsonError::BadEscape},
      {"\"\\udc00\"", JsonError::BadEscape},
      {"\"\\ud800\\u0041\"", JsonError::BadEscape},
      {std::string("\"\xc0\xaf\""), JsonError::BadString},
      {"{} {}", JsonError::TrailingGarbage},
      {"'a'", JsonError::UnexpectedCharacter},
      {"{1:2}", JsonError::UnexpectedCharacter},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = parse_json(c.text);
    REQUIRE_FALSE(r);
    CHECK(r.error() == c.error);
  }
}

TEST_CASE("nesting beyond the limit is refused before the stack is at risk", "[json]") {
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  CHECK(parse_json(ok));
  std::string deep(100000, '[');
  auto r = parse_json(deep);
  REQUIRE_FALSE(r);
  CHECK(r.error() == JsonError::TooDeep);
}
