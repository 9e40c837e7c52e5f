// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/record_store.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

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

// Encodes `records` and appends them with one Append; what it did.
AppendCounts AppendAll(RecordLogWriter& writer, const std::vector<Record>& records,
                       bool elide_tasks = false) {
  FrameBatch batch;
  EncodeFrames(records.data(), records.size(), &batch, elide_tasks);
  AppendCounts counts;
  EXPECT_TRUE(writer.Append(batch, &counts).ok());
  return counts;
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
  std::string with_garbage =
      full.substr(0, starts[2]) + "garbage\xA5SNR!!" + full.substr(starts[2]);
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

TEST(RecordFrames, FastEncoderWritesProtobufsBytes) {
  // Every field set, then the corners of proto3's rules: zero and negative numbers, -0.0 (its
  // bits are not zero, so it is written), empty strings in a repeated field, an index of 0 (set,
  // so written), large varints.
  std::vector<Record> records;
  for (int i = 0; i < 40; ++i) records.push_back(SampleRecord(i));
  Record r = SampleRecord(7);
  r.config.values.push_back(KnobValue{.name = "", .kind = KnobKind::kChoice, .strings = {"", "x"}});
  r.config.values.push_back(KnobValue{
      .name = "neg", .kind = KnobKind::kSplit, .ints = {-1, -(int64_t{1} << 62), 0, 1 << 30}});
  r.config.index = 0;
  r.task.template_version = -3;
  r.result.source_error_code = -1;
  r.result.compile_seconds = -0.0;
  r.result.all_cost_seconds = 0.0;
  r.result.run_seconds = {0.0, -0.0, 1e300};
  r.trial = std::numeric_limits<int32_t>::min();
  r.workload_key = ~uint64_t{0};
  r.tool_version = std::string(300, 'v');  // a two-byte length
  records.push_back(r);
  Record empty;  // every field at its default
  empty.config.index.reset();
  records.push_back(empty);
  for (const Record& x : records) {
    EXPECT_EQ(EncodeRecordFrame(x), internal::EncodeRecordFrameWithProtobuf(x));
    RecordLogStats stats;
    std::vector<Record> back = ParseRecordLog(EncodeRecordFrame(x), &stats);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0], x);
  }
  // A batch is the same frames back to back, each with a hash.
  FrameBatch batch;
  EncodeFrames(records.data(), records.size(), &batch);
  std::string expected;
  for (const Record& x : records) expected += EncodeRecordFrame(x);
  EXPECT_EQ(batch.bytes, expected);
  EXPECT_EQ(batch.size(), records.size());
  EXPECT_EQ(batch.hashes.size(), records.size());
}

TEST(RecordFrames, FastDecoderAgreesWithProtobufOnValidAndMutatedPayloads) {
  // Payloads of records with every field set, mutated at random (bytes flipped, set, inserted,
  // deleted, cut, a piece repeated): the two decoders refuse the same payloads and read the
  // same records from the rest (compared through their encodings, so NaNs compare equal).
  std::vector<std::string> payloads;
  for (int i = 0; i < 20; ++i) {
    Record r = SampleRecord(i);
    if (i % 4 == 1) r.config.values[2].strings.push_back("second");
    payloads.push_back(EncodeRecordFrame(r).substr(12));
  }
  std::mt19937_64 rng(7);
  int both_ok = 0, both_refused = 0;
  for (int trial = 0; trial < 60000; ++trial) {
    std::string p = payloads[rng() % payloads.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !p.empty(); ++e) {
      const size_t at = rng() % p.size();
      switch (rng() % 6) {
        case 0: p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8))); break;
        case 1: p[at] = static_cast<char>(rng()); break;
        case 2: p.insert(at, 1, static_cast<char>(rng())); break;
        case 3: p.erase(at, 1 + rng() % 4); break;
        case 4: p.resize(at); break;
        case 5: p.insert(at, p.substr(rng() % p.size(), 1 + rng() % 16)); break;
      }
    }
    Record fast, reference;
    const bool fast_ok = DecodeRecordPayload(p, &fast);
    const bool reference_ok = internal::DecodeRecordPayloadWithProtobuf(p, &reference);
    ASSERT_EQ(fast_ok, reference_ok) << "trial " << trial;
    if (fast_ok) {
      ASSERT_EQ(EncodeRecordFrame(fast), EncodeRecordFrame(reference)) << "trial " << trial;
      ++both_ok;
    } else {
      ++both_refused;
    }
  }
  // Both outcomes were exercised many times.
  EXPECT_GT(both_ok, 5000);
  EXPECT_GT(both_refused, 5000);
}

