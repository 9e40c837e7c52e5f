// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Sonar's own JSON lines.
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
// Sonar JSON lines (the format RecordToJsonLine writes).

namespace {

bool ParseJsonLineRecord(object o, Record* r, std::string* why) {
  element e;
  std::string s;
  if (o["workload_key"].get(e) || !GetString(e, &s) || !HexToWorkloadKey(s, &r->workload_key)) {
    *why = "\"workload_key\" is not a 16-digit hex string";
    return false;
  }
  object task;
  if (o["task"].get(e) || e.get_object().get(task)) {
    *why = "\"task\" is not an object";
    return false;
  }
  element t;
  if (!task["name"].get(t)) GetString(t, &r->task.name);
  if (task["op"].get(t) || !GetString(t, &r->task.op)) {
    *why = "task.op is not a string";
    return false;
  }
  if (!task["args"].get(t)) r->task.args_json = Minified(t);  // absent: unknown ("")
  if (!task["target"].get(t)) GetString(t, &r->task.target);
  int64_t tv = 0;
  if (!task["template_version"].get(t) && GetInt(t, &tv))
    r->task.template_version = static_cast<int32_t>(tv);
  object config;
  if (o["config"].get(e) || e.get_object().get(config)) {
    *why = "\"config\" is not an object";
    return false;
  }
  int64_t index = 0;
  if (!config["index"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (!GetInt(e, &index)) {
      *why = "config.index is not an integer";
      return false;
    }
    r->config.index = index;
  }
  if (!config["code_hash"].get(e)) GetString(e, &r->config.code_hash);
  array knobs;
  if (config["knobs"].get(e) || e.get_array().get(knobs)) {
    *why = "config.knobs is not an array";
    return false;
  }
  for (element k : knobs) {
    object ko;
    KnobValue v;
    std::string kind;
    if (k.get_object().get(ko) || ko["name"].get(e) || !GetString(e, &v.name) ||
        ko["kind"].get(e) || !GetString(e, &kind) || !StringToKnobKind(kind, &v.kind)) {
      *why = "a knob lacks a name or a known kind";
      return false;
    }
    if (!ko["ints"].get(e) && !GetIntList(e, &v.ints)) {
      *why = "knob '" + v.name + "': ints is not a list of integers";
      return false;
    }
    array strs;
    if (!ko["strings"].get(e) && !e.get_array().get(strs)) {
      for (element x : strs) {
        std::string str;
        if (!GetString(x, &str)) {
          *why = "knob '" + v.name + "': strings holds a non-string";
          return false;
        }
        v.strings.push_back(std::move(str));
      }
    }
    if (!ko["source_type"].get(e)) GetString(e, &v.source_type);
    r->config.values.push_back(std::move(v));
  }
  object res;
  if (o["result"].get(e) || e.get_object().get(res)) {
    *why = "\"result\" is not an object";
    return false;
  }
  if (res["status"].get(e) || !GetString(e, &s) || !StringToMeasureStatus(s, &r->result.status)) {
    *why = "result.status is missing or unknown";
    return false;
  }
  array runs;
  if (!res["run_seconds"].get(e) && !e.get_array().get(runs)) {
    for (element x : runs) {
      double v = 0;
      if (!GetNumber(x, &v) || !std::isfinite(v) || v <= 0) {
        *why = "result.run_seconds holds " + Minified(x) + ", not a positive time";
        return false;
      }
      r->result.run_seconds.push_back(v);
    }
  }
  if (r->result.ok() && r->result.run_seconds.empty()) {
    *why = "an ok result without run_seconds";
    return false;
  }
  if (!r->result.ok()) r->result.run_seconds.clear();
  double d = 0;
  if (!res["compile_seconds"].get(e) && GetNumber(e, &d)) r->result.compile_seconds = d;
  if (!res["all_cost_seconds"].get(e) && GetNumber(e, &d)) r->result.all_cost_seconds = d;
  if (!res["error_msg"].get(e)) GetString(e, &r->result.error_msg);
  if (!res["source_error_code"].get(e) && GetInt(e, &index)) {
    r->result.source_error_code = static_cast<int32_t>(index);
  }
  if (!res["reference_seconds"].get(e) && GetNumber(e, &d)) r->result.reference_seconds = d;
  if (!res["reported_seconds"].get(e) && GetNumber(e, &d)) r->result.reported_seconds = d;
  if (!res["accuracy"].get(e) && GetNumber(e, &d)) r->result.accuracy = d;
  if (!o["timestamp"].get(e) && GetNumber(e, &d)) r->timestamp_unix_s = d;
  if (!o["tuner"].get(e)) GetString(e, &r->tuner);
  if (!o["trial"].get(e) && GetInt(e, &index)) r->trial = static_cast<int32_t>(index);
  if (!o["hardware_id"].get(e)) GetString(e, &r->hardware_id);
  if (!o["source_version"].get(e)) GetString(e, &r->source_version);
  if (!o["tool_version"].get(e)) GetString(e, &r->tool_version);
  return true;
}

}  // namespace

void ImportJsonLine(Importer& im, int64_t line_no, std::string_view line) {
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  element v;
  std::string version;
  if (o["v"].get(v) || !GetString(v, &version) || version != "sonar-1") {
    im.Skip(line_no, "not a Sonar JSON-lines record (\"v\" is not \"sonar-1\")");
    return;
  }
  Record r;
  std::string why;
  if (!ParseJsonLineRecord(o, &r, &why)) {
    im.Skip(line_no, why);
    return;
  }
  im.Emit(std::move(r));
}

}  // namespace sonar::history_internal
