/* The "Basic usage" block of include/lem/lem.h, as a program: prints a model's architecture. */
#include <stdio.h>

#include <lem/lem.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL\n", argv[0]);
    return 2;
  }
  lem_model_params params = lem_model_params_default();
  lem_model* model = NULL;
  if (lem_model_load(argv[1], &params, &model) != LEM_OK) {
    fprintf(stderr, "load failed: %s\n", lem_last_error());
    return 1;
  }
  printf("%s, %llu tensors\n", lem_model_architecture(model),
         (unsigned long long)lem_model_tensor_count(model));
  lem_model_free(model);
  return 0;
}
