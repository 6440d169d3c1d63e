/* A program outside the libLEM tree: loads a model through the installed C ABI. */
#include <stdio.h>
#include <string.h>

#include <lem/lem.h>

int main(int argc, char** argv) {
  if (lem_version_number() != LEM_VERSION_NUMBER) {
    fprintf(stderr, "header/library version mismatch\n");
    return 1;
  }
  lem_model* model = NULL;
  char err[256];
  if (argc < 2 || lem_model_load(argv[1], NULL, &model, err, sizeof err) != LEM_OK) {
    fprintf(stderr, "load failed: %s\n", err);
    return 1;
  }
  printf("%s %s %llu\n", lem_model_format(model), lem_model_architecture(model),
         (unsigned long long)lem_model_tensor_count(model));
  lem_model_free(model);
  /* errors come back as status + message, never a crash */
  if (lem_model_load("/nonexistent.gguf", NULL, &model, err, sizeof err) != LEM_ERR_IO || model != NULL ||
      strstr(err, "/nonexistent.gguf") == NULL || strstr(lem_last_error(), "/nonexistent.gguf") == NULL) {
    fprintf(stderr, "expected an I/O error naming the file\n");
    return 1;
  }
  return 0;
}
