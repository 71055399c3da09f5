#include "config/text.hpp"

#include <catch2/catch.hpp>

using namespace tern::config;
using namespace std::chrono_literals;

TEST_CASE("sizes take binary units or plain bytes", "[config][text]") {
  CHECK(*parse_size("64MiB") == 64ull * 1024 * 1024);
  CHECK(*parse_size("512KiB") == 512ull * 1024);
  CHECK(*parse_size("1GiB") == 1024ull * 1024 * 1024);
  CHECK(*parse_size("1048576") == 1048576);
  CHECK(*parse_size("0") == 0);
  CHECK(parse_size("64MB").error().find("binary") != std::string::npos);
  CHECK_FALSE(parse_size("64 MiB"));
  CHECK_FALSE(parse_size("MiB"));
  CHECK_FALSE(parse_size("-1"));
  CHECK_FALSE(parse_size("1.5GiB"));
  CHECK_FALSE(parse_size("99999999999999999999"));
  CHECK_FALSE(parse_size("17179869184GiB"));  // 2^34 GiB overflows 64 bits
}

TEST_CASE("durations need a unit and stay within ten years", "[config][text]") {
  CHECK(*parse_duration("10s") == 10s);
  CHECK(*parse_duration("1d") == 24h);
  CHECK(*parse_duration("1h") == 1h);
  CHECK(*parse_duration("5m") == 5min);
  CHECK(*parse_duration("1800ms") == 1800ms);
  CHECK(*parse_duration("0") == 0ms);
  CHECK(*parse_duration("0s") == 0ms);
  CHECK(parse_duration("10").error().find("unit") != std::string::npos);
  CHECK_FALSE(parse_duration("10 s"));
  CHECK_FALSE(parse_duration("1w"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("1.5s"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("3651d"));
  CHECK(parse_duration("3650d"));
  CHECK_FALSE(parse_duration("99999999999999999999999ms"));
  CHECK(*parse_seconds("1h") == std::chrono::seconds{3600});
  CHECK_FALSE(parse_seconds("1500ms"));
  CHECK(*parse_seconds("2000ms") == std::chrono::seconds{2});
}

TEST_CASE("counts are plain decimal within their bound", "[config][text]") {
  CHECK(*parse_count("1000", 65535) == 1000);
  CHECK(*parse_count("65535", 65535) == 65535);
  CHECK_FALSE(parse_count("65536", 65535));
  CHECK_FALSE(parse_count("18446744073709551616", UINT64_MAX));
  CHECK(*parse_count("18446744073709551615", UINT64_MAX) == UINT64_MAX);
  CHECK_FALSE(parse_count("-1", 10));
  CHECK_FALSE(parse_count("1e3", 10000));
  CHECK_FALSE(parse_count("", 10));
}

TEST_CASE("booleans are true or false", "[config][text]") {
  CHECK(*parse_bool("true"));
  CHECK_FALSE(*parse_bool("false"));
  CHECK(*parse_bool("TRUE"));
  CHECK_FALSE(parse_bool("yes"));
  CHECK_FALSE(parse_bool("1"));
}

TEST_CASE("zone names are normalised to lower case with a final dot", "[config][text]") {
  CHECK(*normalise_zone(".") == ".");
  CHECK(*normalise_zone("Example.COM") == "example.com.");
  CHECK(*normalise_zone("example.com.") == "example.com.");
  CHECK(*normalise_zone("_msdcs.corp-1.example") == "_msdcs.corp-1.example.");
  CHECK(*normalise_zone("10.in-addr.arpa") == "10.in-addr.arpa.");
  CHECK_FALSE(normalise_zone(""));
  CHECK_FALSE(normalise_zone(".."));
  CHECK_FALSE(normalise_zone("a..b"));
  CHECK_FALSE(normalise_zone(".com"));
  CHECK_FALSE(normalise_zone("exa mple.com"));
  CHECK_FALSE(normalise_zone("exa\\.mple.com"));
  CHECK_FALSE(normalise_zone("ex*ample.com"));
  CHECK(normalise_zone(std::string(63, 'a') + ".com"));
  CHECK_FALSE(normalise_zone(std::string(64, 'a') + ".com"));
  // 4 labels of 63 plus dots: 4*64 = 256 text octets with the final dot, 257 on the wire.
  const std::string l63(63, 'a');
  CHECK_FALSE(normalise_zone(l63 + "." + l63 + "." + l63 + "." + l63));
  // 3*64 + 61 + 1 = 254 text octets with the final dot -> 255 on the wire: the maximum.
  CHECK(normalise_zone(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'a')));
  CHECK_FALSE(normalise_zone(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'a')));
}

TEST_CASE("a misspelt key finds its nearest neighbour, an unrelated word does not",
          "[config][text]") {
  const std::string_view keys[] = {"listen", "access-control", "udp-payload-size", "tcp"};
  CHECK(closest_match("lsten", keys) == "listen");
  CHECK(closest_match("listne", keys) == "listen");
  CHECK(closest_match("access_control", keys) == "access-control");
  CHECK(closest_match("udp-payload", keys) == "udp-payload-size");
  CHECK_FALSE(closest_match("frobnicate", keys).has_value());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
}
