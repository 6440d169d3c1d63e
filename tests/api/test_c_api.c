/* The compute half of the C ABI driven from C99 on a fixture model: the struct_size rules
 * (older, newer and result structs), contexts (evaluation, tokens, logits of every position,
 * precision, per-handle errors), cancellation (abort callbacks, a pending cancel, a cancel from
 * another thread, an event callback that says stop), generation through lem_generate and through
 * a pull stream (same greedy ids and text), log-probabilities, the sampler handle and the checks
 * on its parameters (NaN, out-of-range logit bias).
 * Usage: test_c_api MODEL.gguf */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lem/lem.h>

#include "check.h"


static const char* model_path;
static lem_model* model;
static int32_t n_vocab;

/* ---- helpers ---------------------------------------------------------------------------- */

static lem_context* new_context(int32_t n_ctx, int32_t n_batch, int32_t precision, int32_t logits_all) {
  lem_context_params cp;
  lem_context_params_init(&cp, sizeof cp);
  cp.n_ctx = n_ctx;
  cp.n_batch = n_batch;
  cp.n_threads = 2;
  cp.precision = precision;
  cp.logits_all = logits_all;
  lem_context* ctx = NULL;
  char err[256];
  if (lem_context_create(model, &cp, &ctx, err, sizeof err) != LEM_OK) fprintf(stderr, "context: %s\n", err);
  return ctx;
}

static size_t chat_prompt(const char* text, int32_t* ids, size_t cap) {
  lem_chat_message msg[1];
  msg[0].role = "user";
  msg[0].content = text;
  size_t n = 0;
  CHECK(lem_chat_tokenize(model, msg, 1, 1, ids, cap, &n) == LEM_OK);
  return n;
}

static int32_t argmax(const float* x, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

static float max_abs_diff(const float* a, const float* b, int32_t n) {
  float m = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const float d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
    if (d > m) m = d;
  }
  return m;
}

static int contains(const char* text, const char* part) { return text && strstr(text, part) != NULL; }

static int all_bytes(const unsigned char* p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != v) return 0;
  return 1;
}

static int32_t abort_now(void* user) {
  (void)user;
  return 1;
}

/* Stops at the n-th poll (polls come before each layer of each forward pass). */
typedef struct {
  int polls;
  int stop_at;
} poll_counter;

static int32_t abort_at(void* user) {
  poll_counter* c = (poll_counter*)user;
  return ++c->polls == c->stop_at;
}

/* What a generation produced, collected from events. */
typedef struct {
  int32_t ids[512];
  int n;
  char text[8192];
  size_t len;
  int done_events;
  int32_t done_reason;
  int stop_after; /* return non-zero after this many TOKEN events (< 0: never) */
  int top_checks_failed;
} collected;

static void collect_event(collected* c, const lem_event* ev) {
  if (c->len + ev->text_len < sizeof c->text) {
    memcpy(c->text + c->len, ev->text, ev->text_len);
    c->len += ev->text_len;
  }
  if (ev->type == LEM_EVENT_DONE) {
    ++c->done_events;
    c->done_reason = ev->stop_reason;
    return;
  }
  if (c->n < 512) c->ids[c->n++] = ev->token;
  /* Log-probabilities: the token's is <= 0, the alternatives most likely first. */
  if (!(ev->logprob <= 0.0f)) ++c->top_checks_failed;
  for (int32_t i = 1; i < ev->n_top; ++i)
    if (ev->top[i].logprob > ev->top[i - 1].logprob) ++c->top_checks_failed;
}

static int32_t on_event(const lem_event* ev, void* user) {
  collected* c = (collected*)user;
  collect_event(c, ev);
  return ev->type == LEM_EVENT_TOKEN && c->stop_after >= 0 && c->n >= c->stop_after;
}

static void collected_init(collected* c) {
  memset(c, 0, sizeof *c);
  c->done_reason = -1;
  c->stop_after = -1;
}

/* Runs a stream to its end, collecting events; returns the last status. */
static lem_status run_stream(lem_stream* s, collected* c, lem_event* last) {
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  lem_status st;
  for (int i = 0; i < 1000; ++i) {
    st = lem_stream_next(s, &ev);
    if (st != LEM_OK && st != LEM_ERR_CANCELLED) return st;
    collect_event(c, &ev);
    if (ev.type == LEM_EVENT_DONE) break;
  }
  if (last) *last = ev;
  return st;
}

/* ---- struct_size rules ------------------------------------------------------------------ */

/* A caller built against an older header whose lem_context_params ended after n_batch. */
typedef struct {
  uint32_t struct_size;
  int32_t n_ctx;
  int32_t n_batch;
} old_context_params;

/* A caller built against a newer header with one more field. */
typedef struct {
  lem_context_params p;
  int32_t future_field;
  int32_t future_reserved;
} new_context_params;

