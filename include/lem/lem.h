/*
 * libLEM — the stable C ABI.
 *
 * libLEM runs Google Gemma 3 text models (LEM-Gemma3-1B/4B and other Gemma 3 checkpoints) on CPUs.
 * This header is the whole public API: anything not declared here is not part of it.
 *
 * Basic usage (examples/simple.c is this block, compiled and run in CI):
 *
 *     lem_model_params mp;
 *     lem_model_params_init(&mp, sizeof mp);
 *     lem_model* model = NULL;
 *     char err[256];
 *     if (lem_model_load(path, &mp, &model, err, sizeof err) != LEM_OK) {
 *         fprintf(stderr, "load failed: %s\n", err);
 *         return 1;
 *     }
 *     lem_context* ctx = NULL;
 *     if (lem_context_create(model, NULL, &ctx, err, sizeof err) != LEM_OK) { ... }
 *
 *     // Safe chat tokenisation: control tokens come only from the template; what the user
 *     // typed ("<end_of_turn>" included) is plain text.
 *     lem_chat_message chat[] = {{"user", "What is a lighthouse?"}};
 *     int32_t prompt[4096];
 *     size_t n_prompt = 0;
 *     lem_chat_tokenize(model, chat, 1, 1, prompt, 4096, &n_prompt);
 *
 *     lem_sampler_params sp;
 *     lem_sampler_params_init(&sp, sizeof sp);
 *     sp.temperature = 0;                        // greedy
 *     lem_generate_params gp;
 *     lem_generate_params_init(&gp, sizeof gp);
 *     gp.max_tokens = 64;
 *     gp.sampling = &sp;
 *     lem_stream* stream = NULL;
 *     lem_stream_start(ctx, prompt, n_prompt, &gp, &stream);
 *     lem_event ev;
 *     lem_event_init(&ev, sizeof ev);
 *     while (lem_stream_next(stream, &ev) == LEM_OK) {
 *         fwrite(ev.text, 1, ev.text_len, stdout);
 *         if (ev.type == LEM_EVENT_DONE) break;
 *     }
 *     lem_stream_free(stream);
 *     lem_context_free(ctx);
 *     lem_model_free(model);
 *
 * ABI rules (what this header promises, and what CI checks with abidiff against a baseline):
 *  - Growth is append-only: new functions, new fields at the end of parameter and result structs,
 *    new status and flag values. No value is renumbered; retired values stay reserved.
 *  - Every parameter and result struct starts with `uint32_t struct_size`, set by the caller from
 *    its own compile-time sizeof, through the struct's _init(p, sizeof *p) function. The library
 *    reads (and, for results, writes) at most min(struct_size, its own size) bytes and uses
 *    defaults for fields the caller's struct does not have. A struct_size larger than the
 *    library's is accepted when the extra bytes are zero (a newer caller that uses no new field).
 *  - No struct holds another public struct by value; pointers (NULL = defaults) link them.
 *    Array-element structs (lem_chat_message, lem_token_logprob) are frozen forever.
 *  - Padding is explicit: `reserved` fields, always zero.
 *  - Callbacks return non-zero to stop. Cancellation, from a callback or lem_*_cancel(), makes
 *    the call return LEM_ERR_CANCELLED; a result or event it fills says LEM_STOP_CANCELLED and
 *    holds the counts so far. Computation polls for cancellation between layers.
 *  - lem_abi_version() changes only with the soname, on an intentional break.
 *
 * Errors: every fallible call returns a lem_status (LEM_OK = 0). The message is available from
 * lem_last_error() (thread-local, valid until this thread's next lem_ call), from the caller's
 * err buffer of the create/load calls, and from lem_context_last_error() / lem_stream_last_error()
 * / lem_sampler_last_error() for calls on those handles. The last three do not depend on the
 * calling OS thread (a Go goroutine may move between threads between two cgo calls).
 * No C++ exception and no abort() crosses this boundary.
 *
 * Thread safety: a lem_model is immutable after loading and may be shared by any number of
 * threads (tokenize, detokenize, chat-template and metadata calls included). A lem_context, a
 * lem_stream and a lem_sampler belong to one thread at a time, except lem_context_cancel() and
 * lem_stream_cancel(), which any thread may call. Calls that take no handle (version, status
 * strings, _init functions) are thread-safe; lem_log_set() is not meant to race with loads.
 * Callbacks run on the calling thread, with no lock held; they must not call back into the same
 * context.
 *
 * Ownership: every lem_*_free accepts NULL as a harmless no-op. Returned `const char*` strings
 * are borrowed; each function states how long they live. Text goes in as UTF-8; output buffers
 * belong to the caller: on LEM_ERR_BUFFER_TOO_SMALL the size out-parameter holds the size needed.
 */
