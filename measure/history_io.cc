// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// History import. Parsing uses simdjson (DOM API, one reused parser per file), which also
// validates UTF-8; see docs/dependencies.md for why.
#include "measure/history_io.h"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <unordered_map>
#include <utility>
#include <charconv>
#include <thread>

#include "measure/record_store.h"
#include "simdjson.h"
#include "space/task.h"

namespace sonar {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

namespace {

constexpr double kAutoTvmFailureCost = 1e9;  // AutoTVM writes (1e9,) as the costs of a failure

// ---------------------------------------------------------------------------------------------
// Reading files.

// Reads a whole file, gunzipping it when it is gzip (zlib passes plain files through). The
// returned string has SIMDJSON_PADDING readable bytes after its end, as simdjson requires.
Status ReadMaybeGzipped(const std::string& path, std::string* out) {
  // Plain files are read straight into the buffer; zlib's pass-through would copy twice.
  if (FILE* plain = std::fopen(path.c_str(), "rb")) {
    unsigned char magic[2] = {0, 0};
    const size_t got = std::fread(magic, 1, 2, plain);
    if (!(got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) && std::fseek(plain, 0, SEEK_END) == 0) {
      const long size = std::ftell(plain);
      std::rewind(plain);
      if (size >= 0) {
        out->reserve(static_cast<size_t>(size) + simdjson::SIMDJSON_PADDING);
        out->resize(static_cast<size_t>(size));
        const size_t read = std::fread(out->data(), 1, out->size(), plain);
        std::fclose(plain);
        if (read != out->size()) return DataLossError("cannot read " + path + ": short read");
        const size_t n = out->size();
        out->append(simdjson::SIMDJSON_PADDING, '\0');
        out->resize(n);
        return OkStatus();
      }
    }
    std::fclose(plain);
  }
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return NotFoundError("cannot open " + path + ": " +
                         (errno ? std::string(std::strerror(errno)) : "out of memory"));
  }
  gzbuffer(f, 1 << 18);
  out->clear();
  std::vector<char> chunk(1 << 20);
  while (true) {
    const int got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      std::string text = msg ? msg : "read error";
      gzclose(f);
      return DataLossError("cannot read " + path + ": " + text);
    }
    if (got == 0) break;
    out->append(chunk.data(), static_cast<size_t>(got));
  }
  int errnum = 0;
  const char* msg = gzerror(f, &errnum);
  if (errnum != Z_OK && errnum != Z_STREAM_END) {
    std::string text = msg ? msg : "read error";
    gzclose(f);
    return DataLossError("cannot read " + path + " (truncated or corrupt gzip?): " + text);
  }
  gzclose(f);
  const size_t n = out->size();
  out->append(simdjson::SIMDJSON_PADDING, '\0');
  out->resize(n);
  return OkStatus();
}

