// The hard-coded Gemma 3 chat template against the prompts rendered by Python jinja2 from the
// real tokenizer_config.json (tests/data/tokenizer/chat.jsonl, spec §3).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "test_tokenizer_support.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using lem::ChatContentPart;
using lem::ChatImages;
using lem::ChatMessage;
using namespace lem::test;

std::vector<ChatMessage> messages_of(const nlohmann::json& array) {
  std::vector<ChatMessage> out;
  for (const auto& m : array) {
    ChatMessage msg;
    msg.role = m["role"];
    if (m["content"].is_string()) {
      msg.content = m["content"];
    } else {
      std::vector<ChatContentPart> parts;
      for (const auto& p : m["content"]) parts.push_back(ChatContentPart{p["type"], p.value("text", std::string())});
      msg.parts = std::move(parts);
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) {
  return lem::render_gemma3_chat(messages, add_generation_prompt, "<bos>");
}

void check_raises(const std::vector<ChatMessage>& messages, const std::string& message_part) {
  try {
    (void)render(messages);
    FAIL("the template accepted the conversation");
  } catch (const lem::Error& e) {
    CHECK(e.status() == lem::Status::InvalidArg);
    CHECK_THAT(e.what(), Catch::Contains(message_part));
  }
}

}  // namespace

TEST_CASE("chat.jsonl: every conversation renders and tokenises like HF", "[chat_template]") {
  const lem::Tokenizer& hf = gemma3_hf_tokenizer();
  const lem::Tokenizer& gguf = gemma3_gguf_tokenizer();
  const auto chats = read_jsonl(data_path("tokenizer/chat.jsonl"));
  REQUIRE(chats.size() == 10);
  for (const auto& c : chats) {
    const std::string name = c["name"];
    INFO("conversation " << name);
    const auto messages = messages_of(c["messages"]);
    const bool gen = c["add_generation_prompt"];
    const std::string prompt = c["prompt"];
    const bool has_image = name == "multimodal-list";

    CHECK(hf.apply_chat_template(messages, gen, ChatImages::Placeholder) == prompt);
    CHECK(gguf.apply_chat_template(messages, gen, ChatImages::Placeholder) == prompt);
    if (has_image) {
      CHECK_THROWS_AS(hf.apply_chat_template(messages, gen), lem::Error);
    } else {
      CHECK(hf.apply_chat_template(messages, gen) == prompt);
    }

    const auto ids = ids_of(c["ids_hf"]);
    CHECK(hf.encode(prompt, false, true) == ids);
    CHECK(gguf.encode(prompt, false, true) == ids_of(c["ids_llama_parse_special"]));
    CHECK(hf.encode_chat(messages, gen, true, ChatImages::Placeholder) == ids);
    CHECK(gguf.encode_chat(messages, gen, true, ChatImages::Placeholder) == ids);

    // Safe mode: message text cannot become control tokens. Only "injection" notices.
    for (const lem::Tokenizer* t : {&hf, &gguf}) {
      const auto safe = t->encode_chat(messages, gen, false, ChatImages::Placeholder);
      CHECK(t->decode(safe, false) == prompt);
      if (name == "injection") {
        CHECK(safe != ids);
        CHECK(std::count(ids.begin(), ids.end(), 106) == 2);   // HF: the user's "<end_of_turn>" too
        CHECK(std::count(safe.begin(), safe.end(), 106) == 1);  // only the template's own
      } else {
        CHECK(safe == ids);
      }
    }
  }
}

TEST_CASE("spec §3 example: system prompt merged into the first user turn", "[chat_template]") {
  const std::vector<ChatMessage> messages = {
      {"system", "You are terse."}, {"user", "Hi there "}, {"assistant", "Hello!"}, {"user", "How are you?"}};
  CHECK(render(messages) ==
        "<bos><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n");
  const std::vector<ChatMessage> first_turn = {{"system", "You are terse."}, {"user", "Hi there "}};
  CHECK(gemma3_hf_tokenizer().encode_chat(first_turn, true, true) ==
        std::vector<int32_t>{2, 105, 2364, 107, 3048, 659, 17514, 236761, 108, 10979, 993, 106, 107, 105, 4368, 107});
}

// Expected strings below were rendered by Python jinja2 3.1 from the real tokenizer_config.json
// with transformers' settings (trim_blocks, lstrip_blocks, raise_exception).
TEST_CASE("template corner cases match jinja", "[chat_template]") {
  SECTION("a system message alone renders no turn") {
    CHECK(render({{"system", "S"}}) == "<bos><start_of_turn>model\n");
    CHECK(render({{"system", "S"}}, false) == "<bos>");
  }
  SECTION("system text is not trimmed, turn text is") {
    CHECK(render({{"system", "  sys\n"}, {"user", " u "}}) ==
          "<bos><start_of_turn>user\n  sys\n\n\nu<end_of_turn>\n<start_of_turn>model\n");
  }
  SECTION("trim strips Python's Unicode whitespace but not ZWSP or BOM") {
    CHECK(render({{"user", "\u3000\u00a0\u2028 hi \u200b\u0085\u2009\u001c\u000b"}}, false) ==
          "<bos><start_of_turn>user\nhi \u200b<end_of_turn>\n");
    CHECK(render({{"user", "\u200bhi\ufeff"}}, false) == "<bos><start_of_turn>user\n\u200bhi\ufeff<end_of_turn>\n");
    CHECK(render({{"user", " \n\t "}}, false) == "<bos><start_of_turn>user\n<end_of_turn>\n");
  }
  SECTION("list content: parts in order, text trimmed, unknown types render nothing") {
    ChatMessage user{"user", ""};
    user.parts = std::vector<ChatContentPart>{{"text", " a "}, {"video", ""}, {"text", "\nb\n"}};
    CHECK(render({user}, false) == "<bos><start_of_turn>user\nab<end_of_turn>\n");
    ChatMessage system{"system", ""};
    system.parts = std::vector<ChatContentPart>{{"text", " sys "}, {"text", "ignored"}};
    CHECK(render({system, {"user", " u "}}, false) == "<bos><start_of_turn>user\n sys \n\nu<end_of_turn>\n");
  }
  SECTION("only the role order is checked: other roles render verbatim at odd positions") {
    CHECK(render({{"user", "a"}, {"system", " s "}}) ==
          "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>system\ns<end_of_turn>\n<start_of_turn>model\n");
    CHECK(render({{"user", "a"}, {"tool", "t"}}, false) ==
          "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>tool\nt<end_of_turn>\n");
    CHECK(render({{"user", "a"}, {"model", "b"}}, false) ==
          "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n");
  }
  SECTION("role alternation errors") {
    const std::string alternate = "Conversation roles must alternate user/assistant/user/assistant/...";
    check_raises({{"system", "S"}, {"assistant", "A"}}, alternate);
    check_raises({{"user", "a"}, {"user", "b"}}, alternate);
    check_raises({{"assistant", "x"}}, alternate);
    check_raises({{"system", "a"}, {"system", "b"}}, alternate);
    check_raises({{"user", "a"}, {"assistant", "b"}, {"tool", "t"}}, alternate);
  }
  SECTION("malformed conversations") {
    check_raises({}, "empty");
    ChatMessage system{"system", ""};
    system.parts = std::vector<ChatContentPart>{};
    check_raises({system, {"user", "u"}}, "text part");
    system.parts = std::vector<ChatContentPart>{{"image", ""}};
    check_raises({system, {"user", "u"}}, "text part");
    ChatMessage both{"user", "text"};
    both.parts = std::vector<ChatContentPart>{{"text", "more"}};
    check_raises({both}, "both");
    ChatMessage image{"user", ""};
    image.parts = std::vector<ChatContentPart>{{"image", ""}, {"text", "Describe"}};
    check_raises({image}, "image");
    CHECK(lem::render_gemma3_chat(std::vector<ChatMessage>{image}, false, "<bos>", ChatImages::Placeholder) ==
          "<bos><start_of_turn>user\n<start_of_image>Describe<end_of_turn>\n");
  }
}
