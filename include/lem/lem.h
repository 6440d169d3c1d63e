/*
 * libLEM — the stable C ABI.
 *
 * libLEM runs Google Gemma 3 text models (LEM-Gemma3-1B/4B and other Gemma 3 checkpoints) on CPUs.
 * This header is the whole public API: anything not declared here is not part of it.
 *
 * Basic usage (examples/simple.c is this block, compiled in CI):
 *
 *     lem_model_params params = lem_model_params_default();
 *     lem_model* model = NULL;
 *     if (lem_model_load("model.gguf", &params, &model) != LEM_OK) {
 *         fprintf(stderr, "load failed: %s\n", lem_last_error());
 *         return 1;
 *     }
 *     printf("%s, %llu tensors\n", lem_model_architecture(model),
 *            (unsigned long long)lem_model_tensor_count(model));
 *     lem_model_free(model);
 *
 * Errors: every fallible call returns a lem_status (LEM_OK = 0). The reason is available from
 * lem_last_error(), a thread-local string valid until this thread's next lem_ call.
 * No C++ exception and no abort() crosses this boundary.
 *
 * Thread safety: a lem_model is immutable after loading and may be shared by any number of
 * threads (tokenize, detokenize and chat-template calls included). A lem_context belongs to one
 * thread at a time. Calls that take no handle (version, status strings, defaults) are
 * thread-safe. Callbacks run on the calling thread, with no lock held; they must not call back
 * into the same context.
 *
 * Ownership: every lem_*_free accepts NULL as a harmless no-op. Returned `const char*` strings
 * are borrowed; the documentation of each function states how long they live.
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
#define LEM_ERR_IO 2           /* the file could not be opened, read or mapped */
#define LEM_ERR_BAD_FORMAT 3   /* the file is not a valid model file (truncated, corrupt, hostile) */
#define LEM_ERR_UNSUPPORTED 4  /* valid, but not something this version can do (architecture, type) */
#define LEM_ERR_OOM 5          /* an allocation failed */
#define LEM_ERR_CONTEXT_FULL 6 /* the context window is exhausted */
#define LEM_ERR_CANCELLED 7    /* a callback asked to stop */
#define LEM_ERR_INTERNAL 8     /* a bug in libLEM; please report it with lem_last_error() */
#define LEM_ERR_BUFFER_TOO_SMALL 9 /* an output buffer is too small; the needed size is in the size out-param */

/* Static English text for a status code; never NULL. */
LEM_API const char* lem_status_str(lem_status status);

/* The message of the last failed lem_ call on this thread ("" if none). Valid until this
 * thread's next lem_ call. */
LEM_API const char* lem_last_error(void);

/* ---- version --------------------------------------------------------------------------- */

/* LEM_VERSION_NUMBER of the library actually loaded. */
LEM_API int32_t lem_version_number(void);
/* "M.m.p" of the library actually loaded; static storage. */
LEM_API const char* lem_version_string(void);

/* ---- model ----------------------------------------------------------------------------- */

typedef struct lem_model lem_model;

typedef struct lem_model_params {
  uint32_t struct_size; /* set by lem_model_params_default(); the library reads only this many bytes */
  int32_t reserved;     /* must be 0 */
} lem_model_params;

/* Defaults for every field, struct_size included. */
LEM_API lem_model_params lem_model_params_default(void);

/* Opens a Gemma 3 model: a .gguf file, a .safetensors file, or a folder holding config.json with
 * model.safetensors or model.safetensors.index.json (HF or MLX layout). The file is memory
 * mapped and validated before use; the tokenizer comes from the GGUF metadata or tokenizer.json
 * beside the weights. `params` may be NULL for defaults. On success *out_model owns the model
 * (free it with lem_model_free); on failure *out_model is set to NULL. */
LEM_API lem_status lem_model_load(const char* path, const lem_model_params* params, lem_model** out_model);

LEM_API void lem_model_free(lem_model* model);

