/* The "Basic usage" block of include/lem/lem.h, as a program: answers one chat message greedily.
 * Usage: lem_example_simple MODEL [QUESTION] */
#include <stdio.h>

#include <lem/lem.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [QUESTION]\n", argv[0]);
    return 2;
  }
  const char* path = argv[1];
  const char* question = argc > 2 ? argv[2] : "What is a lighthouse?";

  lem_model_params mp;
  lem_model_params_init(&mp, sizeof mp);
  lem_model* model = NULL;
  char err[256];
  if (lem_model_load(path, &mp, &model, err, sizeof err) != LEM_OK) {
    fprintf(stderr, "load failed: %s\n", err);
    return 1;
  }
  lem_context* ctx = NULL;
  if (lem_context_create(model, NULL, &ctx, err, sizeof err) != LEM_OK) {
    fprintf(stderr, "context failed: %s\n", err);
    lem_model_free(model);
    return 1;
  }

  /* Safe chat tokenisation: control tokens come only from the template; what the user
   * typed ("<end_of_turn>" included) is plain text. */
  lem_chat_message chat[] = {{"user", question}};
  int32_t prompt[4096];
  size_t n_prompt = 0;
  if (lem_chat_tokenize(model, chat, 1, 1, prompt, 4096, &n_prompt) != LEM_OK) {
    fprintf(stderr, "tokenize failed: %s\n", lem_last_error());
    return 1;
  }

  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0; /* greedy */
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = 64;
  gp.sampling = &sp;
  lem_stream* stream = NULL;
  if (lem_stream_start(ctx, prompt, n_prompt, &gp, &stream) != LEM_OK) {
    fprintf(stderr, "stream failed: %s\n", lem_last_error());
    return 1;
  }
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  lem_status status;
  while ((status = lem_stream_next(stream, &ev)) == LEM_OK) {
    fwrite(ev.text, 1, ev.text_len, stdout);
    if (ev.type == LEM_EVENT_DONE) break;
  }
  if (status != LEM_OK) fprintf(stderr, "generation failed: %s\n", lem_stream_last_error(stream));
  printf("\n[%d prompt tokens, %d generated]\n", ev.n_prompt_tokens, ev.n_generated);
  lem_stream_free(stream);
  lem_context_free(ctx);
  lem_model_free(model);
  return status == LEM_OK ? 0 : 1;
}
