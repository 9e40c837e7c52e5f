// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/history_io.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/random.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DatasetsDir;
using testing::SampleRecord;

ImportOptions Quiet(HistoryFormat format = HistoryFormat::kAuto) {
  ImportOptions o;
  o.format = format;
  o.log_skips = false;
  return o;
}

// Reads a file, gunzipping with zlib directly (independent of the importer's reader).
std::string Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

// Independent counts for a JSON-lines history, computed with nlohmann::json.
struct Counts {
  int64_t records = 0, ok = 0, failed = 0;
  std::set<std::string> workloads;
};

Counts CountTvmLines(const std::string& text, bool ansor) {
  Counts c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    json j = json::parse(line);
    ++c.records;
    const json& result = ansor ? j["r"] : j["result"];
    if (result[1].get<int>() == 0) {
      ++c.ok;
    } else {
      ++c.failed;
    }
    const json& in_ = ansor ? j["i"][0] : j["input"];
    c.workloads.insert(in_[0].dump() + "|" + in_[1].dump() + (ansor ? "" : "|" + in_[2].dump()));
  }
  return c;
}

std::set<uint64_t> KeysOf(const std::vector<Record>& records) {
  std::set<uint64_t> keys;
  for (const Record& r : records) keys.insert(r.workload_key);
  return keys;
}

void ExpectCounts(const std::string& path, const Counts& expected, const ImportReport& report,
                  const std::vector<Record>& records) {
  EXPECT_EQ(report.records, expected.records) << path;
  EXPECT_EQ(report.ok, expected.ok) << path;
  EXPECT_EQ(report.failed, expected.failed) << path;
  EXPECT_EQ(report.skipped_lines, 0) << path;
  EXPECT_EQ(static_cast<int64_t>(records.size()), expected.records) << path;
  EXPECT_EQ(KeysOf(records).size(), expected.workloads.size()) << path;
  for (const Record& r : records) {
    if (r.result.ok()) {
      ASSERT_FALSE(r.result.run_seconds.empty());
      for (double s : r.result.run_seconds) {
        ASSERT_GT(s, 0) << path;
        ASSERT_LT(s, 1e8) << path << ": a failure sentinel was taken as a time";
      }
    } else {
      ASSERT_TRUE(r.result.run_seconds.empty()) << path;
    }
  }
}

TEST(HistoryImport, EveryAutoTvmFileInTheDatasetsImportsWithExactCounts) {
  SONAR_SKIP_WITHOUT_DATASETS();
  int files = 0;
  for (const char* sub : {"autotvm_cuda_v100_nnfusion", "autotvm_tophub"}) {
    for (const auto& entry : fs::directory_iterator(DatasetsDir() + "/" + sub)) {
      const std::string path = entry.path().string();
      if (path.find(".jsonl.gz") == std::string::npos && entry.path().extension() != ".log")
        continue;
      SCOPED_TRACE(path);
      ImportReport report;
      StatusOr<std::vector<Record>> records = ImportHistoryFile(path, Quiet(), &report);
      ASSERT_TRUE(records.ok()) << records.status().ToString();
      EXPECT_EQ(report.format, HistoryFormat::kAutoTvm);
      ExpectCounts(path, CountTvmLines(Gunzip(path), false), report, *records);
      ++files;
    }
  }
  EXPECT_EQ(files, 13);
}

// workloads.csv, written by the data set's curator, states the records and failures per workload.
TEST(HistoryImport, NnfusionHistoriesMatchTheirWorkloadTable) {
  SONAR_SKIP_WITHOUT_DATASETS();
  const std::string dir = DatasetsDir() + "/autotvm_cuda_v100_nnfusion";
  std::map<std::string, std::array<int64_t, 3>> expected;  // family -> records, failed, workloads
  std::istringstream csv(testing::ReadFile(dir + "/workloads.csv"));
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (char ch : line) {
      if (ch == '"') {
        quoted = !quoted;
      } else if (ch == ',' && !quoted) {
        cells.emplace_back();
      } else {
        cells.back() += ch;
      }
    }
    ASSERT_GE(cells.size(), 8u);
    auto& e = expected[cells[1]];
    e[0] += std::stoll(cells[6]);
    e[1] += std::stoll(cells[7]);
    e[2] += 1;
  }
  ASSERT_EQ(expected.size(), 3u);
  for (const auto& [family, want] : expected) {
    const std::string path = dir + "/" + family + "_records_v0.2.jsonl.gz";
    ImportReport report;
    StatusOr<std::vector<Record>> records = ImportHistoryFile(path, Quiet(), &report);
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(report.records, want[0]) << family;
    EXPECT_EQ(report.failed, want[1]) << family;
    EXPECT_EQ(static_cast<int64_t>(KeysOf(*records).size()), want[2]) << family;
  }
}

