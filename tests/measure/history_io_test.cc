// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/history_io.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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
      if (path.find(".jsonl.gz") == std::string::npos && entry.path().extension() != ".log") continue;
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
  const MeasureStatus expected[] = {
      MeasureStatus::kOk,           MeasureStatus::kInvalidConfig,  MeasureStatus::kCompileError,
      MeasureStatus::kCompileError, MeasureStatus::kRuntimeError,   MeasureStatus::kWrongAnswer,
      MeasureStatus::kCompileTimeout, MeasureStatus::kRunTimeout, MeasureStatus::kUnknownError};
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
  const std::string path = DatasetsDir() + "/autotvm_cuda_v100_nnfusion/conv2d_records_v0.2.jsonl.gz";
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
      "\"tune_params_keys\": [\"bx\", \"t\"],\n\"tune_params\": {\"bx\": [16, 32], \"t\": [1, 2]},\n"
      "\"cache\": {\n"
      "\"16,1\": {\"bx\": 16, \"t\": 1, \"time\": 2.0, \"times\": [1.5, 2.5], \"compile_time\": 30},\n"
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
  EXPECT_NE(records.status().message().find("--format"), std::string::npos);
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

TEST(ImportOptions, DefaultsAreValid) { EXPECT_TRUE(ImportOptions{}.Validate().ok()); }

}  // namespace
}  // namespace sonar
