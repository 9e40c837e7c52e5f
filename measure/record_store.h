// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the record log on disk and the ways to read and write it.
//   - EncodeRecordFrame / EncodeFrames: records as frames (FrameBatch: frames plus a content
//     hash of each, encoded on any thread, appended later).
//   - ParseRecordLog / ReadRecordLog / ForEachRecord: reading, never failing on bad content;
//     ForEachRecord streams in bounded memory.
//   - RecordLogWriter: appends frames to a log, in bounded memory, optionally skipping records
//     the log already holds (what `sonar import` uses).
//   - RecordStore: a writer plus every record of the log in memory (what `sonar tune` uses).
//
// On disk, a log is a 16-byte header followed by frames, one per record:
//   header: magic A5 'S' 'N' 'L' | format version (uint32 LE, 1 or 2) | flags (uint32 LE, 0) |
//           CRC-32 of the 12 bytes before it (uint32 LE)
//   frame:  magic A5 'S' 'N' 'R' | length (uint32 LE) | CRC-32 of payload (uint32 LE) |
//           payload (a serialized sonar.proto.Record, see measure/record.proto)
// In a format-2 log a frame may leave its task out for the CRC of a task an earlier frame of
// the same append holds (EncodeFrames, elide_tasks); readers put the task back.
// Logs written before the header existed start with a frame and still read and append. A
// writer refuses, leaving the file as it was, any non-empty file that does not start like a
// log (an AutoTVM log, a README): see DescribeNonRecordLog.
// Each append is one write(2) of whole frames, so a killed process loses at most the frame
// being written. A reader skips and counts a torn tail (a frame cut short by a kill) and any
// corrupt frame (bad CRC, bad length, unparsable payload), re-synchronizes on the next magic
// number and keeps reading. Opening a log for writing cuts a torn tail off (it holds no
// complete record), never anything else. One writer at a time: a writer holds an exclusive
// flock(2) on the log while it is open.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(RecordStore store, RecordStore::Open("tune.sonar", {}));
//   SONAR_RETURN_IF_ERROR(store.Append(record));
//   std::vector<Record> best = store.TopK(record.workload_key, 5);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "measure/record.h"