TEST(HistoryImport, EveryAnsorFileInTheDatasetsImportsWithExactCounts) {
  SONAR_SKIP_WITHOUT_DATASETS();
  int files = 0;
  for (const auto& entry : fs::directory_iterator(DatasetsDir() + "/ansor_cuda_nnfusion")) {
    const std::string path = entry.path().string();
    if (path.find(".jsonl.gz") == std::string::npos) continue;
    SCOPED_TRACE(path);
    const std::string text = Gunzip(path);
    ImportReport report;
    StatusOr<std::vector<Record>> records = ImportHistoryFile(path, Quiet(), &report);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    EXPECT_EQ(report.format, HistoryFormat::kAnsor);
    ExpectCounts(path, CountTvmLines(text, true), report, *records);
    // Each distinct list of steps is one member of the listed space, numbered 0, 1, ...
    std::set<std::string> distinct;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) distinct.insert(json::parse(line)["i"][1][1].dump());
    }
    int64_t max_index = -1;
    for (const Record& r : *records) max_index = std::max(max_index, r.config.index.value_or(-1));
    EXPECT_EQ(max_index + 1, static_cast<int64_t>(distinct.size()));
    ++files;
  }
  EXPECT_EQ(files, 8);
}

TEST(HistoryImport, EveryKernelTunerCacheImportsWithExactCountsInSeconds) {
  SONAR_SKIP_WITHOUT_DATASETS();
  int files = 0;
  for (const auto& entry : fs::directory_iterator(DatasetsDir() + "/kernel_tuner_cache")) {
    const std::string path = entry.path().string();
    if (path.find(".json.gz") == std::string::npos) continue;
    SCOPED_TRACE(path);
    json doc = json::parse(Gunzip(path));
    int64_t entries = 0, failed = 0;
    double min_ms = INFINITY;
    for (const auto& [key, value] : doc["cache"].items()) {
      ++entries;
      if (value["time"].is_string()) {
        ++failed;
      } else {
        min_ms = std::min(min_ms, value["time"].get<double>());
      }
    }
    ImportReport report;
    StatusOr<std::vector<Record>> records = ImportHistoryFile(path, Quiet(), &report);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    EXPECT_EQ(report.format, HistoryFormat::kKernelTuner);
    EXPECT_EQ(report.records, entries);
    EXPECT_EQ(report.failed, failed);
    EXPECT_EQ(report.ok, entries - failed);
    EXPECT_EQ(report.skipped_lines, 0);
    EXPECT_EQ(KeysOf(*records).size(), 1u);
    // Kernel Tuner's times are milliseconds; records hold seconds.
    double best = INFINITY;
    std::set<int64_t> indices;
    for (const Record& r : *records) {
      best = std::min(best, RecordCost(r));
      ASSERT_TRUE(r.config.index.has_value());
      indices.insert(*r.config.index);
      ASSERT_EQ(r.config.values.size(), doc["tune_params_keys"].size());
    }
    EXPECT_EQ(static_cast<int64_t>(indices.size()), entries) << "config indices must be distinct";
    EXPECT_GT(best, 0);
    // Records rank by Kernel Tuner's own "time" (reported_seconds), so the best agrees exactly.
    EXPECT_NEAR(best * 1e3 / min_ms, 1.0, 1e-12);
    ++files;
  }
  EXPECT_EQ(files, 10);
}

// ---------------------------------------------------------------------------- malformed input

constexpr char kGoodV02[] =
    R"({"input": ["llvm -mcpu=skylake-avx512", "conv2d_NCHWc.x86", [["TENSOR", [1, 64, 56, 56], "float32"], [1, 1]], {}], "config": {"index": 188, "code_hash": null, "entity": [["tile_ic", "sp", [1, 64]], ["unroll_kw", "ot", true], ["ann", "an", ["unroll", "vec"]], ["order", "re", [0, 2, 1]], ["step", "ot", 512]]}, "result": [[0.000107, 0.000108], 0, 1.83, 1539973676.4], "version": 0.2, "tvm_version": "0.7.dev0"})";

std::string WithResult(const std::string& result) {
  std::string s = kGoodV02;
  const size_t a = s.find("\"result\": ") + 10;
  const size_t b = s.find(", \"version\"");
  return s.substr(0, a) + result + s.substr(b);
}

TEST(HistoryImport, ParsesEveryAutoTvmKnobType) {
  ImportReport report;
  auto records = ImportHistoryText(kGoodV02, "good.log", Quiet(), &report);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const Record& r = (*records)[0];
  EXPECT_EQ(r.task.op, "conv2d_NCHWc.x86");
  EXPECT_EQ(r.task.target, "llvm -mcpu=skylake-avx512");
  EXPECT_EQ(r.task.args_json, R"([["TENSOR",[1,64,56,56],"float32"],[1,1]])");
  EXPECT_EQ(r.config.index, 188);
  ASSERT_EQ(r.config.values.size(), 5u);
  EXPECT_EQ(r.config.values[0], (KnobValue{"tile_ic", KnobKind::kSplit, {1, 64}, {}, "sp"}));
  EXPECT_EQ(r.config.values[1], (KnobValue{"unroll_kw", KnobKind::kBool, {1}, {}, "ot"}));
  EXPECT_EQ(r.config.values[2], (KnobValue{"ann", KnobKind::kChoice, {}, {"unroll", "vec"}, "an"}));
  EXPECT_EQ(r.config.values[3], (KnobValue{"order", KnobKind::kReorder, {0, 2, 1}, {}, "re"}));
  EXPECT_EQ(r.config.values[4], (KnobValue{"step", KnobKind::kChoice, {512}, {}, "ot"}));
  EXPECT_EQ(r.result.run_seconds, (std::vector<double>{0.000107, 0.000108}));
  EXPECT_EQ(r.result.all_cost_seconds, 1.83);
  EXPECT_EQ(r.timestamp_unix_s, 1539973676.4);
  EXPECT_EQ(r.tool_version, "0.7.dev0");
  EXPECT_EQ(r.workload_key, WorkloadKeyOf(r.task.op, r.task.args_json, r.task.target));
}

