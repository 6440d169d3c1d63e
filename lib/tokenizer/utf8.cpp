#include "tokenizer/utf8.hpp"

namespace lem::utf8 {

namespace {

// Valid range of the second byte for each lead byte (table 3-7); later bytes are always 80..BF.
struct LeadInfo {
  uint8_t length;       // 0: the byte cannot start a character
  uint8_t second_min;
  uint8_t second_max;
};

LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};  // excludes the surrogates D800..DFFF
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // nothing above U+10FFFF
  return {0, 0, 0};                       // 80..C1 (continuation or overlong lead), F5..FF
}

}  // namespace

DecodedChar decode_char(std::string_view text, size_t pos) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  const LeadInfo info = lead_info(b0);
  if (info.length == 0) return {0, 1, CharStatus::Invalid};
  if (info.length == 1) return {b0, 1, CharStatus::Ok};

  char32_t cp = b0 & (0xFF >> (info.length + 1));
  for (uint8_t i = 1; i < info.length; ++i) {
    if (pos + i >= text.size()) return {0, i, CharStatus::Incomplete};
    const auto b = static_cast<uint8_t>(text[pos + i]);
    const uint8_t lo = i == 1 ? info.second_min : 0x80;
    const uint8_t hi = i == 1 ? info.second_max : 0xBF;
    if (b < lo || b > hi) return {0, i, CharStatus::Invalid};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, info.length, CharStatus::Ok};
}

void append_code_point(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const DecodedChar c = decode_char(text, pos);
    if (c.status != CharStatus::Ok) return false;
    pos += c.length;
  }
  return true;
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const DecodedChar c = decode_char(text, pos);
    if (c.status == CharStatus::Ok) {
      out.append(text.substr(pos, c.length));
    } else {
      append_code_point(out, 0xFFFD);
    }
    pos += c.length;
  }
  return out;
}

bool is_python_whitespace(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string_view strip_python_whitespace(std::string_view text) {
  size_t first = text.size();  // start of the first non-whitespace character
  size_t last_end = 0;         // end of the last non-whitespace character
  for (size_t pos = 0; pos < text.size();) {
    const DecodedChar c = decode_char(text, pos);
    const bool space = c.status == CharStatus::Ok && is_python_whitespace(c.code_point);
    if (!space) {
      if (first == text.size()) first = pos;
      last_end = pos + c.length;
    }
    pos += c.length;
  }
  if (first == text.size()) return text.substr(0, 0);
  return text.substr(first, last_end - first);
}

std::string printable(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t pos = 0;
  while (pos < text.size() && pos < max_bytes) {
    const DecodedChar c = decode_char(text, pos);
    if (c.status == CharStatus::Ok && c.code_point >= 0x20 && c.code_point != 0x7F && c.code_point != '\\' &&
        !(c.code_point >= 0x80 && c.code_point < 0xA0)) {
      out.append(text.substr(pos, c.length));
      pos += c.length;
      continue;
    }
    const auto byte = static_cast<uint8_t>(text[pos]);
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
    pos += 1;
  }
  if (pos < text.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace lem::utf8