std::string PaddedCopy(std::string_view text) {
  std::string s;
  s.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  s.append(text);
  s.append(simdjson::SIMDJSON_PADDING, '\0');
  s.resize(text.size());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Small JSON helpers. Each returns false when the element is not of the wanted kind.

bool GetInt(element e, int64_t* out) {
  switch (e.type()) {
    case element_type::INT64: return !e.get_int64().get(*out);
    case element_type::UINT64: {
      uint64_t u = 0;
      if (e.get_uint64().get(u) || u > static_cast<uint64_t>(INT64_MAX)) return false;
      *out = static_cast<int64_t>(u);
      return true;
    }
    default: return false;
  }
}

bool GetNumber(element e, double* out) {
  switch (e.type()) {
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::DOUBLE: return !e.get_double().get(*out);
    default: return false;
  }
}

bool GetString(element e, std::string* out) {
  std::string_view sv;
  if (e.get_string().get(sv)) return false;
  out->assign(sv);
  return true;
}

bool GetIntList(element e, std::vector<int64_t>* out) {
  array a;
  if (e.get_array().get(a)) return false;
  out->clear();
  out->reserve(a.size());  // O(1) in simdjson's DOM
  for (element x : a) {
    int64_t v = 0;
    if (!GetInt(x, &v)) return false;
    out->push_back(v);
  }
  return true;
}

// The first n elements of `a` (fewer when it is shorter), walking the array once; DOM
// array::at() walks from the start on every call.
template <size_t N>
size_t FirstElements(array a, element (&out)[N]) {
  size_t i = 0;
  for (element x : a) {
    if (i == N) break;
    out[i++] = x;
  }
  return i;
}

std::string TypeName(element e) {
  switch (e.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned char>(c));
          out->append(u);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Appends `e` as minified JSON to *out. Sonar's one canonical spelling of argument lists (the
// workload key hashes it): integers as written, doubles in their shortest round-trip form,
// strings with only the escapes JSON requires.
void AppendMinified(element e, std::string* out) {
  char buf[32];
  switch (e.type()) {
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      for (element x : array(e)) {
        if (!first) out->push_back(',');
        first = false;
        AppendMinified(x, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      for (auto [k, v] : object(e)) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(k, out);
        out->push_back(':');
        AppendMinified(v, out);
      }
      out->push_back('}');
      return;
    }
    case element_type::INT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, int64_t(e));
      out->append(buf, r.ptr);
      return;
    }
    case element_type::UINT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, uint64_t(e));
      out->append(buf, r.ptr);
      return;
    }
    case element_type::DOUBLE: {
      auto r = std::to_chars(buf, buf + sizeof buf, double(e));
      out->append(buf, r.ptr);
      // Keep it a double when read back ("1.0", not "1").
      if (std::string_view(buf, static_cast<size_t>(r.ptr - buf)).find_first_of(".eEn") ==
          std::string_view::npos) {
        out->append(".0");
      }
      return;
    }
    case element_type::STRING: AppendJsonString(std::string_view(e), out); return;
    case element_type::BOOL: out->append(bool(e) ? "true" : "false"); return;
    case element_type::NULL_VALUE: out->append("null"); return;
  }
}

std::string Minified(element e) {
  std::string s;
  AppendMinified(e, &s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The parse context: counts, skip messages, strict mode.

class Importer {
 public:
  Importer(std::string_view source,
           const ImportOptions& options,
           const std::function<void(Record&&)>& sink,
           ImportReport* report)
      : source_(source), options_(options), sink_(sink), report_(report) {}

  // Records a skipped line. In strict mode the first one becomes the returned error.
  void Skip(int64_t line, std::string_view reason) {
    ++report_->skipped_lines;
    if (static_cast<int64_t>(report_->skip_messages.size()) < options_.max_logged_skips ||
        (options_.strict && fatal_.ok())) {
      std::string msg =
          std::string(source_) + ":" + std::to_string(line) + ": " + std::string(reason);
      if (options_.strict && fatal_.ok()) fatal_ = DataLossError(msg + " (--strict)");
      if (static_cast<int64_t>(report_->skip_messages.size()) < options_.max_logged_skips) {
        report_->skip_messages.push_back(std::move(msg));
      }
    }
  }

  void Emit(Record&& r) {
    ++report_->records;
    if (r.result.ok()) {
      ++report_->ok;
    } else {
      ++report_->failed;
    }
    sink_(std::move(r));
  }

  bool stopped() const { return !fatal_.ok(); }
  const Status& fatal() const { return fatal_; }
  void SetFatal(const Status& s) {
    if (fatal_.ok()) fatal_ = s;
  }

  // Iterates over the lines of [begin, end), numbered from first_line, calling fn(number, line)
  // for those that are not blank or '#' comments. Stops early in strict mode after a skip.
  template <typename Fn>
  void ForEachLine(const char* begin, const char* end, int64_t first_line, Fn fn) {
    const char* p = begin;
    int64_t line_no = first_line - 1;
    while (p < end && !stopped()) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* line_end = nl ? nl : end;
      ++line_no;
      ++report_->lines;
      const char* b = p;
      const char* e = line_end;
      while (b < e && (*b == ' ' || *b == '\t' || *b == '\r')) ++b;
      while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
      if (b == e || *b == '#') {
        ++report_->comment_lines;
      } else {
        fn(line_no, std::string_view(b, static_cast<size_t>(e - b)));
      }
      p = nl ? nl + 1 : end;
    }
  }

  // Cache of the last task seen, so consecutive records of one task share its identity.
  struct TaskCache {
    std::string target, op, args_json;
    TaskIdentity task;
    uint64_t key = 0;
    bool valid = false;
  };
  TaskCache& task_cache() { return task_cache_; }
  std::string& scratch() { return scratch_; }

  simdjson::dom::parser& parser() { return parser_; }
  std::string_view source() const { return source_; }

 private:
  std::string_view source_;
  const ImportOptions& options_;
  const std::function<void(Record&&)>& sink_;
  ImportReport* report_;
  Status fatal_;
  simdjson::dom::parser parser_;
  TaskCache task_cache_;
  std::string scratch_;
};

// Prints the kept skip messages of a finished import, and how many were not kept.
void LogSkips(std::string_view source, const ImportOptions& options, const ImportReport& report) {
  if (!options.log_skips) return;
  for (const std::string& m : report.skip_messages) std::fprintf(stderr, "sonar: skipped %s\n", m.c_str());
  const int64_t hidden = report.skipped_lines - static_cast<int64_t>(report.skip_messages.size());
  if (hidden > 0) {
    std::fprintf(stderr, "sonar: %s: %lld more skipped lines not shown\n",
                 std::string(source).c_str(), static_cast<long long>(hidden));
  }
}

// Parses `line` (which must have SIMDJSON_PADDING readable bytes after it) into an object.
bool ParseObjectLine(Importer& im, int64_t line_no, std::string_view line, object* out) {
  element doc;
  auto err = im.parser().parse(line.data(), line.size(), false).get(doc);
  if (err) {
    im.Skip(line_no, std::string("not valid JSON: ") + simdjson::error_message(err));
    return false;
  }
  if (doc.get_object().get(*out)) {
    im.Skip(line_no, "expected a JSON object, got " + TypeName(doc));
    return false;
  }
  return true;
}

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
  if (has_hash && code_hash.type() == element_type::STRING) GetString(code_hash, &r->config.code_hash);
  return ParseEntity(entity, &r->config.values, why);
}

