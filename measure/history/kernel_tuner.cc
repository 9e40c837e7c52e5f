// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Kernel Tuner cache files.
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
namespace {

// ---------------------------------------------------------------------------------------------
// Kernel Tuner cache files.

// "2023-01-26 19:47:39.876766+00:00" -> Unix seconds; false when it does not look like that.
bool ParseIsoTimestamp(std::string_view s, double* out) {
  int y, mo, d, h, mi;
  double sec;
  if (std::sscanf(std::string(s).c_str(), "%d-%d-%d%*c%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) !=
      6) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  const time_t t = timegm(&tm);
  double offset = 0;
  const size_t tz = s.find_first_of("+-", 19);
  if (tz != std::string_view::npos && s.size() >= tz + 6) {
    const int oh = std::atoi(std::string(s.substr(tz + 1, 2)).c_str());
    const int om = std::atoi(std::string(s.substr(tz + 4, 2)).c_str());
    offset = (s[tz] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  }
  *out = static_cast<double>(t) + sec - offset;
  return true;
}

struct KernelTunerHeader {
  TaskIdentity task;
  std::vector<std::string> keys;
  // For each key, its listed values (minified JSON) -> position; used for the config index.
  std::vector<std::unordered_map<std::string, int64_t>> positions;
  std::vector<int64_t> sizes;
};

bool ParseKernelTunerHeader(object doc, KernelTunerHeader* h, std::string* why) {
  element e;
  array keys;
  if (doc["tune_params_keys"].get(e) || e.get_array().get(keys)) {
    *why = "Kernel Tuner cache without a \"tune_params_keys\" list";
    return false;
  }
  for (element k : keys) {
    std::string s;
    if (!GetString(k, &s)) {
      *why = "tune_params_keys holds a non-string";
      return false;
    }
    h->keys.push_back(std::move(s));
  }
  object params;
  const bool has_params = !doc["tune_params"].get(e) && !e.get_object().get(params);
  for (const std::string& key : h->keys) {
    std::unordered_map<std::string, int64_t> pos;
    array values;
    if (has_params && !params[key].get(e) && !e.get_array().get(values)) {
      for (element v : values) pos.emplace(Minified(v), static_cast<int64_t>(pos.size()));
    }
    h->sizes.push_back(static_cast<int64_t>(pos.size()));
    h->positions.push_back(std::move(pos));
  }
  std::string kernel, device;
  if (!doc["kernel_name"].get(e)) GetString(e, &kernel);
  if (!doc["device_name"].get(e)) GetString(e, &device);
  h->task.op = kernel.empty() ? "kernel_tuner" : kernel;
  h->task.name = h->task.op;
  h->task.target = device.empty() ? "kernel_tuner:unknown_device" : device;
  h->task.args_json = doc["problem_size"].get(e) ? "" : Minified(e);
  return true;
}

bool IsKernelTunerFailure(std::string_view s, MeasureStatus* status) {
  if (s == "CompilationFailedConfig") {
    *status = MeasureStatus::kCompileError;
  } else if (s == "RuntimeFailedConfig") {
    *status = MeasureStatus::kRuntimeError;
  } else if (s == "InvalidConfig") {
    *status = MeasureStatus::kInvalidConfig;
  } else {
    return false;
  }
  return true;
}

bool ParseKernelTunerEntry(const KernelTunerHeader& h, element entry, Record* r, std::string* why) {
  object o;
  if (entry.get_object().get(o)) {
    *why = "cache entry is not an object";
    return false;
  }
  r->task = h.task;
  r->workload_key = r->task.ComputeWorkloadKey();
  int64_t index = 0, stride = 1;
  bool indexable = true;
  for (size_t k = 0; k < h.keys.size(); ++k) {
    element v;
    if (o[h.keys[k]].get(v)) {
      *why = "cache entry lacks parameter '" + h.keys[k] + "'";
      return false;
    }
    KnobValue kv;
    kv.name = h.keys[k];
    int64_t i = 0;
    bool b = false;
    if (GetInt(v, &i)) {
      kv.kind = KnobKind::kChoice;
      kv.ints = {i};
    } else if (!v.get_bool().get(b)) {
      kv.kind = KnobKind::kBool;
      kv.ints = {b ? 1 : 0};
    } else if (v.type() == element_type::STRING || v.type() == element_type::DOUBLE) {
      kv.kind = KnobKind::kChoice;
      std::string s;
      if (!GetString(v, &s)) s = Minified(v);
      kv.strings = {std::move(s)};
    } else {
      *why = "parameter '" + h.keys[k] + "' has a value of type " + TypeName(v);
      return false;
    }
    r->config.values.push_back(std::move(kv));
    auto it = h.positions[k].find(Minified(v));
    if (it == h.positions[k].end()) {
      indexable = false;
    } else {
      index += it->second * stride;
      stride *= std::max<int64_t>(h.sizes[k], 1);
    }
  }
  if (indexable) r->config.index = index;
  element time;
  if (o["time"].get(time)) {
    *why = "cache entry has no \"time\"";
    return false;
  }
  std::string failure;
  if (GetString(time, &failure)) {
    if (!IsKernelTunerFailure(failure, &r->result.status)) {
      *why = "unknown failure string \"" + failure + "\" in \"time\"";
      return false;
    }
    r->result.error_msg = failure;
  } else {
    double ms = 0;
    if (!GetNumber(time, &ms) || !std::isfinite(ms) || ms <= 0) {
      *why = "\"time\" is " + Minified(time) + ", not a positive number of milliseconds";
      return false;
    }
    r->result.status = MeasureStatus::kOk;
    r->result.reported_seconds = ms * 1e-3;  // Kernel Tuner ranks by "time"
    element times;
    array ta;
    if (!o["times"].get(times) && !times.get_array().get(ta) && ta.size() > 0) {
      for (element t : ta) {
        double x = 0;
        if (!GetNumber(t, &x) || !std::isfinite(x) || x <= 0) {
          *why = "\"times\" holds " + Minified(t) + ", not a positive number";
          return false;
        }
        r->result.run_seconds.push_back(x * 1e-3);
      }
    } else {
      r->result.run_seconds = {ms * 1e-3};
    }
  }
  element e;
  double x = 0;
  if (!o["compile_time"].get(e) && GetNumber(e, &x) && std::isfinite(x) && x >= 0) {
    r->result.compile_seconds = x * 1e-3;
  }
  std::string ts;
  if (!o["timestamp"].get(e) && GetString(e, &ts)) ParseIsoTimestamp(ts, &r->timestamp_unix_s);
  r->source_version = "kernel-tuner";
  r->tuner = "kernel-tuner-cache";
  return true;
}

int64_t LineOfOffset(const std::string& text, size_t offset) {
  int64_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

}  // namespace

void ImportKernelTuner(Importer& im, const std::string& text, ImportReport* report) {
  element doc;
  object root;
  auto err = im.parser().parse(text.data(), text.size(), false).get(doc);
  if (!err && !doc.get_object().get(root)) {
    // The whole file is valid JSON: the usual case.
    KernelTunerHeader h;
    std::string why;
    if (!ParseKernelTunerHeader(root, &h, &why)) {
      im.Skip(1, why);
      return;
    }
    element cache;
    object entries;
    if (root["cache"].get(cache) || cache.get_object().get(entries)) {
      im.Skip(1, "Kernel Tuner file without a \"cache\" object");
      return;
    }
    for (auto [key, value] : entries) {
      ++report->lines;
      Record r;
      if (!ParseKernelTunerEntry(h, value, &r, &why)) {
        const size_t at = text.find("\"" + std::string(key) + "\"");
        im.Skip(at == std::string::npos ? 0 : LineOfOffset(text, at),
                "entry \"" + std::string(key) + "\": " + why);
        if (im.stopped()) return;
        continue;
      }
      im.Emit(std::move(r));
    }
    return;
  }
  // Not valid as a whole: Kernel Tuner writes one entry per line after a header ending in
  // "cache": {, and a killed run leaves the object unclosed. Read it line by line.
  const size_t cache_at = text.find("\"cache\"");
  const size_t brace = cache_at == std::string::npos ? std::string::npos : text.find('{', cache_at);
  if (brace == std::string::npos) {
    im.Skip(1, std::string("not valid JSON and no \"cache\" section: ") +
                   (err ? simdjson::error_message(err) : "not an object"));
    return;
  }
  std::string header = PaddedCopy(text.substr(0, brace) + "{}}");
  KernelTunerHeader h;
  std::string why;
  if (im.parser().parse(header.data(), header.size(), false).get(doc) ||
      doc.get_object().get(root) || !ParseKernelTunerHeader(root, &h, &why)) {
    im.Skip(1, "cannot read the Kernel Tuner header" + (why.empty() ? "" : ": " + why));
    return;
  }
  const int64_t header_lines = LineOfOffset(text, brace);
  std::string rest = PaddedCopy(std::string_view(text).substr(brace + 1));
  int64_t line_no = header_lines - 1;
  const char* p = rest.data();
  const char* end = p + rest.size();
  while (p < end && !im.stopped()) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* e = nl ? nl : end;
    ++line_no;
    std::string_view line(p, static_cast<size_t>(e - p));
    p = nl ? nl + 1 : end;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    if (!line.empty() && line.back() == ',') line.remove_suffix(1);
    if (line.empty() || line == "}" || line == "}}") continue;
    ++report->lines;
    std::string wrapped = PaddedCopy("{" + std::string(line) + "}");
    object one;
    if (im.parser().parse(wrapped.data(), wrapped.size(), false).get(doc) ||
        doc.get_object().get(one)) {
      im.Skip(line_no, "cache entry is not valid JSON");
      continue;
    }
    for (auto [key, value] : one) {
      Record r;
      if (!ParseKernelTunerEntry(h, value, &r, &why)) {
        im.Skip(line_no, "entry \"" + std::string(key) + "\": " + why);
        continue;
      }
      im.Emit(std::move(r));
    }
  }
}

}  // namespace sonar::history_internal