#ifndef LEM_H
#define LEM_H

#include <stddef.h>
#include <stdint.h>

#include "lem/lem_export.h"
#include "lem/lem_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ---------------------------------------------------------------------------- */

typedef int32_t lem_status;
/* Values are part of the ABI and never renumbered; retired values stay reserved. */
#define LEM_OK 0
#define LEM_ERR_INVALID_ARG 1  /* a NULL pointer, bad size or out-of-range value from the caller */
#define LEM_ERR_IO 2           /* a file could not be opened, read, mapped or written */
#define LEM_ERR_BAD_FORMAT 3   /* not a valid model file (truncated, corrupt, hostile, non-finite values) */
#define LEM_ERR_UNSUPPORTED 4  /* valid, but not something this version can do (architecture, type) */
#define LEM_ERR_OOM 5          /* an allocation failed, or a size is beyond what can be allocated */
#define LEM_ERR_CONTEXT_FULL 6 /* the context window is exhausted */
#define LEM_ERR_CANCELLED 7    /* a callback or a cancel call asked to stop */
#define LEM_ERR_INTERNAL 8     /* a bug in libLEM; please report it with the message */
#define LEM_ERR_BUFFER_TOO_SMALL 9 /* an output buffer is too small; the size out-param holds the size needed */
#define LEM_ERR_NUMERIC 10     /* the model produced NaN or infinite logits (broken weights) */

/* Static English text for a status code; never NULL. */
LEM_API const char* lem_status_str(lem_status status);

/* The message of the last failed lem_ call on this thread ("" if none). Valid until this
 * thread's next lem_ call. */
LEM_API const char* lem_last_error(void);

/* ---- version and logging --------------------------------------------------------------- */

#define LEM_ABI_VERSION 1

/* LEM_ABI_VERSION of the library actually loaded: a caller built against another value must not
 * use it. */
LEM_API uint32_t lem_abi_version(void);
/* LEM_VERSION_NUMBER of the library actually loaded. */
LEM_API int32_t lem_version_number(void);
/* "M.m.p" of the library actually loaded; static storage. */
LEM_API const char* lem_version_string(void);
/* The SIMD level the kernels run at: "scalar", "avx2" or "avx512" (LEM_ISA may lower it);
 * static storage. */
LEM_API const char* lem_isa_name(void);

#define LEM_LOG_ERROR 0
#define LEM_LOG_WARN 1
#define LEM_LOG_INFO 2
#define LEM_LOG_DEBUG 3

/* One line of text, without a trailing newline. */
typedef void (*lem_log_callback)(int32_t level, const char* text, void* user_data);
/* Routes the library's log lines to `callback` (NULL: discard them, the default). The library
 * itself never prints. Set it before loading models. */
LEM_API void lem_log_set(lem_log_callback callback, void* user_data);

/* ---- model ----------------------------------------------------------------------------- */

typedef struct lem_model lem_model;

/* Return non-zero to stop the load (it then fails with LEM_ERR_CANCELLED). progress is 0..1. */
typedef int32_t (*lem_progress_callback)(float progress, void* user_data);

#define LEM_LOAD_FULL 0       /* weights, configuration and tokenizer: ready to run */
#define LEM_LOAD_VOCAB_ONLY 1 /* tokenizer and metadata only: a vocab-only GGUF or a tokenizer folder */
#define LEM_LOAD_FILE_ONLY 2  /* the file's tables and metadata only (lem_model_info_json) */

typedef struct lem_model_params {
  uint32_t struct_size;                /* sizeof, set by lem_model_params_init() */
  int32_t load_mode;                   /* LEM_LOAD_*. Default LEM_LOAD_FULL */
  lem_progress_callback progress;      /* may be NULL */
  void* progress_user_data;
} lem_model_params;

