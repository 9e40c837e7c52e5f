// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Reading history files (mapped, or gunzipped in blocks) and the import pipeline that parses
// them on several threads and hands the records on in file order; the public import functions
// of measure/history_io.h that run it.
#include "measure/history/internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "measure/record_store.h"
#include "space/task.h"

namespace sonar {
namespace history_internal {
namespace {

// ---------------------------------------------------------------------------------------------
// Reading files.

// A plain history file, mapped read-only: no copy, and its pages are faulted in by the threads
// that parse them (reading 500 MB into fresh memory costs about as much as parsing it on one
// core). Release(upto) gives the pages before `upto` back as the import moves past them, so the
// resident memory stays bounded (mapped pages that were read count as resident). Bytes past the
// end of text() can be read up to readable_end(): simdjson reads SIMDJSON_PADDING bytes past a
// document, and the line readers copy a line that lacks them. A mapped file that another
// process truncates while it is read ends this process with SIGBUS, as with any mapped read;
// history logs are appended to, not truncated.
// Thread safety: Map once; then text() may be read by any thread, Release by one at a time.
class HistoryText {
 public:
  HistoryText() = default;
  HistoryText(const HistoryText&) = delete;
  HistoryText& operator=(const HistoryText&) = delete;
  ~HistoryText() {
    if (map_ != nullptr) munmap(map_, text_.size());
  }
  // Maps `path` when it is a non-empty regular file that does not start with the gzip magic;
  // false otherwise (read it with GzipReader).
  bool Map(const std::string& path);
  std::string_view text() const { return text_; }
  const char* readable_end() const { return text_.data() + text_.size(); }
  // The import is done with text before `upto`: give back its pages, 4 MB at a time.
  void Release(const char* upto) {
    constexpr size_t kStep = 4u << 20;
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t done = static_cast<size_t>(upto - text_.data()) / page * page;
    if (done >= released_ + kStep) {
      madvise(static_cast<char*>(map_) + released_, done - released_, MADV_DONTNEED);
      released_ = done;
    }
  }

