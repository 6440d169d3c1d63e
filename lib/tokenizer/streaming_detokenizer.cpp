// StreamingDetokenizer (declared in tokenizer.hpp): ids in, complete UTF-8 out.
#include "util/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace lem {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamingDetokenizer::push(int32_t id) {
  const bool first = at_start_;
  at_start_ = false;
  if (skip_special_ && tokenizer_->is_special(id)) return {};
  std::string_view text = tokenizer_->token_text(id);
  // Same rule as decode(): only the very first id loses a leading space.
  if (first && tokenizer_->decode_strips_leading_space() && !text.empty() && text[0] == ' ') text.remove_prefix(1);
  pending_.append(text);
  return take_complete();
}

// Emits everything up to a final incomplete character; ill-formed bytes become U+FFFD.
std::string StreamingDetokenizer::take_complete() {
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const utf8::DecodedChar c = utf8::decode_char(pending_, pos);
    if (c.status == utf8::CharStatus::Incomplete) break;
    if (c.status == utf8::CharStatus::Ok) {
      out.append(pending_, pos, c.length);
    } else {
      utf8::append_code_point(out, 0xFFFD);
    }
    pos += c.length;
  }
  pending_.erase(0, pos);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = utf8::sanitize(pending_);
  reset();
  return out;
}

void StreamingDetokenizer::reset() {
  pending_.clear();
  at_start_ = true;
}

}  // namespace lem