TEST(RecordLogWriter, NewLogsOpenWithTheHeaderAndHeaderlessLogsStillReadAndAppend) {
  ScratchDir dir;
  const std::string path = dir.File("new.sonar");
  WriteSample(path, 2);
  const std::string bytes = ReadFile(path);
  ASSERT_EQ(bytes.substr(0, 16), RecordLogHeader());
  RecordLogStats stats;
  EXPECT_EQ(ParseRecordLog(bytes, &stats).size(), 2u);
  EXPECT_TRUE(stats.has_header);
  // A log written before the header existed: frames from the first byte.
  const std::string old_path = dir.File("old.sonar");
  WriteFile(old_path, EncodeRecordFrame(SampleRecord(0)) + EncodeRecordFrame(SampleRecord(1)));
  {
    StatusOr<RecordStore> store = RecordStore::Open(old_path, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(store->size(), 2);
    ASSERT_TRUE(store->Append(SampleRecord(2)).ok());
  }
  StatusOr<std::vector<Record>> all = ReadRecordLog(old_path, &stats);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<Record>{SampleRecord(0), SampleRecord(1), SampleRecord(2)}));
  EXPECT_EQ(stats.skipped_frames, 0);
  EXPECT_FALSE(stats.has_header);  // no header is put in the middle of an old log
  // A header from a newer format is refused, by readers and writers alike.
  std::string newer = RecordLogHeader();
  newer[4] = 3;
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(newer.data()), 12));
  for (int i = 0; i < 4; ++i) newer[12 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  const std::string newer_path = dir.File("newer.sonar");
  WriteFile(newer_path, newer + EncodeRecordFrame(SampleRecord(0)));
  StatusOr<std::vector<Record>> read = ReadRecordLog(newer_path, &stats);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("newer Sonar"), std::string::npos);
  EXPECT_FALSE(RecordStore::Open(newer_path, {}).ok());
  EXPECT_EQ(ReadFile(newer_path), newer + EncodeRecordFrame(SampleRecord(0)));
}

TEST(RecordLogWriter, ATornHeaderIsCutAndWrittenAgain) {
  ScratchDir dir;
  const std::string path = dir.File("torn.sonar");
  for (size_t cut = 1; cut < 16; ++cut) {
    WriteFile(path, RecordLogHeader().substr(0, cut));
    RecordLogStats stats;
    ASSERT_TRUE(ReadRecordLog(path, &stats).ok());
    EXPECT_TRUE(stats.torn_tail) << cut;
    {
      StatusOr<RecordStore> store = RecordStore::Open(path, {});
      ASSERT_TRUE(store.ok()) << cut << ": " << store.status().ToString();
      ASSERT_TRUE(store->Append(SampleRecord(1)).ok());
    }
    EXPECT_EQ(ReadFile(path), RecordLogHeader() + EncodeRecordFrame(SampleRecord(1))) << cut;
  }
}

TEST(RecordLogWriter, RefusesFilesThatAreNotLogsAndLeavesThemByteForByte) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> files = {
      {R"({"input": ["llvm", "dense", [[1, 2]], {}], "config": {"index": 1, "code_hash": null, "entity": []}, "result": [[0.5], 0, 1.0, 2.0], "version": 0.2, "tvm_version": null})"
       "\n",
       "AutoTVM log"},
      {"# Sonar\n\nSome notes.\n", "text file"},
      {std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8), "gzip"},
      {std::string("\x7f"
                   "ELF\x02\x01\x01\x00",
                   8),
       "binary"},
  };
  for (const auto& [bytes, looks_like] : files) {
    const std::string path = dir.File("user_file");
    WriteFile(path, bytes);
    StatusOr<RecordLogWriter> writer = RecordLogWriter::Open(path, {});
    ASSERT_FALSE(writer.ok()) << looks_like;
    EXPECT_EQ(writer.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(writer.status().message().find(path), std::string::npos);
    EXPECT_NE(writer.status().message().find(looks_like), std::string::npos)
        << writer.status().message();
    EXPECT_FALSE(RecordStore::Open(path, {}).ok());
    EXPECT_EQ(ReadFile(path), bytes) << looks_like;
  }
}

