// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar import | export | records: moving histories in and out of record logs.
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "cli/commands.h"
#include "measure/history_io.h"
#include "measure/record_store.h"
#include "space/task.h"

namespace sonar {
namespace {

using Json = nlohmann::ordered_json;

using cli::Fail;
using cli::kExitFailure;
using cli::kExitOk;
using cli::kExitUsage;
using cli::UsageError;

Json FiniteOrNull(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

// ------------------------------------------------------------------------------ import
struct ImportArgs {
  std::vector<std::string> files;
  std::string out;
  std::string format = "auto";
  bool strict = false;
  bool allow_duplicates = false;
  bool json = false;
};

// True when a and b name the same existing file.
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

int RunImport(const ImportArgs& a) {
  ImportOptions options;
  if (!StringToHistoryFormat(a.format, &options.format)) {
    std::fprintf(stderr, "sonar import: unknown --format '%s'\n", a.format.c_str());
    return kExitUsage;
  }
  options.strict = a.strict;
  if (a.out.empty()) return UsageError("import", "--out is empty (the record log to append to)");
  for (const std::string& file : a.files) {
    // Every input is checked before anything is appended, so a typo in the last file name does
    // not leave the others imported.
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return Fail(NotFoundError("cannot open " + file + ": no such file (nothing was imported)"));
    }
    if (std::filesystem::is_directory(file, ec)) {
      return Fail(InvalidArgumentError(file + " is a directory (nothing was imported)"));
    }
    if (SameFile(file, a.out)) {
      return Fail(InvalidArgumentError("cannot import " + file + " into itself (--out " + a.out +
                                       "); name another --out"));
    }
  }
  RecordLogWriterOptions wo;
  wo.skip_duplicates = !a.allow_duplicates;
  StatusOr<RecordLogWriter> log = RecordLogWriter::Open(a.out, wo);
  if (!log.ok()) return Fail(log.status());
  const int64_t before = log->records();
  ImportReport total;
  std::unordered_set<uint64_t> workloads;
  Json files = Json::array();
  for (const std::string& file : a.files) {
    ImportReport report;
    uint64_t last_key = 0;
    Status s = ImportHistoryIntoLog(file, options, *log, &report,
                                    [&](const std::vector<Record>& records, size_t n) {
                                      for (size_t i = 0; i < n; ++i) {
                                        if (records[i].workload_key == last_key) continue;
                                        last_key = records[i].workload_key;
                                        workloads.insert(last_key);
                                      }
                                    });
    total.Merge(report);
    if (!s.ok()) {
      if (a.strict) {
        std::fprintf(stderr, "sonar import: nothing from %s was appended (--strict)\n",
                     file.c_str());
      }
      if (s.message().find("format can be told") != std::string::npos) {
        return Fail(InvalidArgumentError(s.message() + "; name its format with --format "
                                                       "autotvm|ansor|kernel-tuner|jsonl"));
      }
      return Fail(s);
    }
    if (report.records == 0 && report.skipped_lines > 0) {
      return Fail(InvalidArgumentError(
          file + ": every one of its " + std::to_string(report.skipped_lines) +
          " lines was skipped (reasons above), nothing was imported from it" +
          (a.format.empty() || a.format == "auto" ? "" : "; is --format " + a.format + " right?")));
    }
    files.push_back({{"file", file},
                     {"format", std::string(HistoryFormatToString(report.format))},
                     {"records", report.records},
                     {"ok", report.ok},
                     {"failed", report.failed},
                     {"skipped_lines", report.skipped_lines},
                     {"appended", report.appended},
                     {"duplicates", report.duplicates}});
    if (!a.json) {
      std::printf(
          "%s: %s, %lld records (%lld ok, %lld failed), %lld lines skipped, "
          "%lld already in the log\n",
          file.c_str(), std::string(HistoryFormatToString(report.format)).c_str(),
          static_cast<long long>(report.records), static_cast<long long>(report.ok),
          static_cast<long long>(report.failed), static_cast<long long>(report.skipped_lines),
          static_cast<long long>(report.duplicates));
    }
  }
  if (log->unchecked() > 0) {
    std::fprintf(stderr,
                 "sonar import: warning: the duplicate index of %s is full; %lld records of the "
                 "log are not in it, so a later copy of one of them would be appended\n",
                 a.out.c_str(), static_cast<long long>(log->unchecked()));
  }
  if (a.json) {
    Json j = {{"records", total.records},
              {"ok", total.ok},
              {"failed", total.failed},
              {"skipped_lines", total.skipped_lines},
              {"appended", total.appended},
              {"duplicates", total.duplicates},
              {"unchecked_for_duplicates", log->unchecked()},
              {"workloads", workloads.size()},
              {"out", a.out},
              {"log_records_before", before},
              {"log_records_after", log->records()},
              {"files", files}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf("read %lld records of %zu workloads; appended %lld to %s (now %lld records)",
                static_cast<long long>(total.records), workloads.size(),
                static_cast<long long>(total.appended), a.out.c_str(),
                static_cast<long long>(log->records()));
    if (total.duplicates > 0) {
      std::printf(
          "; %lld records were already in it and were skipped (--allow-duplicates keeps "
          "them)",
          static_cast<long long>(total.duplicates));
    }
    std::printf("\n");
  }
  return kExitOk;
}

// ------------------------------------------------------------------------------ records
// ForEachRecordOrHistory, saying on stderr what was skipped.
Status ReadRecordsOrHistory(const std::string& path, const std::string& selector,
                            const std::function<void(Record&&)>& fn, RecordLogStats* stats) {
  SONAR_RETURN_IF_ERROR(ForEachRecordOrHistory(path, selector, fn, stats));
  if (stats->skipped_frames > 0) {
    std::fprintf(stderr, "sonar: %s: skipped %lld corrupt or torn frames (%lld bytes)%s\n",
                 path.c_str(), static_cast<long long>(stats->skipped_frames),
                 static_cast<long long>(stats->skipped_bytes),
                 stats->torn_tail ? ", the last one a torn tail" : "");
  }
  return OkStatus();
}

std::string ConfigToString(const RecordConfig& c) {
  std::string s;
  for (const KnobValue& v : c.values) {
    if (!s.empty()) s += ' ';
    s += v.name + '=';
    if (v.ints.size() == 1 && v.strings.empty() && v.kind != KnobKind::kSplit &&
        v.kind != KnobKind::kReorder) {
      s += std::to_string(v.ints[0]);
    } else if (!v.ints.empty()) {
      s += '[';
      for (size_t i = 0; i < v.ints.size(); ++i) s += (i ? "," : "") + std::to_string(v.ints[i]);
      s += ']';
    } else {
      for (size_t i = 0; i < v.strings.size(); ++i) {
        std::string t =
            v.strings[i].size() > 40 ? v.strings[i].substr(0, 37) + "..." : v.strings[i];
        s += (i ? "," : "") + t;
      }
    }
  }
  return s;
}

struct RecordsArgs {
  std::string path;
  std::string workload;
  bool json = false;
};

// Fail, or a usage error (exit 2) when the status is about a flag's value ("--workload: ...").
int FailOrUsage(std::string_view command, const Status& s) {
  if (s.message().rfind("--", 0) == 0) return UsageError(command, s.message());
  return Fail(s);
}

int RunStats(const RecordsArgs& a) {
  RecordLogStats stats;
  WorkloadSummarizer summarizer;
  int64_t records = 0;
  Status s = ReadRecordsOrHistory(
      a.path, a.workload,
      [&](Record&& r) {
        ++records;
        summarizer.Add(r);
      },
      &stats);
  if (!s.ok()) return FailOrUsage("records stats", s);
  const std::vector<WorkloadSummary>& summaries = summarizer.summaries();
  int64_t ok = 0;
  for (const WorkloadSummary& w : summaries) ok += w.ok;
  if (a.json) {
    Json w = Json::array();
    for (const WorkloadSummary& x : summaries) {
      w.push_back({{"key", WorkloadKeyToHex(x.workload_key)},
                   {"name", x.task.name},
                   {"op", x.task.op},
                   {"target", x.task.target},
                   {"args", x.task.args_json},
                   {"records", x.records},
                   {"ok", x.ok},
                   {"failed", x.records - x.ok},
                   {"best_seconds", FiniteOrNull(x.best_seconds)}});
    }
    Json j = {{"records", records},           {"ok", ok},
              {"failed", records - ok},       {"skipped_frames", stats.skipped_frames},
              {"torn_tail", stats.torn_tail}, {"workloads", w}};
    std::cout << j.dump() << std::endl;
    return kExitOk;
  }
  std::printf("%s: %lld records (%lld ok, %lld failed) in %zu workloads; %lld frames skipped\n",
              a.path.c_str(), static_cast<long long>(records), static_cast<long long>(ok),
              static_cast<long long>(records - ok), summaries.size(),
              static_cast<long long>(stats.skipped_frames));
  std::printf("%-16s  %7s  %7s  %12s  %s\n", "workload", "records", "ok", "best (s)",
              "task / target");
  for (const WorkloadSummary& x : summaries) {
    std::string args = x.task.args_json;
    if (args.size() > 48) args = args.substr(0, 45) + "...";
    std::printf("%-16s  %7lld  %7lld  %12.4g  %s %s / %s\n",
                WorkloadKeyToHex(x.workload_key).c_str(), static_cast<long long>(x.records),
                static_cast<long long>(x.ok), std::isfinite(x.best_seconds) ? x.best_seconds : NAN,
                x.task.name.c_str(), args.c_str(), x.task.target.c_str());
  }
  return kExitOk;
}

int RunBest(const RecordsArgs& a) {
  RecordLogStats stats;
  BestRecordKeeper keeper;
  Status s = ReadRecordsOrHistory(
      a.path, a.workload, [&](Record&& r) { keeper.Add(r); }, &stats);
  if (!s.ok()) return FailOrUsage("records best", s);
  const std::vector<Record> best = keeper.Best();
  if (a.json) {
    Json arr = Json::array();
    for (const Record& r : best) arr.push_back(Json::parse(RecordToJsonLine(r)));
    std::cout << Json({{"best", arr}}).dump() << std::endl;
    return kExitOk;
  }
  for (const Record& r : best) {
    std::printf("%s  %-28s  %.6g s  %s\n", WorkloadKeyToHex(r.workload_key).c_str(),
                r.task.name.c_str(), RecordCost(r), ConfigToString(r.config).c_str());
  }
  if (best.empty()) std::printf("no successful records\n");
  return kExitOk;
}

// Writes the records of a.path (those of a.workload) to `out`, one line each, streamed.
// AutoTVM logs hold kernel measurements only: training records are left out and counted in
// *skipped_training.
Status WriteRecords(const std::string& path, const std::string& workload, ExportFormat format,
                    std::FILE* out, int64_t* written, int64_t* skipped_training = nullptr) {
  RecordLogStats stats;
  std::string line;
  bool write_failed = false;
  *written = 0;
  SONAR_RETURN_IF_ERROR(ReadRecordsOrHistory(
      path, workload,
      [&](Record&& r) {
        if (write_failed) return;
        if (format == ExportFormat::kAutoTvm && IsTrainingRecord(r)) {
          if (skipped_training != nullptr) ++*skipped_training;
          return;
        }
        line = format == ExportFormat::kAutoTvm ? RecordToAutoTvmLine(r) : RecordToJsonLine(r);
        line += '\n';
        write_failed = std::fwrite(line.data(), 1, line.size(), out) != line.size();
        ++*written;
      },
      &stats));
  if (write_failed || std::fflush(out) != 0) {
    return InternalError(std::string("write failed: ") + std::strerror(errno));
  }
  return OkStatus();
}

int RunDump(const RecordsArgs& a) {
  int64_t written = 0;
  Status s = WriteRecords(a.path, a.workload, ExportFormat::kJsonLines, stdout, &written);
  return s.ok() ? kExitOk : FailOrUsage("records dump", s);
}

// ------------------------------------------------------------------------------ export
struct ExportArgs {
  std::string path;
  std::string format;
  std::string out;
  std::string workload;
  bool force = false;
};

int RunExport(const ExportArgs& a) {
  ExportFormat format;
  if (!StringToExportFormat(a.format, &format)) {
    std::fprintf(stderr, "sonar export: unknown --format '%s' (autotvm or jsonl)\n",
                 a.format.c_str());
    return kExitUsage;
  }
  int64_t written = 0, skipped_training = 0;
  if (a.out == "-") {
    Status s = WriteRecords(a.path, a.workload, format, stdout, &written, &skipped_training);
    return s.ok() ? kExitOk : FailOrUsage("export", s);
  }
  if (a.out.empty()) return UsageError("export", "--out is empty (a file, or - for stdout)");
  std::error_code dir_ec;
  if (std::filesystem::is_directory(a.out, dir_ec)) {
    return UsageError("export", "--out " + a.out + " is a directory; name a file");
  }
  if (SameFile(a.path, a.out)) {
    return Fail(InvalidArgumentError("refusing to export " + a.path +
                                     " onto itself: it would replace the records it holds; "
                                     "name another --out"));
  }
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec) && !a.force) {
    return Fail(FailedPreconditionError(a.out + " exists; pass --force to replace it (it was "
                                                "left unchanged)"));
  }
  if (!std::filesystem::exists(a.path, ec)) {
    return Fail(NotFoundError("cannot open " + a.path + ": no such file"));
  }
  // Write a temporary file beside --out and rename it, so that a failed export never leaves
  // half a file, nor an empty one.
  std::string tmp = a.out + ".XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) {
    return Fail(
        InvalidArgumentError("cannot create " + a.out +
                             " (a temporary file beside it failed: " + std::strerror(errno) + ")"));
  }
  std::FILE* out = fdopen(fd, "wb");
  Status s = out != nullptr
                 ? WriteRecords(a.path, a.workload, format, out, &written, &skipped_training)
                 : InternalError(std::string("fdopen: ") + std::strerror(errno));
  if (out != nullptr && std::fclose(out) != 0 && s.ok()) {
    s = InternalError("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (out == nullptr) close(fd);
  if (s.ok() && std::rename(tmp.c_str(), a.out.c_str()) != 0) {
    s = InternalError("cannot rename " + tmp + " to " + a.out + ": " + std::strerror(errno));
  }
  if (!s.ok()) {
    std::remove(tmp.c_str());
    return FailOrUsage("export", s);
  }
  // mkstemp makes the file 0600; give it the permissions a new file normally gets.
  const mode_t mask = umask(0);
  umask(mask);
  chmod(a.out.c_str(), 0666 & ~mask);
  std::fprintf(stderr, "exported %lld records to %s (%s)\n", static_cast<long long>(written),
               a.out.c_str(), a.format.c_str());
  if (skipped_training > 0) {
    std::fprintf(stderr,
                 "left out %lld training records (sonar search epochs): AutoTVM logs hold "
                 "kernel measurements only; --format jsonl keeps them\n",
                 static_cast<long long>(skipped_training));
  }
  return kExitOk;
}

}  // namespace

namespace cli {

void RegisterRecordCommands(CLI::App& app, int* exit_code) {
  auto import_args = std::make_shared<ImportArgs>();
  CLI::App* import = app.add_subcommand(
      "import",
      "Import history files (AutoTVM, Ansor, Kernel Tuner, Sonar JSON lines, record "
      "logs; gzip ok) into a record log, appending when it exists. Records the log "
      "already holds are skipped.");
  import->add_option("files", import_args->files, "History files (or record logs) to import")
      ->required();
  import
      ->add_option("--out", import_args->out,
                   "Record log to append to (created if missing). A file that is not a record "
                   "log is refused and left unchanged")
      ->required();
  import
      ->add_option("--format", import_args->format,
                   "auto|autotvm|ansor|kernel-tuner|jsonl|sonar-log (auto looks at the content)")
      ->capture_default_str();
  import->add_flag("--strict", import_args->strict,
                   "Fail on the first unusable line instead of skipping and counting it; "
                   "a failing file appends nothing");
  import->add_flag("--allow-duplicates", import_args->allow_duplicates,
                   "Append records even when the log already holds the very same record (by "
                   "default they are skipped and counted, so importing a file twice is harmless)");
  import->add_flag("--json", import_args->json, "Print one JSON summary object on stdout");
  import->footer(
      "Example:\n"
      "  sonar import ../shared/datasets/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz \\\n"
      "      ../shared/datasets/autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz \\\n"
      "      --out history.sonar --json\n"
      "Skipped lines are reported on stderr as file:line: reason. The import streams: memory\n"
      "stays bounded whatever the input's size (see docs/records.md). A killed import leaves\n"
      "a readable log; run it again and the records already in it are skipped.");
  import->callback([=] { *exit_code = RunImport(*import_args);
});

auto export_args = std::make_shared<ExportArgs>();
CLI::App* exp = app.add_subcommand(
    "export", "Export a record log (or any history Sonar reads) to AutoTVM v0.2 or JSON lines.");
exp->add_option("records", export_args->path, "Record log to read")->required();
exp->add_option("--format", export_args->format, "autotvm|jsonl")->required();
exp->add_option("--out", export_args->out,
                "Output file ('-' for stdout). An existing file is refused unless --force; the "
                "input itself always is")
    ->required();
exp->add_flag("--force", export_args->force, "Replace --out when it exists");
exp->add_option("--workload", export_args->workload,
                "Only this workload (16-digit hex key, task name or op)");
exp->footer(
    "Example:\n"
    "  sonar export history.sonar --format autotvm --out history.log");
exp->callback([=] { *exit_code = RunExport(*export_args); });

auto records_args = std::make_shared<RecordsArgs>();
CLI::App* records = app.add_subcommand("records", "Inspect a record log: stats, best, dump.");
records->require_subcommand(1);
records->footer(
    "Examples:\n"
    "  sonar records stats history.sonar --json\n"
    "  sonar records best history.sonar --workload topi_nn_dense\n"
    "  sonar records dump history.sonar --workload 3f2a9c0d11e4b7a5 > one.jsonl");
auto add_records_cmd = [&](const char* name, const char* help, const char* example) {
  CLI::App* c = records->add_subcommand(name, help);
  c->add_option("records", records_args->path, "Record log to read")->required();
  c->add_option("--workload", records_args->workload,
                "Only this workload (16-digit hex key, task name or op)");
  c->footer(std::string("Example:\n  ") + example);
  return c;
};
CLI::App* stats = add_records_cmd("stats", "Records, successes and best time per workload.",
                                  "sonar records stats history.sonar --json");
stats->add_flag("--json", records_args->json, "Print one JSON object on stdout");
stats->callback([=] { *exit_code = RunStats(*records_args); });
CLI::App* best = add_records_cmd("best", "The best successful record of each workload.",
                                 "sonar records best history.sonar");
best->add_flag("--json", records_args->json, "Print one JSON object on stdout");
best->callback([=] { *exit_code = RunBest(*records_args); });
CLI::App* dump = add_records_cmd("dump", "Print records as Sonar JSON lines.",
                                 "sonar records dump history.sonar | head");
dump->callback([=] { *exit_code = RunDump(*records_args); });
}  // namespace cli

}  // namespace sonar
}  // namespace sonar