/* "gguf", "safetensors" or "mlx"; static storage. */
LEM_API const char* lem_model_format(const lem_model* model);
/* Architecture name from the file ("gemma3", or the HF model_type); valid while the model lives. */
LEM_API const char* lem_model_architecture(const lem_model* model);
/* Number of tensors in the file(s), as stored (MLX weight, scales and biases count separately). */
LEM_API uint64_t lem_model_tensor_count(const lem_model* model);
/* Rows of the output layer (logits per position). */
LEM_API int32_t lem_model_n_vocab(const lem_model* model);
/* The longest context the model was trained for. */
LEM_API int32_t lem_model_n_ctx_train(const lem_model* model);

/* ---- tokenizer ------------------------------------------------------------------------- */

#define LEM_TOKENIZE_ADD_BOS 1u       /* prepend <bos> */
#define LEM_TOKENIZE_PARSE_SPECIAL 2u /* "<start_of_turn>" in the text becomes the control token;
                                         leave it off for untrusted text */
#define LEM_DETOKENIZE_SKIP_SPECIAL 1u /* drop <bos>, <eos>, <start_of_turn>, ... from the text */

/* Tokenizes `text_len` bytes of UTF-8 (invalid bytes become byte tokens) into `tokens`, which
 * holds `capacity` ids. On LEM_OK or LEM_ERR_BUFFER_TOO_SMALL, *n_tokens is the number of ids
 * (needed). Thread-safe on a shared model. */
LEM_API lem_status lem_tokenize(const lem_model* model, const char* text, size_t text_len, uint32_t flags,
                                int32_t* tokens, size_t capacity, size_t* n_tokens);

/* Turns ids back into UTF-8 text (not NUL-terminated) in `buf` of `capacity` bytes; *n_bytes is
 * the text length (needed, on LEM_ERR_BUFFER_TOO_SMALL). */
LEM_API lem_status lem_detokenize(const lem_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags,
                                  char* buf, size_t capacity, size_t* n_bytes);

LEM_API int32_t lem_token_bos(const lem_model* model);
/* True for the ids that end a turn (Gemma 3: <eos> 1 and <end_of_turn> 106). */
LEM_API int32_t lem_token_is_eog(const lem_model* model, int32_t token);

typedef struct lem_chat_message {
  const char* role;    /* "system", "user" or "assistant" ("model" also accepted); NUL-terminated */
  const char* content; /* NUL-terminated UTF-8 */
} lem_chat_message;

/* Renders the Gemma 3 chat template: "<bos><start_of_turn>user\n...<end_of_turn>\n..." plus, with
 * add_generation_prompt, "<start_of_turn>model\n". The text starts with "<bos>": tokenize it with
 * LEM_TOKENIZE_PARSE_SPECIAL and without LEM_TOKENIZE_ADD_BOS. Output as lem_detokenize. */
LEM_API lem_status lem_chat_apply_template(const lem_model* model, const lem_chat_message* messages,
                                           size_t n_messages, int32_t add_generation_prompt, char* buf,
                                           size_t capacity, size_t* n_bytes);

/* ---- context (one conversation: KV cache, scratch, threads) ---------------------------- */

typedef struct lem_context lem_context;

#define LEM_KV_F32 0
#define LEM_KV_F16 1

typedef struct lem_context_params {
  uint32_t struct_size; /* set by lem_context_params_default() */
  int32_t n_ctx;        /* context length; 0 = the model's maximum. Default 4096 */
  int32_t n_batch;      /* prompt tokens per forward pass. Default 512 */
  int32_t n_threads;    /* 0 = all cores. Default 0 */
  int32_t kv_type;      /* LEM_KV_F32 (default) or LEM_KV_F16 */
} lem_context_params;

LEM_API lem_context_params lem_context_params_default(void);

/* Creates a context on `model`, which must outlive it. A context is used by one thread at a
 * time; several contexts may share one model. */
LEM_API lem_status lem_context_create(lem_model* model, const lem_context_params* params, lem_context** out_ctx);
LEM_API void lem_context_free(lem_context* ctx);

/* Called between prompt batches and before each generated token; return non-zero to stop
 * (the call then returns LEM_ERR_CANCELLED). */
typedef int32_t (*lem_abort_callback)(void* user_data);