TEST(RecordLogWriter, ANewLogThatGetsNoRecordIsRemovedAnExistingEmptyFileIsKept) {
  ScratchDir dir;
  const std::string path = dir.File("never.sonar");
  { ASSERT_TRUE(RecordLogWriter::Open(path, {}).ok()); }
  EXPECT_FALSE(std::filesystem::exists(path));
  const std::string empty = dir.File("empty.sonar");
  WriteFile(empty, "");
  { ASSERT_TRUE(RecordLogWriter::Open(empty, {}).ok()); }
  ASSERT_TRUE(std::filesystem::exists(empty));
  EXPECT_EQ(ReadFile(empty), "");
}

TEST(RecordLogWriter, OneWriterAtATime) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  StatusOr<RecordStore> first = RecordStore::Open(path, {});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->Append(SampleRecord(0)).ok());
  StatusOr<RecordLogWriter> second = RecordLogWriter::Open(path, {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another process"), std::string::npos);
  EXPECT_TRUE(RecordStore::Open(path, {.read_only = true}).ok());  // readers are welcome
}

TEST(RecordLogWriter, SkipsRecordsTheLogHoldsAndKeepsEveryDistinctOne) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> records;
  for (int i = 0; i < 300; ++i) records.push_back(SampleRecord(i));
  // Records that differ from another only in the timestamp, or only in one run time, are not
  // duplicates.
  Record later = records[0];
  later.timestamp_unix_s += 1e-6;
  Record slower = records[1];
  slower.result.run_seconds[2] = std::nextafter(slower.result.run_seconds[2], 1.0);
  RecordLogWriterOptions options;
  options.skip_duplicates = true;
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, options);
    ASSERT_TRUE(w.ok());
    // Within one batch: record 5 twice.
    std::vector<Record> first(records.begin(), records.begin() + 100);
    first.push_back(records[5]);
    AppendCounts counts = AppendAll(*w, first);
    EXPECT_EQ(counts.appended, 100);
    EXPECT_EQ(counts.duplicates, 1);
    // Across batches: 50 old ones, 200 new ones, the two near-copies.
    std::vector<Record> second(records.begin() + 50, records.end());
    second.push_back(later);
    second.push_back(slower);
    counts = AppendAll(*w, second);
    EXPECT_EQ(counts.appended, 202);
    EXPECT_EQ(counts.duplicates, 50);
    EXPECT_EQ(w->records(), 302);
  }
  // Reopened: the index is rebuilt from the file.
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, options);
    ASSERT_TRUE(w.ok());
    const AppendCounts counts = AppendAll(*w, records);
    EXPECT_EQ(counts.appended, 0);
    EXPECT_EQ(counts.duplicates, 300);
  }
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = ReadRecordLog(path, &stats);
  ASSERT_TRUE(all.ok());
  std::vector<Record> expected = records;
  expected.push_back(later);
  expected.push_back(slower);
  EXPECT_EQ(*all, expected);
  // Without skip_duplicates everything is appended.
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, {});
    ASSERT_TRUE(w.ok());
    const AppendCounts counts =
        AppendAll(*w, std::vector<Record>(records.begin(), records.begin() + 10));
    EXPECT_EQ(counts.appended, 10);
    EXPECT_EQ(w->records(), 312);
  }
}

// Format 2: a frame whose task an earlier frame of its append holds leaves the task out.
TEST(RecordLogWriter, FramesThatLeaveTheirTaskOutReadBackWhole) {
  ScratchDir dir;
  std::vector<Record> records;
  for (int i = 0; i < 60; ++i) records.push_back(SampleRecord(i));
  const std::string plain = dir.File("plain.sonar"), elided = dir.File("elided.sonar");
  for (const auto& [path, elide] : {std::pair{plain, false}, std::pair{elided, true}}) {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, {});
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(w->can_elide_tasks());
    AppendAll(*w, std::vector<Record>(records.begin(), records.begin() + 30), elide);
    AppendAll(*w, std::vector<Record>(records.begin() + 30, records.end()), elide);
  }
  // Three workloads: each append holds each task once, in its first frame of that workload.
  EXPECT_EQ(ReadFile(plain).substr(0, 16), RecordLogHeader(1));
  EXPECT_EQ(ReadFile(elided).substr(0, 16), RecordLogHeader(2));
  EXPECT_LT(ReadFile(elided).size(), ReadFile(plain).size());
  RecordLogStats stats;
  for (const std::string& path : {plain, elided}) {
    StatusOr<std::vector<Record>> all = ReadRecordLog(path, &stats);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, records) << path;
    EXPECT_EQ(stats.skipped_frames, 0);
  }
  EXPECT_EQ(stats.format_version, 2u);
  // Streamed in windows smaller than the log, and in memory: the same records.
  std::vector<Record> streamed;
  ASSERT_TRUE(ForEachRecord(
                  elided, [&](Record&& r) { streamed.push_back(r); }, &stats, 1)
                  .ok());
  EXPECT_EQ(streamed, records);
  EXPECT_EQ(ParseRecordLog(ReadFile(elided), &stats), records);
}