TEST(HistoryImport, MapsEveryAutoTvmErrorNumber) {
  const MeasureStatus expected[] = {MeasureStatus::kOk,
                                    MeasureStatus::kInvalidConfig,
                                    MeasureStatus::kCompileError,
                                    MeasureStatus::kCompileError,
                                    MeasureStatus::kRuntimeError,
                                    MeasureStatus::kWrongAnswer,
                                    MeasureStatus::kCompileTimeout,
                                    MeasureStatus::kRunTimeout,
                                    MeasureStatus::kUnknownError};
  for (int e = 0; e <= 8; ++e) {
    const std::string line = WithResult(
        e == 0 ? "[[0.5], 0, 1, 2]" : "[[1000000000.0], " + std::to_string(e) + ", 1, 2]");
    ImportReport report;
    auto records = ImportHistoryText(line, "e.log", Quiet(), &report);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(records->size(), 1u) << e;
    EXPECT_EQ((*records)[0].result.status, expected[e]) << e;
    EXPECT_EQ((*records)[0].result.source_error_code, e);
    if (e > 0) EXPECT_TRUE((*records)[0].result.run_seconds.empty()) << "1e9 is not a time";
  }
}

TEST(HistoryImport, SkipsAndCountsEveryKindOfMalformedLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"input\": [\"llvm\", \"dense\"", "not valid JSON"},  // truncated
      {"[1, 2, 3]", "expected a JSON object"},
      {WithResult("[[NaN], 0, 1, 2]"), "not valid JSON"},
      {WithResult("[[-0.001], 0, 1, 2]"), "not a positive time"},
      {WithResult("[[0], 0, 1, 2]"), "not a positive time"},
      {WithResult("[[1000000000.0], 0, 1, 2]"), "failure sentinel"},
      {WithResult("[[\"fast\"], 0, 1, 2]"), "not a number"},
      {WithResult("[[0.1], \"0\", 1, 2]"), "error_no is not an integer"},
      {WithResult("[[0.1], 11, 1, 2]"), "unknown error_no 11"},
      {WithResult("[[], 0, 1, 2]"), "no costs"},
      {WithResult("[[0.1], 0, -5, 2]"), "all_cost"},
      {WithResult("{\"costs\": 1}"), "result is not an array"},
      {std::string(kGoodV02).replace(std::string(kGoodV02).find("\"version\": 0.2"), 14,
                                     "\"version\": 0.3"),
       "unknown AutoTVM log version 0.3"},
      {std::string(kGoodV02).replace(std::string(kGoodV02).find("\"sp\", [1, 64]"), 13,
                                     "\"sp\", [1, \"x\"]"),
       "not a list of integers"},
      {std::string(kGoodV02).replace(std::string(kGoodV02).find("\"sp\""), 4, "\"zz\""),
       "unknown type 'zz'"},
      {std::string(kGoodV02).replace(std::string(kGoodV02).find("skylake"), 7, "sky\xff\xfeke"),
       "not valid JSON"},  // non-UTF-8
      {"{\"input\": 5, \"config\": {}, \"result\": [], \"version\": 0.2}", "input is not an array"},
      {"{\"hello\": 1}", "not an AutoTVM record"},
  };
  std::string text = "# a comment\n" + std::string(kGoodV02) + "\n\n";
  for (const auto& [line, why] : bad) text += line + "\n";
  text += std::string(kGoodV02) + "\n";
  ImportReport report;
  auto records = ImportHistoryText(text, "mixed.log", Quiet(HistoryFormat::kAutoTvm), &report);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);
  EXPECT_EQ(report.records, 2);
  EXPECT_EQ(report.skipped_lines, static_cast<int64_t>(bad.size()));
  EXPECT_EQ(report.comment_lines, 2);
  ASSERT_EQ(report.skip_messages.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    const std::string where = "mixed.log:" + std::to_string(i + 4) + ": ";
    EXPECT_EQ(report.skip_messages[i].rfind(where, 0), 0u) << report.skip_messages[i];
    EXPECT_NE(report.skip_messages[i].find(bad[i].second), std::string::npos)
        << "line " << i << ": " << report.skip_messages[i];
  }
}

