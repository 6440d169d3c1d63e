// The fixture models' golden prompts, and the max-abs-difference measure the session tests use.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/test_data.hpp"

namespace lem::test {

// Token ids of the golden prompt `name` ("p200", ...) of fixture model `model` ("tiny-a", "tiny-b").
inline std::vector<int32_t> prompt_ids(const std::string& model, const std::string& name) {
  std::ifstream in(data_path("tiny/" + model + "/goldens/prompts.json"));
  const auto j = nlohmann::json::parse(in);
  for (const auto& p : j.at("prompts"))
    if (p.at("name") == name) return p.at("ids").get<std::vector<int32_t>>();
  FAIL("no prompt " << name << " for " << model);
  return {};
}

inline double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace lem::test
