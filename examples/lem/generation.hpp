// Generation as `lem generate` and `lem chat` run it: lem_generate with an event callback that
// prints the text as it comes, and Ctrl-C turned into a flag that the abort callback polls (a
// signal handler may not call into the library).
#pragma once

#include <cstdint>
#include <vector>

#include "lem/lem.h"

namespace cli {

// Installs a SIGINT handler that only sets a flag (no SA_RESTART: a Ctrl-C at a prompt interrupts
// the read instead of killing the program).
void install_sigint_flag();
bool interrupted();
void clear_interrupt();

// lem_chat_tokenize into a vector (the safe chat tokenisation: control tokens come only from the
// template).
std::vector<int32_t> chat_tokenize(const lem_model* model, const std::vector<lem_chat_message>& messages);

enum class Echo {
  Text,  // write each event's text to stdout as it comes
  Ids,   // write nothing; the caller prints the token ids
};

struct Generation {
  lem_status status = LEM_OK;       // LEM_OK, or LEM_ERR_CANCELLED after Ctrl-C
  lem_generate_result result{};     // counts, timings and the stop reason
  std::vector<int32_t> tokens;      // the ids of the TOKEN events
};

// Runs lem_generate on ctx. Ctrl-C (install_sigint_flag) stops it with LEM_STOP_CANCELLED. A failed
// write to stdout and any library error other than `tolerated` are thrown as CliError; a tolerated
// status comes back in Generation::status with the context's message in lem_context_last_error().
Generation run_generation(lem_context* ctx, const std::vector<int32_t>& prompt, lem_generate_params params, Echo echo,
                          lem_status tolerated = LEM_OK);

// "eos", "stop", "length", "context_full", "cancelled".
const char* stop_reason_name(int32_t stop_reason);

}  // namespace cli