static void test_struct_sizes(void) {
  lem_context_params cp;
  memset(&cp, 0x5A, sizeof cp);
  lem_context_params_init(&cp, sizeof cp);
  CHECK(cp.struct_size == sizeof cp);
  CHECK(cp.n_ctx == 4096 && cp.n_batch == 512 && cp.n_threads == 0);
  CHECK(cp.kv_type == LEM_KV_F32 && cp.precision == LEM_PRECISION_FAST && cp.logits_all == 0 && cp.reserved == 0);

  /* An older, smaller struct: _init writes only its bytes; the library defaults the rest. */
  unsigned char old_buf[sizeof(old_context_params) + 16];
  memset(old_buf, 0xAB, sizeof old_buf);
  old_context_params* old = (old_context_params*)old_buf;
  lem_context_params_init((lem_context_params*)old, sizeof *old);
  CHECK(old->struct_size == sizeof *old && old->n_ctx == 4096 && old->n_batch == 512);
  CHECK(all_bytes(old_buf + sizeof *old, 16, 0xAB));
  old->n_ctx = 128;
  lem_context* ctx = NULL;
  char err[256];
  CHECK(lem_context_create(model, (const lem_context_params*)old, &ctx, err, sizeof err) == LEM_OK);
  CHECK(lem_context_n_ctx(ctx) == 128);
  CHECK(lem_context_n_threads(ctx) >= 1); /* the default: all hardware threads */
  lem_context_free(ctx);

  /* A newer, larger struct: accepted while its extra bytes are zero. */
  new_context_params big;
  memset(&big, 0x77, sizeof big);
  lem_context_params_init(&big.p, sizeof big);
  CHECK(big.p.struct_size == sizeof big && big.future_field == 0 && big.future_reserved == 0);
  big.p.n_ctx = 64;
  ctx = NULL;
  CHECK(lem_context_create(model, &big.p, &ctx, err, sizeof err) == LEM_OK && lem_context_n_ctx(ctx) == 64);
  lem_context_free(ctx);
  big.future_field = 1;
  CHECK(lem_context_create(model, &big.p, &ctx, err, sizeof err) == LEM_ERR_INVALID_ARG && ctx == NULL);
  CHECK(contains(err, "must be zero"));
  CHECK(strcmp(lem_last_error(), err) == 0);

  cp.struct_size = 0; /* never initialised */
  CHECK(lem_context_create(model, &cp, &ctx, err, sizeof err) == LEM_ERR_INVALID_ARG && contains(err, "struct_size"));

  /* _init with a size below struct_size's own writes nothing. */
  unsigned char tiny[8];
  memset(tiny, 0xCD, sizeof tiny);
  lem_event_init((lem_event*)tiny, 2);
  CHECK(all_bytes(tiny, sizeof tiny, 0xCD));

  /* Every init sets the caller's size and the documented defaults. */
  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  CHECK(sp.struct_size == sizeof sp && sp.temperature == 0.8f && sp.top_k == 40 && sp.top_p == 0.95f &&
        sp.min_p == 0.05f && sp.repeat_penalty == 1.0f && sp.repeat_last_n == 64 && sp.presence_penalty == 0.0f &&
        sp.frequency_penalty == 0.0f && sp.seed == 0 && sp.n_logit_bias == 0 && sp.logit_bias_tokens == NULL);
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  CHECK(gp.struct_size == sizeof gp && gp.max_tokens == -1 && gp.sampling == NULL && gp.n_stop == 0 &&
        gp.on_event == NULL && gp.should_abort == NULL && gp.n_top_logprobs == 0 && gp.show_control == 0);
  lem_generate_result gr;
  lem_generate_result_init(&gr, sizeof gr);
  CHECK(gr.struct_size == sizeof gr && gr.stop_reason == LEM_STOP_NONE && gr.n_generated == 0);
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  CHECK(ev.struct_size == sizeof ev && ev.token == -1 && ev.text == NULL && ev.top == NULL);
}

/* Results and events are written only up to the caller's struct_size. */
static void test_result_written_up_to_struct_size(void) {
  lem_context* ctx = new_context(256, 64, LEM_PRECISION_FAST, 0);
  int32_t prompt[256];
  const size_t n_prompt = chat_prompt("Hello", prompt, 256);
  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0.0f;
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = 3;
  gp.ignore_eos = 1;
  gp.sampling = &sp;

  /* An old caller whose result struct ended after stop_reason. */
  unsigned char buf[sizeof(lem_generate_result) + 16];
  memset(buf, 0xAB, sizeof buf);
  const size_t old_size = offsetof(lem_generate_result, n_prompt_tokens);
  lem_generate_result_init((lem_generate_result*)buf, old_size);
  CHECK(all_bytes(buf + old_size, sizeof buf - old_size, 0xAB));
  CHECK(lem_generate(ctx, prompt, n_prompt, &gp, (lem_generate_result*)buf) == LEM_OK);
  lem_generate_result seen;
  memcpy(&seen, buf, old_size);
  CHECK(seen.struct_size == old_size && seen.stop_reason == LEM_STOP_LENGTH);
  CHECK(all_bytes(buf + old_size, sizeof buf - old_size, 0xAB));

  /* A larger (newer) result struct: our part written, the rest untouched. */
  memset(buf, 0xAB, sizeof buf);
  lem_generate_result_init((lem_generate_result*)buf, sizeof buf);
  CHECK(all_bytes(buf + sizeof(lem_generate_result), 16, 0));
  memset(buf + sizeof(lem_generate_result), 0xEE, 16);
  CHECK(lem_generate(ctx, prompt, n_prompt, &gp, (lem_generate_result*)buf) == LEM_OK);
  memcpy(&seen, buf, sizeof seen);
  CHECK(seen.struct_size == sizeof buf && seen.n_generated == 3 && seen.stop_reason == LEM_STOP_LENGTH);
  CHECK(all_bytes(buf + sizeof(lem_generate_result), 16, 0xEE));

  /* An uninitialised result struct is refused before anything is computed. */
  lem_generate_result bad;
  memset(&bad, 0, sizeof bad);
  const size_t held = lem_context_n_tokens(ctx);
  lem_context_reset(ctx);
  CHECK(lem_generate(ctx, prompt, n_prompt, &gp, &bad) == LEM_ERR_INVALID_ARG);
  CHECK(lem_context_n_tokens(ctx) == 0 && held > 0);

  /* Events of an old stream caller: nothing past its struct_size. */
  lem_stream* stream = NULL;
  CHECK(lem_stream_start(ctx, prompt, n_prompt, &gp, &stream) == LEM_OK);
  unsigned char ebuf[sizeof(lem_event) + 16];
  memset(ebuf, 0xAB, sizeof ebuf);
  const size_t old_event = offsetof(lem_event, n_top);
  lem_event_init((lem_event*)ebuf, old_event);
  CHECK(lem_stream_next(stream, (lem_event*)ebuf) == LEM_OK);
  lem_event e;
  memcpy(&e, ebuf, old_event);
  CHECK(e.struct_size == old_event && e.type == LEM_EVENT_TOKEN && e.token >= 0 && e.logprob <= 0.0f);
  CHECK(all_bytes(ebuf + old_event, sizeof ebuf - old_event, 0xAB));
  lem_stream_free(stream);
  lem_context_free(ctx);
}