TEST(HistoryImport, StrictModeMakesTheFirstBadLineAnError) {
  const std::string text = std::string(kGoodV02) + "\n{oops\n" + kGoodV02 + "\n";
  ImportOptions o = Quiet();
  o.strict = true;
  ImportReport report;
  auto records = ImportHistoryText(text, "s.log", o, &report);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(records.status().message().find("s.log:2:"), std::string::npos);
}

TEST(HistoryImport, ReadsAutoTvmV01Records) {
  const std::string v01 =
      R"({"i": ["cuda", "topi_nn_dense", [["TENSOR", [1, 256], "float32"]], {}, ["dense", [1, 256]], {"i": 6, "t": "direct", "c": null, "e": [["tile_k", "sp", [-1, 64]]]}], "r": [[7.25e-06], 0, 0.97, 1598593289.46], "v": 0.1})";
  ImportReport report;
  auto records = ImportHistoryText(v01, "v01.log", Quiet(), &report);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const Record& r = (*records)[0];
  EXPECT_EQ(r.task.op, "topi_nn_dense");
  EXPECT_EQ(r.config.index, 6);
  EXPECT_EQ(r.config.values[0].ints, (std::vector<int64_t>{-1, 64}));
  EXPECT_EQ(r.result.run_seconds, std::vector<double>{7.25e-06});
  EXPECT_EQ(r.source_version, "autotvm-0.1");
}

TEST(HistoryImport, AutoTvmExportImportRoundTripKeepsEveryField) {
  std::string text = kGoodV02;
  text += "\n" + WithResult("[[1000000000.0], 3, 10, 1589313678.390525]") + "\n";
  ImportReport report;
  auto first = ImportHistoryText(text, "a.log", Quiet(), &report);
  ASSERT_TRUE(first.ok());
  std::ostringstream exported;
  ASSERT_TRUE(ExportHistory(*first, ExportFormat::kAutoTvm, exported).ok());
  auto second = ImportHistoryText(exported.str(), "b.log", Quiet(), &report);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ((*second)[1].result.source_error_code, 3);  // device compile error stays 3
}

TEST(HistoryImport, DatasetRoundTripsThroughAutoTvmExport) {
  SONAR_SKIP_WITHOUT_DATASETS();
  const std::string path =
      DatasetsDir() + "/autotvm_cuda_v100_nnfusion/conv2d_records_v0.2.jsonl.gz";
  ImportReport report;
  auto first = ImportHistoryFile(path, Quiet(), &report);
  ASSERT_TRUE(first.ok());
  std::ostringstream exported;
  ASSERT_TRUE(ExportHistory(*first, ExportFormat::kAutoTvm, exported).ok());
  auto second = ImportHistoryText(exported.str(), "export", Quiet(), &report);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), first->size());
  EXPECT_TRUE(*second == *first);
}

TEST(HistoryImport, SonarJsonLinesRoundTripExactly) {
  std::vector<Record> records;
  for (int i = 0; i < 12; ++i) records.push_back(SampleRecord(i));
  records[3].config.index.reset();
  records[4].result.error_msg = "quote \" backslash \\ newline \n tab \t unicode \xc3\xa9";
  std::ostringstream out;
  ASSERT_TRUE(ExportHistory(records, ExportFormat::kJsonLines, out).ok());
  ImportReport report;
  auto back = ImportHistoryText(out.str(), "x.jsonl", Quiet(), &report);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(report.format, HistoryFormat::kJsonLines);
  EXPECT_EQ(*back, records);
}

TEST(HistoryImport, KernelTunerCacheLeftOpenByAKilledRunStillImports) {
  const std::string text =
      "{\n\"device_name\": \"GPU X\",\n\"kernel_name\": \"k\",\n\"problem_size\": [64, 64],\n"
      "\"tune_params_keys\": [\"bx\", \"t\"],\n\"tune_params\": {\"bx\": [16, 32], \"t\": [1, "
      "2]},\n"
      "\"cache\": {\n"
      "\"16,1\": {\"bx\": 16, \"t\": 1, \"time\": 2.0, \"times\": [1.5, 2.5], \"compile_time\": "
      "30},\n"
      "\"32,1\": {\"bx\": 32, \"t\": 1, \"time\": \"CompilationFailedConfig\"},\n"
      "\"16,2\": {\"bx\": 16, \"t\": 2, \"time\": -1},\n"
      "\"32,2\": {\"bx\": 32, \"t\": 2, \"time\": 4.0, \"ti";  // cut mid-line
  ImportReport report;
  auto records = ImportHistoryText(text, "kt.json", Quiet(), &report);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ(report.format, HistoryFormat::kKernelTuner);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(report.skipped_lines, 2);
  ASSERT_EQ(report.skip_messages.size(), 2u);
  EXPECT_EQ(report.skip_messages[0].rfind("kt.json:10:", 0), 0u) << report.skip_messages[0];
  EXPECT_EQ(report.skip_messages[1].rfind("kt.json:11:", 0), 0u) << report.skip_messages[1];
  const Record& r = (*records)[0];
  EXPECT_EQ(r.result.run_seconds, (std::vector<double>{1.5e-3, 2.5e-3}));
  EXPECT_DOUBLE_EQ(r.result.compile_seconds, 0.030);
  EXPECT_EQ(r.config.index, 0);
  EXPECT_EQ((*records)[1].result.status, MeasureStatus::kCompileError);
  EXPECT_EQ((*records)[1].config.index, 1);
  EXPECT_EQ(r.task.target, "GPU X");
  EXPECT_EQ(r.task.args_json, "[64,64]");
}

