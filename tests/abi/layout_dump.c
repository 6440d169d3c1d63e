/* Prints the layout of every public struct of lem.h as JSON: size, alignment and each field's
 * offset and size. tests/abi/layout.json is the committed copy; the abi_layout test compares this
 * program's output with it, and the Rust and Go bindings check their own structs against it.
 * Also fails (exit 1) when a struct has an implicit padding hole: lem.h spells padding out as
 * `reserved` fields so that a future field cannot hide in a hole (ABI rules). */
#include <stddef.h>
#include <stdio.h>

#include <lem/lem.h>

typedef struct {
  const char* name;
  size_t offset;
  size_t size;
} field_info;

#define FIELD(type, f) {#f, offsetof(type, f), sizeof(((type*)0)->f)}

static int holes = 0;
static int first_struct = 1;

static void dump(const char* name, size_t size, size_t align, const field_info* fields, size_t n) {
  size_t end = 0;
  printf("%s\n  \"%s\": {\"size\": %zu, \"align\": %zu, \"fields\": [", first_struct ? "" : ",", name, size, align);
  first_struct = 0;
  for (size_t i = 0; i < n; ++i) {
    printf("%s\n    {\"name\": \"%s\", \"offset\": %zu, \"size\": %zu}", i ? "," : "", fields[i].name,
           fields[i].offset, fields[i].size);
    if (fields[i].offset != end) {
      fprintf(stderr, "%s: %zu padding bytes before %s\n", name, fields[i].offset - end, fields[i].name);
      holes = 1;
    }
    end = fields[i].offset + fields[i].size;
  }
  if (end != size) {
    fprintf(stderr, "%s: %zu padding bytes at the end\n", name, size - end);
    holes = 1;
  }
  printf("]}");
}

#define DUMP(type, ...)                                                     \
  do {                                                                      \
    const field_info fields[] = {__VA_ARGS__};                              \
    struct align_of_##type { char c; type t; };                             \
    dump(#type, sizeof(type), offsetof(struct align_of_##type, t), fields,  \
         sizeof fields / sizeof fields[0]);                                 \
  } while (0)

int main(void) {
  printf("{\n  \"abi_version\": %d,", LEM_ABI_VERSION);
  first_struct = 1;
  printf("\n  \"structs\": {");
  DUMP(lem_model_params, FIELD(lem_model_params, struct_size), FIELD(lem_model_params, load_mode),
       FIELD(lem_model_params, progress), FIELD(lem_model_params, progress_user_data));
  DUMP(lem_chat_message, FIELD(lem_chat_message, role), FIELD(lem_chat_message, content));
  DUMP(lem_context_params, FIELD(lem_context_params, struct_size), FIELD(lem_context_params, n_ctx),
       FIELD(lem_context_params, n_batch), FIELD(lem_context_params, n_threads), FIELD(lem_context_params, kv_type),
       FIELD(lem_context_params, precision), FIELD(lem_context_params, logits_all),
       FIELD(lem_context_params, reserved));
  DUMP(lem_sampler_params, FIELD(lem_sampler_params, struct_size), FIELD(lem_sampler_params, temperature),
       FIELD(lem_sampler_params, top_k), FIELD(lem_sampler_params, top_p), FIELD(lem_sampler_params, min_p),
       FIELD(lem_sampler_params, repeat_penalty), FIELD(lem_sampler_params, repeat_last_n),
       FIELD(lem_sampler_params, presence_penalty), FIELD(lem_sampler_params, frequency_penalty),
       FIELD(lem_sampler_params, reserved), FIELD(lem_sampler_params, seed),
       FIELD(lem_sampler_params, logit_bias_tokens), FIELD(lem_sampler_params, logit_bias_values),
       FIELD(lem_sampler_params, n_logit_bias));
  DUMP(lem_token_logprob, FIELD(lem_token_logprob, token), FIELD(lem_token_logprob, logprob));
  DUMP(lem_event, FIELD(lem_event, struct_size), FIELD(lem_event, type), FIELD(lem_event, text),
       FIELD(lem_event, text_len), FIELD(lem_event, token), FIELD(lem_event, logprob), FIELD(lem_event, n_top),
       FIELD(lem_event, stop_reason), FIELD(lem_event, top), FIELD(lem_event, n_prompt_tokens),
       FIELD(lem_event, n_reused_tokens), FIELD(lem_event, n_generated), FIELD(lem_event, reserved),
       FIELD(lem_event, prompt_seconds), FIELD(lem_event, generate_seconds));
  DUMP(lem_generate_params, FIELD(lem_generate_params, struct_size), FIELD(lem_generate_params, max_tokens),
       FIELD(lem_generate_params, sampling), FIELD(lem_generate_params, stop_strings),
       FIELD(lem_generate_params, n_stop), FIELD(lem_generate_params, ignore_eos),
       FIELD(lem_generate_params, show_control), FIELD(lem_generate_params, on_event),
       FIELD(lem_generate_params, should_abort), FIELD(lem_generate_params, user_data),
       FIELD(lem_generate_params, n_top_logprobs), FIELD(lem_generate_params, reserved));
  DUMP(lem_generate_result, FIELD(lem_generate_result, struct_size), FIELD(lem_generate_result, stop_reason),
       FIELD(lem_generate_result, n_prompt_tokens), FIELD(lem_generate_result, n_reused_tokens),
       FIELD(lem_generate_result, n_generated), FIELD(lem_generate_result, reserved),
       FIELD(lem_generate_result, prompt_seconds), FIELD(lem_generate_result, generate_seconds));
  printf("\n  }\n}\n");
  return holes;
}