 private:
  void* map_ = nullptr;
  std::string_view text_;
  size_t released_ = 0;
};

bool HistoryText::Map(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  unsigned char magic[2] = {0, 0};
  const bool plain = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                     !(pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
  void* map = plain ? mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0)
                    : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return false;
  madvise(map, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
  map_ = map;
  text_ = std::string_view(static_cast<const char*>(map), static_cast<size_t>(st.st_size));
  return true;
}

// Reads a file in blocks, gunzipping it when it is gzip (zlib passes other files through).
// Thread safety: thread-compatible.
class GzipReader {
 public:
  GzipReader() = default;
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      return NotFoundError("cannot open " + path + ": " +
                           (errno ? std::string(std::strerror(errno)) : "out of memory"));
    }
    gzbuffer(file_, 1 << 18);
    return OkStatus();
  }
  // Appends to *out until it holds `size` bytes or the file ends (*eof). Leaves
  // SIMDJSON_PADDING readable bytes after out's end, as simdjson requires.
  Status Fill(std::string* out, size_t size, bool* eof) {
    *eof = false;
    out->reserve(size + simdjson::SIMDJSON_PADDING);
    while (out->size() < size) {
      const size_t at = out->size();
      const size_t want = std::min<size_t>(size - at, 1u << 20);
      out->resize(at + want);
      const int got = gzread(file_, out->data() + at, static_cast<unsigned>(want));
      if (got < 0) {
        int errnum = 0;
        const char* msg = gzerror(file_, &errnum);
        out->resize(at);
        return DataLossError("cannot read " + path_ + ": " + (msg ? msg : "read error"));
      }
      out->resize(at + static_cast<size_t>(got));
      if (got == 0) {
        int errnum = 0;
        const char* msg = gzerror(file_, &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END) {
          return DataLossError("cannot read " + path_ +
                               " (truncated or corrupt gzip?): " + (msg ? msg : "read error"));
        }
        *eof = true;
        break;
      }
    }
    const size_t n = out->size();
    out->append(simdjson::SIMDJSON_PADDING, '\0');
    out->resize(n);
    return OkStatus();
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

// Parsed chunks a thread may hold while the chunks before them are still being parsed or
// handed on by others.
constexpr int kBuffersPerThread = 2;

// Where the records of an import go: one record at a time to `sink`, or a chunk at a time
// through `stages` (exactly one is set). `release(upto)` is told, in file order, that the text
// before `upto` is done with (a mapped file gives those pages back); it may be empty.
struct Output {
  const std::function<void(Record&&)>* sink = nullptr;
  const ImportStages* stages = nullptr;
  std::function<void(const char* upto)> release;
};

// Hands the kept records of `im` (a chunk) on: through the stages (prepare, then consume), or
// one by one to the sink. Runs where the chunk's turn is, one chunk at a time.
void ConsumeChunk(const Output& out, Importer& im, int slot) {
  std::vector<Record>& records = im.records();
  if (out.stages != nullptr) {
    if (im.num_records() > 0) out.stages->consume(records, im.num_records(), slot);
  } else {
    for (size_t k = 0; k < im.num_records(); ++k) (*out.sink)(std::move(records[k]));
  }
  im.ClearRecords();
}

void PrepareChunk(const Output& out, Importer& im, int slot) {
  if (out.stages != nullptr && out.stages->prepare && im.num_records() > 0) {
    out.stages->prepare(im.records(), im.num_records(), slot);
  }
}

// Parses the lines of `text` (numbered from first_line) and hands the records on in file order.
// With threads > 1, each of `threads` threads (this one included) repeatedly takes the next
// chunk of about kChunkBytes (cut at a line end) and parses it into one of its two importers
// (each with its parsers, task table and record storage, kept from chunk to chunk), then runs
// the stages' prepare on it. When a chunk of its own is next in file order, the thread hands
// that chunk's records on itself, while they are still in its cache. Holding two chunks lets a
// thread go on parsing while the chunk before its own is still being parsed elsewhere. The sink
// or consume stage is thus called by one thread at a time, in file order, but not always by the
// calling thread. With one thread, the text is read in chunks too (so that a mapped file's pages
// are given back as it goes). Memory stays bounded however large the text. Skips are worded
// into *report but not printed.
template <typename LineFn>
Status ImportLines(std::string_view text, const char* readable_end, std::string_view source,
                   const ImportOptions& options, int threads, int64_t first_line, const Output& out,
                   ImportReport* report, LineFn line_fn) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  // Small enough that a thread's two chunks of records stay in its cache.
  constexpr size_t kChunkBytes = 64u << 10;
  auto chunk_end_after = [&](const char* from, size_t bytes) {
    const char* guess = from + std::min<size_t>(bytes, static_cast<size_t>(end - from));
    const char* nl =
        guess >= end
            ? nullptr
            : static_cast<const char*>(std::memchr(guess, '\n', static_cast<size_t>(end - guess)));
    return nl ? nl + 1 : end;
  };
  if (threads <= 1) {
    // With a sink the importer hands each record on as it is built; else records are kept
    // and handed on by the chunk.
    Importer im(source, options, readable_end, out.stages ? nullptr : out.sink, report);
    for (const char* p = begin; p < end && !im.stopped();) {
      const char* chunk_end = chunk_end_after(p, kChunkBytes);
      im.ForEachLine(p, chunk_end, first_line + report->lines,
                     [&](int64_t no, std::string_view line) { line_fn(im, no, line); });
      PrepareChunk(out, im, 0);
      ConsumeChunk(out, im, 0);
      if (out.release) out.release(chunk_end);
      p = chunk_end;
    }
    im.FinishSkips(0, static_cast<size_t>(options.max_logged_skips) - report->skip_messages.size());
    return im.fatal();
  }
  std::mutex mu;
  std::condition_variable cv;
  const char* cursor = begin;      // where the next chunk starts; guarded by mu
  int64_t next_chunk = 0;          // the number of the next chunk to take; guarded by mu
  int64_t next_turn = 0;           // the chunk whose records go on next; guarded by mu
  int64_t next_line = first_line;  // that chunk's first line; used by the turn's holder only
  int next_thread = 0;             // guarded by mu
  auto run = [&] {
    struct Buffer {
      ImportReport report;
      std::unique_ptr<Importer> importer;
      int64_t chunk = -1;  // the parsed chunk it holds, -1 when free
      const char* chunk_end = nullptr;
      int slot = 0;
    };
    Buffer buffers[kBuffersPerThread];
    std::unique_lock<std::mutex> lock(mu);
    const int me = next_thread++;
    lock.unlock();
    for (int b = 0; b < kBuffersPerThread; ++b) {
      buffers[b].importer =
          std::make_unique<Importer>(source, options, readable_end, nullptr, &buffers[b].report);
      buffers[b].slot = kBuffersPerThread * me + b;
    }
    // The buffer holding this thread's oldest parsed chunk, or null.
    auto oldest = [&]() -> Buffer* {
      Buffer* o = nullptr;
      for (Buffer& b : buffers) {
        if (b.chunk >= 0 && (o == nullptr || b.chunk < o->chunk)) o = &b;
      }
      return o;
    };
    lock.lock();
    while (true) {
      Buffer* due = oldest();
      if (due != nullptr && due->chunk == next_turn) {
        lock.unlock();
        Importer& im = *due->importer;
        im.FinishSkips(next_line - 1, static_cast<size_t>(options.max_logged_skips) -
                                          report->skip_messages.size());
        report->Merge(due->report);
        next_line += due->report.lines;
        ConsumeChunk(out, im, due->slot);
        if (out.release) out.release(due->chunk_end);
        due->chunk = -1;
        lock.lock();
        ++next_turn;
        cv.notify_all();
        continue;
      }
      Buffer* idle = nullptr;
      for (Buffer& b : buffers) {
        if (b.chunk < 0) {
          idle = &b;
          break;
        }
      }
      if (idle != nullptr && cursor < end) {
        const char* chunk_begin = cursor;
        const char* chunk_end = chunk_end_after(cursor, kChunkBytes);
        cursor = chunk_end;
        const int64_t chunk = next_chunk++;
        lock.unlock();
        // Lines are numbered within the chunk; FinishSkips shifts them.
        idle->report = ImportReport{};
        idle->importer->ClearRecords();
        idle->importer->ForEachLine(
            chunk_begin, chunk_end, 1,
            [&](int64_t no, std::string_view line) { line_fn(*idle->importer, no, line); });
        PrepareChunk(out, *idle->importer, idle->slot);
        idle->chunk_end = chunk_end;
        lock.lock();
        idle->chunk = chunk;
        continue;
      }
      if (due == nullptr) return;  // nothing held, nothing left to take
      cv.wait(lock);
    }
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) helpers.emplace_back(run);
  run();
  for (std::thread& t : helpers) t.join();
  return OkStatus();  // not strict (strict imports use one thread): nothing is fatal
}

// Threads for a text of `bytes`: small inputs are not worth a thread; strict imports stop at
// the first bad line in order.
int ImportThreads(const ImportOptions& options, size_t bytes) {
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, kImportSlots / kBuffersPerThread);
  if (bytes < (8u << 20) || options.strict) threads = 1;
  return threads;
}

// Imports one block of a JSON-lines text, the lines numbered from first_line; *report gathers
// across blocks. `ansor` carries the Ansor listed-space state from block to block.
Status ImportLineBlock(std::string_view text, const char* readable_end, std::string_view source,
                       const ImportOptions& options, HistoryFormat format, int64_t first_line,
                       const Output& out, AnsorState* ansor, ImportReport* report) {
  ImportReport block;
  Status s;
  const int threads = ImportThreads(options, text.size());
  switch (format) {
    case HistoryFormat::kAutoTvm:
      s = ImportLines(text, readable_end, source, options, threads, first_line, out, &block,
                      ImportAutoTvmLine);
      break;
    case HistoryFormat::kJsonLines:
      s = ImportLines(text, readable_end, source, options, threads, first_line, out, &block,
                      ImportJsonLine);
      break;
    case HistoryFormat::kAnsor:
      // Sequential: the listed-space index of a config is its order of first appearance.
      s = ImportLines(
          text, readable_end, source, options, 1, first_line, out, &block,
          [&](Importer& im, int64_t n, std::string_view l) { ImportAnsorLine(im, *ansor, n, l); });
      break;
    case HistoryFormat::kKernelTuner:
    case HistoryFormat::kRecordLog:
    case HistoryFormat::kAuto: return InternalError("ImportLineBlock: not a JSON-lines format");
  }
  // Skip messages beyond the room left are dropped by Merge's caller's limit.
  const size_t room = static_cast<size_t>(options.max_logged_skips);
  if (report->skip_messages.size() + block.skip_messages.size() > room) {
    block.skip_messages.resize(room - std::min(room, report->skip_messages.size()));
  }
  block.format = format;
  report->Merge(block);
  return s;
}

// Imports a Kernel Tuner cache (one JSON document, read whole: caches are small).
Status ImportKernelTunerText(std::string_view text, std::string_view source,
                             const ImportOptions& options, const Output& out,
                             ImportReport* report) {
  const std::string padded = PaddedCopy(text);
  std::vector<Record> kept;
  const std::function<void(Record &&)> buffer = [&](Record&& r) {
    kept.push_back(std::move(r));
    if (kept.size() >= 1024) {
      if (out.stages->prepare) out.stages->prepare(kept, kept.size(), 0);
      out.stages->consume(kept, kept.size(), 0);
      kept.clear();
    }
  };
  Importer im(source, options, padded.data() + padded.size() + simdjson::SIMDJSON_PADDING,
              out.stages ? &buffer : out.sink, report);
  ImportKernelTuner(im, padded, report);
  im.FinishSkips(0, static_cast<size_t>(options.max_logged_skips));
  if (!kept.empty() && im.fatal().ok()) {
    if (out.stages->prepare) out.stages->prepare(kept, kept.size(), 0);
    out.stages->consume(kept, kept.size(), 0);
  }
  return im.fatal();
}

// The format of a text, detected or as named. Fails when it cannot be told; kAuto for a text
// with nothing but blanks.
StatusOr<HistoryFormat> FormatOf(std::string_view text, std::string_view source,
                                 const ImportOptions& options) {
  if (options.format != HistoryFormat::kAuto) return options.format;
  const HistoryFormat format = DetectHistoryFormat(text);
  if (format == HistoryFormat::kAuto &&
      text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return InvalidArgumentError(std::string(source) +
                                ": neither a record log nor a history whose format can be told "
                                "from its content (AutoTVM or Ansor log, Kernel Tuner cache, "
                                "JSON lines)");
  }
  return format;
}

// Imports a whole text held in memory (or mapped).
Status ImportText(std::string_view text, const char* readable_end, std::string_view source,
                  const ImportOptions& options, const Output& out, ImportReport* report) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  *report = ImportReport{};
  SONAR_ASSIGN_OR_RETURN(const HistoryFormat format, FormatOf(text, source, options));
  report->format = format;
  Status s;
  if (format == HistoryFormat::kKernelTuner) {
    s = ImportKernelTunerText(text, source, options, out, report);
  } else if (format == HistoryFormat::kRecordLog) {
    s = InvalidArgumentError(std::string(source) + ": a record log is read from its file");
  } else if (format != HistoryFormat::kAuto) {
    AnsorState ansor;
    s = ImportLineBlock(text, readable_end, source, options, format, 1, out, &ansor, report);
  }
  LogSkips(source, options, *report);
  return s;
}

// Imports a gzipped (or otherwise unmappable) file, decompressing it in blocks of
// kGzipBlockBytes cut at line ends, so memory stays bounded whatever the file's size. A Kernel
// Tuner cache is read whole.
Status ImportGzipped(const std::string& path, const ImportOptions& options, const Output& out,
                     ImportReport* report) {
  constexpr size_t kGzipBlockBytes = 16u << 20;
  SONAR_RETURN_IF_ERROR(options.Validate());
  *report = ImportReport{};
  GzipReader reader;
  SONAR_RETURN_IF_ERROR(reader.Open(path));
  std::string block;  // padded
  bool eof = false;
  SONAR_RETURN_IF_ERROR(reader.Fill(&block, kGzipBlockBytes, &eof));
  SONAR_ASSIGN_OR_RETURN(const HistoryFormat format, FormatOf(block, path, options));
  report->format = format;
  Status s;
  if (format == HistoryFormat::kRecordLog) {
    s = InvalidArgumentError(path + ": a record log cannot be gzipped");
  } else if (format == HistoryFormat::kKernelTuner) {
    while (!eof) SONAR_RETURN_IF_ERROR(reader.Fill(&block, block.size() + kGzipBlockBytes, &eof));
    s = ImportKernelTunerText(block, path, options, out, report);
  } else if (format != HistoryFormat::kAuto) {
    AnsorState ansor;
    while (true) {
      // Import up to the last line end (all of it at the end of the file); keep the rest.
      size_t cut = block.size();
      if (!eof) {
        const size_t nl = block.rfind('\n');
        cut = nl == std::string::npos ? 0 : nl + 1;
      }
      if (cut > 0) {
        const std::string_view text(block.data(), cut);
        s = ImportLineBlock(text, block.data() + block.size() + simdjson::SIMDJSON_PADDING, path,
                            options, format, report->lines + 1, out, &ansor, report);
        if (!s.ok()) break;
      }
      if (eof) break;
      block.erase(0, cut);
      SONAR_RETURN_IF_ERROR(reader.Fill(&block, block.size() + kGzipBlockBytes, &eof));
    }
  }
  LogSkips(path, options, *report);
  return s;
}

// Reads a Sonar record log as a history: its records, streamed; corrupt frames count as
// skipped lines (and fail a strict import).
Status ImportRecordLog(const std::string& path, const ImportOptions& options, const Output& out,
                       ImportReport* report) {
  *report = ImportReport{};
  report->format = HistoryFormat::kRecordLog;
  std::vector<Record> kept;
  auto hand_on = [&] {
    if (kept.empty()) return;
    if (out.stages->prepare) out.stages->prepare(kept, kept.size(), 0);
    out.stages->consume(kept, kept.size(), 0);
    kept.clear();
  };
  RecordLogStats stats;
  Status s = ForEachRecord(
      path,
      [&](Record&& r) {
        ++report->records;
        ++report->lines;
        ++(r.result.ok() ? report->ok : report->failed);
        if (out.stages == nullptr) {
          (*out.sink)(std::move(r));
          return;
        }
        kept.push_back(std::move(r));
        if (kept.size() >= 1024) hand_on();
      },
      &stats);
  SONAR_RETURN_IF_ERROR(s);
  report->skipped_lines = stats.skipped_frames;
  if (stats.skipped_frames > 0) {
    const std::string m = path + ": " + std::to_string(stats.skipped_frames) +
                          " corrupt or torn frames (" + std::to_string(stats.skipped_bytes) +
                          " bytes)";
    if (options.strict) return DataLossError(m + " (--strict)");
    report->skip_messages.push_back(m);
    LogSkips(path, options, *report);
  }
  hand_on();
  return OkStatus();
}

// Imports the file at `path`: a plain file is mapped and its pages given back as the import
// moves past them; any other file is read in blocks.
Status ImportFile(const std::string& path, const ImportOptions& options, Output out,
                  ImportReport* report) {
  if (options.format == HistoryFormat::kAuto || options.format == HistoryFormat::kRecordLog) {
    char head[16];
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const ssize_t got = fd >= 0 ? pread(fd, head, sizeof head, 0) : -1;
    if (fd >= 0) close(fd);
    if (options.format == HistoryFormat::kRecordLog ||
        (got > 0 && LooksLikeRecordLog(std::string_view(head, static_cast<size_t>(got))))) {
      return ImportRecordLog(path, options, out, report);
    }
  }
  HistoryText text;
  if (!text.Map(path)) return ImportGzipped(path, options, out, report);
  out.release = [&text](const char* upto) { text.Release(upto); };
  return ImportText(text.text(), text.readable_end(), path, options, out, report);
}

}  // namespace
}  // namespace history_internal