TEST(HistoryImport, UnknownFormatIsAClearError) {
  ImportReport report;
  auto records = ImportHistoryText("hello world\n", "h.txt", Quiet(), &report);
  ASSERT_FALSE(records.ok());
  // The library names no CLI flag (sonar import adds "--format" to this message).
  EXPECT_NE(records.status().message().find("h.txt: neither a record log nor a history"),
            std::string::npos)
      << records.status().message();
  auto empty = ImportHistoryText("", "e.txt", Quiet(), &report);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HistoryImport, MissingFileIsAnError) {
  ImportReport report;
  auto records = ImportHistoryFile("/nonexistent/x.log", Quiet(), &report);
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.status().message().find("/nonexistent/x.log"), std::string::npos);
}

// ------------------------------------------------------------ fast and general AutoTVM readers

// Everything an import yields: the records, the report, and the status.
struct ImportOutcome {
  std::vector<Record> records;
  ImportReport report;
  Status status;
};

// Imports `path` (or, when `text` is set, that text) with the AutoTVM fast reader on or off. The
// records are copied out of the sink, not moved, so the fast path's reuse of record storage
// from line to line is exercised.
ImportOutcome ImportBothWays(const std::string& path, const std::string* text, bool fast,
                             int threads = 0) {
  ImportOptions o = Quiet(HistoryFormat::kAutoTvm);
  o.autotvm_fast_path = fast;
  o.threads = threads;
  o.max_logged_skips = 1 << 20;  // compare every message
  ImportOutcome out;
  auto copy = [&](Record&& r) { out.records.push_back(static_cast<const Record&>(r)); };
  if (text == nullptr) {
    out.status = ImportHistory(path, o, copy, &out.report);
  } else {
    auto records = ImportHistoryText(*text, path, o, &out.report);
    out.status = records.status();
    if (records.ok()) out.records = *std::move(records);
  }
  return out;
}

void ExpectSameOutcome(const ImportOutcome& fast, const ImportOutcome& general) {
  EXPECT_EQ(fast.status.ToString(), general.status.ToString());
  EXPECT_EQ(fast.report.records, general.report.records);
  EXPECT_EQ(fast.report.ok, general.report.ok);
  EXPECT_EQ(fast.report.failed, general.report.failed);
  EXPECT_EQ(fast.report.lines, general.report.lines);
  EXPECT_EQ(fast.report.comment_lines, general.report.comment_lines);
  EXPECT_EQ(fast.report.skipped_lines, general.report.skipped_lines);
  EXPECT_EQ(fast.report.skip_messages, general.report.skip_messages);
  ASSERT_EQ(fast.records.size(), general.records.size());
  for (size_t i = 0; i < fast.records.size(); ++i) {
    ASSERT_EQ(fast.records[i], general.records[i]) << "record " << i;
  }
}

// The lines of every AutoTVM file in the data sets, comments included.
std::vector<std::string> AllAutoTvmDatasetLines() {
  std::vector<std::string> lines;
  for (const char* sub : {"autotvm_cuda_v100_nnfusion", "autotvm_tophub"}) {
    for (const auto& entry : fs::directory_iterator(DatasetsDir() + "/" + sub)) {
      const std::string path = entry.path().string();
      if (path.find(".jsonl.gz") == std::string::npos && entry.path().extension() != ".log")
        continue;
      std::istringstream in(Gunzip(path));
      std::string line;
      while (std::getline(in, line)) lines.push_back(line);
    }
  }
  return lines;
}

TEST(HistoryImport, FastAndGeneralAutoTvmReadersAgreeOnEveryDatasetFile) {
  SONAR_SKIP_WITHOUT_DATASETS();
  int files = 0;
  for (const char* sub : {"autotvm_cuda_v100_nnfusion", "autotvm_tophub"}) {
    for (const auto& entry : fs::directory_iterator(DatasetsDir() + "/" + sub)) {
      const std::string path = entry.path().string();
      if (path.find(".jsonl.gz") == std::string::npos && entry.path().extension() != ".log")
        continue;
      SCOPED_TRACE(path);
      const ImportOutcome fast = ImportBothWays(path, nullptr, true);
      const ImportOutcome general = ImportBothWays(path, nullptr, false);
      ASSERT_TRUE(general.status.ok());
      EXPECT_GT(general.report.records, 0);
      ExpectSameOutcome(fast, general);
      ++files;
    }
  }
  EXPECT_EQ(files, 13);
}