/* Fills defaults for the first `struct_size` bytes of *params (pass sizeof *params). */
LEM_API void lem_model_params_init(lem_model_params* params, size_t struct_size);

/* Opens a Gemma 3 model: a .gguf file, a .safetensors file, or a folder holding config.json with
 * model.safetensors or model.safetensors.index.json (HF or MLX layout). The file is memory
 * mapped and validated before use; the tokenizer comes from the GGUF metadata or tokenizer.json
 * beside the weights. `params` may be NULL for defaults. On failure *out_model is NULL and the
 * message is also written, NUL-terminated and truncated to err_cap bytes, to err_buf (which may
 * be NULL). */
LEM_API lem_status lem_model_load(const char* path, const lem_model_params* params, lem_model** out_model,
                                  char* err_buf, size_t err_cap);

LEM_API void lem_model_free(lem_model* model);

/* "gguf", "safetensors" or "mlx" ("tokenizer" for a LEM_LOAD_VOCAB_ONLY load of a bare
 * tokenizer.json or tokenizer folder); static storage. */
LEM_API const char* lem_model_format(const lem_model* model);
/* Architecture name from the file ("gemma3", or the HF model_type; "" without a model file); valid
 * while the model lives. */
LEM_API const char* lem_model_architecture(const lem_model* model);
/* One line: layers, width, heads, vocabulary (empty before LEM_LOAD_FULL); valid while the model lives. */
LEM_API const char* lem_model_description(const lem_model* model);
/* Number of tensors in the file(s), as stored (MLX weight, scales and biases count separately). */
LEM_API uint64_t lem_model_tensor_count(const lem_model* model);
/* Bytes of all tensors as stored. */
LEM_API uint64_t lem_model_size_bytes(const lem_model* model);
/* Rows of the output layer (logits per position); 0 without weights. */
LEM_API int32_t lem_model_n_vocab(const lem_model* model);
/* The longest context the model was trained for; 0 without weights. */
LEM_API int32_t lem_model_n_ctx_train(const lem_model* model);

/* Metadata: GGUF key/value pairs, or the fields of config.json (nested objects flattened with
 * dots, "text_config.hidden_size"). Values are text: strings as they are, numbers in decimal,
 * booleans as true/false, arrays as JSON. */
LEM_API int64_t lem_model_meta_count(const lem_model* model);
/* The key at `index` (0 <= index < count), or NULL; valid while the model lives. */
LEM_API const char* lem_model_meta_key(const lem_model* model, int64_t index);
/* The value of `key` as text into buf (not NUL-terminated; *n_bytes = length or size needed).
 * LEM_ERR_INVALID_ARG when the key does not exist. */
LEM_API lem_status lem_model_meta_value(const lem_model* model, const char* key, char* buf, size_t capacity,
                                        size_t* n_bytes);

#define LEM_INFO_TENSORS 1u     /* include the tensor table */
#define LEM_INFO_FULL_ARRAYS 2u /* include long metadata arrays in full (else length and type only) */

/* The model described as one JSON object (UTF-8, not NUL-terminated): "format", "path",
 * "architecture", "file" (container details), "metadata", optionally "tensors", and "kv_cache"
 * (bytes at the default context, the model maximum and n_ctx if > 0) when the configuration is
 * runnable. Output as lem_model_meta_value. Works in every load mode. */
LEM_API lem_status lem_model_info_json(const lem_model* model, uint32_t flags, int64_t n_ctx, char* buf,
                                       size_t capacity, size_t* n_bytes);

/* ---- vocabulary and tokenizer ---------------------------------------------------------- */

/* Number of token ids the tokenizer knows (0 when the model has no tokenizer). */
LEM_API int32_t lem_vocab_n_tokens(const lem_model* model);
/* Non-zero when the vocabulary asks for <bos> before a text (GGUF tokenizer.ggml.add_bos_token,
 * tokenizer_config.json add_bos_token; Gemma: yes): whether to pass LEM_TOKENIZE_ADD_BOS.
 * Added after the v1 baseline (an appended function). */
LEM_API int32_t lem_vocab_add_bos(const lem_model* model);

