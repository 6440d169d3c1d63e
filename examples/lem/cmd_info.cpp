// `lem info`: a readable summary, or JSON ({"format", "metadata", "tensors", "kv_cache"}), of a
// model file. The model is opened with LEM_LOAD_FILE_ONLY (the file's tables, no weights) and
// described by the library's report, lem_model_info_json(); this file only lays it out.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "cli_error.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {
namespace {

using Json = nlohmann::ordered_json;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The library's report (shape: lib/runtime/model_report.hpp).
Json model_report(const lem_model* model, uint32_t flags, int64_t n_ctx) {
  std::string text(1 << 20, '\0');
  size_t n = 0;
  lem_status status = lem_model_info_json(model, flags, n_ctx, text.data(), text.size(), &n);
  if (status == LEM_ERR_BUFFER_TOO_SMALL) {
    text.resize(n);
    status = lem_model_info_json(model, flags, n_ctx, text.data(), text.size(), &n);
  }
  check(status);
  text.resize(n);
  try {
    return Json::parse(text);
  } catch (const std::exception& e) {
    run_error("the library's model report is not valid JSON: ", e.what());
  }
}

std::string pad_right(const std::string& s, size_t width) { return s.size() < width ? s + std::string(width - s.size(), ' ') : s; }
std::string pad_left(const std::string& s, size_t width) { return s.size() < width ? std::string(width - s.size(), ' ') + s : s; }

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  if (u == 0) return std::to_string(n) + " B";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

// --json: the shape `lem info --json` has always printed ({"format", "metadata", "tensors",
// "kv_cache"}), taken from the report.
std::string json_output(const Json& report) {
  Json out = Json::object();
  out["format"] = report.at("format");
  out["metadata"] = report.at("metadata");
  out["tensors"] = report.value("tensors", Json::array());
  if (report.contains("kv_cache")) {
    const Json& kv = report.at("kv_cache");
    Json sizes = Json::array();
    for (const auto& row : kv.at("sizes"))
      sizes.push_back({{"n_ctx", row.at("n_ctx")}, {"f32_bytes", row.at("f32_bytes")}, {"f16_bytes", row.at("f16_bytes")}});
    out["kv_cache"] = {{"sliding_layers", kv.at("sliding_layers")},
                       {"layers", kv.at("layers")},
                       {"sliding_layer_positions", kv.at("sliding_layer_positions")},
                       {"sizes", std::move(sizes)}};
  }
  // Strings from files need not be valid UTF-8: replace bad bytes rather than fail.
  return out.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

void gguf_summary(const Json& file, std::string& out) {
  const Json& g = file.at("gguf");
  out += "gguf version: " + dump(g.at("version")) + ", alignment " + dump(g.at("alignment")) + ", data at byte " +
         dump(g.at("data_offset")) + "\n";
  if (g.contains("name")) out += "name:         " + g.at("name").get<std::string>() + "\n";
  if (g.contains("file_type")) out += "file type:    " + dump(g.at("file_type")) + "\n";
  out += "hyperparameters:\n";
  for (const auto& [key, value] : g.at("hyperparameters").items()) out += "  " + pad_right(key, 44) + " " + dump(value) + "\n";
  const Json& tok = file.at("tokenizer");
  if (tok.is_null()) {
    out += "tokenizer:    none in the file\n";
    return;
  }
  out += "tokenizer:    " + (tok.contains("model") ? tok.at("model").get<std::string>() : std::string("?")) + " (" +
         (tok.contains("tokens") ? dump(tok.at("tokens")) : std::string("0")) + " tokens" +
         (tok.value("merges", false) ? ", with merges" : "") + ")\n";
}

void safetensors_summary(const Json& file, std::string& out) {
  const Json& st = file.at("safetensors");
  if (st.value("config_json", false)) {
    if (st.contains("class")) out += "class:        " + dump(st.at("class")) + "\n";
    out += std::string("hyperparameters") + (st.value("hyperparameters_source", "config") == "text_config" ? " (text_config)" : "") +
           ":\n";
    if (st.contains("hyperparameters"))
      for (const auto& [key, value] : st.at("hyperparameters").items())
        out += "  " + pad_right(key, 44) + " " + dump(value) + "\n";
    if (st.contains("quantization")) out += "quantization: " + dump(st.at("quantization")) + "\n";
  } else {
    out += "config.json:  none beside the file\n";
  }
  const Json& tok = file.at("tokenizer");
  out += std::string("tokenizer:    ") + (tok.is_null() ? "none beside the file" : "tokenizer.json (HF BPE)") + "\n";
  out += "shards:       " + dump(st.at("shards")) + "\n";
}

void kv_cache_summary(const Json& report, std::string& out) {
  if (!report.contains("kv_cache")) {
    out += "KV cache:     not available (" + report.value("kv_cache_unavailable", std::string("?")) + ")\n";
    return;
  }
  const Json& kv = report.at("kv_cache");
  out += "KV cache:     " + dump(kv.at("sliding_layers")) + " of " + dump(kv.at("layers")) + " layers sliding, each keeping " +
         dump(kv.at("sliding_layer_positions")) + " positions (window - 1 + batch " + dump(kv.at("n_batch")) +
         " + rewind " + dump(kv.at("rewind_slack")) + ")\n";
  for (const auto& row : kv.at("sizes")) {
    std::string label = row.at("label").get<std::string>();
    if (label == "requested") label = "--ctx-size";
    out += "  n_ctx " + pad_left(dump(row.at("n_ctx")), 7) + "  f32 " +
           pad_left(human_bytes(row.at("f32_bytes").get<uint64_t>()), 11) + "  f16 " +
           pad_left(human_bytes(row.at("f16_bytes").get<uint64_t>()), 11) + "  (" + label + ")\n";
  }
}

std::string text_output(const Json& report) {
  const Json& file = report.at("file");
  std::string out;
  out += "file:         " + report.at("path").get<std::string>() + "\n";
  out += "format:       " + report.at("format").get<std::string>() + "\n";
  out += "architecture: " + report.at("architecture").get<std::string>() + "\n";
  if (file.contains("gguf")) gguf_summary(file, out);
  else if (file.contains("safetensors")) safetensors_summary(file, out);
  out += "tensors:      " + dump(file.at("tensor_count")) + " (" + human_bytes(file.at("tensor_bytes").get<uint64_t>()) +
         ")\n";
  for (const auto& t : file.at("tensor_types"))
    out += "  " + pad_right(t.at("type").get<std::string>(), 8) + " " + pad_left(dump(t.at("count")), 5) +
           " tensors  " + pad_left(human_bytes(t.at("bytes").get<uint64_t>()), 12) + "\n";
  kv_cache_summary(report, out);
  return out;
}

}  // namespace

int cmd_info(Args& args) {
  const bool json = args.flag("--json");
  const bool full_arrays = args.flag("--json-array");
  int64_t n_ctx = 0;  // 0: the default and the model's maximum only (the maximum is always listed)
  integer_flag(args, {"--ctx-size", "-c"}, n_ctx, 0, INT32_MAX);
  const auto pos = args.finish();
  if (pos.size() != 1) usage_error("usage: lem info FILE_OR_DIR [-c N] [--json [--json-array]]");
  const Model model = load_model(pos[0], LEM_LOAD_FILE_ONLY, /*verbose=*/false);
  const uint32_t flags = (json ? LEM_INFO_TENSORS : 0u) | (full_arrays ? LEM_INFO_FULL_ARRAYS : 0u);
  const Json report = model_report(model.get(), flags, n_ctx);
  std::string out;
  try {
    out = json ? json_output(report) : text_output(report);
  } catch (const nlohmann::json::exception& e) {
    run_error("the library's model report lacks a field: ", e.what());
  }
  write_stdout(out.data(), out.size());
  return 0;
}

}  // namespace cli
