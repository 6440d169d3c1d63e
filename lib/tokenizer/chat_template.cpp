#include "tokenizer/chat_template.hpp"

#include "util/error.hpp"
#include "tokenizer/utf8.hpp"

namespace lem {

namespace {

class SegmentWriter {
 public:
  void markup(std::string_view text) { add(text, false); }
  void message(std::string_view text) { add(text, true); }
  std::vector<ChatSegment> take() { return std::move(segments_); }

 private:
  void add(std::string_view text, bool from_message) {
    if (text.empty()) return;
    if (!segments_.empty() && segments_.back().from_message == from_message) {
      segments_.back().text.append(text);
    } else {
      segments_.push_back(ChatSegment{std::string(text), from_message});
    }
  }
  std::vector<ChatSegment> segments_;
};

void check_content_shape(const ChatMessage& m, size_t index) {
  if (m.parts && !m.content.empty())
    fail(Status::InvalidArg, "chat message {} has both text content and list content (parts); give one", index);
}

// The system text that is prefixed to the first turn: string content, or the first part's text.
std::string system_prefix(const ChatMessage& system) {
  check_content_shape(system, 0);
  if (!system.parts) return system.content + "\n\n";
  if (system.parts->empty() || system.parts->front().type != "text")
    fail(Status::InvalidArg,
         "chat message 0 (system): list content must start with a text part (the template reads content[0]['text'])");
  return system.parts->front().text + "\n\n";
}

void write_content(const ChatMessage& m, size_t index, ChatImages images, SegmentWriter& out) {
  if (!m.parts) {
    out.message(utf8::strip_python_whitespace(m.content));
    return;
  }
  for (const ChatContentPart& part : *m.parts) {
    if (part.type == "image") {
      if (images == ChatImages::Reject)
        fail(Status::InvalidArg, "chat message {} contains an image; this library runs text-only models", index);
      out.markup("<start_of_image>");
    } else if (part.type == "text") {
      out.message(utf8::strip_python_whitespace(part.text));
    }
    // Parts of any other type render nothing, as in the template.
  }
}

}  // namespace

std::vector<ChatSegment> render_gemma3_chat_segments(std::span<const ChatMessage> messages,
                                                     bool add_generation_prompt, std::string_view bos_text,
                                                     ChatImages images) {
  if (messages.empty()) fail(Status::InvalidArg, "chat template: the message list is empty");

  SegmentWriter out;
  out.markup(bos_text);

  size_t first_turn = 0;
  std::string first_user_prefix;
  if (messages[0].role == "system") {
    first_user_prefix = system_prefix(messages[0]);
    first_turn = 1;
  }

  for (size_t k = first_turn; k < messages.size(); ++k) {
    const ChatMessage& m = messages[k];
    const size_t turn = k - first_turn;
    check_content_shape(m, k);
    if ((m.role == "user") != (turn % 2 == 0))
      fail(Status::InvalidArg,
           "Conversation roles must alternate user/assistant/user/assistant/... (message {} has role '{}')", k,
           m.role);
    out.markup("<start_of_turn>");
    out.markup(m.role == "assistant" ? std::string_view("model") : std::string_view(m.role));
    out.markup("\n");
    if (turn == 0) out.message(first_user_prefix);
    write_content(m, k, images, out);
    out.markup("<end_of_turn>\n");
  }
  if (add_generation_prompt) out.markup("<start_of_turn>model\n");
  return out.take();
}

std::string render_gemma3_chat(std::span<const ChatMessage> messages, bool add_generation_prompt,
                               std::string_view bos_text, ChatImages images) {
  std::string prompt;
  for (const ChatSegment& s : render_gemma3_chat_segments(messages, add_generation_prompt, bos_text, images))
    prompt += s.text;
  return prompt;
}

}  // namespace lem
