# Warnings for our own targets, and the optional sanitizer build.
add_library(lem_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lem_warnings INTERFACE -Wall -Wextra -Wshadow -Wno-unused-parameter)
endif()

# Flags for the sanitizer build; also used directly by targets that always run sanitized
# (the corrupt-file test) regardless of LEM_SANITIZE.
set(LEM_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)

if(LEM_SANITIZE)
  add_compile_options(${LEM_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()

# Kernel translation units must not let the compiler contract a*b+c into FMA where the
# result has to match ggml bit for bit (dequantisation). Per-file flags set it where needed.
set(LEM_NO_FMA_CONTRACT -ffp-contract=off)
