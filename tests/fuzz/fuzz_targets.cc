// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tests/fuzz/fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "measure/history_io.h"
#include "measure/record_store.h"

namespace sonar::fuzz {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

void FuzzHistory(const uint8_t* data, size_t size, HistoryFormat format) {
  ImportOptions options;
  options.format = format;
  options.log_skips = false;
  ImportReport report;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  StatusOr<std::vector<Record>> records = ImportHistoryText(text, "fuzz", options, &report);
  Require(records.ok(), "a non-strict import with a named format must not fail");
  Require(report.records == static_cast<int64_t>(records->size()), "report.records");
  Require(report.ok + report.failed == report.records, "ok + failed == records");
  for (const Record& r : *records) {
    Require(r.result.ok() == !r.result.run_seconds.empty(),
            "ok records carry times, failures none");
    for (double s : r.result.run_seconds)
      Require(s > 0 && s < 1e9, "times are positive, no sentinel");
  }
  // Whatever imported must survive Sonar's own formats unchanged.
  std::ostringstream out;
  Require(ExportHistory(*records, ExportFormat::kJsonLines, out).ok(), "export");
  ImportReport again;
  options.format = HistoryFormat::kJsonLines;
  StatusOr<std::vector<Record>> back = ImportHistoryText(out.str(), "fuzz-back", options, &again);
  Require(back.ok() && *back == *records, "JSON-lines round trip");
  std::string log;
  for (const Record& r : *records) log += EncodeRecordFrame(r);
  RecordLogStats stats;
  Require(ParseRecordLog(log, &stats) == *records && stats.skipped_frames == 0,
          "record log round trip");
}

}  // namespace

void FuzzAutoTvm(const uint8_t* d, size_t n) { FuzzHistory(d, n, HistoryFormat::kAutoTvm); }
void FuzzAnsor(const uint8_t* d, size_t n) { FuzzHistory(d, n, HistoryFormat::kAnsor); }
void FuzzKernelTuner(const uint8_t* d, size_t n) { FuzzHistory(d, n, HistoryFormat::kKernelTuner); }
void FuzzJsonLines(const uint8_t* d, size_t n) { FuzzHistory(d, n, HistoryFormat::kJsonLines); }

void FuzzRecordLog(const uint8_t* data, size_t size) {
  RecordLogStats stats;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<Record> records = ParseRecordLog(bytes, &stats);
  Require(stats.records == static_cast<int64_t>(records.size()), "stats.records");
  Require(stats.skipped_bytes <= static_cast<int64_t>(size), "skipped bytes within the input");
  std::string again;
  for (const Record& r : records) {
    again += EncodeRecordFrame(r);
    Require(EncodeRecordFrame(r) == internal::EncodeRecordFrameWithProtobuf(r),
            "the fast encoder writes Protobuf's bytes");
  }
  RecordLogStats stats2;
  Require(ParseRecordLog(again, &stats2) == records, "re-encoded records read back the same");
  // Whatever the bytes, a writer never appends to them unless they open like a log.
  Require(LooksLikeRecordLog(bytes) == DescribeNonRecordLog(bytes).empty(),
          "LooksLikeRecordLog and DescribeNonRecordLog agree");
}

void FuzzRecordPayload(const uint8_t* data, size_t size) {
  // Sonar's decoder and Protobuf's agree on every byte string: both refuse it, or both read the
  // same record (which then encodes back to bytes that read the same again).
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Record fast, reference;
  const bool fast_ok = DecodeRecordPayload(bytes, &fast);
  const bool reference_ok = internal::DecodeRecordPayloadWithProtobuf(bytes, &reference);
  Require(fast_ok == reference_ok, "the fast decoder accepts what Protobuf accepts");
  if (!fast_ok) return;
  // Compared through their bytes: a NaN read from the input is not == to itself.
  Require(EncodeRecordFrame(fast) == EncodeRecordFrame(reference),
          "the fast decoder reads what Protobuf reads");
  const std::string frame = EncodeRecordFrame(fast);
  Record again;
  Require(DecodeRecordPayload(std::string_view(frame).substr(12), &again) &&
              EncodeRecordFrame(again) == frame,
          "a decoded record encodes and decodes back to itself");
}

const std::vector<FuzzTarget>& AllFuzzTargets() {
  static const std::vector<FuzzTarget> targets = {
      {"autotvm", FuzzAutoTvm},          {"ansor", FuzzAnsor},
      {"kernel_tuner", FuzzKernelTuner}, {"jsonl", FuzzJsonLines},
      {"record_log", FuzzRecordLog},     {"record_payload", FuzzRecordPayload},
  };
  return targets;
}

}  // namespace sonar::fuzz