namespace sonar {

enum class FsyncPolicy {
  kNever,        // write(2) per append: survives a killed process, not a power cut
  kEveryAppend,  // also fdatasync(2) after every append: survives a power cut, slower
  kOnClose,      // fdatasync(2) when the log is closed
};

// ------------------------------------------------------------------------------------ frames

// The 16 bytes that open a log: format 1 when every frame holds its whole record, 2 when frames
// may leave their task out (EncodeFrames with elide_tasks). Older Sonars refuse format 2.
std::string RecordLogHeader(uint32_t version = 1);

// Serializes one record into a frame (exposed for tests and fuzzers).
std::string EncodeRecordFrame(const Record& record);

// Frames of many records, each with a hash of its payload, ready for RecordLogWriter::Append.
// Value type; reuse one batch to avoid allocations.
struct FrameBatch {
  std::string bytes;             // whole frames, back to back
  std::vector<uint32_t> ends;    // end of each frame in `bytes`
  std::vector<uint64_t> hashes;  // hash of each frame's record (duplicate detection)
  bool elided = false;           // some frame leaves its task out (the log needs format 2)
  // (workload key, task CRC) of the tasks the batch's frames hold (EncodeFrames' bookkeeping).
  std::vector<std::pair<uint64_t, uint32_t>> tasks_held;
  size_t size() const { return ends.size(); }
  void Clear() {
    bytes.clear();
    ends.clear();
    hashes.clear();
    elided = false;
    tasks_held.clear();
  }
};

// Decodes one frame's payload into *record, reusing its storage. False when the bytes are not
// a Record (anything Protobuf would refuse, or an enum value outside Sonar's). Thread-safe.
bool DecodeRecordPayload(std::string_view payload, Record* record);

namespace internal {
// Through the Protobuf message: the references EncodeRecordFrame and DecodeRecordPayload are
// tested against.
std::string EncodeRecordFrameWithProtobuf(const Record& record);
bool DecodeRecordPayloadWithProtobuf(std::string_view payload, Record* record);
}  // namespace internal

// Appends the frames of records[0, n) to *batch. The frames are byte for byte those of
// EncodeRecordFrame, except that with elide_tasks a frame whose task an earlier frame of the
// batch already holds (same workload key and task) leaves the task out: it holds the CRC-32 of
// the task's bytes instead (Record field 11), and readers take the task from that earlier
// frame. A real AutoTVM history's log is then about a third of its size. Only for a writer
// whose can_elide_tasks() is true. Thread safety: safe to call concurrently with different
// batches.
void EncodeFrames(const Record* records, size_t n, FrameBatch* batch, bool elide_tasks = false);

// ----------------------------------------------------------------------------------- reading

// What reading a log found.
struct RecordLogStats {
  int64_t records = 0;           // frames read successfully
  int64_t skipped_frames = 0;    // corrupt regions skipped (each counted once), torn tail included
  int64_t skipped_bytes = 0;     // bytes in those regions
  bool torn_tail = false;        // the log ended inside a frame (or inside the header)
  int64_t valid_bytes = 0;       // offset just past the header or the last good frame
  bool has_header = false;       // the log opens with the header (written since format 1)
  uint32_t format_version = 0;   // the header's format version (0: no header)
  int64_t unresolved_tasks = 0;  // frames skipped: they leave their task out and no earlier
                                 // frame holds it (counted in skipped_frames too)
};

// True when `head`, the first bytes of a file (at least 16, or the whole file), can open a
// record log: empty, the header, a frame, or a piece of either cut short.
bool LooksLikeRecordLog(std::string_view head);
// "" when LooksLikeRecordLog(head); else what the content looks like and what to do with it,
// e.g. "looks like an AutoTVM log: import it with `sonar import`".
std::string DescribeNonRecordLog(std::string_view head);

// Parses the bytes of a record log. Never fails: bad frames are counted in *stats.
std::vector<Record> ParseRecordLog(std::string_view bytes, RecordLogStats* stats);
// Reads a record log from disk into memory. Fails only when the file cannot be read or was
// written by a newer format version.
StatusOr<std::vector<Record>> ReadRecordLog(const std::string& path, RecordLogStats* stats);
// Calls fn with each record of the log at `path`, in log order, reading the file in windows of
// 8 MB (or one frame, when a frame is larger) and decoding each window on up to `threads`
// threads (0: one per core); memory stays bounded by the window whatever the log's size. fn is
// called on the calling thread. Fails as ReadRecordLog does.
Status ForEachRecord(const std::string& path, const std::function<void(Record&&)>& fn,
                     RecordLogStats* stats, int threads = 0);

// ----------------------------------------------------------------------------------- writing

struct RecordLogWriterOptions {
  // When to force records to stable storage. Appends are always written to the kernel at once
  // (no user-space buffering), so kNever already survives kill -9.
  FsyncPolicy fsync = FsyncPolicy::kNever;
  // Create the file when it does not exist. A writer that created the file and closes with no
  // record in it removes it again, so a failed command leaves no new empty log behind.
  bool create_if_missing = true;
  // Leave out of every Append the records that the log already holds, byte for byte the same
  // frame (same task, config, result, timestamp and every other field), counting them. Open
  // then hashes every frame of the log into an index of 16-byte slots at a load of at most 3/4
  // (21-43 bytes a record: 64 MB of slots for 3 million records). A hash match is confirmed by
  // comparing the frames' bytes, so no distinct record is ever left out.
  bool skip_duplicates = false;
  // The most memory the duplicate index may take, in bytes (at least 64 KB). Once it is full
  // (at 3/4 of max_index_bytes / 16 records: 6.3 million at the default), further frames are
  // still checked against the index but no longer go into it, and are counted as unchecked
  // (AppendCounts::unchecked): memory stays bounded, and a duplicate of an unchecked record is
  // appended, never a distinct record dropped. Raise it to check larger logs completely.
  size_t max_index_bytes = size_t{128} << 20;
  Status Validate() const;
};

// What one Append did.
struct AppendCounts {
  int64_t appended = 0;    // frames written
  int64_t duplicates = 0;  // frames left out as already in the log (skip_duplicates only)
  int64_t unchecked = 0;   // frames written that the full duplicate index could not take
};

// Appends frames to a record log.
// Thread safety: thread-compatible (one thread at a time); RecordStore adds a lock.
class RecordLogWriter {
 public:
  // Opens (or creates) the log at `path` for appending: refuses a file that is not a record
  // log (FailedPrecondition, the file untouched), one that another process is writing
  // (FailedPrecondition), and a missing file unless create_if_missing (NotFound). When
  // `existing` is set it is called with every record already in the log, in order.
  static StatusOr<RecordLogWriter> Open(const std::string& path,
                                        const RecordLogWriterOptions& options,
                                        const std::function<void(Record&&)>& existing = nullptr);
  RecordLogWriter(RecordLogWriter&&) noexcept;
  RecordLogWriter& operator=(RecordLogWriter&&) noexcept;
  ~RecordLogWriter();

