/* The layout of every public struct of lem.h on x86-64 (LP64, SysV), asserted at compile time:
 * a field that moves, a struct that changes size or a padding hole that appears fails the build
 * of this file. The expected numbers are written out by hand from the header, not computed from
 * it. (tests/abi/layout.json is the same table as data, for the bindings.)
 * C99: an array of negative size is the static assertion. Prints "ok"; elsewhere it skips (77). */
#include <stddef.h>
#include <stdio.h>

#include <lem/lem.h>

#if defined(__x86_64__) && !defined(_WIN32)

#define LEM_ASSERT(name, cond) typedef char lem_layout_assert_##name[(cond) ? 1 : -1]
#define SIZE(type, n) LEM_ASSERT(size_of_##type, sizeof(type) == (n))
#define AT(type, field, off, n)                                            \
  LEM_ASSERT(type##_##field##_offset, offsetof(type, field) == (off));     \
  LEM_ASSERT(type##_##field##_size, sizeof(((type*)0)->field) == (n))

SIZE(lem_model_params, 24);
AT(lem_model_params, struct_size, 0, 4);
AT(lem_model_params, load_mode, 4, 4);
AT(lem_model_params, progress, 8, 8);
AT(lem_model_params, progress_user_data, 16, 8);

SIZE(lem_chat_message, 16);
AT(lem_chat_message, role, 0, 8);
AT(lem_chat_message, content, 8, 8);

SIZE(lem_context_params, 32);
AT(lem_context_params, struct_size, 0, 4);
AT(lem_context_params, n_ctx, 4, 4);
AT(lem_context_params, n_batch, 8, 4);
AT(lem_context_params, n_threads, 12, 4);
AT(lem_context_params, kv_type, 16, 4);
AT(lem_context_params, precision, 20, 4);
AT(lem_context_params, logits_all, 24, 4);
AT(lem_context_params, reserved, 28, 4);

SIZE(lem_sampler_params, 72);
AT(lem_sampler_params, struct_size, 0, 4);
AT(lem_sampler_params, temperature, 4, 4);
AT(lem_sampler_params, top_k, 8, 4);
AT(lem_sampler_params, top_p, 12, 4);
AT(lem_sampler_params, min_p, 16, 4);
AT(lem_sampler_params, repeat_penalty, 20, 4);
AT(lem_sampler_params, repeat_last_n, 24, 4);
AT(lem_sampler_params, presence_penalty, 28, 4);
AT(lem_sampler_params, frequency_penalty, 32, 4);
AT(lem_sampler_params, reserved, 36, 4);
AT(lem_sampler_params, seed, 40, 8);
AT(lem_sampler_params, logit_bias_tokens, 48, 8);
AT(lem_sampler_params, logit_bias_values, 56, 8);
AT(lem_sampler_params, n_logit_bias, 64, 8);

SIZE(lem_token_logprob, 8);
AT(lem_token_logprob, token, 0, 4);
AT(lem_token_logprob, logprob, 4, 4);

SIZE(lem_event, 80);
AT(lem_event, struct_size, 0, 4);
AT(lem_event, type, 4, 4);
AT(lem_event, text, 8, 8);
AT(lem_event, text_len, 16, 8);
AT(lem_event, token, 24, 4);
AT(lem_event, logprob, 28, 4);
AT(lem_event, n_top, 32, 4);
AT(lem_event, stop_reason, 36, 4);
AT(lem_event, top, 40, 8);
AT(lem_event, n_prompt_tokens, 48, 4);
AT(lem_event, n_reused_tokens, 52, 4);
AT(lem_event, n_generated, 56, 4);
AT(lem_event, reserved, 60, 4);
AT(lem_event, prompt_seconds, 64, 8);
AT(lem_event, generate_seconds, 72, 8);

SIZE(lem_generate_params, 72);
AT(lem_generate_params, struct_size, 0, 4);
AT(lem_generate_params, max_tokens, 4, 4);
AT(lem_generate_params, sampling, 8, 8);
AT(lem_generate_params, stop_strings, 16, 8);
AT(lem_generate_params, n_stop, 24, 8);
AT(lem_generate_params, ignore_eos, 32, 4);
AT(lem_generate_params, show_control, 36, 4);
AT(lem_generate_params, on_event, 40, 8);
AT(lem_generate_params, should_abort, 48, 8);
AT(lem_generate_params, user_data, 56, 8);
AT(lem_generate_params, n_top_logprobs, 64, 4);
AT(lem_generate_params, reserved, 68, 4);

SIZE(lem_generate_result, 40);
AT(lem_generate_result, struct_size, 0, 4);
AT(lem_generate_result, stop_reason, 4, 4);
AT(lem_generate_result, n_prompt_tokens, 8, 4);
AT(lem_generate_result, n_reused_tokens, 12, 4);
AT(lem_generate_result, n_generated, 16, 4);
AT(lem_generate_result, reserved, 20, 4);
AT(lem_generate_result, prompt_seconds, 24, 8);
AT(lem_generate_result, generate_seconds, 32, 8);

/* The ABI's numbered values: part of the layout a binding copies. */
LEM_ASSERT(status_values, LEM_OK == 0 && LEM_ERR_INVALID_ARG == 1 && LEM_ERR_IO == 2 && LEM_ERR_BAD_FORMAT == 3 &&
                              LEM_ERR_UNSUPPORTED == 4 && LEM_ERR_OOM == 5 && LEM_ERR_CONTEXT_FULL == 6 &&
                              LEM_ERR_CANCELLED == 7 && LEM_ERR_INTERNAL == 8 && LEM_ERR_BUFFER_TOO_SMALL == 9 &&
                              LEM_ERR_NUMERIC == 10);
LEM_ASSERT(stop_values, LEM_STOP_NONE == 0 && LEM_STOP_EOS == 1 && LEM_STOP_STRING == 2 && LEM_STOP_LENGTH == 3 &&
                            LEM_STOP_CONTEXT_FULL == 4 && LEM_STOP_CANCELLED == 5);
LEM_ASSERT(event_values, LEM_EVENT_TOKEN == 1 && LEM_EVENT_DONE == 2);

int main(void) {
  printf("ok: the public structs have the x86-64 layout of ABI version %d\n", LEM_ABI_VERSION);
  return 0;
}

#else

int main(void) {
  printf("skipped: the asserted layout is x86-64's\n");
  return 77;
}

#endif
