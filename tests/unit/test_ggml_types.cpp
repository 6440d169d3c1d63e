// The ggml type table against the quant fixtures' index.json (written by ggml itself).
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "kernels/ggml_types.hpp"
#include "support/test_data.hpp"

TEST_CASE("ggml type geometry equals the fixture index", "[ggml_types]") {
  std::ifstream in(lem::test::data_path("quant/index.json"));
  REQUIRE(in);
  const auto index = nlohmann::json::parse(in);
  REQUIRE(index.at("types").size() == 23);
  for (const auto& t : index.at("types")) {
    const std::string name = t.at("name");
    INFO(name);
    const auto traits = lem::ggml_type_traits(t.at("ggml_type_id").get<uint32_t>());
    REQUIRE(traits);
    CHECK(traits->name == t.at("ggml_type_name").get<std::string>());
    CHECK(traits->block_size == t.at("block_size").get<uint32_t>());
    CHECK(traits->type_size == t.at("type_size").get<uint32_t>());
    CHECK(lem::ggml_row_bytes(traits->type, t.at("cols").get<uint64_t>()) == t.at("bytes_per_row").get<uint64_t>());
    CHECK(lem::ggml_type_from_name(traits->name) == traits->type);
  }
}

TEST_CASE("unknown and removed ggml type ids are rejected", "[ggml_types]") {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u, 0xFFFFFFFFu}) CHECK_FALSE(lem::ggml_type_traits(id));
  CHECK_FALSE(lem::ggml_row_bytes(lem::GgmlType::Q4_K, 1152));  // 1152 is not a multiple of 256
  CHECK(lem::ggml_row_bytes(lem::GgmlType::Q5_0, 1152) == 1152 / 32 * 22);
}
