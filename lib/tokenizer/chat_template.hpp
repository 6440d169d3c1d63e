// The Gemma 3 chat template (tokenizer_config.json "chat_template", rendered by HF with
// trim_blocks + lstrip_blocks), hard-coded. Spec §3:
//
//   bos_token, then per message "<start_of_turn>{role}\n{content}<end_of_turn>\n" (role
//   "assistant" written "model"), then "<start_of_turn>model\n" when add_generation_prompt.
//   * String content is trimmed (jinja `trim` = Python str.strip(), all Unicode whitespace).
//   * List content renders its parts in order, no separator: "text" parts trimmed, "image" parts
//     "<start_of_image>", any other type nothing.
//   * A leading "system" message is not a turn: its string content (for list content: the first
//     part's text), untrimmed, + "\n\n" is prefixed to the first remaining message; lost if none.
//   * Role check on the remaining messages: even indices must be "user", odd ones must not.
//
// Differences from jinja that only malformed input can see: an empty message list and a system
// message whose list content is empty or starts with a non-text part raise here as in jinja, but
// jinja's checks on JSON types (null or numeric content: "Invalid content type") have no C++
// counterpart because the types below cannot hold such values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lem {

// One item of list-form content, as in HF multimodal messages:
// {"type": "text", "text": "..."} or {"type": "image"}.
struct ChatContentPart {
  std::string type;
  std::string text;  // used by "text" parts
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant" (written "model"), or any other name
  std::string content;  // plain text content, the usual case
  // List-form content. When set it is the message's content and `content` must be empty.
  std::optional<std::vector<ChatContentPart>> parts = std::nullopt;
};

// What to do with "image" parts. Reject is the default: this library runs text-only models.
// Placeholder renders "<start_of_image>" as the template does (for exact template output).
enum class ChatImages { Reject, Placeholder };

// A piece of the rendered prompt: template markup (bos, turn markers, roles) or text that came
// from a message. Lets callers tokenise message text without special-token parsing.
struct ChatSegment {
  std::string text;
  bool from_message = false;
};

// Renders `messages`; throws lem::Error(InvalidArg) where the template raises (role order),
// for an empty list, and for rejected images.
std::vector<ChatSegment> render_gemma3_chat_segments(std::span<const ChatMessage> messages,
                                                     bool add_generation_prompt, std::string_view bos_text,
                                                     ChatImages images = ChatImages::Reject);

// The same, joined into the prompt string.
std::string render_gemma3_chat(std::span<const ChatMessage> messages, bool add_generation_prompt,
                               std::string_view bos_text, ChatImages images = ChatImages::Reject);

}  // namespace lem