#define LEM_TOKEN_BOS 0
#define LEM_TOKEN_EOS 1
#define LEM_TOKEN_EOT 2           /* <end_of_turn> */
#define LEM_TOKEN_PAD 3
#define LEM_TOKEN_UNK 4
#define LEM_TOKEN_START_OF_TURN 5
/* The id of a special token (LEM_TOKEN_*), or -1 when the vocabulary has none. */
LEM_API int32_t lem_token_special(const lem_model* model, int32_t which);
/* Non-zero for the ids that end a turn (Gemma 3: <eos> 1 and <end_of_turn> 106). */
LEM_API int32_t lem_token_is_eog(const lem_model* model, int32_t token);
/* Non-zero for control tokens, the ones lem_detokenize hides: a GGUF's CONTROL and UNKNOWN tokens
 * (<bos>, <pad>, <start_of_turn>, <unusedN>, ...), tokenizer.json's "special" added tokens. */
LEM_API int32_t lem_token_is_control(const lem_model* model, int32_t token);
/* The bytes one token stands for ("▁the" -> " the", "<0x0A>" -> "\n", "<bos>" -> "<bos>"), not
 * NUL-terminated; a byte token gives one byte that may not be valid UTF-8 alone. */
LEM_API lem_status lem_token_piece(const lem_model* model, int32_t token, char* buf, size_t capacity,
                                   size_t* n_bytes);

#define LEM_TOKENIZE_ADD_BOS 1u       /* prepend <bos> (never a second one: see below) */
#define LEM_TOKENIZE_PARSE_SPECIAL 2u /* "<start_of_turn>" in the text becomes the control token;
                                         leave it off for untrusted text */

/* Tokenizes `text_len` bytes of UTF-8 (invalid bytes become byte tokens) into `tokens`, which
 * holds `capacity` ids. With ADD_BOS and PARSE_SPECIAL, a text that already starts with "<bos>"
 * gets no second one. On LEM_OK or LEM_ERR_BUFFER_TOO_SMALL, *n_tokens is the number of ids
 * (needed). */
LEM_API lem_status lem_tokenize(const lem_model* model, const char* text, size_t text_len, uint32_t flags,
                                int32_t* tokens, size_t capacity, size_t* n_tokens);

#define LEM_DETOKENIZE_SHOW_CONTROL 1u /* keep <bos>, <pad>, <start_of_turn>, ... in the text
                                          (by default they are left out, as llama.cpp does) */

/* Turns ids back into UTF-8 text (not NUL-terminated) in `buf` of `capacity` bytes; *n_bytes is
 * the text length (needed, on LEM_ERR_BUFFER_TOO_SMALL). Ids outside the vocabulary are an
 * error. */
LEM_API lem_status lem_detokenize(const lem_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags,
                                  char* buf, size_t capacity, size_t* n_bytes);

/* Frozen: an array element. */
typedef struct lem_chat_message {
  const char* role;    /* "system", "user" or "assistant" ("model" also accepted); NUL-terminated */
  const char* content; /* NUL-terminated UTF-8 */
} lem_chat_message;

/* Renders the Gemma 3 chat template as text: "<bos><start_of_turn>user\n...<end_of_turn>\n..."
 * plus, with add_generation_prompt, "<start_of_turn>model\n". For display and for servers that
 * show the prompt; to run a model on it use lem_chat_tokenize, which keeps message text from
 * forging control tokens. Output as lem_detokenize. */
LEM_API lem_status lem_chat_apply_template(const lem_model* model, const lem_chat_message* messages,
                                           size_t n_messages, int32_t add_generation_prompt, char* buf,
                                           size_t capacity, size_t* n_bytes);

/* Renders the chat template and tokenizes it safely: control tokens (<bos>, <start_of_turn>,
 * <end_of_turn>) come only from the template; message contents are tokenized without special
 * parsing, so a user who types "<end_of_turn>" gets those characters, not the token. Output as
 * lem_tokenize. Invalid UTF-8 in a message is LEM_ERR_INVALID_ARG. */
LEM_API lem_status lem_chat_tokenize(const lem_model* model, const lem_chat_message* messages, size_t n_messages,
                                     int32_t add_generation_prompt, int32_t* tokens, size_t capacity,
                                     size_t* n_tokens);

