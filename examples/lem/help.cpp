// The usage texts of `lem` and its subcommands (`lem help`, `lem COMMAND --help`).
#include "help.hpp"

#include <cstdio>
#include <string>

#include "lem/lem.h"
#include "options.hpp"

namespace cli {

void print_usage(FILE* out) {
  std::fprintf(out,
               "lem %s — Gemma 3 inference on CPUs\n\n"
               "usage:\n"
               "  lem generate -m MODEL -p TEXT [options]         generate text (chat-formatted; --raw for plain)\n"
               "  lem chat -m MODEL [options]                     interactive chat (/help, /reset, /exit; Ctrl-C stops an answer)\n"
               "  lem logits -m MODEL --tokens IDS --out FILE     float32 logits of every position\n"
               "  lem tokenize -m MODEL [--no-bos] [--special] [--json] [TEXT]\n"
               "  lem bench -m MODEL [-p 512] [-n 128] [-t N] [-r 5] [--json]\n"
               "  lem info FILE_OR_DIR [-c N] [--json [--json-array]]\n"
               "                                                  summarise a GGUF / safetensors / MLX model\n"
               "developer tools:\n"
               "  lem tensor FILE NAME --out OUT.f32              write one tensor as little-endian float32\n"
               "  lem synth --size 270m|1b|4b --type Q4_K_M --vocab TOKENIZER --out FILE.gguf [--seed N]\n"
               "                                                  random-weight Gemma 3 GGUF for benchmarks\n"
               "  lem help [COMMAND]                              this text, or a command's options\n"
               "  lem --version\n"
               "Every command takes --help.\n",
               lem_version_string());
}

bool print_command_help(const std::string& name, FILE* out) {
  std::string text;
  if (name == "generate") {
    text = std::string(
               "usage: lem generate -m MODEL (-p TEXT | -f FILE | --tokens IDS) [options]\n"
               "Generates an answer to one prompt and streams it to standard output; a line of timings goes to\n"
               "standard error. Without -p, -f or --tokens the prompt is read from standard input.\n"
               "prompt:\n"
               "  -p, --prompt TEXT       the prompt (a user turn of the chat template, unless --raw)\n"
               "  -f, --file FILE         read the prompt from FILE\n"
               "  -sys, --system TEXT     a system prompt (chat mode)\n"
               "  --raw                   no chat template: <bos> + TEXT, with control tokens such as\n"
               "                          <start_of_turn> in TEXT parsed (a leading <bos> is not doubled)\n"
               "  --tokens 2,10,20        prompt token ids instead of text\n"
               "  --print-ids             print the generated token ids instead of the text\n"
               "  --verbose-prompt        print the prompt's token ids to standard error first\n") +
           context_options_help() + sampling_options_help();
  } else if (name == "chat") {
    text = std::string(
               "usage: lem chat -m MODEL [-sys TEXT] [options]\n"
               "An interactive conversation. The context keeps the whole conversation, so each turn evaluates\n"
               "only the new message. Commands: /help, /reset (forget the conversation), /exit (or Ctrl-D).\n"
               "Ctrl-C while the model answers stops the answer.\n"
               "  -sys, --system TEXT     a system prompt\n") +
           context_options_help() + sampling_options_help();
  } else if (name == "logits") {
    text = std::string(
               "usage: lem logits -m MODEL (--tokens IDS | -p TEXT | -f FILE) --out FILE [options]\n"
               "Writes the float32 logits of every position, row-major [n_tokens, n_vocab], to FILE (- for\n"
               "standard output). Text is tokenized with <bos> and control tokens parsed.\n") +
           context_options_help();
  } else if (name == "tokenize") {
    text =
        "usage: lem tokenize -m MODEL [--no-bos] [--special] [--json] [TEXT]\n"
        "Prints the token ids of TEXT (else standard input). MODEL may be a full model, a vocab-only GGUF\n"
        "or a folder with only tokenizer.json: no weights are needed.\n"
        "  --no-bos                do not prepend <bos>\n"
        "  --special               parse control tokens (\"<start_of_turn>\") in the text\n"
        "  --json                  print a JSON array\n";
  } else if (name == "bench") {
    text =
        "usage: lem bench -m MODEL [-p 512] [-n 128] [-r 5] [-t N] [-b 512] [-c N] [--kv-type f32|f16] [--json]\n"
        "Prompt processing and generation speed, measured like llama-bench: pp = N_PROMPT random tokens\n"
        "evaluated from an empty context; tg = N_GEN tokens evaluated one at a time. Mean ± sd over R\n"
        "runs after one warm-up run.\n"
        "  -p N                    prompt tokens (default 512; 0 = skip)\n"
        "  -n N                    generated tokens (default 128; 0 = skip)\n"
        "  -r N                    repetitions (default 5)\n"
        "  -t, -b, --kv-type, --exact, -ngl   as for generate\n"
        "  -c N                    context length (default: what the test needs; 0 = the model's maximum)\n"
        "  --json                  one JSON object instead of the markdown table\n";
  } else if (name == "info") {
    text =
        "usage: lem info FILE_OR_DIR [-c N] [--json [--json-array]]\n"
        "Summarises a model file or folder: format, metadata, tensors and the KV cache sizes. Reads only\n"
        "the file's tables: no weights are loaded.\n"
        "  -c, --ctx-size N        also report the KV cache at context length N (0 = the model's maximum)\n"
        "  --json                  the whole report as JSON (long arrays summarised)\n"
        "  --json-array            with --json: long metadata arrays in full\n";
  } else if (name == "tensor") {
    text =
        "usage: lem tensor FILE NAME --out OUT.f32\n"
        "Writes one tensor dequantised to little-endian float32, row-major with ggml dimension 0 fastest,\n"
        "to OUT.f32 (- for standard output). A developer tool.\n";
  } else if (name == "synth") {
    text =
        "usage: lem synth --size 270m|1b|4b --type Q4_K_M|Q8_0|Q4_0|F16|BF16|... --vocab TOKENIZER --out FILE.gguf\n"
        "                 [--seed N] [--threads N] [--n-vocab N]\n"
        "Writes a random-weight Gemma 3 GGUF with the real shapes of a released size, for benchmarks.\n"
        "A developer tool.\n";
  } else {
    return false;
  }
  std::fputs(text.c_str(), out);
  return true;
}

}  // namespace cli
