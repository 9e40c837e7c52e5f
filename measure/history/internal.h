// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the pieces that the history readers (measure/history/*.cc) share, in
// namespace sonar::history_internal: the JSON helpers, the Importer (counts, skips, strict mode,
// reused record storage), and each format's line reader. Internal: not installed, not for use
// outside measure/history/ and measure/history_io.cc. The public interface is
// measure/history_io.h.
//
// Example (what the pipeline does with a line of an AutoTVM log):
//   Importer im("tophub.log", options, readable_end, &sink, &report);
//   ImportAutoTvmLine(im, 1, line);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "measure/history_io.h"
#include "measure/record.h"
#include "simdjson.h"

namespace sonar::history_internal {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

inline constexpr double kAutoTvmFailureCost =
    1e9;  // AutoTVM writes (1e9,) as the costs of a failure

// A copy of `text` with SIMDJSON_PADDING readable bytes after its end, as simdjson requires.
std::string PaddedCopy(std::string_view text);

// Small JSON helpers (json.cc). Each returns false when the element is not of the wanted kind.
bool GetInt(element e, int64_t* out);
bool GetNumber(element e, double* out);
bool GetString(element e, std::string* out);
bool GetIntList(element e, std::vector<int64_t>* out);

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

std::string TypeName(element e);
void AppendJsonString(std::string_view s, std::string* out);
void AppendDouble(double d, std::string* out);
void AppendMinified(element e, std::string* out);
std::string Minified(element e);

// ---------------------------------------------------------------------------------------------
// The parse context: counts, skip messages, strict mode, and the records being built.

class AutoTvmFastReader;

// One reader of a run of lines. With a sink, each record goes to it as soon as it is built (one
// thread, file order). Without one, records are kept until the owner takes them (a chunk of a
// parallel import); line numbers are then relative to the chunk, and skip messages are
// worded when the owner knows where the chunk starts (FinishSkips).
// Record storage is reused from line to line: a sink that does not move a record out costs no
// allocation for the next one.
// Thread safety: thread-compatible; one thread at a time.
class Importer {
 public:
  Importer(std::string_view source, const ImportOptions& options, const char* readable_end,
           const std::function<void(Record&&)>* sink,
           ImportReport* report);  // both in autotvm_fast.cc, where AutoTvmFastReader is whole
  ~Importer();

  // Records a skipped line. In strict mode the first one becomes the returned error (strict
  // imports read with one importer and a sink, so the line number is the file's).
  void Skip(int64_t line, std::string_view reason) {
    ++report_->skipped_lines;
    if (options_.strict && fatal_.ok()) {
      fatal_ = DataLossError(SkipMessage(line, reason) + " (--strict)");
    }
    if (static_cast<int64_t>(skips_.size()) < options_.max_logged_skips) {
      skips_.emplace_back(line, std::string(reason));
    }
  }

  // Words the kept skips, their lines shifted by `line_offset`, into the report (at most
  // `room` of them).
  void FinishSkips(int64_t line_offset, size_t room) {
    for (auto& [line, reason] : skips_) {
      if (report_->skip_messages.size() >= room) break;
      report_->skip_messages.push_back(SkipMessage(line + line_offset, reason));
    }
    skips_.clear();
  }

  // The record to fill for the current line. Its storage is that of an earlier record: a reader
  // sets every field or assigns a whole Record.
  Record& NewRecord() {
    if (num_records_ == records_.size()) records_.emplace_back();
    return records_[num_records_];
  }

  // Hands on the record from NewRecord(): to the sink, or into the kept records.
  void Emit() {
    Record& r = records_[num_records_];
    ++report_->records;
    if (r.result.ok()) {
      ++report_->ok;
    } else {
      ++report_->failed;
    }
    if (sink_ != nullptr) {
      (*sink_)(std::move(r));
    } else {
      ++num_records_;
    }
  }
  void Emit(Record&& r) {
    NewRecord() = std::move(r);
    Emit();
  }