  // Appends the batch's frames with one write(2) (none when every frame is a duplicate).
  Status Append(const FrameBatch& batch, AppendCounts* counts = nullptr);
  // Whether frames appended to this log may leave their task out (EncodeFrames' elide_tasks):
  // true unless the log starts with a frame (written before the header existed). An Append of
  // such frames raises the log's header to format 2 (older Sonars then refuse the log).
  bool can_elide_tasks() const;
  // A point in the log to come back to with TruncateTo.
  struct Mark {
    int64_t size_bytes = 0;
    int64_t records = 0;
  };
  Mark mark() const;
  // Cuts the log back to `mark` (one mark() returned earlier), dropping every frame this writer
  // appended since. The duplicate index then no longer holds, so Append fails after it: use it
  // to undo a failed import just before giving up.
  Status TruncateTo(const Mark& mark);
  // The log's size in bytes.
  int64_t size_bytes() const;
  // Frames in the log: read at Open plus appended since.
  int64_t records() const;
  // Frames of the log (read at Open or appended) that a full duplicate index could not take:
  // a later duplicate of one of them is not recognised. 0 unless max_index_bytes was reached.
  int64_t unchecked() const;
  // What Open found while reading the existing log.
  const RecordLogStats& open_stats() const;
  const std::string& path() const;

 private:
  struct Impl;
  explicit RecordLogWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ------------------------------------------------------------------------------- RecordStore

struct RecordStoreOptions {
  // See RecordLogWriterOptions::fsync.
  FsyncPolicy fsync = FsyncPolicy::kNever;
  // Open without write access; Append then fails. Use for stats, dump and export.
  bool read_only = false;
  // Create the file when it does not exist (ignored when read_only); see
  // RecordLogWriterOptions::create_if_missing.
  bool create_if_missing = true;
  Status Validate() const;
};

// Summary of one workload in a store.
struct WorkloadSummary {
  uint64_t workload_key = 0;
  TaskIdentity task;  // of the first record seen
  int64_t records = 0;
  int64_t ok = 0;
  double best_seconds = 0;  // best RecordCost among ok records; +inf when none
};

// Summaries of workloads, built one record at a time (for streamed reads).
class WorkloadSummarizer {
 public:
  void Add(const Record& record);
  // One summary per workload, in order of first appearance.
  const std::vector<WorkloadSummary>& summaries() const { return summaries_; }

 private:
  std::vector<WorkloadSummary> summaries_;
  std::unordered_map<uint64_t, size_t> index_;  // workload key -> position in summaries_
};

// The best ok record of each workload, built one record at a time.
class BestRecordKeeper {
 public:
  void Add(const Record& record);
  // The best ok record (lowest RecordCost) of each workload that has one, in order of first
  // appearance.
  std::vector<Record> Best() const;

 private:
  std::vector<Record> best_;
  std::unordered_map<uint64_t, size_t> index_;  // workload key -> position in best_
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
  // Opens (or creates) the log at `path` and reads every record in it. Fails as
  // RecordLogWriter::Open does (read_only: only when the file cannot be read).
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
