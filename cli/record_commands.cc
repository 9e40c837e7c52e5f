// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar import | export | records: moving histories in and out of record logs.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

Json FiniteOrNull(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

// ------------------------------------------------------------------------------ import
struct ImportArgs {
  std::vector<std::string> files;
  std::string out;
  std::string format = "auto";
  bool strict = false;
  bool json = false;
};

int RunImport(const ImportArgs& a) {
  ImportOptions options;
  if (!StringToHistoryFormat(a.format, &options.format)) {
    std::fprintf(stderr, "sonar import: unknown --format '%s'\n", a.format.c_str());
    return kExitUsage;
  }
  options.strict = a.strict;
  StatusOr<RecordStore> store = RecordStore::Open(a.out, RecordStoreOptions{});
  if (!store.ok()) return Fail(store.status());
  const int64_t before = store->size();
  ImportReport total;
  std::unordered_set<uint64_t> workloads;
  Json files = Json::array();
  for (const std::string& file : a.files) {
    ImportReport report;
    std::vector<Record> batch;
    Status append_status;
    auto flush = [&]() {
      if (!batch.empty() && append_status.ok()) append_status = store->AppendBatch(batch);
      batch.clear();
    };
    // Strict imports are all or nothing per file: nothing is appended before the file parsed.
    const size_t batch_size = a.strict ? std::numeric_limits<size_t>::max() : 8192;
    Status s = ImportHistory(file, options, [&](Record&& r) {
      workloads.insert(r.workload_key);
      batch.push_back(std::move(r));
      if (batch.size() >= batch_size) flush();
    }, &report);
    if (!s.ok()) {
      if (!a.strict) flush();
      total.Merge(report);
      return Fail(s);
    }
    flush();
    if (!append_status.ok()) return Fail(append_status);
    total.Merge(report);
    files.push_back({{"file", file},
                     {"format", std::string(HistoryFormatToString(report.format))},
                     {"records", report.records},
                     {"ok", report.ok},
                     {"failed", report.failed},
                     {"skipped_lines", report.skipped_lines}});
    if (!a.json) {
      std::printf("%s: %s, %lld records (%lld ok, %lld failed), %lld lines skipped\n", file.c_str(),
                  std::string(HistoryFormatToString(report.format)).c_str(),
                  static_cast<long long>(report.records), static_cast<long long>(report.ok),
                  static_cast<long long>(report.failed),
                  static_cast<long long>(report.skipped_lines));
    }
  }
  if (a.json) {
    Json j = {{"records", total.records},
              {"ok", total.ok},
              {"failed", total.failed},
              {"skipped_lines", total.skipped_lines},
              {"workloads", workloads.size()},
              {"out", a.out},
              {"log_records_before", before},
              {"log_records_after", store->size()},
              {"files", files}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf("appended %lld records of %zu workloads to %s (now %lld records)\n",
                static_cast<long long>(total.records), workloads.size(), a.out.c_str(),
                static_cast<long long>(store->size()));
  }
  return kExitOk;
}

// ------------------------------------------------------------------------------ records
// Reads a record log; a file that is not one (no log magic number, not empty) is read as a
// history file instead, so the records commands also work on JSON lines, AutoTVM logs, etc.
StatusOr<std::vector<Record>> LoadRecords(const std::string& path, RecordLogStats* stats) {
  *stats = RecordLogStats{};
  std::error_code ec;
  const bool non_empty = std::filesystem::file_size(path, ec) > 0 && !ec;
  if (FILE* f = std::fopen(path.c_str(), "rb"); f != nullptr && non_empty) {
    unsigned char magic[4] = {0, 0, 0, 0};
    const size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (!(got == 4 && magic[0] == 0xA5 && magic[1] == 'S' && magic[2] == 'N' && magic[3] == 'R')) {
      ImportReport report;
      return LoadRecordsOrHistory(path, ImportOptions{}, &report);
    }
  } else if (f != nullptr) {
    std::fclose(f);
  }
  StatusOr<std::vector<Record>> records = ReadRecordLog(path, stats);
  if (records.ok() && stats->skipped_frames > 0) {
    std::fprintf(stderr, "sonar: %s: skipped %lld corrupt or torn frames (%lld bytes)%s\n",
                 path.c_str(), static_cast<long long>(stats->skipped_frames),
                 static_cast<long long>(stats->skipped_bytes),
                 stats->torn_tail ? ", the last one a torn tail" : "");
  }
  return records;
}

// Keeps the records whose workload matches `selector`: a 16-digit hex workload key, or a
// task name or op. Empty selector keeps all.
std::vector<Record> SelectWorkload(std::vector<Record> records, const std::string& selector) {
  if (selector.empty()) return records;
  uint64_t key = 0;
  const bool is_key = HexToWorkloadKey(selector, &key);
  std::vector<Record> out;
  for (Record& r : records) {
    if ((is_key && r.workload_key == key) || r.task.name == selector || r.task.op == selector) {
      out.push_back(std::move(r));
    }
  }
  return out;
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
        std::string t = v.strings[i].size() > 40 ? v.strings[i].substr(0, 37) + "..." : v.strings[i];
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

int RunStats(const RecordsArgs& a) {
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = LoadRecords(a.path, &stats);
  if (!all.ok()) return Fail(all.status());
  std::vector<Record> records = SelectWorkload(std::move(*all), a.workload);
  const std::vector<WorkloadSummary> summaries = SummarizeWorkloads(records);
  int64_t ok = 0;
  for (const WorkloadSummary& s : summaries) ok += s.ok;
  if (a.json) {
    Json w = Json::array();
    for (const WorkloadSummary& s : summaries) {
      w.push_back({{"key", WorkloadKeyToHex(s.workload_key)},
                   {"name", s.task.name},
                   {"op", s.task.op},
                   {"target", s.task.target},
                   {"args", s.task.args_json},
                   {"records", s.records},
                   {"ok", s.ok},
                   {"failed", s.records - s.ok},
                   {"best_seconds", FiniteOrNull(s.best_seconds)}});
    }
    Json j = {{"records", records.size()},
              {"ok", ok},
              {"failed", static_cast<int64_t>(records.size()) - ok},
              {"skipped_frames", stats.skipped_frames},
              {"torn_tail", stats.torn_tail},
              {"workloads", w}};
    std::cout << j.dump() << std::endl;
    return kExitOk;
  }
  std::printf("%s: %zu records (%lld ok, %lld failed) in %zu workloads; %lld frames skipped\n",
              a.path.c_str(), records.size(), static_cast<long long>(ok),
              static_cast<long long>(records.size()) - ok, summaries.size(),
              static_cast<long long>(stats.skipped_frames));
  std::printf("%-16s  %7s  %7s  %12s  %s\n", "workload", "records", "ok", "best (s)", "task / target");
  for (const WorkloadSummary& s : summaries) {
    std::string args = s.task.args_json;
    if (args.size() > 48) args = args.substr(0, 45) + "...";
    std::printf("%-16s  %7lld  %7lld  %12.4g  %s %s / %s\n", WorkloadKeyToHex(s.workload_key).c_str(),
                static_cast<long long>(s.records), static_cast<long long>(s.ok),
                std::isfinite(s.best_seconds) ? s.best_seconds : NAN, s.task.name.c_str(),
                args.c_str(), s.task.target.c_str());
  }
  return kExitOk;
}

int RunBest(const RecordsArgs& a) {
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = LoadRecords(a.path, &stats);
  if (!all.ok()) return Fail(all.status());
  std::vector<Record> records = SelectWorkload(std::move(*all), a.workload);
  const std::vector<Record> best = BestPerWorkload(records);
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

int RunDump(const RecordsArgs& a) {
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = LoadRecords(a.path, &stats);
  if (!all.ok()) return Fail(all.status());
  Status s = ExportHistory(SelectWorkload(std::move(*all), a.workload), ExportFormat::kJsonLines,
                           std::cout);
  return s.ok() ? kExitOk : Fail(s);
}

// ------------------------------------------------------------------------------ export
struct ExportArgs {
  std::string path;
  std::string format;
  std::string out;
  std::string workload;
};

int RunExport(const ExportArgs& a) {
  ExportFormat format;
  if (!StringToExportFormat(a.format, &format)) {
    std::fprintf(stderr, "sonar export: unknown --format '%s' (autotvm or jsonl)\n", a.format.c_str());
    return kExitUsage;
  }
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = LoadRecords(a.path, &stats);
  if (!all.ok()) return Fail(all.status());
  std::vector<Record> records = SelectWorkload(std::move(*all), a.workload);
  if (a.out == "-") {
    Status s = ExportHistory(records, format, std::cout);
    return s.ok() ? kExitOk : Fail(s);
  }
  // Write to a temporary file and rename, so a failed export never leaves half a file.
  const std::string tmp = a.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Fail(InvalidArgumentError("cannot write " + tmp));
    Status s = ExportHistory(records, format, out);
    if (!s.ok()) return Fail(s);
  }
  if (std::rename(tmp.c_str(), a.out.c_str()) != 0) {
    return Fail(InternalError("cannot rename " + tmp + " to " + a.out));
  }
  std::fprintf(stderr, "exported %zu records to %s (%s)\n", records.size(), a.out.c_str(),
               a.format.c_str());
  return kExitOk;
}

}  // namespace

namespace cli {

void RegisterRecordCommands(CLI::App& app, int* exit_code) {
  auto import_args = std::make_shared<ImportArgs>();
  CLI::App* import = app.add_subcommand(
      "import", "Import history files (AutoTVM, Ansor, Kernel Tuner, Sonar JSON lines; gzip ok) "
                "into a record log, appending when it exists.");
  import->add_option("files", import_args->files, "History files to import")->required();
  import->add_option("--out", import_args->out, "Record log to append to (created if missing)")
      ->required();
  import->add_option("--format", import_args->format,
                     "auto|autotvm|ansor|kernel-tuner|jsonl (auto looks at the content)")
      ->capture_default_str();
  import->add_flag("--strict", import_args->strict,
                   "Fail on the first unusable line instead of skipping and counting it; "
                   "a failing file appends nothing");
  import->add_flag("--json", import_args->json, "Print one JSON summary object on stdout");
  import->footer(
      "Example:\n"
      "  sonar import ../shared/datasets/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz \\\n"
      "      ../shared/datasets/autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz \\\n"
      "      --out history.sonar --json\n"
      "Skipped lines are reported on stderr as file:line: reason.");
  import->callback([=] { *exit_code = RunImport(*import_args); });

  auto export_args = std::make_shared<ExportArgs>();
  CLI::App* exp = app.add_subcommand("export", "Export a record log to AutoTVM v0.2 or JSON lines.");
  exp->add_option("records", export_args->path, "Record log to read")->required();
  exp->add_option("--format", export_args->format, "autotvm|jsonl")->required();
  exp->add_option("--out", export_args->out, "Output file ('-' for stdout)")->required();
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
}

}  // namespace cli
}  // namespace sonar