/* ---- context (one conversation: KV cache, scratch, threads) ---------------------------- */

typedef struct lem_context lem_context;

#define LEM_KV_F32 0
#define LEM_KV_F16 1

#define LEM_PRECISION_FAST 0  /* activations rounded to the weights' dot format, as llama.cpp (default) */
#define LEM_PRECISION_EXACT 1 /* float32 activations on dequantised weights: slow; for reference checks */

/* The most threads a context may have: 4 x the hardware threads (more only thrash). */
#define LEM_THREADS_PER_CORE_MAX 4

typedef struct lem_context_params {
  uint32_t struct_size; /* sizeof, set by lem_context_params_init() */
  int32_t n_ctx;        /* context length; 0 = the model's maximum. Default 4096 */
  int32_t n_batch;      /* prompt tokens per forward pass. Default 512 */
  int32_t n_threads;    /* 0 = all hardware threads; at most LEM_THREADS_PER_CORE_MAX x that. Default 0 */
  int32_t kv_type;      /* LEM_KV_F32 (default) or LEM_KV_F16 */
  int32_t precision;    /* LEM_PRECISION_FAST (default) or LEM_PRECISION_EXACT */
  int32_t logits_all;   /* non-zero: keep the logits of every token of each eval (lem_context_logits_row) */
  int32_t reserved;     /* must be 0 */
} lem_context_params;

LEM_API void lem_context_params_init(lem_context_params* params, size_t struct_size);

/* Creates a context on `model`, which must outlive it. A context is used by one thread at a
 * time; several contexts may share one model. Errors as lem_model_load. */
LEM_API lem_status lem_context_create(lem_model* model, const lem_context_params* params, lem_context** out_ctx,
                                      char* err_buf, size_t err_cap);
LEM_API void lem_context_free(lem_context* ctx);

/* The message of the last failed call on this context ("" if none); valid until the next call
 * on it. Does not depend on the calling thread. */
LEM_API const char* lem_context_last_error(const lem_context* ctx);

/* The context's actual values after defaults and limits. */
LEM_API int32_t lem_context_n_ctx(const lem_context* ctx);
LEM_API int32_t lem_context_n_threads(const lem_context* ctx);
/* Bytes of KV cache the context holds. */
LEM_API uint64_t lem_context_kv_bytes(const lem_context* ctx);

/* Polled between layers; return non-zero to stop (the call returns LEM_ERR_CANCELLED). */
typedef int32_t (*lem_abort_callback)(void* user_data);

/* Asks the computation running on ctx (eval, set_tokens, generate, a stream's next) to stop
 * within one layer; it returns LEM_ERR_CANCELLED. Any thread may call it. A cancel that finds
 * nothing running is kept for, and stops, the next such call. */
LEM_API void lem_context_cancel(lem_context* ctx);

/* Appends tokens to the context and evaluates them (in batches of n_batch). On cancel or error
 * the context holds what it held before the batch that was cut. */
LEM_API lem_status lem_context_eval(lem_context* ctx, const int32_t* tokens, size_t n_tokens,
                                    lem_abort_callback should_abort, void* user_data);
/* Makes the context hold exactly `tokens`, reusing the longest prefix it already holds;
 * *n_reused (may be NULL) receives how many tokens were not re-evaluated. */
LEM_API lem_status lem_context_set_tokens(lem_context* ctx, const int32_t* tokens, size_t n_tokens,
                                          size_t* n_reused, lem_abort_callback should_abort, void* user_data);
/* Logits (lem_model_n_vocab floats) after the last evaluated token, or NULL before any.
 * Valid until the next call that evaluates or resets. */
LEM_API const float* lem_context_logits(const lem_context* ctx);
/* With logits_all: the logits of token `row` of the last lem_context_eval (0 <= row < its
 * n_tokens), else NULL. Valid as lem_context_logits. */
LEM_API const float* lem_context_logits_row(const lem_context* ctx, int64_t row);
/* Number of tokens the context holds, and a copy of them (*n_tokens = count or size needed). */
LEM_API size_t lem_context_n_tokens(const lem_context* ctx);
LEM_API lem_status lem_context_tokens(const lem_context* ctx, int32_t* tokens, size_t capacity, size_t* n_tokens);
LEM_API void lem_context_reset(lem_context* ctx);