bool FillTvmTask(Importer& im,
                 element target,
                 element task_name,
                 element args,
                 Record* r,
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

void ImportAutoTvmLine(Importer& im, int64_t line_no, std::string_view line) {
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
      im.Skip(line_no, "unknown AutoTVM log version " + Minified(version) +
                           " (Sonar reads 0.1 and 0.2)");
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
    if (!ParseAutoTvmConfig(config, &r, &why) || !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
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
    if (!ParseAutoTvmConfig(last, &r, &why) || !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
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

// ---------------------------------------------------------------------------------------------
// Ansor (auto_scheduler) logs: {"i": [[workload_key, target, ...], [stages, steps]], "r": [...],
// "v": "v0.6"}. Each distinct steps list is one config of the workload's listed space.

struct AnsorState {
  std::unordered_map<uint64_t, std::unordered_map<std::string, int64_t>> index_of_steps;
};

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
    sp.name = "sp" + std::to_string(k++) + "_s" + std::to_string(stage) + "_i" + std::to_string(iter);
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

// ---------------------------------------------------------------------------------------------
// Kernel Tuner cache files.

// "2023-01-26 19:47:39.876766+00:00" -> Unix seconds; false when it does not look like that.
bool ParseIsoTimestamp(std::string_view s, double* out) {
  int y, mo, d, h, mi;
  double sec;
  if (std::sscanf(std::string(s).c_str(), "%d-%d-%d%*c%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6) {
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
  if (im.parser().parse(header.data(), header.size(), false).get(doc) || doc.get_object().get(root) ||
      !ParseKernelTunerHeader(root, &h, &why)) {
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
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (!line.empty() && line.back() == ',') line.remove_suffix(1);
    if (line.empty() || line == "}" || line == "}}") continue;
    ++report->lines;
    std::string wrapped = PaddedCopy("{" + std::string(line) + "}");
    object one;
    if (im.parser().parse(wrapped.data(), wrapped.size(), false).get(doc) || doc.get_object().get(one)) {
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

// ---------------------------------------------------------------------------------------------
// Sonar JSON lines (the format RecordToJsonLine writes).

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
  if (!task["template_version"].get(t) && GetInt(t, &tv)) r->task.template_version = static_cast<int32_t>(tv);
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
    if (k.get_object().get(ko) || ko["name"].get(e) || !GetString(e, &v.name) || ko["kind"].get(e) ||
        !GetString(e, &kind) || !StringToKnobKind(kind, &v.kind)) {
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
  if (!o["timestamp"].get(e) && GetNumber(e, &d)) r->timestamp_unix_s = d;
  if (!o["tuner"].get(e)) GetString(e, &r->tuner);
  if (!o["trial"].get(e) && GetInt(e, &index)) r->trial = static_cast<int32_t>(index);
  if (!o["hardware_id"].get(e)) GetString(e, &r->hardware_id);
  if (!o["source_version"].get(e)) GetString(e, &r->source_version);
  if (!o["tool_version"].get(e)) GetString(e, &r->tool_version);
  return true;
}

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

// Parses a JSON-lines text and hands the records to `sink` in file order. With threads > 1 the
// text is cut into blocks of about 4 MB per thread; each block is cut at line boundaries into
// one chunk per thread, parsed in parallel (one parser each), then handed over in order, so
// memory stays bounded however large the file.
template <typename LineFn>
Status ImportLines(const std::string& text,
                   std::string_view source,
                   const ImportOptions& options,
                   int threads,
                   const std::function<void(Record&&)>& sink,
                   ImportReport* report,
                   LineFn line_fn) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (threads <= 1) {
    Importer im(source, options, sink, report);
    im.ForEachLine(begin, end, 1, [&](int64_t no, std::string_view line) { line_fn(im, no, line); });
    LogSkips(source, options, *report);
    return im.fatal();
  }
  struct Chunk {
    const char* begin = nullptr;
    const char* end = nullptr;
    int64_t first_line = 1;
    ImportReport report;
    std::vector<Record> records;
    Status fatal;
  };
  std::vector<Chunk> chunks(static_cast<size_t>(threads));
  const size_t per_chunk = 4u << 20;
  int64_t next_line = 1;
  Status fatal;
  const char* p = begin;
  while (p < end && fatal.ok()) {
    // Cut the next block into chunks that end just after a newline.
    size_t used = 0;
    for (Chunk& c : chunks) {
      c.begin = c.end = p;
      if (p >= end) continue;
      const char* guess = p + std::min<size_t>(per_chunk, static_cast<size_t>(end - p));
      const char* nl = guess >= end ? nullptr
                                    : static_cast<const char*>(
                                          std::memchr(guess, '\n', static_cast<size_t>(end - guess)));
      c.end = nl ? nl + 1 : end;
      c.first_line = next_line;
      next_line += std::count(c.begin, c.end, '\n');
      p = c.end;
      ++used;
    }
    auto work = [&](size_t i) {
      Chunk& c = chunks[i];
      c.report = ImportReport{};
      c.records.clear();
      std::function<void(Record&&)> collect = [&](Record&& r) { c.records.push_back(std::move(r)); };
      Importer im(source, options, collect, &c.report);
      im.ForEachLine(c.begin, c.end, c.first_line,
                     [&](int64_t no, std::string_view line) { line_fn(im, no, line); });
      c.fatal = im.fatal();
    };
    std::vector<std::thread> pool;
    for (size_t i = 1; i < used; ++i) pool.emplace_back(work, i);
    if (used > 0) work(0);
    for (std::thread& t : pool) t.join();
    for (size_t i = 0; i < used && fatal.ok(); ++i) {
      Chunk& c = chunks[i];
      const size_t room = static_cast<size_t>(options.max_logged_skips) - report->skip_messages.size();
      if (c.report.skip_messages.size() > room) c.report.skip_messages.resize(room);
      report->Merge(c.report);
      for (Record& r : c.records) sink(std::move(r));
      fatal = c.fatal;
    }
  }
  LogSkips(source, options, *report);
  return fatal;
}

Status ImportPadded(const std::string& padded,
                    std::string_view source,
                    const ImportOptions& options,
                    const std::function<void(Record&&)>& sink,
                    ImportReport* report) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  *report = ImportReport{};
  HistoryFormat format = options.format;
  if (format == HistoryFormat::kAuto) {
    format = DetectHistoryFormat(padded);
    if (format == HistoryFormat::kAuto) {
      if (padded.find_first_not_of(" \t\r\n") == std::string::npos) {
        report->format = HistoryFormat::kAuto;
        return OkStatus();  // an empty file holds no records
      }
      return InvalidArgumentError(std::string(source) +
                                  ": cannot tell the history format from the content; name it "
                                  "with --format autotvm|ansor|kernel-tuner|jsonl");
    }
  }
  report->format = format;
  // Small inputs are not worth a thread; strict imports stop at the first bad line in order.
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, 16);
  if (padded.size() < (8u << 20) || options.strict) threads = 1;
  switch (format) {
    case HistoryFormat::kAutoTvm:
      return ImportLines(padded, source, options, threads, sink, report, ImportAutoTvmLine);
    case HistoryFormat::kJsonLines:
      return ImportLines(padded, source, options, threads, sink, report, ImportJsonLine);
    case HistoryFormat::kAnsor: {
      // Sequential: the listed-space index of a config is its order of first appearance.
      AnsorState state;
      return ImportLines(padded, source, options, 1, sink, report,
                                 [&](Importer& im, int64_t n, std::string_view l) {
                                   ImportAnsorLine(im, state, n, l);
                                 });
    }
    case HistoryFormat::kKernelTuner: {
      Importer im(source, options, sink, report);
      ImportKernelTuner(im, padded, report);
      LogSkips(source, options, *report);
      return im.fatal();
    }
    case HistoryFormat::kAuto: break;
  }
  return OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions.

std::string_view HistoryFormatToString(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kAuto: return "auto";
    case HistoryFormat::kAutoTvm: return "autotvm";
    case HistoryFormat::kAnsor: return "ansor";
    case HistoryFormat::kKernelTuner: return "kernel-tuner";
    case HistoryFormat::kJsonLines: return "jsonl";
  }
  return "auto";
}

bool StringToHistoryFormat(std::string_view name, HistoryFormat* format) {
  for (HistoryFormat f : {HistoryFormat::kAuto, HistoryFormat::kAutoTvm, HistoryFormat::kAnsor,
                          HistoryFormat::kKernelTuner, HistoryFormat::kJsonLines}) {
    if (HistoryFormatToString(f) == name) {
      *format = f;
      return true;
    }
  }
  return false;
}

Status ImportOptions::Validate() const {
  if (max_logged_skips < 0) {
    return InvalidArgumentError("ImportOptions::max_logged_skips must be >= 0");
  }
  if (threads < 0) return InvalidArgumentError("ImportOptions::threads must be >= 0");
  return OkStatus();
}

void ImportReport::Merge(const ImportReport& o) {
  lines += o.lines;
  comment_lines += o.comment_lines;
  records += o.records;
  ok += o.ok;
  failed += o.failed;
  skipped_lines += o.skipped_lines;
  skip_messages.insert(skip_messages.end(), o.skip_messages.begin(), o.skip_messages.end());
}

bool AutoTvmErrorToStatus(int64_t error_no, MeasureStatus* status) {
  switch (error_no) {
    case 0: *status = MeasureStatus::kOk; return true;
    case 1: *status = MeasureStatus::kInvalidConfig; return true;
    case 2:  // compile error on host
    case 3:  // compile error on device
      *status = MeasureStatus::kCompileError;
      return true;
    case 4: *status = MeasureStatus::kRuntimeError; return true;
    case 5: *status = MeasureStatus::kWrongAnswer; return true;
    case 6: *status = MeasureStatus::kCompileTimeout; return true;
    case 7: *status = MeasureStatus::kRunTimeout; return true;
    case 8: *status = MeasureStatus::kUnknownError; return true;
    default: return false;
  }
}

int AutoTvmErrorFromStatus(MeasureStatus status) {
  switch (status) {
    case MeasureStatus::kOk: return 0;
    case MeasureStatus::kInvalidConfig: return 1;
    case MeasureStatus::kCompileError: return 2;
    case MeasureStatus::kRuntimeError: return 4;
    case MeasureStatus::kCrashed: return 4;
    case MeasureStatus::kWrongAnswer: return 5;
    case MeasureStatus::kCompileTimeout: return 6;
    case MeasureStatus::kRunTimeout: return 7;
    case MeasureStatus::kNotInTable: return 8;
    case MeasureStatus::kUnknownError: return 8;
  }
  return 8;
}

namespace {

// The format of one parsed JSON line, or kAuto when its keys name none.
HistoryFormat FormatOfObject(object o) {
  element e;
  if (!o["input"].get(e)) return HistoryFormat::kAutoTvm;
  if (!o["i"].get(e)) {
    element v;
    if (!o["v"].get(v) && v.type() == element_type::STRING) return HistoryFormat::kAnsor;
    return HistoryFormat::kAutoTvm;
  }
  std::string_view s;
  if (!o["v"].get(e) && !e.get_string().get(s) && s == "sonar-1") return HistoryFormat::kJsonLines;
  if (!o["tune_params_keys"].get(e) || !o["cache"].get(e)) return HistoryFormat::kKernelTuner;
  return HistoryFormat::kAuto;
}

// A guess from the text of a line that is not valid JSON on its own.
HistoryFormat FormatOfText(std::string_view line) {
  auto has = [&](std::string_view needle) { return line.find(needle) != std::string_view::npos; };
  if (has("\"tune_params_keys\"") || has("\"cache\"")) return HistoryFormat::kKernelTuner;
  if (has("\"sonar-1\"") || has("\"workload_key\"")) return HistoryFormat::kJsonLines;
  if (has("\"input\"")) return HistoryFormat::kAutoTvm;
  if (has("\"i\"")) return has("\"v0.") ? HistoryFormat::kAnsor : HistoryFormat::kAutoTvm;
  return HistoryFormat::kAuto;
}

}  // namespace

HistoryFormat DetectHistoryFormat(std::string_view text) {
  // Kernel Tuner caches are one (usually multi-line) JSON object.
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return HistoryFormat::kAuto;
  std::string_view head = text.substr(0, std::min<size_t>(text.size(), 1 << 16));
  if (head.find("\"tune_params_keys\"") != std::string_view::npos && text[first] == '{') {
    return HistoryFormat::kKernelTuner;
  }
  // Otherwise JSON lines: the first of the first 50 non-comment lines that parses decides.
  simdjson::dom::parser parser;
  std::string_view first_line;
  size_t pos = 0;
  for (int looked = 0; pos < text.size() && looked < 50;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t b = l.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || l[b] == '#') continue;
    l = l.substr(b);
    ++looked;
    if (first_line.empty()) first_line = l;
    std::string padded = PaddedCopy(l);
    element doc;
    object o;
    if (!parser.parse(padded.data(), padded.size(), false).get(doc) && !doc.get_object().get(o)) {
      return FormatOfObject(o);
    }
  }
  return FormatOfText(first_line);
}

Status ImportHistory(const std::string& path,
                     const ImportOptions& options,
                     const std::function<void(Record&&)>& sink,
                     ImportReport* report) {
  std::string text;
  SONAR_RETURN_IF_ERROR(ReadMaybeGzipped(path, &text));
  return ImportPadded(text, path, options, sink, report);
}

StatusOr<std::vector<Record>> ImportHistoryFile(const std::string& path,
                                                const ImportOptions& options,
                                                ImportReport* report) {
  std::vector<Record> out;
  Status s = ImportHistory(path, options, [&](Record&& r) { out.push_back(std::move(r)); }, report);
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<Record>> ImportHistoryText(std::string_view text,
                                                std::string_view source_name,
                                                const ImportOptions& options,
                                                ImportReport* report) {
  std::vector<Record> out;
  const std::string padded = PaddedCopy(text);
  Status s = ImportPadded(padded, source_name, options,
                          [&](Record&& r) { out.push_back(std::move(r)); }, report);
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<Record>> LoadRecordsOrHistory(const std::string& path,
                                                   const ImportOptions& options,
                                                   ImportReport* report) {
  *report = ImportReport{};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    unsigned char magic[4] = {0, 0, 0, 0};
    const size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (got == 4 && magic[0] == 0xA5 && magic[1] == 'S' && magic[2] == 'N' && magic[3] == 'R') {
      RecordLogStats stats;
      StatusOr<std::vector<Record>> records = ReadRecordLog(path, &stats);
      if (records.ok()) {
        report->records = static_cast<int64_t>(records->size());
        for (const Record& r : *records) (r.result.ok() ? report->ok : report->failed) += 1;
        report->skipped_lines = stats.skipped_frames;
      }
      return records;
    }
  } else {
    return NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  }
  return ImportHistoryFile(path, options, report);
}

}  // namespace sonar