// A file over the size that is parsed in parallel, read through a mapping, whose last line has
// no newline (so it has no readable bytes after it and is copied): parsed in chunks on 2, 3 or
// 8 threads, it gives the records, in order, and the report that the general reader gives on
// one thread.
TEST(HistoryImport, ParallelFastImportOfAMappedFileEqualsTheGeneralSequentialOne) {
  SONAR_SKIP_WITHOUT_DATASETS();
  const std::vector<std::string> lines = AllAutoTvmDatasetLines();
  std::string text;
  for (size_t i = 0; text.size() < (9u << 20); ++i) {
    text += lines[i % lines.size()];
    if (i % 1000 == 7) text += "\n{\"input\": oops";  // a skipped line now and then
    text += "\n";
  }
  text.pop_back();
  testing::ScratchDir dir;
  const std::string path = dir.File("big.log");
  testing::WriteFile(path, text);
  const ImportOutcome general = ImportBothWays(path, nullptr, false, 1);
  ASSERT_TRUE(general.status.ok());
  EXPECT_GT(general.report.skipped_lines, 5);
  for (int threads : {2, 3, 8}) {
    SCOPED_TRACE(threads);
    ExpectSameOutcome(ImportBothWays(path, nullptr, true, threads), general);
  }
  ExpectSameOutcome(ImportBothWays(path, nullptr, false, 3), general);
  // The same through ImportHistoryFile, whose sink moves the records out.
  ImportOptions o = Quiet();
  o.threads = 2;
  ImportReport report;
  auto moved = ImportHistoryFile(path, o, &report);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, general.records);
}

// Lines the fast reader hands to the general reader, or must read exactly as it does.
std::vector<std::string> TrickyAutoTvmLines() {
  const std::string good = kGoodV02;
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  return {
      good,
      good + " ",
      good + " {}",
      good + "x",
      good.substr(0, good.size() - 1) + ", \"extra\": [1, 2]}",
      good.substr(0, good.size() - 1) + ", \"version\": 0.2}",
      good.substr(0, good.size() - 1) + ", \"input\": 5}",
      replaced("\"tvm_version\": \"0.7.dev0\"", "\"tvm_version\": null"),
      replaced("\"tvm_version\": \"0.7.dev0\"", "\"tvm_version\": 7"),
      replaced("\"tvm_version\": \"0.7.dev0\"", "\"tvm_version\": nul"),
      replaced(", \"tvm_version\": \"0.7.dev0\"", ""),
      replaced("\"code_hash\": null", "\"code_hash\": \"abc\""),
      replaced("\"code_hash\": null", "\"code_hash\": 5"),
      replaced("\"code_hash\": null", "\"c\": \"abc\""),
      replaced("\"index\": 188", "\"i\": 188"),
      replaced("\"index\": 188", "\"index\": -1"),
      replaced("\"index\": 188", "\"index\": 1.0"),
      replaced("\"index\": 188", "\"index\": null"),
      replaced("\"index\": 188", "\"index\": -0"),
      replaced("\"index\": 188", "\"index\": 0"),
      replaced("\"index\": 188", "\"index\": 9223372036854775807"),
      replaced("\"index\": 188", "\"index\": 9223372036854775808"),
      replaced("\"index\": 188", "\"index\": 188e0"),
      replaced("\"index\": 188", "\"index\": 0188"),
      replaced("\"index\": 188", "\"index\": 18446744073709551615"),
      replaced("\"index\": 188, ", ""),
      replaced("\"entity\"", "\"e\""),
      replaced("\"version\": 0.2", "\"version\": 2e-1"),
      replaced("\"version\": 0.2", "\"version\": \"0.2\""),
      replaced("\"version\": 0.2", "\"v\": 0.1"),
      replaced("{\"input\"", "{\"\\u0069nput\""),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 1.5"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", -0"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", -0.0"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 1E5"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 5e-324"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 2.0"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 1e300"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 1e400"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", null"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", \"fast\""),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", false"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", [1]"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 9223372036854775808"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 123456789012345678901234567890"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\", 512, 3"),
      replaced("\"step\", \"ot\", 512", "\"step\", \"ot\""),
      replaced("\"step\", \"ot\", 512", "\"st\\\"ep\\n\\u00e9\", \"ot\", 512"),
      replaced("[\"unroll\", \"vec\"]", "[]"),
      replaced("[\"unroll\", \"vec\"]", "[\"unroll\", 3]"),
      replaced("[1, 64]", "[]"),
      replaced("[1, 64]", "[1, -64]"),
      replaced("[1, 64]", "[-0, 64]"),
      replaced("[1, 64]", "[-9223372036854775808, 64]"),
      replaced("[1, 64]", "[-9223372036854775809, 64]"),
      replaced("[1, 64]", "[1, 64.0]"),
      replaced("[1, 64]", "[1 64]"),
      replaced("[1, 64]", "[1, 64,]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.000107], 0, 1.83]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.000107], 0]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.000107], -0, 0, -0]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.5], 0, -0.0, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]",
               "[[0.5, 18446744073709551615], 0, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]",
               "[[0.5, 18446744073709551616], 4, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[1e9], 4, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[99999999999.0], 0, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.000107]]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[1, 2, 3], 0, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.1], 0, 1.83, 15, 99]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[\"\", \"msg\", 1e9], 4, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[\"boom\", \"x\"], 2, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[true], 2, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[1e9], 9, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.1, \"x\"], 0, 1, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]", "[[0.1], 0, 1e400, 2]"),
      replaced("[[0.000107, 0.000108], 0, 1.83, 1539973676.4]",
               "[[0.1], 0, 1, 123456789012345678901234567890]"),
      replaced("\"llvm -mcpu=skylake-avx512\"", "5"),
      replaced("\"llvm -mcpu=skylake-avx512\"", "\"llvm \\u00e9\""),
      replaced("[[\"TENSOR\", [1, 64, 56, 56], \"float32\"], [1, 1]], {}]",
               "[[\"TENSOR\", [1, 64, 56, 56], \"float32\"], [1, 1]]]"),
      replaced("[[\"TENSOR\", [1, 64, 56, 56], \"float32\"], [1, 1]], {}]",
               "[[\"TENSOR\", [1, 64, 56, 56], \"float32\"], [1,, 1]], {}]"),
      replaced("[[\"TENSOR\", [1, 64, 56, 56], \"float32\"], [1, 1]], {}]", "[[1.50, 2e3], {}]"),
      replaced(", {}]", "]"),
      replaced("\"conv2d_NCHWc.x86\", ", ""),
  };
}