TEST(RecordLogWriter, ALostFrameLosesTheTasksOnlyOfFramesThatCannotFindThemEarlier) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  // Append 1 holds workload 0's task; append 2 holds workloads 0 and 1 again, then frames
  // that leave them out.
  std::vector<Record> first = {SampleRecord(0)};
  std::vector<Record> second;
  for (int i = 4; i < 4 + 8; ++i) second.push_back(SampleRecord(i, 2));
  ASSERT_EQ(second[0].workload_key, first[0].workload_key);
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, {});
    ASSERT_TRUE(w.ok());
    AppendAll(*w, first, true);
    AppendAll(*w, second, true);
  }
  std::string bytes = ReadFile(path);
  // Break the first two frames of the second append (the two that hold their tasks).
  const size_t frame1 = 16 + EncodeRecordFrame(first[0]).size();
  const size_t frame2 = frame1 + EncodeRecordFrame(second[0]).size();
  bytes[frame1 + 20] ^= 0x55;
  bytes[frame2 + 20] ^= 0x55;
  RecordLogStats stats;
  const std::vector<Record> read = ParseRecordLog(bytes, &stats);
  // Workload 0's frames find its task in the first append; workload 1's have none to find.
  std::vector<Record> expected = first;
  for (size_t i = 2; i < second.size(); ++i) {
    if (second[i].workload_key == first[0].workload_key) expected.push_back(second[i]);
  }
  EXPECT_EQ(read, expected);
  EXPECT_EQ(stats.unresolved_tasks, 3);
  EXPECT_EQ(stats.skipped_frames, 1 + 3);  // one corrupt region (two frames) and three frames
}

TEST(RecordLogWriter, TaskElisionRaisesAFormat1HeaderAndNeverTouchesAHeaderlessLog) {
  ScratchDir dir;
  std::vector<Record> records;
  for (int i = 0; i < 20; ++i) records.push_back(SampleRecord(i));
  // A format-1 log (frames that hold their tasks) takes elided frames and says format 2.
  const std::string v1 = dir.File("v1.sonar");
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(v1, {});
    ASSERT_TRUE(w.ok());
    AppendAll(*w, std::vector<Record>(records.begin(), records.begin() + 10));
  }
  ASSERT_EQ(ReadFile(v1).substr(0, 16), RecordLogHeader(1));
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(v1, {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->can_elide_tasks());
    AppendAll(*w, std::vector<Record>(records.begin() + 10, records.end()), true);
  }
  EXPECT_EQ(ReadFile(v1).substr(0, 16), RecordLogHeader(2));
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = ReadRecordLog(v1, &stats);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, records);
  // A log written before the header existed starts with a frame: it gets no header, and so
  // no frame that leaves its task out.
  const std::string old = dir.File("old.sonar");
  WriteFile(old, EncodeRecordFrame(records[0]));
  StatusOr<RecordLogWriter> w = RecordLogWriter::Open(old, {});
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->can_elide_tasks());
  FrameBatch batch;
  EncodeFrames(records.data(), records.size(), &batch, true);
  EXPECT_EQ(w->Append(batch).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(old), EncodeRecordFrame(records[0]));
}

// The duplicate index knows a record whether its frame holds its task or leaves it out.
TEST(RecordLogWriter, DuplicatesAreFoundAcrossFramesThatHoldOrLeaveOutTheirTask) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  std::vector<Record> records;
  for (int i = 0; i < 90; ++i) records.push_back(SampleRecord(i));
  RecordLogWriterOptions options;
  options.skip_duplicates = true;
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, options);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(AppendAll(*w, records, false).appended, 90);
    // The same records in other batches, now eliding: every one is known, also within the
    // batch (record 7 twice).
    std::vector<Record> again(records.begin() + 5, records.end());
    again.push_back(records[7]);
    const AppendCounts counts = AppendAll(*w, again, true);
    EXPECT_EQ(counts.appended, 0);
    EXPECT_EQ(counts.duplicates, 86);
  }
  {
    StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, options);
    ASSERT_TRUE(w.ok());
    Record other = records[3];
    other.timestamp_unix_s += 1;
    std::vector<Record> batch = {records[1], other, records[2], records[4]};
    const AppendCounts counts = AppendAll(*w, batch, true);
    EXPECT_EQ(counts.appended, 1);
    EXPECT_EQ(counts.duplicates, 3);
    records.push_back(other);
  }
  RecordLogStats stats;
  StatusOr<std::vector<Record>> all = ReadRecordLog(path, &stats);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, records);
}