using namespace history_internal;  // NOLINT: this file is the internals' one user here

Status ImportHistory(const std::string& path, const ImportOptions& options,
                     const std::function<void(Record&&)>& sink, ImportReport* report) {
  Output out;
  out.sink = &sink;
  return ImportFile(path, options, out, report);
}

Status ImportHistoryInChunks(const std::string& path, const ImportOptions& options,
                             const ImportStages& stages, ImportReport* report) {
  if (!stages.consume) return InvalidArgumentError("ImportHistoryInChunks: no consume stage");
  Output out;
  out.stages = &stages;
  return ImportFile(path, options, out, report);
}

Status ImportHistoryIntoLog(
    const std::string& path, const ImportOptions& options, RecordLogWriter& log,
    ImportReport* report,
    const std::function<void(const std::vector<Record>& records, size_t n)>& on_chunk) {
  const RecordLogWriter::Mark mark = log.mark();
  std::vector<FrameBatch> batches(kImportSlots);
  Status append_status;
  int64_t appended = 0, duplicates = 0, unchecked = 0;
  ImportStages stages;
  stages.prepare = [&](std::vector<Record>& records, size_t n, int slot) {
    FrameBatch& b = batches[static_cast<size_t>(slot)];
    b.Clear();
    EncodeFrames(records.data(), n, &b, log.can_elide_tasks());
  };
  stages.consume = [&](std::vector<Record>& records, size_t n, int slot) {
    if (!append_status.ok()) return;
    AppendCounts counts;
    append_status = log.Append(batches[static_cast<size_t>(slot)], &counts);
    appended += counts.appended;
    duplicates += counts.duplicates;
    unchecked += counts.unchecked;
    if (append_status.ok() && on_chunk) on_chunk(records, n);
  };
  Status s = ImportHistoryInChunks(path, options, stages, report);
  if (s.ok()) s = append_status;
  report->appended = appended;
  report->duplicates = duplicates;
  report->unchecked = unchecked;
  if (!s.ok() && options.strict) {
    // All or nothing: what this file appended goes again.
    Status undo = log.TruncateTo(mark);
    if (!undo.ok()) return Status(s.code(), s.message() + "; and " + undo.message());
    report->appended = 0;
  }
  return s;
}

