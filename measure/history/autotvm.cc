// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// AutoTVM logs (v0.1 and v0.2): the general reader, and the pieces the fast reader shares.
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
// AutoTVM.

bool ParseEntity(element entity, std::vector<KnobValue>* values, std::string* why) {
  array items;
  if (entity.get_array().get(items)) {
    *why = "config entity is not an array";
    return false;
  }
  values->reserve(values->size() + items.size());
  for (element item : items) {
    array triple;
    element parts[4];
    if (item.get_array().get(triple) || FirstElements(triple, parts) != 3) {
      *why = "config entity item is not a [name, type, value] triple";
      return false;
    }
    KnobValue v;
    std::string_view type;
    if (!GetString(parts[0], &v.name) || parts[1].get_string().get(type)) {
      *why = "config entity item has a non-string name or type";
      return false;
    }
    element value = parts[2];
    v.source_type = type;
    if (type == "sp" || type == "re") {
      v.kind = type == "sp" ? KnobKind::kSplit : KnobKind::kReorder;
      if (!GetIntList(value, &v.ints)) {
        *why = "knob '" + v.name + "' (" + std::string(type) + ") is not a list of integers";
        return false;
      }
    } else if (type == "an") {
      v.kind = KnobKind::kChoice;
      array a;
      if (value.get_array().get(a)) {
        *why = "knob '" + v.name + "' (an) is not a list";
        return false;
      }
      for (element x : a) {
        std::string s;
        if (!GetString(x, &s)) {
          *why = "knob '" + v.name + "' (an) holds a non-string";
          return false;
        }
        v.strings.push_back(std::move(s));
      }
    } else if (type == "ot") {
      int64_t i = 0;
      bool b = false;
      if (GetInt(value, &i)) {
        v.kind = KnobKind::kChoice;
        v.ints = {i};
      } else if (!value.get_bool().get(b)) {
        v.kind = KnobKind::kBool;
        v.ints = {b ? 1 : 0};
      } else if (value.type() == element_type::STRING || value.type() == element_type::DOUBLE ||
                 value.type() == element_type::NULL_VALUE) {
        v.kind = KnobKind::kChoice;
        std::string s;
        if (!GetString(value, &s)) s = Minified(value);
        v.strings = {std::move(s)};
      } else {
        *why = "knob '" + v.name + "' (ot) has a value of type " + TypeName(value);
        return false;
      }
    } else {
      *why = "knob '" + v.name + "' has unknown type '" + std::string(type) + "'";
      return false;
    }
    values->push_back(std::move(v));
  }
  return true;
}

// Fills r.result from an AutoTVM/Ansor result array [costs, error_no, all_cost, timestamp].
bool ParseTvmResult(element result, double failure_sentinel, Record* r, std::string* why) {
  array a;
  element parts[4];
  size_t num_parts = 0;
  if (result.get_array().get(a) || (num_parts = FirstElements(a, parts)) < 2) {
    *why = "result is not an array [costs, error_no, all_cost, timestamp]";
    return false;
  }
  int64_t error_no = 0;
  if (!GetInt(parts[1], &error_no)) {
    *why = "error_no is not an integer";
    return false;
  }
  if (!AutoTvmErrorToStatus(error_no, &r->result.status)) {
    *why = "unknown error_no " + std::to_string(error_no) + " (AutoTVM uses 0-8)";
    return false;
  }
  r->result.source_error_code = static_cast<int32_t>(error_no);
  array costs;
  if (parts[0].get_array().get(costs)) {
    *why = "costs is not an array";
    return false;
  }
  if (r->result.ok()) {
    r->result.run_seconds.reserve(costs.size());
    if (costs.size() == 0) {
      *why = "successful record has no costs";
      return false;
    }
    for (element c : costs) {
      double s = 0;
      if (!GetNumber(c, &s)) {
        *why = "cost is a " + TypeName(c) + ", not a number";
        return false;
      }
      if (!std::isfinite(s) || s <= 0) {
        *why = "cost " + std::to_string(s) + " is not a positive time";
        return false;
      }
      if (s >= failure_sentinel) {
        *why = "cost " + std::to_string(s) + " is the failure sentinel on a record with error_no 0";
        return false;
      }
      r->result.run_seconds.push_back(s);
    }
    if (r->result.run_seconds.size() > 1) r->result.reported_seconds = r->result.mean_seconds();
  } else {
    // Failures carry a sentinel (1e9 in AutoTVM, 1e10 in Ansor) or a message: never a time.
    for (element c : costs) {
      if (c.type() == element_type::STRING && r->result.error_msg.empty()) {
        GetString(c, &r->result.error_msg);
      }
    }
  }
  if (num_parts >= 3) {
    double all_cost = 0;
    if (!GetNumber(parts[2], &all_cost) || !std::isfinite(all_cost) || all_cost < 0) {
      *why = "all_cost is not a non-negative number";
      return false;
    }
    r->result.all_cost_seconds = all_cost;
  }
  if (num_parts >= 4) {
    double ts = 0;
    if (!GetNumber(parts[3], &ts) || !std::isfinite(ts)) {
      *why = "timestamp is not a number";
      return false;
    }
    r->timestamp_unix_s = ts;
  }
  return true;
}

