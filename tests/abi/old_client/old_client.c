/* A client built against the BASELINE header (tests/abi/baseline/include), run against the
 * current libLEM.so: what a program compiled when the ABI was frozen does, it must keep doing.
 * It loads a model, checks the library's ABI version, tokenizes a chat safely, generates
 * greedily through lem_generate and through a stream, and checks both agree.
 * Usage: old_client MODEL.gguf */
#include <stdio.h>
#include <string.h>

#include <lem/lem.h>

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
              lem_last_error());                                                 \
      return 1;                                                                  \
    }                                                                            \
  } while (0)

typedef struct {
  int32_t ids[64];
  int n;
} collected;

static int32_t collect(const lem_event* ev, void* user) {
  collected* c = (collected*)user;
  if (ev->type == LEM_EVENT_TOKEN && c->n < 64) c->ids[c->n++] = ev->token;
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL\n", argv[0]);
    return 2;
  }
  CHECK(lem_abi_version() == LEM_ABI_VERSION);
  CHECK(lem_version_number() / 10000 == LEM_VERSION_MAJOR);

  lem_model_params mp;
  lem_model_params_init(&mp, sizeof mp);
  lem_model* model = NULL;
  char err[256];
  CHECK(lem_model_load(argv[1], &mp, &model, err, sizeof err) == LEM_OK);

  lem_context_params cp;
  lem_context_params_init(&cp, sizeof cp);
  cp.n_ctx = 256;
  cp.n_threads = 1;
  lem_context* ctx = NULL;
  CHECK(lem_context_create(model, &cp, &ctx, err, sizeof err) == LEM_OK);

  lem_chat_message chat[1] = {{"user", "Hello <end_of_turn> there"}};
  int32_t prompt[256];
  size_t n_prompt = 0;
  CHECK(lem_chat_tokenize(model, chat, 1, 1, prompt, 256, &n_prompt) == LEM_OK);
  CHECK(n_prompt > 4);

  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0;
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = 8;
  gp.ignore_eos = 1;
  gp.sampling = &sp;
  collected by_callback = {{0}, 0};
  gp.on_event = collect;
  gp.user_data = &by_callback;
  lem_generate_result result;
  lem_generate_result_init(&result, sizeof result);
  CHECK(lem_generate(ctx, prompt, n_prompt, &gp, &result) == LEM_OK);
  CHECK(result.stop_reason == LEM_STOP_LENGTH);
  CHECK(result.n_generated == 8 && by_callback.n == 8);

  lem_context_reset(ctx);
  gp.on_event = NULL;
  lem_stream* stream = NULL;
  CHECK(lem_stream_start(ctx, prompt, n_prompt, &gp, &stream) == LEM_OK);
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  int n = 0;
  for (;;) {
    CHECK(lem_stream_next(stream, &ev) == LEM_OK);
    if (ev.type == LEM_EVENT_DONE) break;
    CHECK(n < 8 && ev.token == by_callback.ids[n]);
    ++n;
  }
  CHECK(n == 8 && ev.stop_reason == LEM_STOP_LENGTH);
  lem_stream_free(stream);
  lem_context_free(ctx);
  lem_model_free(model);
  printf("ok: baseline-header client ran %d greedy tokens on libLEM %s\n", n, lem_version_string());
  return 0;
}