TEST(RecordLogWriter, AFullDuplicateIndexBoundsMemoryAndNeverDropsADistinctRecord) {
  // 64 KB of index: 4,096 slots, full at 3,072 records. Records past that still go in, are
  // counted as unchecked, and a copy of one of them is appended rather than recognised; the
  // ones in the index are still recognised.
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  RecordLogWriterOptions options;
  options.skip_duplicates = true;
  options.max_index_bytes = 64u << 10;
  std::vector<Record> records;
  for (int i = 0; i < 4000; ++i) records.push_back(SampleRecord(i));
  StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, options);
  ASSERT_TRUE(w.ok());
  AppendCounts counts = AppendAll(*w, records);
  EXPECT_EQ(counts.appended, 4000);
  EXPECT_EQ(counts.unchecked, 4000 - 3072);
  EXPECT_EQ(w->unchecked(), 4000 - 3072);
  counts = AppendAll(*w, {records[10], records[3500]});
  EXPECT_EQ(counts.duplicates, 1);  // records[10] is in the index
  EXPECT_EQ(counts.appended, 1);    // records[3500] is not: appended again, nothing dropped
  options.max_index_bytes = 1000;
  EXPECT_FALSE(RecordLogWriter::Open(dir.File("x.sonar"), options).ok());
}

TEST(RecordLogWriter, TruncateToUndoesAppends) {
  ScratchDir dir;
  const std::string path = dir.File("log.sonar");
  WriteSample(path, 3);
  const std::string before = ReadFile(path);
  StatusOr<RecordLogWriter> w = RecordLogWriter::Open(path, {.skip_duplicates = true});
  ASSERT_TRUE(w.ok());
  const RecordLogWriter::Mark mark = w->mark();
  FrameBatch batch;
  std::vector<Record> more = {SampleRecord(10), SampleRecord(11)};
  EncodeFrames(more.data(), more.size(), &batch);
  ASSERT_TRUE(w->Append(batch).ok());
  EXPECT_EQ(w->records(), 5);
  ASSERT_TRUE(w->TruncateTo(mark).ok());
  EXPECT_EQ(w->records(), 3);
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_EQ(w->Append(batch).code(), StatusCode::kFailedPrecondition);  // the index is stale
}

TEST(RecordLog, StreamedReadsAgreeWithInMemoryOnesAcrossWindows) {
  // About 20 MB: several 8 MB windows, a frame larger than a window, and damage that straddles
  // a window's end; the streamed reader and the in-memory one agree on records and counts.
  ScratchDir dir;
  std::string log = RecordLogHeader();
  std::vector<Record> written;
  for (int i = 0; i < 12000; ++i) {
    Record r = SampleRecord(i);
    r.result.error_msg = std::string(1500, static_cast<char>('a' + i % 26));
    if (i == 5000) r.result.error_msg = std::string(9u << 20, 'x');
    written.push_back(r);
    log += EncodeRecordFrame(r);
  }
  const size_t window = 8u << 20;
  // Garbage over the first window's end.
  log.replace(window - 40, 80, std::string(80, '\x5A'));
  const std::string path = dir.File("big.sonar");
  WriteFile(path, log);
  RecordLogStats memory_stats, file_stats;
  const std::vector<Record> in_memory = ParseRecordLog(log, &memory_stats);
  std::vector<Record> streamed;
  ASSERT_TRUE(ForEachRecord(
                  path, [&](Record&& r) { streamed.push_back(std::move(r)); }, &file_stats)
                  .ok());
  EXPECT_EQ(streamed, in_memory);
  EXPECT_EQ(file_stats.records, memory_stats.records);
  EXPECT_EQ(file_stats.skipped_frames, memory_stats.skipped_frames);
  EXPECT_EQ(file_stats.skipped_bytes, memory_stats.skipped_bytes);
  EXPECT_GE(file_stats.skipped_frames, 1);
  EXPECT_LE(file_stats.skipped_frames, 2);
  EXPECT_GE(static_cast<int64_t>(streamed.size()), 12000 - 2);
  EXPECT_TRUE(std::any_of(streamed.begin(), streamed.end(), [](const Record& r) {
    return r.result.error_msg.size() == (9u << 20);  // the frame larger than a window
  }));
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