// Reads AutoTVM's config object: v0.2 {"index","code_hash","entity"}, v0.1 {"i","c","e","t"}.
bool ParseAutoTvmConfig(element config, Record* r, std::string* why) {
  object o;
  if (config.get_object().get(o)) {
    *why = "config is not an object";
    return false;
  }
  element index, code_hash, entity;
  const bool has_index = !o["index"].get(index) || !o["i"].get(index);
  const bool has_hash = !o["code_hash"].get(code_hash) || !o["c"].get(code_hash);
  if (o["entity"].get(entity) && o["e"].get(entity)) {
    *why = "config has no entity";
    return false;
  }
  if (has_index) {
    int64_t i = 0;
    if (!GetInt(index, &i) || i < 0) {
      *why = "config index is not a non-negative integer";
      return false;
    }
    r->config.index = i;
  }
  if (has_hash && code_hash.type() == element_type::STRING)
    GetString(code_hash, &r->config.code_hash);
  return ParseEntity(entity, &r->config.values, why);
}

bool FillTvmTask(Importer& im, element target, element task_name, element args, Record* r,
                 std::string* why) {
  std::string_view t, op;
  if (target.get_string().get(t)) {
    *why = "target is not a string";
    return false;
  }
  if (task_name.get_string().get(op)) {
    *why = "task name is not a string";
    return false;
  }
  std::string& args_json = im.scratch();
  args_json.clear();
  AppendMinified(args, &args_json);
  Importer::TaskCache& cache = im.task_cache();
  if (!cache.valid || cache.target != t || cache.op != op || cache.args_json != args_json) {
    cache.task = TaskIdentity{};
    cache.task.target.assign(t);
    cache.task.op.assign(op);
    cache.task.name.assign(op);
    cache.task.args_json = args_json;
    cache.key = cache.task.ComputeWorkloadKey();
    cache.target.assign(t);
    cache.op.assign(op);
    cache.args_json = args_json;
    cache.valid = true;
  }
  r->task = cache.task;
  r->workload_key = cache.key;
  return true;
}

// ---------------------------------------------------------------------------------------------
// AutoTVM, the general reader.

void ImportAutoTvmLine(Importer& im, int64_t line_no, std::string_view line) {
  if (ReadAutoTvmLineFast(im, line, &im.NewRecord())) {
    im.Emit();
    return;
  }
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  Record r;
  std::string why;
  element input, config, result, version;
  if (!o["input"].get(input)) {
    // v0.2
    if (o["version"].get(version)) {
      im.Skip(line_no, "AutoTVM v0.2 record without a version");
      return;
    }
    double v = 0;
    if (!GetNumber(version, &v) || v != 0.2) {
      im.Skip(line_no,
              "unknown AutoTVM log version " + Minified(version) + " (Sonar reads 0.1 and 0.2)");
      return;
    }
    array in;
    element parts[3];
    if (input.get_array().get(in) || FirstElements(in, parts) < 3) {
      im.Skip(line_no, "input is not an array [target, task_name, args, kwargs]");
      return;
    }
    if (!FillTvmTask(im, parts[0], parts[1], parts[2], &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    if (o["config"].get(config) || o["result"].get(result)) {
      im.Skip(line_no, "AutoTVM v0.2 record without config or result");
      return;
    }
    if (!ParseAutoTvmConfig(config, &r, &why) ||
        !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    element tvm_version;
    if (!o["tvm_version"].get(tvm_version) && tvm_version.type() == element_type::STRING) {
      GetString(tvm_version, &r.tool_version);
    }
    r.source_version = "autotvm-0.2";
  } else if (!o["i"].get(input)) {
    // v0.1: "i": [target, task_name, args, kwargs, workload, config]
    if (o["v"].get(version)) {
      im.Skip(line_no, "AutoTVM v0.1 record without \"v\"");
      return;
    }
    double v = 0;
    if (!GetNumber(version, &v) || v != 0.1) {
      std::string hint = version.type() == element_type::STRING
                             ? " (an Ansor record? use --format ansor)"
                             : " (Sonar reads 0.1 and 0.2)";
      im.Skip(line_no, "unknown AutoTVM log version " + Minified(version) + hint);
      return;
    }
    array in;
    if (input.get_array().get(in) || in.size() < 4) {
      im.Skip(line_no, "\"i\" is not an array [target, task_name, args, kwargs, workload, config]");
      return;
    }
    if (!FillTvmTask(im, in.at(0).value_unsafe(), in.at(1).value_unsafe(), in.at(2).value_unsafe(),
                     &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    element last = in.at(in.size() - 1).value_unsafe();
    if (o["r"].get(result)) {
      im.Skip(line_no, "AutoTVM v0.1 record without \"r\"");
      return;
    }
    if (!ParseAutoTvmConfig(last, &r, &why) ||
        !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    r.source_version = "autotvm-0.1";
  } else {
    im.Skip(line_no, "not an AutoTVM record (no \"input\" or \"i\")");
    return;
  }
  r.tuner = "autotvm-log";
  im.Emit(std::move(r));
}

}  // namespace sonar::history_internal