  // Kept records (no sink): records()[0, num_records()) in line order. ClearRecords() starts a
  // new chunk; the storage stays for reuse.
  size_t num_records() const { return num_records_; }
  std::vector<Record>& records() { return records_; }
  void ClearRecords() { num_records_ = 0; }

  bool stopped() const { return !fatal_.ok(); }
  const Status& fatal() const { return fatal_; }

  // Iterates over the lines of [begin, end), numbered from first_line, calling fn(number, line)
  // for those that are not blank or '#' comments. A line is passed with SIMDJSON_PADDING
  // readable bytes after it (copied when the text has none left). Stops early in strict mode
  // after a skip.
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
      } else if (readable_end_ - e < static_cast<std::ptrdiff_t>(simdjson::SIMDJSON_PADDING)) {
        line_copy_ = PaddedCopy(std::string_view(b, static_cast<size_t>(e - b)));
        fn(line_no, std::string_view(line_copy_));
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
  const ImportOptions& options() const { return options_; }
  // The AutoTVM fast reader of this importer, made on first use; null when
  // options().autotvm_fast_path is off.
  AutoTvmFastReader* autotvm_fast_reader();

 private:
  std::string SkipMessage(int64_t line, std::string_view reason) const {
    return std::string(source_) + ":" + std::to_string(line) + ": " + std::string(reason);
  }

  std::string_view source_;
  const ImportOptions& options_;
  const char* readable_end_;
  const std::function<void(Record&&)>* sink_;
  ImportReport* report_;
  Status fatal_;
  std::vector<std::pair<int64_t, std::string>> skips_;  // (line, reason), kept ones only
  std::vector<Record> records_;
  size_t num_records_ = 0;
  simdjson::dom::parser parser_;
  TaskCache task_cache_;
  std::string scratch_;
  std::string line_copy_;
  std::unique_ptr<AutoTvmFastReader> autotvm_fast_;
};

// Prints the kept skip messages of a finished import, and how many were not kept (json.cc).
void LogSkips(std::string_view source, const ImportOptions& options, const ImportReport& report);
// Parses `line` (which must have SIMDJSON_PADDING readable bytes after it) into an object;
// false, with the line skipped, when it is not one (json.cc).
bool ParseObjectLine(Importer& im, int64_t line_no, std::string_view line, object* out);

// ---------------------------------------------------------------------------------------------
// The format readers, one line (or one file) at a time.

// AutoTVM (autotvm.cc): the knobs of a config entity, a result array, a config object, a task.
bool ParseEntity(element entity, std::vector<KnobValue>* values, std::string* why);
bool ParseTvmResult(element result, double failure_sentinel, Record* r, std::string* why);
bool ParseAutoTvmConfig(element config, Record* r, std::string* why);
bool FillTvmTask(Importer& im, element target, element name, element args, Record* r,
                 std::string* why);
// One AutoTVM line (v0.1 or v0.2), by the fast reader when it can, else the general one.
void ImportAutoTvmLine(Importer& im, int64_t line_no, std::string_view line);
// The AutoTVM v0.2 fast reader (autotvm_fast.cc): false when it is off or the general reader
// must read the line; *r is then unspecified.
bool ReadAutoTvmLineFast(Importer& im, std::string_view line, Record* r);

// Ansor (ansor.cc). The state is the listed space of each workload: a config's index is its
// order of first appearance, so lines are read in order, on one thread.
struct AnsorState {
  std::unordered_map<uint64_t, std::unordered_map<std::string, int64_t>> index_of_steps;
};
void ImportAnsorLine(Importer& im, AnsorState& state, int64_t line_no, std::string_view line);

// A Kernel Tuner cache, whole (kernel_tuner.cc).
void ImportKernelTuner(Importer& im, const std::string& text, ImportReport* report);

// Sonar JSON lines (json_lines.cc).
void ImportJsonLine(Importer& im, int64_t line_no, std::string_view line);

}  // namespace sonar::history_internal
