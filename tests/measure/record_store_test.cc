// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/record_store.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::ReadFile;
using testing::SampleRecord;
using testing::ScratchDir;
using testing::WriteFile;

std::vector<Record> WriteSample(const std::string& path, int n) {
  StatusOr<RecordStore> store = RecordStore::Open(path, {});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  std::vector<Record> written;
  for (int i = 0; i < n; ++i) {
    written.push_back(SampleRecord(i));
    EXPECT_TRUE(store->Append(written.back()).ok());
  }
  return written;
}

TEST(RecordStoreOptions, DefaultsAreValid) { EXPECT_TRUE(RecordStoreOptions{}.Validate().ok()); }

TEST(RecordStore, RoundTripsEveryField) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> written = WriteSample(path, 20);
  StatusOr<RecordStore> store = RecordStore::Open(path, {.read_only = true});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->records(), written);
  EXPECT_EQ(store->num_skipped(), 0);
  EXPECT_FALSE(store->open_stats().torn_tail);
}

TEST(RecordStore, ReopeningAppendsAfterExistingRecords) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  WriteSample(path, 3);
  {
    StatusOr<RecordStore> store = RecordStore::Open(path, {});
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(store->size(), 3);
    ASSERT_TRUE(store->AppendBatch({SampleRecord(10), SampleRecord(11)}).ok());
    EXPECT_EQ(store->size(), 5);
  }
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = ReadRecordLog(path, &stats);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[3], SampleRecord(10));
}

TEST(RecordStore, MissingFileIsAnErrorWhenNotCreating) {
  ScratchDir dir;
  StatusOr<RecordStore> store =
      RecordStore::Open(dir.File("absent.sonar"), {.create_if_missing = false});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_NE(store.status().message().find("absent.sonar"), std::string::npos);
}

TEST(RecordStore, ReadOnlyStoreRefusesAppends) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  WriteSample(path, 1);
  StatusOr<RecordStore> store = RecordStore::Open(path, {.read_only = true});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->Append(SampleRecord(1)).code(), StatusCode::kFailedPrecondition);
}

TEST(RecordStore, TornTailAtEveryByteOfTheLastFrameLosesOnlyThatRecord) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> written = WriteSample(path, 6);
  const std::string full = ReadFile(path);
  const size_t last = EncodeRecordFrame(written.back()).size();
  const size_t prefix = full.size() - last;
  for (size_t cut = prefix; cut < full.size(); ++cut) {
    const std::string torn_path = dir.File("torn.sonar");
    WriteFile(torn_path, full.substr(0, cut));
    RecordLogStats stats;
    StatusOr<std::vector<Record>> got = ReadRecordLog(torn_path, &stats);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 5u) << "cut at " << cut;
    EXPECT_EQ(*got, std::vector<Record>(written.begin(), written.end() - 1));
    EXPECT_EQ(stats.torn_tail, cut > prefix) << "cut at " << cut;
    EXPECT_EQ(stats.skipped_frames, cut > prefix ? 1 : 0);
    // Reopening for append cuts the torn tail, and the next record reads back.
    {
      StatusOr<RecordStore> store = RecordStore::Open(torn_path, {});
      ASSERT_TRUE(store.ok());
      ASSERT_TRUE(store->Append(SampleRecord(99)).ok());
    }
    got = ReadRecordLog(torn_path, &stats);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 6u) << "cut at " << cut;
    EXPECT_EQ(got->back(), SampleRecord(99));
    EXPECT_EQ(stats.skipped_frames, 0);
  }
}

TEST(RecordStore, CorruptFrameInTheMiddleIsSkippedAndReadingContinues) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> written = WriteSample(path, 9);
  const std::string full = ReadFile(path);
  // Offsets of each frame.
  std::vector<size_t> starts;
  size_t at = RecordLogHeader().size();
  for (const Record& r : written) {
    starts.push_back(at);
    at += EncodeRecordFrame(r).size();
  }
  ASSERT_EQ(at, full.size());
  // Flip bytes at several places inside frame 4 (header and payload alike).
  for (size_t offset = starts[4]; offset < starts[5]; offset += 7) {
    std::string bad = full;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x5A);
    RecordLogStats stats;
    std::vector<Record> got = ParseRecordLog(bad, &stats);
    std::vector<Record> expected = written;
    expected.erase(expected.begin() + 4);
    ASSERT_EQ(got, expected) << "flip at " << offset - starts[4];
    EXPECT_EQ(stats.skipped_frames, 1);
    EXPECT_EQ(stats.skipped_bytes, static_cast<int64_t>(starts[5] - starts[4]));
    EXPECT_FALSE(stats.torn_tail);
  }
  // Garbage inserted between frames is skipped too.
  std::string with_garbage = full.substr(0, starts[2]) + "garbage\xA5SNR!!" + full.substr(starts[2]);
  RecordLogStats stats;
  EXPECT_EQ(ParseRecordLog(with_garbage, &stats), written);
  EXPECT_EQ(stats.skipped_frames, 1);
}

