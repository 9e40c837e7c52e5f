// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// History export, written with nlohmann::json (doubles are printed in their shortest form that
// reads back to the same value, so an export-import round trip is exact).
#include <nlohmann/json.hpp>

#include <cctype>

#include "common/enum_names.h"
#include "measure/history_io.h"
#include "space/task.h"

namespace sonar {
namespace {

using Json = nlohmann::ordered_json;

// Raw JSON text as a value; text that is not JSON is kept as a string.
Json RawJson(const std::string& text) {
  if (text.empty()) return nullptr;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text;
  return j;
}

// AutoTVM's task arguments are a list: a record whose arguments are something else (a Kernel
// Tuner problem size: a number, an object) gets them as the list's one element.
Json AutoTvmArgs(const std::string& args_json) {
  Json args = RawJson(args_json);
  if (args.is_null()) return Json::array();
  if (!args.is_array()) return Json::array({std::move(args)});
  return args;
}

// A target string TVM's Target parses: kept when it starts with a TVM target kind; otherwise (a
// Kernel Tuner device name, e.g. "NVIDIA TITAN RTX") "cuda -model=NVIDIA_TITAN_RTX", or "rocm"
// for an AMD device, the device named in -model as TopHub's logs do ("cuda -model=v100").
std::string AutoTvmTarget(const std::string& target) {
  static const char* const kKinds[] = {"llvm",  "cuda", "rocm",    "opencl", "vulkan", "metal",
                                       "nvptx", "c",    "hexagon", "webgpu", "ext_dev"};
  const std::string kind = target.substr(0, target.find(' '));
  for (const char* k : kKinds) {
    if (kind == k) return target;
  }
  std::string model;
  for (char c : target) model += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (model.empty() || target.rfind("kernel_tuner:", 0) == 0) model = "unknown";
  const bool amd = target.find("AMD") != std::string::npos ||
                   target.find("Radeon") != std::string::npos || target.rfind("MI", 0) == 0;
  return std::string(amd ? "rocm" : "cuda") + " -model=" + model;
}

Json AutoTvmKnob(const KnobValue& v) {
  std::string type = v.source_type;
  if (type != "sp" && type != "re" && type != "an" && type != "ot") {
    switch (v.kind) {
      case KnobKind::kSplit: type = "sp"; break;
      case KnobKind::kReorder: type = "re"; break;
      case KnobKind::kChoice: type = v.strings.size() > 1 ? "an" : "ot"; break;
      case KnobKind::kInt:
      case KnobKind::kBool: type = "ot"; break;
    }
  }
  Json value;
  if (type == "sp" || type == "re") {
    value = v.ints;
  } else if (type == "an") {
    value = v.strings.empty() ? Json(v.ints) : Json(v.strings);
  } else if (v.kind == KnobKind::kBool && v.ints.size() == 1) {
    value = v.ints[0] != 0;
  } else if (v.ints.size() == 1) {
    value = v.ints[0];
  } else if (v.strings.size() == 1) {
    value = v.strings[0];
  } else {
    value = nullptr;
  }
  return Json::array({v.name, type, value});
}

}  // namespace

std::string RecordToAutoTvmLine(const Record& r) {
  Json entity = Json::array();
  for (const KnobValue& v : r.config.values) entity.push_back(AutoTvmKnob(v));
  Json config;
  config["index"] = r.config.index ? Json(*r.config.index) : Json(nullptr);
  config["code_hash"] = r.config.code_hash.empty() ? Json(nullptr) : Json(r.config.code_hash);
  config["entity"] = std::move(entity);
  int error_no = AutoTvmErrorFromStatus(r.result.status);
  MeasureStatus back;
  if (r.result.source_error_code >= 0 && AutoTvmErrorToStatus(r.result.source_error_code, &back) &&
      back == r.result.status) {
    error_no = r.result.source_error_code;  // keeps 2 vs 3 (host vs device compile error)
  }
  Json costs = r.result.ok() ? Json(r.result.run_seconds) : Json::array({1e9});
  Json j;
  j["input"] = Json::array(
      {AutoTvmTarget(r.task.target), r.task.op, AutoTvmArgs(r.task.args_json), Json::object()});
  j["config"] = std::move(config);
  j["result"] = Json::array({costs, error_no, r.result.all_cost_seconds, r.timestamp_unix_s});
  j["version"] = 0.2;
  j["tvm_version"] = r.tool_version.empty() ? Json(nullptr) : Json(r.tool_version);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string RecordToJsonLine(const Record& r) {
  Json knobs = Json::array();
  for (const KnobValue& v : r.config.values) {
    Json k;
    k["name"] = v.name;
    k["kind"] = std::string(KnobKindToString(v.kind));
    k["ints"] = v.ints;
    k["strings"] = v.strings;
    if (!v.source_type.empty()) k["source_type"] = v.source_type;
    knobs.push_back(std::move(k));
  }
  Json j;
  j["v"] = "sonar-1";
  j["workload_key"] = WorkloadKeyToHex(r.workload_key);
  j["task"] = {{"name", r.task.name}, {"op", r.task.op}};
  if (!r.task.args_json.empty()) j["task"]["args"] = RawJson(r.task.args_json);
  j["task"]["target"] = r.task.target;
  j["task"]["template_version"] = r.task.template_version;
  j["config"] = {{"index", r.config.index ? Json(*r.config.index) : Json(nullptr)},
                 {"code_hash", r.config.code_hash},
                 {"knobs", std::move(knobs)}};
  j["result"] = {{"status", std::string(MeasureStatusToString(r.result.status))},
                 {"run_seconds", r.result.run_seconds},
                 {"compile_seconds", r.result.compile_seconds},
                 {"all_cost_seconds", r.result.all_cost_seconds},
                 {"error_msg", r.result.error_msg},
                 {"source_error_code", r.result.source_error_code},
                 {"reference_seconds", r.result.reference_seconds},
                 {"reported_seconds", r.result.reported_seconds},
                 {"accuracy", r.result.accuracy}};
  j["timestamp"] = r.timestamp_unix_s;
  j["tuner"] = r.tuner;
  j["trial"] = r.trial;
  j["hardware_id"] = r.hardware_id;
  j["source_version"] = r.source_version;
  j["tool_version"] = r.tool_version;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool StringToExportFormat(std::string_view name, ExportFormat* format) {
  static constexpr EnumNames<ExportFormat, 2> kNames = {{
      {ExportFormat::kAutoTvm, "autotvm"},
      {ExportFormat::kJsonLines, "jsonl"},
  }};
  return NameToEnum(kNames, name, format);
}

Status ExportHistory(const std::vector<Record>& records, ExportFormat format, std::ostream& out) {
  for (const Record& r : records) {
    out << (format == ExportFormat::kAutoTvm ? RecordToAutoTvmLine(r) : RecordToJsonLine(r))
        << '\n';
    if (!out) return InternalError("write failed while exporting records");
  }
  out.flush();
  if (!out) return InternalError("write failed while exporting records");
  return OkStatus();
}

}  // namespace sonar