TEST(HistoryImport, FastAndGeneralAutoTvmReadersAgreeOnTrickyLines) {
  std::string text;
  for (const std::string& line : TrickyAutoTvmLines()) text += line + "\n";
  const ImportOutcome fast = ImportBothWays("tricky.log", &text, true);
  const ImportOutcome general = ImportBothWays("tricky.log", &text, false);
  EXPECT_GT(general.report.records, 10);
  EXPECT_GT(general.report.skipped_lines, 10);
  ExpectSameOutcome(fast, general);
}

// Random byte edits of good lines, in the alphabet of JSON: whatever a mutation makes of a line
// (a record, a different record, or a skip), both readers make the same.
TEST(HistoryImport, FastAndGeneralAutoTvmReadersAgreeOnMutatedLines) {
  std::vector<std::string> seeds = TrickyAutoTvmLines();
  seeds.resize(1);
  seeds.push_back(
      R"({"input": ["cuda -model=unknown", "topi_nn_conv2d", [["TENSOR", [1, 192, 13, 13], "float32"], [1, 1], "NCHW"], {}], "config": {"index": 2024460, "code_hash": null, "entity": [["tile_f", "sp", [-1, 4, 2, 6]], ["auto_unroll_max_step", "ot", 512], ["unroll_explicit", "ot", 1]]}, "result": [[1000000000.0], 1, 0.06932187080383301, 1589313668.8939114], "version": 0.2, "tvm_version": null})");
  const std::string alphabet = "{}[]\",:0123456789.-+eE tfnrulas\\/x\xc3\xa9\x01";
  Rng rng = MakeRng(7);
  std::string text;
  for (int i = 0; i < 6000; ++i) {
    std::string line = seeds[static_cast<size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(UniformInt(rng, 0, 2));
    for (int e = 0; e < edits; ++e) {
      const size_t at =
          static_cast<size_t>(UniformInt(rng, 0, static_cast<int64_t>(line.size()) - 1));
      const char c = alphabet[static_cast<size_t>(
          UniformInt(rng, 0, static_cast<int64_t>(alphabet.size()) - 1))];
      switch (UniformInt(rng, 0, 2)) {
        case 0: line[at] = c; break;
        case 1: line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: line.erase(at, 1); break;
      }
    }
    text += line + "\n";
  }
  const ImportOutcome fast = ImportBothWays("mutated.log", &text, true);
  const ImportOutcome general = ImportBothWays("mutated.log", &text, false);
  EXPECT_GT(general.report.records, 500);
  EXPECT_GT(general.report.skipped_lines, 500);
  ExpectSameOutcome(fast, general);
}

// The fast reader reads a line that differs from the line before it only in its numbers by that
// line's template (its text compared, its numbers converted). Runs of a good line followed by
// copies with edits at and around their numbers (another valid number, a number the reader must
// refuse or convert otherwise, a broken token) give what the general reader gives.
TEST(HistoryImport, FastAndGeneralAutoTvmReadersAgreeOnRunsOfOneTemplate) {
  std::vector<std::string> seeds = TrickyAutoTvmLines();
  seeds.resize(1);
  seeds.push_back(
      R"({"input": ["cuda -model=unknown", "topi_nn_conv2d", [["TENSOR", [1, 192, 13, 13], "float32"], [1, 1], "NCHW"], {}], "config": {"index": 2024460, "code_hash": null, "entity": [["tile_f", "sp", [-1, 4, 2, 6]], ["auto_unroll_max_step", "ot", 512], ["unroll_explicit", "ot", 1]]}, "result": [[1000000000.0], 1, 0.06932187080383301, 1589313668.8939114], "version": 0.2, "tvm_version": null})");
  const std::vector<std::string> numbers = {"0",
                                            "-0",
                                            "7",
                                            "-3",
                                            "1.5",
                                            "2e3",
                                            "1E-5",
                                            "0.0",
                                            "-0.0",
                                            "01",
                                            "1.",
                                            ".5",
                                            "-",
                                            "1e",
                                            "1e+",
                                            "9223372036854775807",
                                            "9223372036854775808",
                                            "-9223372036854775809",
                                            "18446744073709551616",
                                            "1e400",
                                            "5e-324",
                                            "1e9",
                                            "999999999",
                                            "8",
                                            "9",
                                            "4",
                                            "2",
                                            "\"x\"",
                                            "null",
                                            "true",
                                            "[1]",
                                            "1 2",
                                            "1,2"};
  Rng rng = MakeRng(11);
  std::string text;
  int runs = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string& seed = seeds[static_cast<size_t>(i / 40) % seeds.size()];
    if (i % 40 == 0) {
      text += seed + "\n";
      ++runs;
      continue;
    }
    // Replace 1-3 numbers of the seed (outside strings) by numbers from the list.
    std::vector<std::pair<size_t, size_t>> spans;
    bool in_string = false;
    for (size_t k = 0; k < seed.size(); ++k) {
      const char c = seed[k];
      if (in_string) {
        if (c == '\\') ++k;
        if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        size_t e = k + 1;
        while (e < seed.size() && std::strchr("0123456789.eE+-", seed[e]) != nullptr) ++e;
        spans.emplace_back(k, e);
        k = e - 1;
      }
    }
    // Distinct numbers, replaced right to left so that the spans still to edit stay in place.
    std::vector<size_t> picked;
    const int edits = 1 + static_cast<int>(UniformInt(rng, 0, 2));
    for (int e = 0; e < edits; ++e) {
      picked.push_back(
          static_cast<size_t>(UniformInt(rng, 0, static_cast<int64_t>(spans.size()) - 1)));
    }
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    std::string line = seed;
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
      const auto [b, end] = spans[*it];
      std::string value = numbers[static_cast<size_t>(
          UniformInt(rng, 0, static_cast<int64_t>(numbers.size()) - 1))];
      if (UniformInt(rng, 0, 2) == 0) value = std::to_string(UniformInt(rng, 0, 100000));
      line.replace(b, end - b, value);
    }
    text += line + "\n";
  }
  const ImportOutcome fast = ImportBothWays("runs.log", &text, true);
  const ImportOutcome general = ImportBothWays("runs.log", &text, false);
  EXPECT_EQ(runs, 100);
  EXPECT_GT(general.report.records, 1000);
  EXPECT_GT(general.report.skipped_lines, 500);
  ExpectSameOutcome(fast, general);
}

