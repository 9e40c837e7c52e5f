// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RecordStore, the crash-safe, append-only log of tuning records, and
// ReadRecordLog / ParseRecordLog for reading a log without opening it for writing.
//
// On disk, a log is a sequence of frames, one per record:
//   magic (4 bytes: A5 'S' 'N' 'R') | length (uint32 LE) | CRC-32 of payload (uint32 LE) |
//   payload (a serialized sonar.proto.Record, see measure/record.proto)
// Each Append writes whole frames with one write(2) call, so a killed process loses at most
// the record being written. A reader skips and counts a torn tail (a frame cut short by a
// kill) and any corrupt frame (bad CRC, bad length, unparsable payload), re-synchronizes on
// the next magic number and keeps reading. Opening a log for appending cuts a torn tail off
// (it holds no complete record), never anything else.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(RecordStore store, RecordStore::Open("tune.sonar", {}));
//   SONAR_RETURN_IF_ERROR(store.Append(record));
//   std::vector<Record> best = store.TopK(record.workload_key, 5);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/record.h"

namespace sonar {

enum class FsyncPolicy {
  kNever,        // write(2) per append: survives a killed process, not a power cut
  kEveryAppend,  // also fdatasync(2) after every append: survives a power cut, slower
  kOnClose,      // fdatasync(2) when the store is closed
};

struct RecordStoreOptions {
  // When to force records to stable storage. Appends are always written to the kernel at once
  // (no user-space buffering), so kNever already survives kill -9.
  FsyncPolicy fsync = FsyncPolicy::kNever;
  // Open without write access; Append then fails. Use for stats, dump and export.
  bool read_only = false;
  // Create the file when it does not exist (ignored when read_only).
  bool create_if_missing = true;
  Status Validate() const;
};

// What reading a log found.
struct RecordLogStats {
  int64_t records = 0;         // frames read successfully
  int64_t skipped_frames = 0;  // corrupt regions skipped (each counted once), torn tail included
  int64_t skipped_bytes = 0;   // bytes in those regions
  bool torn_tail = false;      // the log ended inside a frame
  int64_t valid_bytes = 0;     // offset just past the last good frame
};

// Parses the bytes of a record log. Never fails: bad frames are counted in *stats.
std::vector<Record> ParseRecordLog(std::string_view bytes, RecordLogStats* stats);
// Reads a record log from disk. Fails only when the file cannot be read.
StatusOr<std::vector<Record>> ReadRecordLog(const std::string& path, RecordLogStats* stats);
// Serializes one record into a frame (exposed for tests and fuzzers).
std::string EncodeRecordFrame(const Record& record);

// Summary of one workload in a store.
struct WorkloadSummary {
  uint64_t workload_key = 0;
  TaskIdentity task;       // of the first record seen
  int64_t records = 0;
  int64_t ok = 0;
  double best_seconds = 0;  // best RecordCost among ok records; +inf when none
};

// One summary per workload of `records`, in order of first appearance.
std::vector<WorkloadSummary> SummarizeWorkloads(const std::vector<Record>& records);
// The best ok record (lowest RecordCost) of each workload that has one, in order of first
// appearance.
std::vector<Record> BestPerWorkload(const std::vector<Record>& records);

// Thread safety: Append/AppendBatch are internally synchronised; the query methods read a
// snapshot of the records (those read at Open plus those appended through this object) and
// must not run concurrently with Append.
class RecordStore {
 public:
  // Opens (or creates) the log at `path` and reads every record in it.
  // Fails when the file cannot be opened, or does not exist and create_if_missing is false.
  static StatusOr<RecordStore> Open(const std::string& path, const RecordStoreOptions& options);

  RecordStore(RecordStore&&) noexcept;
  RecordStore& operator=(RecordStore&&) noexcept;
  ~RecordStore();

  // Appends one record and writes it to the file before returning.
  Status Append(const Record& record);
  // Appends many records with one write(2).
  Status AppendBatch(const std::vector<Record>& records);

  const std::vector<Record>& records() const;
  int64_t size() const { return static_cast<int64_t>(records().size()); }
  // Records of one workload, in log order.
  std::vector<Record> ForWorkload(uint64_t workload_key) const;
  // The k ok records of a workload with the lowest cost, best first (TVM GetTopK).
  std::vector<Record> TopK(uint64_t workload_key, int k) const;
  // One summary per workload, in order of first appearance.
  std::vector<WorkloadSummary> Workloads() const;
  // The best ok record of each workload that has one, in order of first appearance.
  std::vector<Record> BestPerWorkload() const;

  // What Open found while reading the existing log.
  const RecordLogStats& open_stats() const;
  int64_t num_skipped() const { return open_stats().skipped_frames; }
  const std::string& path() const;

 private:
  struct Impl;
  explicit RecordStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sonar