TEST(RecordStore, OpeningACorruptLogNeverCutsCompleteFrames) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> written = WriteSample(path, 4);
  std::string full = ReadFile(path);
  full[full.size() - 3] ^= 0x11;  // corrupt the last frame's payload, keep its length
  WriteFile(path, full);
  {
    StatusOr<RecordStore> store = RecordStore::Open(path, {});
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(store->size(), 3);
    EXPECT_FALSE(store->open_stats().torn_tail);
  }
  EXPECT_EQ(ReadFile(path).size(), full.size());  // the damaged bytes are still there
}

TEST(RecordStore, QueriesByWorkloadTopKAndBest) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> written = WriteSample(path, 30);
  StatusOr<RecordStore> store = RecordStore::Open(path, {.read_only = true});
  ASSERT_TRUE(store.ok());
  const uint64_t key = written[0].workload_key;
  std::vector<Record> mine = store->ForWorkload(key);
  EXPECT_EQ(mine.size(), 10u);
  for (const Record& r : mine) EXPECT_EQ(r.workload_key, key);

  std::vector<Record> top = store->TopK(key, 3);
  ASSERT_EQ(top.size(), 3u);
  double best_expected = INFINITY;
  for (const Record& r : mine) best_expected = std::min(best_expected, RecordCost(r));
  EXPECT_DOUBLE_EQ(RecordCost(top[0]), best_expected);
  EXPECT_LE(RecordCost(top[0]), RecordCost(top[1]));
  EXPECT_LE(RecordCost(top[1]), RecordCost(top[2]));
  for (const Record& r : top) EXPECT_TRUE(r.result.ok());
  EXPECT_EQ(store->TopK(key, 1000).size(), 8u);  // 2 of the 10 are compile errors

  std::vector<WorkloadSummary> w = store->Workloads();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].workload_key, key);
  EXPECT_EQ(w[0].records, 10);
  EXPECT_EQ(w[0].ok, 8);
  EXPECT_DOUBLE_EQ(w[0].best_seconds, best_expected);
  std::vector<Record> best = store->BestPerWorkload();
  ASSERT_EQ(best.size(), 3u);
  EXPECT_DOUBLE_EQ(RecordCost(best[0]), best_expected);
}

TEST(RecordStore, LargeCleanLogsDecodeInParallelAndDamagedOnesFallBack) {
  // 5000 frames take the parallel path; the same bytes with one damaged frame take the
  // sequential, resynchronizing one, and both agree on every record.
  std::vector<Record> written;
  std::string log;
  for (int i = 0; i < 5000; ++i) {
    written.push_back(SampleRecord(i));
    log += EncodeRecordFrame(written.back());
  }
  RecordLogStats stats;
  EXPECT_EQ(ParseRecordLog(log, &stats), written);
  EXPECT_EQ(stats.records, 5000);
  EXPECT_EQ(stats.skipped_frames, 0);
  EXPECT_EQ(stats.valid_bytes, static_cast<int64_t>(log.size()));
  // Damage the payload of frame 2500 (its CRC no longer matches).
  size_t at = 0;
  for (int i = 0; i < 2500; ++i) at += EncodeRecordFrame(written[static_cast<size_t>(i)]).size();
  log[at + 20] = static_cast<char>(log[at + 20] ^ 0x40);
  std::vector<Record> expected = written;
  expected.erase(expected.begin() + 2500);
  EXPECT_EQ(ParseRecordLog(log, &stats), expected);
  EXPECT_EQ(stats.skipped_frames, 1);
  // A torn tail on a large log.
  std::string torn = log.substr(0, log.size() - 5);
  ParseRecordLog(torn, &stats);
  EXPECT_TRUE(stats.torn_tail);
  EXPECT_EQ(stats.records, 4998);
}

TEST(MeasureResult, MedianAndMean) {
  MeasureResult r;
  r.status = MeasureStatus::kOk;
  r.run_seconds = {3, 1, 2, 10};
  EXPECT_DOUBLE_EQ(r.median_seconds(), 2.5);
  EXPECT_DOUBLE_EQ(r.mean_seconds(), 4);
  r.run_seconds = {5, 1, 3};
  EXPECT_DOUBLE_EQ(r.median_seconds(), 3);
  Record failed;
  failed.result.status = MeasureStatus::kCrashed;
  EXPECT_TRUE(std::isinf(RecordCost(failed)));
}

}  // namespace
}  // namespace sonar
