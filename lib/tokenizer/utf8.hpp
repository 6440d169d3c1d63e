// UTF-8 helpers shared by the tokenizer, the detokenizers and the chat template.
//
// Well-formedness follows the Unicode standard (chapter 3, table 3-7): no overlong forms, no
// surrogates, nothing above U+10FFFF. An ill-formed sequence is measured as its "maximal subpart"
// (the longest prefix that could still have become valid), which is also how U+FFFD substitution
// is counted (one U+FFFD per maximal subpart, as WHATWG and Python's errors="replace" do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lem::utf8 {

enum class CharStatus : uint8_t {
  Ok,          // a complete, well-formed character of `length` bytes
  Invalid,     // an ill-formed maximal subpart of `length` bytes (>= 1)
  Incomplete,  // the text ends inside an otherwise valid character after `length` bytes
};

struct DecodedChar {
  char32_t code_point = 0;  // meaningful only when status == Ok
  uint8_t length = 0;
  CharStatus status = CharStatus::Ok;
};

// Decodes the character starting at byte `pos` (< text.size()).
DecodedChar decode_char(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of `code_point` (must be a Unicode scalar value) to `out`.
void append_code_point(std::string& out, char32_t code_point);

bool is_valid(std::string_view text);

// Copy of `text` with every ill-formed maximal subpart (and a truncated final character)
// replaced by U+FFFD.
std::string sanitize(std::string_view text);

// Python's str.isspace() for one code point (what jinja's `trim` filter strips): the C0
// whitespace and separators 0x09-0x0D, 0x1C-0x1F, space, U+0085, U+00A0, U+1680, U+2000-U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000. Not U+200B or U+FEFF.
bool is_python_whitespace(char32_t code_point);

// Python str.strip() with no argument: removes leading and trailing whitespace as defined above.
// Ill-formed bytes count as non-whitespace.
std::string_view strip_python_whitespace(std::string_view text);

// For error messages quoting text from a file: at most `max_bytes` bytes, well-formed printable
// characters kept, control bytes and ill-formed bytes escaped as \xHH.
std::string printable(std::string_view text, size_t max_bytes = 64);

}  // namespace lem::utf8
