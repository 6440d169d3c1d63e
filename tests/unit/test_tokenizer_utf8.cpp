// UTF-8 helpers used by the tokenizer, the streaming detokenizer and the chat template.
#include <catch2/catch.hpp>

#include <string>

#include "tokenizer/utf8.hpp"

using lem::utf8::CharStatus;

TEST_CASE("decode_char follows Unicode's well-formed sequences", "[tokenizer][utf8]") {
  struct Case {
    std::string bytes;
    CharStatus status;
    int length;
    char32_t cp;
  };
  const Case cases[] = {
      {"A", CharStatus::Ok, 1, U'A'},
      {"\xC3\xA9", CharStatus::Ok, 2, U'\u00E9'},
      {"\xE2\x96\x81", CharStatus::Ok, 3, U'\u2581'},
      {"\xF0\x9F\x98\x80", CharStatus::Ok, 4, U'\U0001F600'},
      {"\xF4\x8F\xBF\xBF", CharStatus::Ok, 4, U'\U0010FFFF'},
      {"\x80", CharStatus::Invalid, 1, 0},          // lone continuation byte
      {"\xC0\xAF", CharStatus::Invalid, 1, 0},      // overlong lead
      {"\xE0\x80\x80", CharStatus::Invalid, 1, 0},  // overlong 3-byte form
      {"\xED\xA0\x80", CharStatus::Invalid, 1, 0},  // surrogate D800
      {"\xF4\x90\x80\x80", CharStatus::Invalid, 1, 0},  // above U+10FFFF
      {"\xF5", CharStatus::Invalid, 1, 0},
      {"\xE2\x82" "A", CharStatus::Invalid, 2, 0},  // maximal subpart E2 82
      {"\xE2\x82", CharStatus::Incomplete, 2, 0},
      {"\xF0\x9F\x98", CharStatus::Incomplete, 3, 0},
  };
  for (const Case& c : cases) {
    INFO("bytes of length " << c.bytes.size() << ", first 0x" << std::hex << int(static_cast<unsigned char>(c.bytes[0])));
    const auto d = lem::utf8::decode_char(c.bytes, 0);
    CHECK(d.status == c.status);
    CHECK(int(d.length) == c.length);
    if (c.status == CharStatus::Ok) CHECK(d.code_point == c.cp);
  }
}

TEST_CASE("sanitize replaces each maximal ill-formed subpart with U+FFFD", "[tokenizer][utf8]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(lem::utf8::sanitize("plain \xE2\x96\x81 text") == "plain \xE2\x96\x81 text");
  CHECK(lem::utf8::sanitize("abc\x80" "def") == "abc" + fffd + "def");
  CHECK(lem::utf8::sanitize("\xE2\x82" "A") == fffd + "A");
  CHECK(lem::utf8::sanitize("\xED\xA0\x80") == fffd + fffd + fffd);
  CHECK(lem::utf8::sanitize("ok\xF0\x9F\x98") == "ok" + fffd);
  CHECK(lem::utf8::is_valid("\xF0\x9F\x98\x80"));
  CHECK_FALSE(lem::utf8::is_valid("\xF0\x9F\x98"));
  std::string encoded;
  for (char32_t cp : {U'a', U'\u00E9', U'\u2581', U'\U0001F600'}) lem::utf8::append_code_point(encoded, cp);
  CHECK(encoded == "a\xC3\xA9\xE2\x96\x81\xF0\x9F\x98\x80");
}

TEST_CASE("strip_python_whitespace matches str.strip()", "[tokenizer][utf8]") {
  using lem::utf8::strip_python_whitespace;
  CHECK(strip_python_whitespace("  hi there \n") == "hi there");
  CHECK(strip_python_whitespace("\x1c\x1f\x0b\x0c\r\t x") == "x");
  CHECK(strip_python_whitespace("\u3000\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u0085x\u2009") == "x");
  CHECK(strip_python_whitespace("\u200bx\ufeff") == "\u200bx\ufeff");  // not whitespace in Python
  CHECK(strip_python_whitespace("\u180ex") == "\u180ex");            // not since Unicode 6.3
  CHECK(strip_python_whitespace(" \t\n").empty());
  CHECK(strip_python_whitespace("").empty());
  CHECK(strip_python_whitespace(" \x80 ") == "\x80");  // ill-formed bytes are kept
  CHECK(lem::utf8::is_python_whitespace(0x85));
  CHECK_FALSE(lem::utf8::is_python_whitespace(0x200B));
}

TEST_CASE("printable escapes control and ill-formed bytes", "[tokenizer][utf8]") {
  CHECK(lem::utf8::printable("a\nb\xE2\x96\x81\x80") == "a\\x0ab\xE2\x96\x81\\x80");
  CHECK(lem::utf8::printable(std::string(100, 'x'), 10) == std::string(10, 'x') + "...(100 bytes)");
}
