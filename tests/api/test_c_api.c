/* The C ABI exercised from C: every entry point of lem.h on a fixture model, including error
 * paths (NULL arguments, small buffers, bad files) and cancellation from callbacks.
 * Usage: test_c_api MODEL.gguf HF_MODEL_DIR */
#include <stdio.h>
#include <string.h>

#include <lem/lem.h>

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

typedef struct {
  int calls;
  int stop_after;
  char text[4096];
  size_t len;
} stream_state;

static int32_t on_token(const char* text, size_t len, int32_t token, void* user) {
  stream_state* s = (stream_state*)user;
  (void)token;
  if (s->len + len < sizeof s->text) {
    memcpy(s->text + s->len, text, len);
    s->len += len;
  }
  ++s->calls;
  return s->stop_after < 0 || s->calls < s->stop_after;
}

static float max_abs_diff(const float* a, const float* b, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
    if (d > m) m = d;
  }
  return m;
}

static int32_t abort_now(void* user) {
  (void)user;
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.gguf HF_MODEL_DIR\n", argv[0]);
    return 2;
  }
  CHECK(lem_version_number() == LEM_VERSION_NUMBER);
  CHECK(strcmp(lem_status_str(LEM_ERR_BAD_FORMAT), "bad file format") == 0);
  CHECK(strcmp(lem_status_str(12345), "unknown status") == 0);

  /* errors: status + message, out-params cleared */
  lem_model* model = (lem_model*)1;
  CHECK(lem_model_load(NULL, NULL, &model) == LEM_ERR_INVALID_ARG && model == NULL);
  CHECK(lem_model_load("/nonexistent", NULL, &model) == LEM_ERR_IO && strstr(lem_last_error(), "/nonexistent"));
  lem_model_params bad = lem_model_params_default();
  bad.struct_size = 0;
  CHECK(lem_model_load(argv[1], &bad, &model) == LEM_ERR_INVALID_ARG);
  lem_model_free(NULL); /* harmless */
  lem_context_free(NULL);

  lem_model_params mp = lem_model_params_default();
  CHECK(lem_model_load(argv[1], &mp, &model) == LEM_OK);
  CHECK(strcmp(lem_last_error(), "") == 0);
  CHECK(strcmp(lem_model_format(model), "gguf") == 0);
  CHECK(lem_model_n_vocab(model) == 1024);
  CHECK(lem_token_bos(model) == 2);
  CHECK(lem_token_is_eog(model, 106) && lem_token_is_eog(model, 1) && !lem_token_is_eog(model, 2));

  /* tokenizer round trip and the buffer-too-small convention */
  int32_t ids[256];
  size_t n = 0;
  const char* text = "Hello world";
  CHECK(lem_tokenize(model, text, strlen(text), LEM_TOKENIZE_ADD_BOS, ids, 1, &n) == LEM_ERR_BUFFER_TOO_SMALL);
  const size_t needed = n;
  CHECK(needed > 1);
  CHECK(lem_tokenize(model, text, strlen(text), LEM_TOKENIZE_ADD_BOS, ids, 256, &n) == LEM_OK && n == needed);
  CHECK(ids[0] == 2);
  char buf[4096];
  size_t len = 0;
  CHECK(lem_detokenize(model, ids, n, LEM_DETOKENIZE_SKIP_SPECIAL, buf, sizeof buf, &len) == LEM_OK);
  CHECK(len == strlen(text) && memcmp(buf, text, len) == 0);
  CHECK(lem_detokenize(model, ids, n, 0, buf, 2, &len) == LEM_ERR_BUFFER_TOO_SMALL && len > 2);
  int32_t bad_id = 99999;
  CHECK(lem_detokenize(model, &bad_id, 1, 0, buf, sizeof buf, &len) == LEM_ERR_INVALID_ARG);

  /* chat template */
  lem_chat_message msgs[2] = {{"system", "You are terse."}, {"user", "Hi there"}};
  CHECK(lem_chat_apply_template(model, msgs, 2, 1, buf, sizeof buf, &len) == LEM_OK);
  const char* want = "<bos><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\n";
  CHECK(len == strlen(want) && memcmp(buf, want, len) == 0);
  lem_chat_message bad_order[2] = {{"assistant", "x"}, {"user", "y"}};
  CHECK(lem_chat_apply_template(model, bad_order, 2, 1, buf, sizeof buf, &len) == LEM_ERR_INVALID_ARG);

  /* context, evaluation, prefix reuse */
  lem_context* ctx = NULL;
  lem_context_params cp = lem_context_params_default();
  cp.n_ctx = 256;
  cp.n_threads = 2;
  CHECK(lem_context_create(model, &cp, &ctx) == LEM_OK);
  CHECK(lem_context_logits(ctx) == NULL);
  const int32_t prompt[5] = {2, 10, 20, 30, 40};
  CHECK(lem_context_eval(ctx, prompt, 5, NULL, NULL) == LEM_OK);
  CHECK(lem_context_n_tokens(ctx) == 5);
  float first[1024];
  memcpy(first, lem_context_logits(ctx), sizeof first);
  size_t reused = 0;
  CHECK(lem_context_set_tokens(ctx, prompt, 5, &reused, NULL, NULL) == LEM_OK && reused == 5);
  CHECK(memcmp(first, lem_context_logits(ctx), sizeof first) == 0);
  CHECK(lem_context_set_tokens(ctx, prompt, 3, &reused, NULL, NULL) == LEM_OK && reused == 2);
  CHECK(lem_context_eval(ctx, prompt + 3, 2, NULL, NULL) == LEM_OK);
  /* Same tokens, same logits up to the 8-bit activation rounding: batches of 5 and of 2 tokens
   * take different SIMD paths, and a last-bit difference can flip one rounding (~0.1 here). */
  CHECK(max_abs_diff(first, lem_context_logits(ctx), 1024) < 0.5f);
  CHECK(lem_context_eval(ctx, prompt, 5, abort_now, NULL) == LEM_ERR_CANCELLED);
  int32_t out_of_range = 5000;
  CHECK(lem_context_eval(ctx, &out_of_range, 1, NULL, NULL) == LEM_ERR_INVALID_ARG);
  lem_context_reset(ctx);
  CHECK(lem_context_n_tokens(ctx) == 0);

  /* generation: greedy, deterministic, streamed, cancellable */
  lem_generate_params gp = lem_generate_params_default();
  gp.max_tokens = 12;
  gp.ignore_eos = 1;
  gp.sampling.temperature = 0.0f;
  gp.on_token = on_token;
  stream_state s1 = {0, -1, {0}, 0}, s2 = {0, -1, {0}, 0};
  gp.user_data = &s1;
  lem_generate_result r;
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK);
  CHECK(r.stop_reason == LEM_STOP_LENGTH && r.n_generated == 12 && r.n_prompt_tokens == 5);
  gp.user_data = &s2;
  /* the cache holds the prompt and the answer: all but the last prompt token are reused (its
   * logits must be recomputed to sample from) */
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK && r.n_reused_tokens == 4);
  CHECK(s1.len == s2.len && memcmp(s1.text, s2.text, s1.len) == 0);
  /* seeded sampling reproduces */
  gp.sampling.temperature = 1.0f;
  gp.sampling.seed = 7;
  stream_state a = {0, -1, {0}, 0}, b = {0, -1, {0}, 0};
  gp.user_data = &a;
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK);
  gp.user_data = &b;
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK);
  CHECK(a.len == b.len && memcmp(a.text, b.text, a.len) == 0);
  /* cancel from the token callback: not an error */
  stream_state c = {0, 3, {0}, 0};
  gp.user_data = &c;
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK && r.stop_reason == LEM_STOP_CANCELLED && c.calls == 3);
  gp.should_abort = abort_now;
  CHECK(lem_generate(ctx, prompt, 5, &gp, &r) == LEM_OK && r.stop_reason == LEM_STOP_CANCELLED);
  CHECK(lem_generate(ctx, NULL, 0, &gp, &r) == LEM_ERR_INVALID_ARG);

  lem_context_free(ctx);
  lem_model_free(model);

  /* an HF checkpoint folder through the same API */
  CHECK(lem_model_load(argv[2], NULL, &model) == LEM_OK);
  CHECK(strcmp(lem_model_format(model), "safetensors") == 0);
  CHECK(lem_tokenize(model, "Hello", 5, 0, ids, 256, &n) == LEM_OK && n >= 1);
  lem_model_free(model);

  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all C ABI checks passed\n");
  return 0;
}