/* Appends tokens to the context and evaluates them (in batches of n_batch). */
LEM_API lem_status lem_context_eval(lem_context* ctx, const int32_t* tokens, size_t n_tokens,
                                    lem_abort_callback should_abort, void* user_data);
/* Makes the context hold exactly `tokens`, reusing the longest prefix it already holds;
 * *n_reused (may be NULL) receives how many tokens were not re-evaluated. */
LEM_API lem_status lem_context_set_tokens(lem_context* ctx, const int32_t* tokens, size_t n_tokens,
                                          size_t* n_reused, lem_abort_callback should_abort, void* user_data);
/* Logits (lem_model_n_vocab floats) after the last evaluated token, or NULL before any.
 * Valid until the next call that evaluates or resets. */
LEM_API const float* lem_context_logits(const lem_context* ctx);
/* Number of tokens the context holds. */
LEM_API size_t lem_context_n_tokens(const lem_context* ctx);
LEM_API void lem_context_reset(lem_context* ctx);

/* ---- sampling and generation ----------------------------------------------------------- */

typedef struct lem_sampler_params {
  uint32_t struct_size;     /* set by lem_sampler_params_default() */
  float temperature;        /* <= 0: greedy. Default 0.8 */
  int32_t top_k;            /* <= 0: off. Default 40 */
  float top_p;              /* >= 1: off. Default 0.95 */
  float min_p;              /* <= 0: off. Default 0.05 */
  float repeat_penalty;     /* 1: off. Default 1 */
  int32_t repeat_last_n;    /* tokens the penalties look at; -1 all. Default 64 */
  float presence_penalty;   /* Default 0 */
  float frequency_penalty;  /* Default 0 */
  uint64_t seed;            /* same seed, same tokens. Default 0 */
  const int32_t* logit_bias_tokens; /* n_logit_bias ids ... */
  const float* logit_bias_values;   /* ... and the values added to their logits */
  size_t n_logit_bias;
} lem_sampler_params;

LEM_API lem_sampler_params lem_sampler_params_default(void);

/* Called with each piece of generated text (never a broken UTF-8 sequence) and the token that
 * completed it (-1 for text flushed at the end); return non-zero to continue, 0 to stop. */
typedef int32_t (*lem_token_callback)(const char* text, size_t len, int32_t token, void* user_data);

#define LEM_STOP_EOS 0          /* <eos> or <end_of_turn> */
#define LEM_STOP_STRING 1       /* a stop string */
#define LEM_STOP_LENGTH 2       /* max_tokens */
#define LEM_STOP_CONTEXT_FULL 3
#define LEM_STOP_CANCELLED 4    /* a callback asked to stop */

typedef struct lem_generate_params {
  uint32_t struct_size;              /* set by lem_generate_params_default() */
  int32_t max_tokens;                /* < 0: until a stop. Default -1 */
  lem_sampler_params sampling;
  const char* const* stop_strings;   /* n_stop NUL-terminated strings; may be NULL */
  size_t n_stop;
  int32_t ignore_eos;                /* non-zero: keep going past end-of-turn tokens */
  lem_token_callback on_token;       /* may be NULL */
  lem_abort_callback should_abort;   /* may be NULL */
  void* user_data;                   /* passed to both callbacks */
} lem_generate_params;

typedef struct lem_generate_result {
  int32_t stop_reason;      /* LEM_STOP_* */
  int32_t n_prompt_tokens;  /* prompt tokens evaluated */
  int32_t n_reused_tokens;  /* prompt tokens reused from the context */
  int32_t n_generated;      /* tokens generated */
  double prompt_seconds;
  double generate_seconds;
} lem_generate_result;

LEM_API lem_generate_params lem_generate_params_default(void);

/* Makes the context hold `prompt` (reusing what it shares with the cached tokens), then samples
 * tokens and streams their text through on_token until a stop. Cancellation from a callback is
 * not an error: it returns LEM_OK with stop_reason LEM_STOP_CANCELLED. `result` may be NULL. */
LEM_API lem_status lem_generate(lem_context* ctx, const int32_t* prompt, size_t n_prompt,
                                const lem_generate_params* params, lem_generate_result* result);

#ifdef __cplusplus
}
#endif

#endif /* LEM_H */
