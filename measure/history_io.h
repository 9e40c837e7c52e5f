// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: import of tuning histories written by other tools into Records, and
// export of Records to their formats.
//   Import: AutoTVM JSON lines v0.1 ({"i","r","v"}) and v0.2 ({"input","config","result",
//   "version","tvm_version"}), Ansor/auto_scheduler JSON lines (each distinct list of transform
//   steps is one config of a listed space), Kernel Tuner cache files (one JSON object; times in
//   milliseconds), and Sonar's own JSON lines. Gzipped files are read transparently.
//   Export: AutoTVM v0.2 and Sonar JSON lines.
// A line that cannot be used is skipped, reported as "file:line: reason" on stderr (when the
// file is done) and counted
// in ImportReport; with ImportOptions::strict it is an error instead. docs/records.md gives every
// field and status mapping.
//
// Example:
//   ImportReport report;
//   StatusOr<std::vector<Record>> records =
//       ImportHistoryFile("tophub/llvm_v0.04.log", ImportOptions{}, &report);
//   if (!records.ok()) { ... }  // unreadable file, unknown format, or a bad line with strict
//   std::cout << report.ok << " ok, " << report.skipped_lines << " lines skipped\n";
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/record.h"

namespace sonar {

// kRecordLog: a Sonar record log (measure/record_store.h), read as a history so that logs can
// be merged with `sonar import` too.
enum class HistoryFormat { kAuto, kAutoTvm, kAnsor, kKernelTuner, kJsonLines, kRecordLog };

std::string_view HistoryFormatToString(
    HistoryFormat format);  // "auto", "autotvm", ..., "sonar-log"
bool StringToHistoryFormat(std::string_view name, HistoryFormat* format);

struct ImportOptions {
  // The file's format; kAuto looks at the content (not the file name).
  HistoryFormat format = HistoryFormat::kAuto;
  // Make the first unusable line an error (kDataLoss) instead of a counted skip.
  bool strict = false;
  // Print "file:line: reason" on stderr for skipped lines. At most max_logged_skips are
  // printed, then one line with the number not shown; all are always counted.
  bool log_skips = true;
  int max_logged_skips = 100;
  // Threads that parse JSON-lines files of 8 MB or more in chunks (records still come out in
  // file order); 0 = one per core. Ansor, Kernel Tuner and strict imports use one.
  int threads = 0;
  // Read AutoTVM v0.2 lines with the fast reader (simdjson On-Demand into reused record storage,
  // task identities looked up by the text of their input), falling back to the general reader
  // for any line it does not fully understand. Both give equal records; turn it off only to
  // compare them.
  bool autotvm_fast_path = true;
  Status Validate() const;
};

struct ImportReport {
  HistoryFormat format = HistoryFormat::kAuto;  // the format used (after detection)
  int64_t lines = 0;          // lines (or cache entries) looked at, comments and blanks included
  int64_t comment_lines = 0;  // '#' comments and blank lines
  int64_t records = 0;        // records produced
  int64_t ok = 0;             // of which status ok
  int64_t failed = 0;         // of which a failure status
  int64_t skipped_lines = 0;  // lines that could not be used
  // ImportHistoryIntoLog only: records written to the log, and records left out because the
  // log already held them (records = appended + duplicates, unless the import failed).
  int64_t appended = 0;
  int64_t duplicates = 0;
  int64_t unchecked = 0;  // appended records the log's full duplicate index could not take
  std::vector<std::string> skip_messages;  // "file:line: reason", at most max_logged_skips
  void Merge(const ImportReport& other);
};

// Reads a history file (gzipped or not) and calls `sink` with each record, in file order.
// The sink is called by one thread at a time, but when the file is parsed on several threads
// (ImportOptions::threads) not always by the calling thread. It may move the record out; the
// object itself is the importer's and is reused after the call, so the sink keeps no pointer or
// reference to it. A sink that only reads the record lets the importer reuse its storage, with
// no allocation per record. Returns an error when the file cannot be read, its format cannot be
// detected, or (strict) a line is unusable. `report` is filled in either case.
Status ImportHistory(const std::string& path, const ImportOptions& options,
                     const std::function<void(Record&&)>& sink, ImportReport* report);

// The stages of a chunked import (ImportHistoryInChunks), for a sink whose work per record is
// worth spreading over the parsing threads (encoding records for a log, say). The file is
// parsed in chunks of about 64 KB. Each stage gets the chunk's records as records[0, n), in
// file order, and a slot in [0, kImportSlots) that names the chunk's buffer: the slot is the
// same for both stages of one chunk, and chunks being prepared at the same time have different
// slots, so per-slot state (one FrameBatch per slot, say) needs no lock.
inline constexpr int kImportSlots = 32;
struct ImportStages {
  // Optional. Runs on a parsing thread right after the chunk is parsed, concurrently with the
  // preparation of other chunks. May read or change the records.
  std::function<void(std::vector<Record>& records, size_t n, int slot)> prepare;
  // Required. Runs one chunk at a time, in file order, after the chunk's prepare; may move the
  // records out. Not always on the calling thread.
  std::function<void(std::vector<Record>& records, size_t n, int slot)> consume;
};

// Like ImportHistory, handing the records on a chunk at a time through `stages`.
Status ImportHistoryInChunks(const std::string& path, const ImportOptions& options,
                             const ImportStages& stages, ImportReport* report);

// Imports a history file into a record log: records are encoded on the parsing threads and
// appended a chunk at a time (one write(2) each), in file order. Memory stays bounded whatever
// the file's size: a plain file is mapped and its pages given back as the import moves on
// (4 MB at a time), a gzipped one is decompressed 16 MB at a time, the records of at most two
// 64 KB chunks per thread are held, and the log's duplicate index (when the writer skips
// duplicates) costs what RecordLogWriterOptions::skip_duplicates says. report->appended and
// report->duplicates say what went into the log. With options.strict, a file that fails
// appends nothing: the log is cut back to where it was. `on_chunk`, when set, sees each chunk's
// records (records[0, n)) in file order, one chunk at a time.
class RecordLogWriter;
Status ImportHistoryIntoLog(
    const std::string& path, const ImportOptions& options, RecordLogWriter& log,
    ImportReport* report,
    const std::function<void(const std::vector<Record>& records, size_t n)>& on_chunk = nullptr);

// Like ImportHistory, collecting the records.
StatusOr<std::vector<Record>> ImportHistoryFile(const std::string& path,
                                                const ImportOptions& options, ImportReport* report);

// Parses in-memory text (already decompressed). `source_name` is used in messages.
StatusOr<std::vector<Record>> ImportHistoryText(std::string_view text, std::string_view source_name,
                                                const ImportOptions& options, ImportReport* report);

// Reads `path` as a Sonar record log when it starts with the log's magic number, else imports
// it as a history file (any format ImportHistoryFile reads). For tools that accept either.
StatusOr<std::vector<Record>> LoadRecordsOrHistory(const std::string& path,
                                                   const ImportOptions& options,
                                                   ImportReport* report);

// Streams the records of `path` to fn: a record log is read with ForEachRecord (*stats says what
// it skipped), any other file is imported as a history file (*stats stays zero). `selector`
// picks workloads: "" all, else a workload key in hex, a task name or an op. A selector that
// matches no record is InvalidArgument "--workload: no workload of PATH matches ...".
struct RecordLogStats;
Status ForEachRecordOrHistory(const std::string& path, const std::string& selector,
                              const std::function<void(Record&&)>& fn, RecordLogStats* stats);

// Looks at the first lines of `text` and names its format; kAuto when unknown.
HistoryFormat DetectHistoryFormat(std::string_view text);

enum class ExportFormat { kAutoTvm, kJsonLines };
bool StringToExportFormat(std::string_view name, ExportFormat* format);

// One record as one line (no newline) of the given format. AutoTVM's "input" is always
// [target, template, argument list, {}]: a target that is no TVM target string (a Kernel Tuner
// device name) becomes "cuda -model=DEVICE" ("rocm" for AMD devices), arguments that are not a
// list (a Kernel Tuner problem size) become a one-element list.
std::string RecordToAutoTvmLine(const Record& record);
std::string RecordToJsonLine(const Record& record);

// Writes every record, one line each. Fails only on a write error.
Status ExportHistory(const std::vector<Record>& records, ExportFormat format, std::ostream& out);

// AutoTVM's MeasureErrorNo (0-8) as a MeasureStatus; false for other numbers.
bool AutoTvmErrorToStatus(int64_t error_no, MeasureStatus* status);
// The AutoTVM error_no that a status exports as.
int AutoTvmErrorFromStatus(MeasureStatus status);

}  // namespace sonar