/* ---- contexts --------------------------------------------------------------------------- */

static void test_context(void) {
  char err[256];
  lem_context* ctx = NULL;
  lem_context_params cp;
  lem_context_params_init(&cp, sizeof cp);
  CHECK(lem_context_create(NULL, &cp, &ctx, err, sizeof err) == LEM_ERR_INVALID_ARG && ctx == NULL);
  CHECK(lem_context_create(model, &cp, NULL, err, sizeof err) == LEM_ERR_INVALID_ARG);

  /* Parameters out of range: clear messages naming the field. */
  struct {
    int field;
    int32_t value;
    const char* message;
  } bad[] = {{0, -1, "n_ctx"},   {1, 0, "n_batch"},  {2, -1, "n_threads"}, {2, INT32_MAX, "n_threads"},
             {3, 7, "kv_type"}, {4, 9, "precision"}, {5, 1, "reserved"},   {0, 1 << 30, "n_ctx"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    lem_context_params p;
    lem_context_params_init(&p, sizeof p);
    int32_t* fields[] = {&p.n_ctx, &p.n_batch, &p.n_threads, &p.kv_type, &p.precision, &p.reserved};
    *fields[bad[i].field] = bad[i].value;
    err[0] = 0;
    CHECK(lem_context_create(model, &p, &ctx, err, sizeof err) == LEM_ERR_INVALID_ARG && ctx == NULL);
    if (!contains(err, bad[i].message)) fprintf(stderr, "case %zu: message '%s'\n", i, err);
    CHECK(contains(err, bad[i].message));
  }
  /* The err buffer holds a truncated, NUL-terminated message. */
  cp.kv_type = 99;
  char small_err[8];
  CHECK(lem_context_create(model, &cp, &ctx, small_err, sizeof small_err) == LEM_ERR_INVALID_ARG);
  CHECK(strlen(small_err) == 7 && strncmp(small_err, lem_last_error(), 7) == 0);

  ctx = new_context(256, 8, LEM_PRECISION_FAST, 0);
  CHECK(ctx != NULL);
  CHECK(lem_context_n_ctx(ctx) == 256);
  CHECK(lem_context_n_threads(ctx) == 2);
  CHECK(lem_context_kv_bytes(ctx) > 0);
  CHECK(lem_context_logits(ctx) == NULL);
  CHECK(strcmp(lem_context_last_error(ctx), "") == 0);

  int32_t prompt[64];
  const size_t n_prompt = chat_prompt("What is a lighthouse?", prompt, 64);
  CHECK(n_prompt > 8);
  CHECK(lem_context_eval(ctx, prompt, n_prompt, NULL, NULL) == LEM_OK);
  CHECK(lem_context_n_tokens(ctx) == n_prompt);
  const float* logits = lem_context_logits(ctx);
  CHECK(logits != NULL);
  float* first = (float*)malloc(sizeof(float) * (size_t)n_vocab);
  memcpy(first, logits, sizeof(float) * (size_t)n_vocab);

  /* The tokens the context holds, with the buffer-too-small convention. */
  int32_t held[64];
  size_t n_held = 0;
  CHECK(lem_context_tokens(ctx, held, 2, &n_held) == LEM_ERR_BUFFER_TOO_SMALL && n_held == n_prompt);
  CHECK(contains(lem_context_last_error(ctx), "do not fit"));
  CHECK(lem_context_tokens(ctx, held, 64, &n_held) == LEM_OK && n_held == n_prompt);
  CHECK(memcmp(held, prompt, n_prompt * sizeof(int32_t)) == 0);
  CHECK(strcmp(lem_context_last_error(ctx), "") == 0); /* a successful call clears it */

  /* Prefix reuse. */
  size_t reused = 0;
  CHECK(lem_context_set_tokens(ctx, prompt, n_prompt, &reused, NULL, NULL) == LEM_OK && reused == n_prompt);
  CHECK(memcmp(first, lem_context_logits(ctx), sizeof(float) * (size_t)n_vocab) == 0);
  CHECK(lem_context_set_tokens(ctx, prompt, n_prompt - 3, &reused, NULL, NULL) == LEM_OK && reused == n_prompt - 4);
  CHECK(lem_context_eval(ctx, prompt + n_prompt - 3, 3, NULL, NULL) == LEM_OK);
  /* Same tokens, batches split differently: equal up to the 8-bit activation rounding. */
  CHECK(max_abs_diff(first, lem_context_logits(ctx), n_vocab) < 0.5f);

  /* Per-handle errors: a bad token id fails the call, names the id, and leaves the context. */
  const int32_t bad_ids[3] = {10, n_vocab, 11};
  CHECK(lem_context_eval(ctx, bad_ids, 3, NULL, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(contains(lem_context_last_error(ctx), "outside"));
  CHECK(strcmp(lem_context_last_error(ctx), lem_last_error()) == 0);
  CHECK(lem_context_n_tokens(ctx) == n_prompt);
  CHECK(lem_context_eval(ctx, NULL, 2, NULL, NULL) == LEM_ERR_INVALID_ARG);
  /* More tokens than the context holds. */
  int32_t* many = (int32_t*)calloc(300, sizeof(int32_t));
  CHECK(lem_context_eval(ctx, many, 300, NULL, NULL) == LEM_ERR_CONTEXT_FULL);
  free(many);
  CHECK(lem_context_n_tokens(ctx) == n_prompt);

  lem_context_reset(ctx);
  CHECK(lem_context_n_tokens(ctx) == 0 && lem_context_logits(ctx) == NULL);

  /* F16 KV cache: half the bytes. */
  lem_context_params p16;
  lem_context_params_init(&p16, sizeof p16);
  p16.n_ctx = 256;
  p16.n_batch = 8;
  p16.n_threads = 2;
  p16.kv_type = LEM_KV_F16;
  lem_context* c16 = NULL;
  CHECK(lem_context_create(model, &p16, &c16, err, sizeof err) == LEM_OK);
  CHECK(lem_context_kv_bytes(c16) * 2 == lem_context_kv_bytes(ctx));
  lem_context_free(c16);

  free(first);
  lem_context_free(ctx);
}

/* logits_all and precision: every row of an eval, equal to evaluating each prefix. */
static void test_logits_rows_and_precision(void) {
  int32_t prompt[64];
  const size_t n = chat_prompt("Rows", prompt, 64);
  lem_context* all = new_context(128, 64, LEM_PRECISION_EXACT, 1);
  lem_context* one = new_context(128, 64, LEM_PRECISION_EXACT, 0);
  lem_context* fast = new_context(128, 64, LEM_PRECISION_FAST, 0);
  CHECK(lem_context_logits_row(all, 0) == NULL);
  CHECK(lem_context_eval(all, prompt, n, NULL, NULL) == LEM_OK);
  for (size_t row = 0; row < n; ++row) {
    const float* r = lem_context_logits_row(all, (int64_t)row);
    CHECK(r != NULL);
    CHECK(lem_context_eval(one, prompt + row, 1, NULL, NULL) == LEM_OK);
    if (r) CHECK(max_abs_diff(r, lem_context_logits(one), n_vocab) < 1e-3f);
  }
  CHECK(lem_context_logits_row(all, (int64_t)n) == NULL);
  CHECK(lem_context_logits_row(all, -1) == NULL);
  CHECK(lem_context_logits_row(all, (int64_t)n - 1) != NULL &&
        max_abs_diff(lem_context_logits_row(all, (int64_t)n - 1), lem_context_logits(all), n_vocab) == 0.0f);
  CHECK(lem_context_logits_row(one, 0) == NULL); /* only with logits_all */
  /* Fast precision rounds activations to 8 bits: close to exact, but not equal. */
  CHECK(lem_context_eval(fast, prompt, n, NULL, NULL) == LEM_OK);
  const float d = max_abs_diff(lem_context_logits(fast), lem_context_logits(all), n_vocab);
  CHECK(d > 0.0f && d < 1.0f);
  lem_context_reset(all);
  CHECK(lem_context_logits_row(all, 0) == NULL);
  lem_context_free(all);
  lem_context_free(one);
  lem_context_free(fast);
}

/* ---- cancellation ----------------------------------------------------------------------- */

typedef struct {
  lem_context* ctx;
  lem_stream* stream;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int started;     /* the computation is running (set by its abort callback) */
  int cancel_sent; /* the other thread has called cancel */
} cancel_sync;

static void* cancel_when_started(void* arg) {
  cancel_sync* s = (cancel_sync*)arg;
  pthread_mutex_lock(&s->mutex);
  while (!s->started) pthread_cond_wait(&s->cond, &s->mutex);
  pthread_mutex_unlock(&s->mutex);
  if (s->stream)
    lem_stream_cancel(s->stream);
  else
    lem_context_cancel(s->ctx);
  pthread_mutex_lock(&s->mutex);
  s->cancel_sent = 1;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mutex);
  return NULL;
}

/* The eval's own abort callback: at its first poll it lets the other thread cancel and waits
 * until it has, then never asks to stop itself: the stop must come from lem_context_cancel. */
static int32_t wait_for_cancel(void* arg) {
  cancel_sync* s = (cancel_sync*)arg;
  pthread_mutex_lock(&s->mutex);
  if (!s->started) {
    s->started = 1;
    pthread_cond_broadcast(&s->cond);
    while (!s->cancel_sent) pthread_cond_wait(&s->cond, &s->mutex);
  }
  pthread_mutex_unlock(&s->mutex);
  return 0;
}

static void test_cancel(void) {
  lem_context* ctx = new_context(256, 8, LEM_PRECISION_FAST, 0);
  int32_t prompt[64];
  const size_t n = chat_prompt("Cancel me, please, while I am being evaluated.", prompt, 64);
  CHECK(n > 24);

  /* An abort callback that says stop at once. */
  CHECK(lem_context_eval(ctx, prompt, n, abort_now, NULL) == LEM_ERR_CANCELLED);
  CHECK(lem_context_n_tokens(ctx) == 0);
  CHECK(contains(lem_context_last_error(ctx), "cancelled"));

  /* Polled before every layer (6 here): the 14th poll is the second layer of the third batch
   * of 8; the first two batches stay. */
  poll_counter pc = {0, 14};
  CHECK(lem_context_eval(ctx, prompt, n, abort_at, &pc) == LEM_ERR_CANCELLED);
  CHECK(pc.polls == 14);
  CHECK(lem_context_n_tokens(ctx) == 16);
  CHECK(lem_context_eval(ctx, prompt + 16, n - 16, NULL, NULL) == LEM_OK && lem_context_n_tokens(ctx) == n);

  /* A cancel that finds nothing running stops the next call, which consumes it. */
  lem_context_reset(ctx);
  lem_context_cancel(ctx);
  CHECK(lem_context_eval(ctx, prompt, n, NULL, NULL) == LEM_ERR_CANCELLED && lem_context_n_tokens(ctx) == 0);
  CHECK(lem_context_eval(ctx, prompt, n, NULL, NULL) == LEM_OK && lem_context_n_tokens(ctx) == n);

  /* lem_context_cancel from another thread while an eval runs. */
  lem_context_reset(ctx);
  cancel_sync sync;
  memset(&sync, 0, sizeof sync);
  sync.ctx = ctx;
  pthread_mutex_init(&sync.mutex, NULL);
  pthread_cond_init(&sync.cond, NULL);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, cancel_when_started, &sync) == 0);
  CHECK(lem_context_eval(ctx, prompt, n, wait_for_cancel, &sync) == LEM_ERR_CANCELLED);
  pthread_join(thread, NULL);
  CHECK(sync.cancel_sent == 1);
  CHECK(lem_context_n_tokens(ctx) == 0); /* stopped in the first batch */
  CHECK(lem_context_eval(ctx, prompt, n, NULL, NULL) == LEM_OK); /* consumed */

  /* lem_generate: cancelled by the event callback, by should_abort, by lem_context_cancel. */
  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0.0f;
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = 20;
  gp.ignore_eos = 1;
  gp.sampling = &sp;
  collected c;
  collected_init(&c);
  c.stop_after = 3;
  gp.on_event = on_event;
  gp.user_data = &c;
  lem_generate_result r;
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_ERR_CANCELLED);
  CHECK(r.stop_reason == LEM_STOP_CANCELLED && r.n_generated == 3);
  CHECK(c.n == 3 && c.done_events == 1 && c.done_reason == LEM_STOP_CANCELLED);
  CHECK(contains(lem_context_last_error(ctx), "cancelled"));

  gp.on_event = NULL;
  gp.should_abort = abort_now;
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_ERR_CANCELLED && r.stop_reason == LEM_STOP_CANCELLED);
  gp.should_abort = NULL;
  lem_context_cancel(ctx);
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_ERR_CANCELLED && r.stop_reason == LEM_STOP_CANCELLED);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_OK && r.stop_reason == LEM_STOP_LENGTH && r.n_generated == 20);

  /* A stream cancelled from another thread while lem_stream_next runs: the cancel comes from
   * the thread, the stream's first next blocks until it has been sent (through the context's
   * eval of a warm-up, the stream has no callbacks; so a long generation is cancelled instead). */
  lem_context_free(ctx);
  ctx = new_context(4096, 64, LEM_PRECISION_FAST, 0);
  gp.max_tokens = -1;
  lem_stream* stream = NULL;
  CHECK(lem_stream_start(ctx, prompt, n, &gp, &stream) == LEM_OK);
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  CHECK(lem_stream_next(stream, &ev) == LEM_OK && ev.type == LEM_EVENT_TOKEN);
  memset(&sync, 0, sizeof sync);
  sync.stream = stream;
  sync.started = 1; /* cancel at once, while this thread keeps calling next */
  pthread_mutex_init(&sync.mutex, NULL);
  pthread_cond_init(&sync.cond, NULL);
  CHECK(pthread_create(&thread, NULL, cancel_when_started, &sync) == 0);
  lem_status st = LEM_OK;
  int events = 1;
  while (st == LEM_OK && events < 4000) {
    st = lem_stream_next(stream, &ev);
    ++events;
    if (st == LEM_OK && ev.type == LEM_EVENT_DONE) break;
  }
  pthread_join(thread, NULL);
  CHECK(st == LEM_ERR_CANCELLED);
  CHECK(ev.type == LEM_EVENT_DONE && ev.stop_reason == LEM_STOP_CANCELLED);
  CHECK(ev.n_generated >= 1 && ev.n_generated < 4000);
  CHECK(contains(lem_stream_last_error(stream), "cancelled"));
  /* After DONE: DONE again. */
  lem_event again;
  lem_event_init(&again, sizeof again);
  CHECK(lem_stream_next(stream, &again) == LEM_ERR_CANCELLED && again.type == LEM_EVENT_DONE &&
        again.n_generated == ev.n_generated);
  /* lem_stream_cancel after the end: freeing the stream drops it; the context runs on. */
  lem_stream_cancel(stream);
  lem_stream_free(stream);
  CHECK(lem_context_eval(ctx, prompt, 2, NULL, NULL) == LEM_OK);
  pthread_mutex_destroy(&sync.mutex);
  pthread_cond_destroy(&sync.cond);
  lem_context_free(ctx);
}