StatusOr<std::vector<Record>> ImportHistoryFile(const std::string& path,
                                                const ImportOptions& options,
                                                ImportReport* report) {
  std::vector<Record> out;
  Status s = ImportHistory(
      path, options, [&](Record&& r) { out.push_back(std::move(r)); }, report);
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<Record>> ImportHistoryText(std::string_view text, std::string_view source_name,
                                                const ImportOptions& options,
                                                ImportReport* report) {
  std::vector<Record> out;
  const std::string padded = PaddedCopy(text);
  const std::function<void(Record &&)> sink = [&](Record&& r) { out.push_back(std::move(r)); };
  Output output;
  output.sink = &sink;
  Status s = ImportText(padded, padded.data() + padded.size() + simdjson::SIMDJSON_PADDING,
                        source_name, options, output, report);
  if (!s.ok()) return s;
  return out;
}

Status ForEachRecordOrHistory(const std::string& path, const std::string& selector,
                              const std::function<void(Record&&)>& fn, RecordLogStats* stats) {
  *stats = RecordLogStats{};
  uint64_t key = 0;
  const bool is_key = HexToWorkloadKey(selector, &key);
  int64_t matched = 0;
  auto selected = [&](Record&& r) {
    if (selector.empty() || (is_key && r.workload_key == key) || r.task.name == selector ||
        r.task.op == selector) {
      ++matched;
      fn(std::move(r));
    }
  };
  // A --workload that matches nothing is a wrong command line, not an empty answer.
  auto no_match = [&]() -> Status {
    if (selector.empty() || matched > 0) return OkStatus();
    return InvalidArgumentError("--workload: no workload of " + path + " matches '" + selector +
                                "' (sonar records stats " + path + " lists them)");
  };
  char head[16];
  size_t got = 0;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
  }
  if (got == 0 || !LooksLikeRecordLog(std::string_view(head, got))) {
    ImportReport report;
    SONAR_RETURN_IF_ERROR(ImportHistory(path, ImportOptions{}, selected, &report));
    return no_match();
  }
  SONAR_RETURN_IF_ERROR(ForEachRecord(path, selected, stats));
  return no_match();
}

StatusOr<std::vector<Record>> LoadRecordsOrHistory(const std::string& path,
                                                   const ImportOptions& options,
                                                   ImportReport* report) {
  *report = ImportReport{};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  char head[16];
  const size_t got = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  if (got > 0 && LooksLikeRecordLog(std::string_view(head, got))) {
    RecordLogStats stats;
    StatusOr<std::vector<Record>> records = ReadRecordLog(path, &stats);
    if (records.ok()) {
      report->records = static_cast<int64_t>(records->size());
      for (const Record& r : *records) (r.result.ok() ? report->ok : report->failed) += 1;
      report->skipped_lines = stats.skipped_frames;
    }
    return records;
  }
  return ImportHistoryFile(path, options, report);
}

}  // namespace sonar