/* ---- sampling -------------------------------------------------------------------------- */

typedef struct lem_sampler_params {
  uint32_t struct_size;     /* sizeof, set by lem_sampler_params_init() */
  float temperature;        /* <= 0: greedy. Default 0.8 (NaN/inf: LEM_ERR_INVALID_ARG, as for every float) */
  int32_t top_k;            /* <= 0: off. Default 40 */
  float top_p;              /* >= 1: off. Default 0.95 */
  float min_p;              /* <= 0: off. Default 0.05 */
  float repeat_penalty;     /* 1: off. Default 1 */
  int32_t repeat_last_n;    /* tokens the penalties look at; -1 all. Default 64 */
  float presence_penalty;   /* Default 0 */
  float frequency_penalty;  /* Default 0 */
  int32_t reserved;         /* must be 0 */
  uint64_t seed;            /* same seed, same tokens. Default 0 */
  const int32_t* logit_bias_tokens; /* n_logit_bias ids (each a sampleable id: < lem_vocab_n_tokens) ... */
  const float* logit_bias_values;   /* ... and the values added to their logits (finite, or -inf to ban) */
  size_t n_logit_bias;
} lem_sampler_params;

LEM_API void lem_sampler_params_init(lem_sampler_params* params, size_t struct_size);

/* A sampler: the params plus the state that carries from token to token (the seeded random
 * generator and the history the penalties look at). */
typedef struct lem_sampler lem_sampler;

LEM_API lem_status lem_sampler_create(const lem_model* model, const lem_sampler_params* params,
                                      lem_sampler** out_sampler, char* err_buf, size_t err_cap);
LEM_API void lem_sampler_free(lem_sampler* sampler);
LEM_API const char* lem_sampler_last_error(const lem_sampler* sampler);
/* Picks a token from `logits` (lem_model_n_vocab floats). Does not record it: call accept. */
LEM_API lem_status lem_sampler_sample(lem_sampler* sampler, const float* logits, int32_t* out_token);
/* Records a token in the penalty history (prompt tokens too, if penalties should see them). */
LEM_API lem_status lem_sampler_accept(lem_sampler* sampler, int32_t token);
/* Clears the history and restarts the random generator from the seed. */
LEM_API void lem_sampler_reset(lem_sampler* sampler);

/* Frozen: an array element. */
typedef struct lem_token_logprob {
  int32_t token;
  float logprob; /* natural log of the probability under the model (softmax of the raw logits) */
} lem_token_logprob;

#define LEM_TOP_LOGPROBS_MAX 20

/* Log-probabilities under the model's distribution (log-softmax of the raw logits, before any
 * sampling transform, as OpenAI's logprobs): *out_logprob for `token`, and the n_top (0..20) most
 * likely tokens in out_top, most likely first (ties: lower id first). */
LEM_API lem_status lem_logprobs(const lem_model* model, const float* logits, int32_t token, float* out_logprob,
                                int32_t n_top, lem_token_logprob* out_top);

/* ---- generation ------------------------------------------------------------------------ */

#define LEM_STOP_NONE 0         /* still running (a TOKEN event) */
#define LEM_STOP_EOS 1          /* <eos> or <end_of_turn> */
#define LEM_STOP_STRING 2       /* a stop string */
#define LEM_STOP_LENGTH 3       /* max_tokens */
#define LEM_STOP_CONTEXT_FULL 4 /* no room left in the context */
#define LEM_STOP_CANCELLED 5    /* a callback or a cancel call asked to stop */

#define LEM_EVENT_TOKEN 1 /* one generated token and the text it completed (maybe empty) */
#define LEM_EVENT_DONE 2  /* the end: stop_reason, counts, timings, and any text held back until now */