/* ---- generation ------------------------------------------------------------------------- */

static void test_generate_and_stream(void) {
  lem_context* ctx = new_context(512, 64, LEM_PRECISION_FAST, 0);
  int32_t prompt[128];
  const size_t n = chat_prompt("Tell me about lighthouses.", prompt, 128);
  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0.0f;
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = 24;
  gp.ignore_eos = 1;
  gp.sampling = &sp;
  gp.n_top_logprobs = 5;
  gp.on_event = on_event;

  /* Greedy through lem_generate ... */
  collected by_callback;
  collected_init(&by_callback);
  gp.user_data = &by_callback;
  lem_generate_result r;
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_OK);
  CHECK(r.stop_reason == LEM_STOP_LENGTH && r.n_generated == 24 && r.n_prompt_tokens == (int32_t)n &&
        r.n_reused_tokens == 0);
  CHECK(r.prompt_seconds > 0 && r.generate_seconds > 0);
  CHECK(by_callback.n == 24 && by_callback.done_events == 1 && by_callback.top_checks_failed == 0);
  CHECK(lem_context_n_tokens(ctx) == n + 24);

  /* ... and through a stream: the same ids and text. */
  lem_context_reset(ctx);
  lem_stream* stream = NULL;
  CHECK(lem_stream_start(ctx, prompt, n, &gp, &stream) == LEM_OK && stream != NULL);
  /* While the stream owns the context, nothing else computes on it. */
  CHECK(lem_context_eval(ctx, prompt, 1, NULL, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(contains(lem_context_last_error(ctx), "stream"));
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_ERR_INVALID_ARG);
  size_t reused = 0;
  CHECK(lem_context_set_tokens(ctx, prompt, n, &reused, NULL, NULL) == LEM_ERR_INVALID_ARG);
  lem_stream* second = NULL;
  CHECK(lem_stream_start(ctx, prompt, n, &gp, &second) == LEM_ERR_INVALID_ARG && second == NULL);
  lem_context_reset(ctx); /* refused: the context is the stream's */
  CHECK(contains(lem_context_last_error(ctx), "stream"));

  collected by_stream;
  collected_init(&by_stream);
  lem_event ev;
  lem_event_init(&ev, sizeof ev);
  /* The first event: the prompt is evaluated on this call, logprobs and alternatives come with it. */
  CHECK(lem_stream_next(stream, &ev) == LEM_OK && ev.type == LEM_EVENT_TOKEN);
  CHECK(ev.n_top == 5 && ev.top != NULL && ev.stop_reason == LEM_STOP_NONE && ev.n_generated == 1);
  if (ev.top) {
    CHECK(ev.top[0].token == ev.token && ev.top[0].logprob == ev.logprob); /* greedy: the top-1 */
    for (int i = 1; i < 5; ++i) CHECK(ev.top[i].logprob <= ev.top[i - 1].logprob);
  }
  CHECK(ev.logprob <= 0.0f);
  collect_event(&by_stream, &ev);
  lem_event done;
  CHECK(run_stream(stream, &by_stream, &done) == LEM_OK);
  CHECK(done.type == LEM_EVENT_DONE && done.stop_reason == LEM_STOP_LENGTH && done.n_generated == 24 &&
        done.token == -1 && done.n_top == 0);
  CHECK(by_stream.n == by_callback.n && memcmp(by_stream.ids, by_callback.ids, sizeof(int32_t) * 24) == 0);
  CHECK(by_stream.len == by_callback.len && memcmp(by_stream.text, by_callback.text, by_stream.len) == 0);
  CHECK(by_stream.len > 0);
  /* After DONE, DONE again. */
  lem_event_init(&ev, sizeof ev);
  CHECK(lem_stream_next(stream, &ev) == LEM_OK && ev.type == LEM_EVENT_DONE && ev.stop_reason == LEM_STOP_LENGTH);
  CHECK(lem_stream_next(NULL, &ev) == LEM_ERR_INVALID_ARG);
  CHECK(lem_stream_next(stream, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(contains(lem_stream_last_error(stream), "NULL"));
  lem_stream_free(stream);
  /* The context holds what the stream evaluated and is free again. */
  CHECK(lem_context_n_tokens(ctx) == n + 24);
  CHECK(lem_context_set_tokens(ctx, prompt, n, &reused, NULL, NULL) == LEM_OK && reused == n - 1);

  /* Prefix reuse through generation. */
  collected again;
  collected_init(&again);
  gp.user_data = &again;
  lem_generate_result_init(&r, sizeof r);
  /* The context holds the prompt with its logits (from set_tokens): nothing to evaluate. */
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_OK && r.n_reused_tokens == (int32_t)n &&
        r.n_prompt_tokens == 0);
  CHECK(again.n == 24 && memcmp(again.ids, by_callback.ids, sizeof(int32_t) * 24) == 0);

  /* A stop string from the middle of the answer: generation ends right before it. */
  const char* stop[1];
  char stop_text[8] = {0};
  CHECK(by_callback.len > 12);
  memcpy(stop_text, by_callback.text + 8, 3);
  stop[0] = stop_text;
  gp.stop_strings = stop;
  gp.n_stop = 1;
  collected cut;
  collected_init(&cut);
  gp.user_data = &cut;
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_OK && r.stop_reason == LEM_STOP_STRING);
  const char* at = strstr(by_callback.text, stop_text);
  CHECK(at != NULL && cut.len == (size_t)(at - by_callback.text) && memcmp(cut.text, by_callback.text, cut.len) == 0);
  gp.n_stop = 0;
  gp.stop_strings = NULL;
  const char* empty_stop[1] = {""};
  gp.stop_strings = empty_stop;
  gp.n_stop = 1;
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_ERR_INVALID_ARG && contains(lem_context_last_error(ctx), "stop"));
  gp.stop_strings = NULL;
  gp.n_stop = 0;

  /* max_tokens 0: done at once. */
  gp.max_tokens = 0;
  gp.on_event = NULL;
  lem_generate_result_init(&r, sizeof r);
  CHECK(lem_generate(ctx, prompt, n, &gp, &r) == LEM_OK && r.stop_reason == LEM_STOP_LENGTH && r.n_generated == 0);
  gp.max_tokens = 24;

  /* Control tokens are hidden from the text unless show_control. */
  const int32_t sot = lem_token_special(model, LEM_TOKEN_START_OF_TURN);
  CHECK(sot >= 0);
  float bias_value = 1000.0f;
  lem_sampler_params forced = sp;
  forced.logit_bias_tokens = &sot;
  forced.logit_bias_values = &bias_value;
  forced.n_logit_bias = 1;
  gp.sampling = &forced;
  gp.max_tokens = 2;
  gp.on_event = on_event;
  collected hidden, shown;
  collected_init(&hidden);
  collected_init(&shown);
  gp.user_data = &hidden;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_OK);
  CHECK(hidden.n == 2 && hidden.ids[0] == sot && hidden.len == 0);
  gp.show_control = 1;
  gp.user_data = &shown;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_OK);
  CHECK(shown.len == 30 && memcmp(shown.text, "<start_of_turn><start_of_turn>", 30) == 0);
  gp.show_control = 0;
  gp.sampling = &sp;
  gp.max_tokens = 24;

  /* Seeded sampling reproduces. */
  lem_sampler_params hot;
  lem_sampler_params_init(&hot, sizeof hot);
  hot.temperature = 1.0f;
  hot.seed = 7;
  gp.sampling = &hot;
  collected s1, s2;
  collected_init(&s1);
  collected_init(&s2);
  gp.user_data = &s1;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_OK);
  gp.user_data = &s2;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_OK);
  CHECK(s1.n == 24 && s1.n == s2.n && memcmp(s1.ids, s2.ids, sizeof(int32_t) * 24) == 0);

  /* Bad generation parameters: clear errors on the context, nothing computed. */
  hot.temperature = NAN;
  lem_context_reset(ctx);
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(contains(lem_context_last_error(ctx), "temperature"));
  CHECK(lem_context_n_tokens(ctx) == 0);
  CHECK(lem_stream_start(ctx, prompt, n, &gp, &stream) == LEM_ERR_INVALID_ARG && stream == NULL);
  hot.temperature = 1.0f;
  gp.n_top_logprobs = LEM_TOP_LOGPROBS_MAX + 1;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_ERR_INVALID_ARG &&
        contains(lem_context_last_error(ctx), "n_top_logprobs"));
  gp.n_top_logprobs = 0;
  gp.reserved = 3;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_ERR_INVALID_ARG);
  gp.reserved = 0;
  CHECK(lem_generate(ctx, NULL, 0, &gp, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(lem_generate(NULL, prompt, n, &gp, NULL) == LEM_ERR_INVALID_ARG);
  int32_t* too_long = (int32_t*)calloc(600, sizeof(int32_t));
  CHECK(lem_generate(ctx, too_long, 600, &gp, NULL) == LEM_ERR_CONTEXT_FULL);
  free(too_long);
  lem_context_free(ctx);
}

/* ---- log-probabilities and the sampler handle ------------------------------------------ */

static void test_logprobs_and_sampler(void) {
  lem_context* ctx = new_context(256, 64, LEM_PRECISION_FAST, 0);
  int32_t prompt[64];
  const size_t n = chat_prompt("Sample", prompt, 64);
  CHECK(lem_context_eval(ctx, prompt, n, NULL, NULL) == LEM_OK);
  const float* logits = lem_context_logits(ctx);
  const int32_t best = argmax(logits, n_vocab);

  lem_token_logprob top[LEM_TOP_LOGPROBS_MAX];
  float lp = 1.0f;
  CHECK(lem_logprobs(model, logits, best, &lp, LEM_TOP_LOGPROBS_MAX, top) == LEM_OK);
  CHECK(lp <= 0.0f && top[0].token == best && top[0].logprob == lp);
  double mass = 0;
  for (int i = 0; i < LEM_TOP_LOGPROBS_MAX; ++i) {
    mass += exp(top[i].logprob);
    if (i > 0) CHECK(top[i].logprob <= top[i - 1].logprob);
    if (i > 0 && top[i].logprob == top[i - 1].logprob) CHECK(top[i].token > top[i - 1].token);
  }
  CHECK(mass <= 1.0 + 1e-5);
  /* Against the definition, for one token: log(exp(l) / sum exp). */
  double z = 0;
  for (int32_t i = 0; i < n_vocab; ++i) z += exp((double)logits[i] - logits[best]);
  CHECK(fabs(lp - (-log(z))) < 1e-5);
  CHECK(lem_logprobs(model, logits, n_vocab, &lp, 0, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(lem_logprobs(model, logits, 0, &lp, LEM_TOP_LOGPROBS_MAX + 1, top) == LEM_ERR_INVALID_ARG);
  CHECK(lem_logprobs(model, logits, 0, &lp, 3, NULL) == LEM_ERR_INVALID_ARG);
  CHECK(lem_logprobs(model, NULL, 0, &lp, 0, NULL) == LEM_ERR_INVALID_ARG);

  /* Greedy sampler params: the argmax. */
  lem_sampler_params sp;
  lem_sampler_params_init(&sp, sizeof sp);
  sp.temperature = 0.0f;
  lem_sampler* s = NULL;
  char err[256];
  CHECK(lem_sampler_create(model, &sp, &s, err, sizeof err) == LEM_OK && s != NULL);
  int32_t tok = -1;
  CHECK(lem_sampler_sample(s, logits, &tok) == LEM_OK && tok == best);
  CHECK(lem_sampler_accept(s, tok) == LEM_OK);
  CHECK(strcmp(lem_sampler_last_error(s), "") == 0);
  CHECK(lem_sampler_accept(s, n_vocab) == LEM_ERR_INVALID_ARG && contains(lem_sampler_last_error(s), "outside"));
  CHECK(lem_sampler_sample(s, NULL, &tok) == LEM_ERR_INVALID_ARG);
  /* NaN in the logits is refused. */
  float* broken = (float*)malloc(sizeof(float) * (size_t)n_vocab);
  memcpy(broken, logits, sizeof(float) * (size_t)n_vocab);
  broken[5] = NAN;
  CHECK(lem_sampler_sample(s, broken, &tok) == LEM_ERR_INVALID_ARG && contains(lem_sampler_last_error(s), "id 5"));
  CHECK(lem_logprobs(model, broken, 0, &lp, 0, NULL) == LEM_ERR_INVALID_ARG);
  free(broken);
  lem_sampler_free(s);

  /* A -inf bias bans the argmax: the second best comes instead. */
  float ban = -INFINITY;
  sp.logit_bias_tokens = &best;
  sp.logit_bias_values = &ban;
  sp.n_logit_bias = 1;
  CHECK(lem_sampler_create(model, &sp, &s, err, sizeof err) == LEM_OK);
  CHECK(lem_sampler_sample(s, logits, &tok) == LEM_OK && tok == top[1].token);
  lem_sampler_free(s);

  /* Parameter checks: NaN, infinities, logit bias ids outside the vocabulary. */
  lem_sampler_params badp;
  lem_sampler_params_init(&badp, sizeof badp);
  badp.temperature = NAN;
  s = (lem_sampler*)1;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG && s == NULL);
  CHECK(contains(err, "temperature") && contains(err, "nan"));
  lem_sampler_params_init(&badp, sizeof badp);
  badp.min_p = NAN;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG && contains(err, "min_p"));
  lem_sampler_params_init(&badp, sizeof badp);
  badp.top_p = INFINITY;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG && contains(err, "top_p"));
  lem_sampler_params_init(&badp, sizeof badp);
  badp.repeat_penalty = -INFINITY;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG);
  lem_sampler_params_init(&badp, sizeof badp);
  const int32_t out_of_range[2] = {3, n_vocab};
  const float values[2] = {1.0f, 2.0f};
  badp.logit_bias_tokens = out_of_range;
  badp.logit_bias_values = values;
  badp.n_logit_bias = 2;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG);
  CHECK(contains(err, "logit_bias_tokens[1]") && contains(err, "outside"));
  const int32_t negative = -1;
  badp.logit_bias_tokens = &negative;
  badp.n_logit_bias = 1;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG);
  const float plus_inf = INFINITY;
  badp.logit_bias_tokens = out_of_range;
  badp.logit_bias_values = &plus_inf;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG && contains(err, "inf"));
  badp.logit_bias_values = NULL;
  CHECK(lem_sampler_create(model, &badp, &s, err, sizeof err) == LEM_ERR_INVALID_ARG);
  /* The same checks on the generation path, with the error on the context. */
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.sampling = &badp;
  badp.logit_bias_tokens = out_of_range + 1;
  badp.logit_bias_values = values;
  CHECK(lem_generate(ctx, prompt, n, &gp, NULL) == LEM_ERR_INVALID_ARG &&
        contains(lem_context_last_error(ctx), "outside the vocabulary"));

  /* Seeded sampling with history: reset restarts the same sequence. */
  lem_sampler_params hot;
  lem_sampler_params_init(&hot, sizeof hot);
  hot.temperature = 1.5f;
  hot.top_k = 0;
  hot.top_p = 1.0f;
  hot.min_p = 0.0f;
  hot.repeat_penalty = 1.3f;
  hot.seed = 42;
  CHECK(lem_sampler_create(model, &hot, &s, err, sizeof err) == LEM_OK);
  int32_t first_run[16], second_run[16];
  for (int i = 0; i < 16; ++i) {
    CHECK(lem_sampler_sample(s, logits, &first_run[i]) == LEM_OK);
    CHECK(lem_sampler_accept(s, first_run[i]) == LEM_OK);
  }
  lem_sampler_reset(s);
  for (int i = 0; i < 16; ++i) {
    CHECK(lem_sampler_sample(s, logits, &second_run[i]) == LEM_OK);
    CHECK(lem_sampler_accept(s, second_run[i]) == LEM_OK);
  }
  CHECK(memcmp(first_run, second_run, sizeof first_run) == 0);
  int distinct = 0;
  for (int i = 1; i < 16; ++i) distinct += first_run[i] != first_run[0];
  CHECK(distinct > 0); /* temperature 1.5 over the whole vocabulary: not one token */
  lem_sampler_free(s);
  lem_context_free(ctx);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  model_path = argv[1];
  char err[256];
  if (lem_model_load(model_path, NULL, &model, err, sizeof err) != LEM_OK) {
    fprintf(stderr, "cannot load %s: %s\n", model_path, err);
    return 1;
  }
  n_vocab = lem_model_n_vocab(model);
  CHECK(n_vocab == 1024);

  /* Every free accepts NULL; handle getters accept NULL. */
  lem_context_free(NULL);
  lem_stream_free(NULL);
  lem_sampler_free(NULL);
  lem_context_cancel(NULL);
  lem_stream_cancel(NULL);
  lem_context_reset(NULL);
  lem_sampler_reset(NULL);
  CHECK(strcmp(lem_context_last_error(NULL), "") == 0 && strcmp(lem_stream_last_error(NULL), "") == 0 &&
        strcmp(lem_sampler_last_error(NULL), "") == 0);
  CHECK(lem_context_logits(NULL) == NULL && lem_context_n_tokens(NULL) == 0);

  test_struct_sizes();
  test_result_written_up_to_struct_size();
  test_context();
  test_logits_rows_and_precision();
  test_cancel();
  test_generate_and_stream();
  test_logprobs_and_sampler();

  lem_model_free(model);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("all C ABI compute checks passed\n");
  return 0;
}
