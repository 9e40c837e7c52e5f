// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// History import. Parsing uses simdjson, which also validates UTF-8 (see docs/dependencies.md
// for why): its DOM API in the general readers (one reused parser per importer), and its
// On-Demand API in the AutoTVM v0.2 fast path, which falls back to the general reader for any
// line it does not fully understand.
#include "measure/history_io.h"

#include "common/enum_names.h"
#include "measure/history/internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

#include "measure/record_store.h"
#include "simdjson.h"
#include "space/task.h"

namespace sonar {

using namespace history_internal;  // NOLINT: the readers' shared pieces

// ---------------------------------------------------------------------------------------------
// Public functions.

namespace {
constexpr EnumNames<HistoryFormat, 6> kHistoryFormatNames = {{
    {HistoryFormat::kAuto, "auto"},
    {HistoryFormat::kAutoTvm, "autotvm"},
    {HistoryFormat::kAnsor, "ansor"},
    {HistoryFormat::kKernelTuner, "kernel-tuner"},
    {HistoryFormat::kJsonLines, "jsonl"},
    {HistoryFormat::kRecordLog, "sonar-log"},
}};
}  // namespace

std::string_view HistoryFormatToString(HistoryFormat format) {
  return EnumToName(kHistoryFormatNames, format, "auto");
}
bool StringToHistoryFormat(std::string_view name, HistoryFormat* format) {
  return NameToEnum(kHistoryFormatNames, name, format);
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
  appended += o.appended;
  duplicates += o.duplicates;
  unchecked += o.unchecked;
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

}  // namespace sonar
