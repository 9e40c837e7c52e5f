// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tests/fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "common/random.h"
#include "measure/hardware.h"
#include "measure/history_io.h"
#include "measure/record_store.h"
#include "measure/timing.h"
#include "measure/user_kernel.h"
#include "surrogate/latency/latency_predictor.h"

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

void FuzzHarnessOutput(const uint8_t* data, size_t size) {
  // What a measured kernel printed: whatever it is, either an error or a line the measurer can
  // use (at least one call per repeat, every time finite and positive).
  StatusOr<HarnessOutput> out =
      ParseHarnessOutput(std::string(reinterpret_cast<const char*>(data), size));
  if (!out.ok()) return;
  Require(out->number >= 1, "an accepted result line has number >= 1");
  for (double t : out->run_seconds) {
    Require(std::isfinite(t) && t > 0, "an accepted result line has finite, positive times");
  }
}

void FuzzSpaceJson(const uint8_t* data, size_t size) {
  // A user's SPACE.json: an error, or a space that samples (or says why it cannot) and holds
  // its own reference config.
  std::vector<KnobValue> reference;
  StatusOr<ConfigSpace> space = ParseSpaceJson(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json", &reference);
  if (!space.ok()) return;
  Require(space->num_knobs() >= 1, "an accepted space has a knob");
  Rng rng = MakeRng(1);
  for (int i = 0; i < 4; ++i) {
    StatusOr<Config> c = space->Sample(rng);
    if (!c.ok()) break;
    Require(space->Satisfies(*c), "a sampled config satisfies the space");
    StatusOr<Config> back = space->FromValues(space->ToValues(*c));
    Require(back.ok() && back->choice == c->choice, "a config's values map back to it");
  }
  if (!reference.empty()) {
    Require(space->FromValues(reference).ok(), "the reference config is in the space");
  }
}

void FuzzHardwareJson(const uint8_t* data, size_t size) {
  // A hardware descriptor file: an error, or a descriptor whose JSON reads back to itself.
  StatusOr<HardwareDescriptor> hw =
      HardwareDescriptorFromJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!hw.ok()) return;
  const std::string json = HardwareDescriptorToJson(*hw);
  StatusOr<HardwareDescriptor> again = HardwareDescriptorFromJson(json);
  Require(again.ok() && HardwareDescriptorToJson(*again) == json,
          "a descriptor's JSON reads back to the same descriptor");
}

void FuzzLatencyModel(const uint8_t* data, size_t size) {
  // A latency model file: an error, or a model that saves and loads again.
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sonar_fuzz_XXXXXX").string();
    return std::string(mkdtemp(tmpl.data()));
  }();
  const std::string path = dir + "/model.json", copy = dir + "/copy.json";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  StatusOr<LatencyPredictor> model = LatencyPredictor::Load(path);
  if (!model.ok()) return;
  Require(model->Save(copy).ok(), "a loaded model saves");
  Require(LatencyPredictor::Load(copy).ok(), "a saved model loads");
}

const std::vector<FuzzTarget>& AllFuzzTargets() {
  static const std::vector<FuzzTarget> targets = {
      {"autotvm", FuzzAutoTvm},
      {"ansor", FuzzAnsor},
      {"kernel_tuner", FuzzKernelTuner},
      {"jsonl", FuzzJsonLines},
      {"record_log", FuzzRecordLog},
      {"record_payload", FuzzRecordPayload},
      {"harness_output", FuzzHarnessOutput},
      {"space_json", FuzzSpaceJson},
      {"hardware_json", FuzzHardwareJson},
      {"latency_model", FuzzLatencyModel},
  };
  return targets;
}

}  // namespace sonar::fuzz