typedef struct lem_event {
  uint32_t struct_size;       /* sizeof, set by lem_event_init(); the library writes at most this much */
  int32_t type;               /* LEM_EVENT_* */
  const char* text;           /* UTF-8, never a broken character, never a possible start of a stop string */
  size_t text_len;            /* text is valid until the next call on the same stream / callback return */
  int32_t token;              /* TOKEN: the id; DONE: -1 */
  float logprob;              /* TOKEN: log-probability of token under the model */
  int32_t n_top;              /* entries in top (the n_top_logprobs asked for) */
  int32_t stop_reason;        /* LEM_STOP_*; LEM_STOP_NONE on TOKEN events */
  const lem_token_logprob* top; /* the most likely alternatives, most likely first */
  int32_t n_prompt_tokens;    /* prompt tokens evaluated (not reused) */
  int32_t n_reused_tokens;    /* prompt tokens reused from the context */
  int32_t n_generated;        /* tokens generated so far */
  int32_t reserved;
  double prompt_seconds;
  double generate_seconds;
} lem_event;

LEM_API void lem_event_init(lem_event* event, size_t struct_size);

/* Called for every event, DONE included; return non-zero to stop (then LEM_ERR_CANCELLED). */
typedef int32_t (*lem_event_callback)(const lem_event* event, void* user_data);

typedef struct lem_generate_params {
  uint32_t struct_size;              /* sizeof, set by lem_generate_params_init() */
  int32_t max_tokens;                /* < 0: until a stop. Default -1 */
  const lem_sampler_params* sampling; /* NULL: defaults */
  const char* const* stop_strings;   /* n_stop non-empty NUL-terminated strings; may be NULL */
  size_t n_stop;
  int32_t ignore_eos;                /* non-zero: keep going past end-of-turn tokens */
  int32_t show_control;              /* non-zero: control tokens appear in the text (default: hidden) */
  lem_event_callback on_event;       /* lem_generate only; may be NULL */
  lem_abort_callback should_abort;   /* lem_generate only; may be NULL */
  void* user_data;                   /* passed to both callbacks */
  int32_t n_top_logprobs;            /* 0..LEM_TOP_LOGPROBS_MAX alternatives per token event. Default 0 */
  int32_t reserved;
} lem_generate_params;

LEM_API void lem_generate_params_init(lem_generate_params* params, size_t struct_size);

typedef struct lem_generate_result {
  uint32_t struct_size;     /* sizeof, set by lem_generate_result_init(); written up to this */
  int32_t stop_reason;      /* LEM_STOP_* */
  int32_t n_prompt_tokens;  /* prompt tokens evaluated */
  int32_t n_reused_tokens;  /* prompt tokens reused from the context */
  int32_t n_generated;      /* tokens generated */
  int32_t reserved;
  double prompt_seconds;
  double generate_seconds;
} lem_generate_result;

LEM_API void lem_generate_result_init(lem_generate_result* result, size_t struct_size);

/* Makes the context hold `prompt` (reusing what it shares with the cached tokens), then samples
 * tokens and passes events to on_event until a stop. The context then holds the prompt and the
 * generated tokens. `result` may be NULL; it is filled on LEM_OK and on LEM_ERR_CANCELLED. */
LEM_API lem_status lem_generate(lem_context* ctx, const int32_t* prompt, size_t n_prompt,
                                const lem_generate_params* params, lem_generate_result* result);

/* ---- pull-style stream: the same generation, one event per call, no callbacks ---------- */

typedef struct lem_stream lem_stream;

/* Starts generating on ctx (callbacks in params are ignored). Nothing is computed until the first
 * lem_stream_next. The context serves only this stream until lem_stream_free, which must come
 * before lem_context_free. */
LEM_API lem_status lem_stream_start(lem_context* ctx, const int32_t* prompt, size_t n_prompt,
                                    const lem_generate_params* params, lem_stream** out_stream);
/* Computes the next event (the first call evaluates the prompt). After the DONE event, further
 * calls return the DONE event again. On LEM_ERR_CANCELLED the event is a DONE event with
 * LEM_STOP_CANCELLED; on other errors the stream is finished and the event untouched. */
LEM_API lem_status lem_stream_next(lem_stream* stream, lem_event* event);
/* Any thread: the running or next lem_stream_next stops within one layer. */
LEM_API void lem_stream_cancel(lem_stream* stream);
LEM_API const char* lem_stream_last_error(const lem_stream* stream);
/* Frees the stream (a running generation is abandoned; the context keeps what was evaluated). */
LEM_API void lem_stream_free(lem_stream* stream);

#ifdef __cplusplus
}
#endif

#endif /* LEM_H */
