// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Ansor (auto_scheduler) logs.
#include "measure/history/internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "space/task.h"

namespace sonar::history_internal {

// ---------------------------------------------------------------------------------------------
// Ansor (auto_scheduler) logs: {"i": [[workload_key, target, ...], [stages, steps]], "r": [...],
// "v": "v0.6"}. Each distinct steps list is one config of the workload's listed space.

namespace {

std::string AnsorTaskName(std::string_view key, simdjson::dom::parser& scratch) {
  // NNFusion-style keys are JSON arrays: ["get_expr", "fused_conv_expr_S1D1P1", [64, ...]];
  // TVM's own are ["<hash>", args...].
  std::string padded = PaddedCopy(key);
  element doc;
  array a;
  if (scratch.parse(padded.data(), padded.size(), false).get(doc) || doc.get_array().get(a) ||
      a.size() == 0) {
    return "auto_scheduler";
  }
  std::string first, second;
  if (!GetString(a.at(0).value_unsafe(), &first)) return "auto_scheduler";
  if (first == "get_expr" && a.size() > 1 && GetString(a.at(1).value_unsafe(), &second)) {
    return second;
  }
  return first;
}

}  // namespace

void ImportAnsorLine(Importer& im, AnsorState& state, int64_t line_no, std::string_view line) {
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  element input, result, version;
  if (o["i"].get(input) || o["r"].get(result)) {
    im.Skip(line_no, "not an Ansor record (no \"i\" or \"r\")");
    return;
  }
  std::string v;
  if (o["v"].get(version) || !GetString(version, &v)) {
    im.Skip(line_no, "Ansor record without a string version \"v\"");
    return;
  }
  array in, task, state_arr, steps_arr;
  if (input.get_array().get(in) || in.size() < 2 || in.at(0).get_array().get(task) ||
      task.size() < 2 || in.at(1).get_array().get(state_arr) || state_arr.size() < 2 ||
      state_arr.at(1).get_array().get(steps_arr)) {
    im.Skip(line_no, "\"i\" is not [[workload_key, target, ...], [stages, steps]]");
    return;
  }
  Record r;
  std::string key;
  if (!GetString(task.at(0).value_unsafe(), &key) ||
      !GetString(task.at(1).value_unsafe(), &r.task.target)) {
    im.Skip(line_no, "workload key or target is not a string");
    return;
  }
  r.task.op = "auto_scheduler";
  simdjson::dom::parser key_parser;
  r.task.name = AnsorTaskName(key, key_parser);
  // The args are the workload key itself (a JSON string holding JSON).
  r.task.args_json = Minified(task.at(0).value_unsafe());
  r.workload_key = r.task.ComputeWorkloadKey();
  std::string why;
  if (!ParseTvmResult(result, 1e9, &r, &why)) {
    im.Skip(line_no, why);
    return;
  }
  const std::string steps = Minified(state_arr.at(1).value_unsafe());
  auto& index = state.index_of_steps[r.workload_key];
  auto [it, inserted] = index.emplace(steps, static_cast<int64_t>(index.size()));
  r.config.index = it->second;
  KnobValue steps_knob;
  steps_knob.name = "steps";
  steps_knob.kind = KnobKind::kChoice;
  steps_knob.strings = {steps};
  steps_knob.source_type = "ansor_steps";
  r.config.values.push_back(std::move(steps_knob));
  // Split steps ["SP", stage, iter, extent, [lengths], inner_to_outer] as split knobs, so that
  // models get numeric features; outer factor -1 = the rest, as in AutoTVM.
  int k = 0;
  for (element step : steps_arr) {
    array s;
    std::string kind;
    if (step.get_array().get(s) || s.size() < 5 || !GetString(s.at(0).value_unsafe(), &kind) ||
        kind != "SP") {
      continue;
    }
    std::vector<int64_t> lengths;
    int64_t stage = 0, iter = 0;
    if (!GetInt(s.at(1).value_unsafe(), &stage) || !GetInt(s.at(2).value_unsafe(), &iter) ||
        !GetIntList(s.at(4).value_unsafe(), &lengths)) {
      continue;
    }
    KnobValue sp;
    sp.name =
        "sp" + std::to_string(k++) + "_s" + std::to_string(stage) + "_i" + std::to_string(iter);
    sp.kind = KnobKind::kSplit;
    sp.ints.push_back(-1);
    sp.ints.insert(sp.ints.end(), lengths.begin(), lengths.end());
    sp.source_type = "ansor_sp";
    r.config.values.push_back(std::move(sp));
  }
  r.source_version = "ansor-" + v;
  r.tuner = "ansor-log";
  im.Emit(std::move(r));
}

}  // namespace sonar::history_internal