TEST(ImportOptions, DefaultsAreValid) { EXPECT_TRUE(ImportOptions{}.Validate().ok()); }

}  // namespace
}  // namespace sonar

namespace sonar {
namespace {

// Kernel Tuner records export in AutoTVM's layout (issue 17): input = [a TVM target string,
// template, a list of arguments, {}], as AutoTVM's decode unpacks it.
TEST(HistoryExport, KernelTunerRecordsGetAutoTvmsInputLayout) {
  const std::string cache =
      testing::DatasetsDir() + "/kernel_tuner_cache/convolution_milo__W7800.json.gz";
  if (!std::filesystem::exists(cache)) GTEST_SKIP() << "no " << cache;
  ImportReport report;
  StatusOr<std::vector<Record>> records = ImportHistoryFile(cache, ImportOptions{}, &report);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_FALSE(records->empty());
  const json line = json::parse(RecordToAutoTvmLine(records->front()));
  const json& input = line["input"];
  ASSERT_EQ(input.size(), 4u);
  EXPECT_EQ(input[0], "rocm -model=AMD_Radeon_PRO_W7800");
  EXPECT_EQ(input[1], "convolution_kernel");
  ASSERT_TRUE(input[2].is_array());
  EXPECT_EQ(input[2], json::parse("[4096, 4096]"));  // already a list: two arguments
  EXPECT_TRUE(input[3].is_object());
  // A scalar problem size (pnpoly's) becomes a one-argument list; an unknown device a model.
  Record kt = records->front();
  kt.task.args_json = "20000000";
  kt.task.target = "NVIDIA TITAN RTX";
  const json scalar = json::parse(RecordToAutoTvmLine(kt));
  EXPECT_EQ(scalar["input"][0], "cuda -model=NVIDIA_TITAN_RTX");
  EXPECT_EQ(scalar["input"][2], json::parse("[20000000]"));
  // A record that came from AutoTVM keeps its target and arguments as they were.
  Record tvm = SampleRecord(1, 2);
  tvm.task.target = "llvm -mcpu=skylake-avx512";
  tvm.task.args_json = "[[\"TENSOR\",[1,64],\"float32\"]]";
  const json back = json::parse(RecordToAutoTvmLine(tvm));
  EXPECT_EQ(back["input"][0], "llvm -mcpu=skylake-avx512");
  EXPECT_EQ(back["input"][2], json::parse(tvm.task.args_json));
}

}  // namespace
}  // namespace sonar
