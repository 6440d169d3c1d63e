// Owning pointers over the handles of include/lem/lem.h, so an early return or an error frees them.
#pragma once

#include <memory>

#include "lem/lem.h"

namespace cli {

struct ModelFree {
  void operator()(lem_model* m) const { lem_model_free(m); }
};
struct ContextFree {
  void operator()(lem_context* c) const { lem_context_free(c); }
};

using Model = std::unique_ptr<lem_model, ModelFree>;
using Context = std::unique_ptr<lem_context, ContextFree>;

}  // namespace cli
