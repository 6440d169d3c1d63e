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
 * threads. Calls that take no handle (version, status strings, defaults) are thread-safe.
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

/* Opens a model: a .gguf file, a .safetensors file, or a folder holding config.json with
 * model.safetensors or model.safetensors.index.json (HF or MLX layout). The file is memory
 * mapped and validated before use. `params` may be NULL for defaults. On success *out_model
 * owns the model (free it with lem_model_free); on failure *out_model is set to NULL. */
LEM_API lem_status lem_model_load(const char* path, const lem_model_params* params, lem_model** out_model);

LEM_API void lem_model_free(lem_model* model);

/* "gguf", "safetensors" or "mlx"; static storage. */
LEM_API const char* lem_model_format(const lem_model* model);
/* Architecture name from the file ("gemma3", or the HF model_type); valid while the model lives. */
LEM_API const char* lem_model_architecture(const lem_model* model);
/* Number of tensors in the file(s), as stored (MLX weight, scales and biases count separately). */
LEM_API uint64_t lem_model_tensor_count(const lem_model* model);

#ifdef __cplusplus
}
#endif

#endif /* LEM_H */
