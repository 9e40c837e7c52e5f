// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// History import. Parsing uses simdjson, which also validates UTF-8 (see docs/dependencies.md
// for why): its DOM API in the general readers (one reused parser per importer), and its
// On-Demand API in the AutoTVM v0.2 fast path, which falls back to the general reader for any
// line it does not fully understand.
#include "measure/history_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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
#include "simdjson.h"
#include "space/task.h"

namespace sonar {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

namespace {

constexpr double kAutoTvmFailureCost = 1e9;  // AutoTVM writes (1e9,) as the costs of a failure

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
          return DataLossError("cannot read " + path_ + " (truncated or corrupt gzip?): " +
                               (msg ? msg : "read error"));
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

std::string PaddedCopy(std::string_view text) {
  std::string s;
  s.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  s.append(text);
  s.append(simdjson::SIMDJSON_PADDING, '\0');
  s.resize(text.size());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Small JSON helpers. Each returns false when the element is not of the wanted kind.

bool GetInt(element e, int64_t* out) {
  switch (e.type()) {
    case element_type::INT64: return !e.get_int64().get(*out);
    case element_type::UINT64: {
      uint64_t u = 0;
      if (e.get_uint64().get(u) || u > static_cast<uint64_t>(INT64_MAX)) return false;
      *out = static_cast<int64_t>(u);
      return true;
    }
    default: return false;
  }
}

bool GetNumber(element e, double* out) {
  switch (e.type()) {
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::DOUBLE: return !e.get_double().get(*out);
    default: return false;
  }
}

bool GetString(element e, std::string* out) {
  std::string_view sv;
  if (e.get_string().get(sv)) return false;
  out->assign(sv);
  return true;
}

bool GetIntList(element e, std::vector<int64_t>* out) {
  array a;
  if (e.get_array().get(a)) return false;
  out->clear();
  out->reserve(a.size());  // O(1) in simdjson's DOM
  for (element x : a) {
    int64_t v = 0;
    if (!GetInt(x, &v)) return false;
    out->push_back(v);
  }
  return true;
}

// The first n elements of `a` (fewer when it is shorter), walking the array once; DOM
// array::at() walks from the start on every call.
template <size_t N>
size_t FirstElements(array a, element (&out)[N]) {
  size_t i = 0;
  for (element x : a) {
    if (i == N) break;
    out[i++] = x;
  }
  return i;
}

std::string TypeName(element e) {
  switch (e.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned char>(c));
          out->append(u);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Appends a JSON double in its shortest round-trip form, kept a double when read back ("1.0",
// not "1").
void AppendDouble(double d, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  out->append(buf, r.ptr);
  if (std::string_view(buf, static_cast<size_t>(r.ptr - buf)).find_first_of(".eEn") ==
      std::string_view::npos) {
    out->append(".0");
  }
}

// Appends `e` as minified JSON to *out. Sonar's one canonical spelling of argument lists (the
// workload key hashes it): integers as written, doubles in their shortest round-trip form,
// strings with only the escapes JSON requires.
void AppendMinified(element e, std::string* out) {
  char buf[32];
  switch (e.type()) {
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      for (element x : array(e)) {
        if (!first) out->push_back(',');
        first = false;
        AppendMinified(x, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      for (auto [k, v] : object(e)) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(k, out);
        out->push_back(':');
        AppendMinified(v, out);
      }
      out->push_back('}');
      return;
    }
    case element_type::INT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, int64_t(e));
      out->append(buf, r.ptr);
      return;
    }
    case element_type::UINT64: {
      auto r = std::to_chars(buf, buf + sizeof buf, uint64_t(e));
      out->append(buf, r.ptr);
      return;
    }
    case element_type::DOUBLE:
      AppendDouble(double(e), out);
      return;
    case element_type::STRING: AppendJsonString(std::string_view(e), out); return;
    case element_type::BOOL: out->append(bool(e) ? "true" : "false"); return;
    case element_type::NULL_VALUE: out->append("null"); return;
  }
}

std::string Minified(element e) {
  std::string s;
  AppendMinified(e, &s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The parse context: counts, skip messages, strict mode, and the records being built.

class AutoTvmFastReader;

// One reader of a run of lines. With a sink, each record goes to it as soon as it is built (one
// thread, file order). Without one, records are kept until the owner takes them (a chunk of a
// parallel import); line numbers are then relative to the chunk, and skip messages are
// worded when the owner knows where the chunk starts (FinishSkips).
// Record storage is reused from line to line: a sink that does not move a record out costs no
// allocation for the next one.
// Thread safety: thread-compatible; one thread at a time.
class Importer {
 public:
  Importer(std::string_view source,
           const ImportOptions& options,
           const char* readable_end,
           const std::function<void(Record&&)>* sink,
           ImportReport* report)
      : source_(source),
        options_(options),
        readable_end_(readable_end),
        sink_(sink),
        report_(report) {}
  ~Importer();

  // Records a skipped line. In strict mode the first one becomes the returned error (strict
  // imports read with one importer and a sink, so the line number is the file's).
  void Skip(int64_t line, std::string_view reason) {
    ++report_->skipped_lines;
    if (options_.strict && fatal_.ok()) {
      fatal_ = DataLossError(SkipMessage(line, reason) + " (--strict)");
    }
    if (static_cast<int64_t>(skips_.size()) < options_.max_logged_skips) {
      skips_.emplace_back(line, std::string(reason));
    }
  }

  // Words the kept skips, their lines shifted by `line_offset`, into the report (at most
  // `room` of them).
  void FinishSkips(int64_t line_offset, size_t room) {
    for (auto& [line, reason] : skips_) {
      if (report_->skip_messages.size() >= room) break;
      report_->skip_messages.push_back(SkipMessage(line + line_offset, reason));
    }
    skips_.clear();
  }

  // The record to fill for the current line. Its storage is that of an earlier record: a reader
  // sets every field or assigns a whole Record.
  Record& NewRecord() {
    if (num_records_ == records_.size()) records_.emplace_back();
    return records_[num_records_];
  }

  // Hands on the record from NewRecord(): to the sink, or into the kept records.
  void Emit() {
    Record& r = records_[num_records_];
    ++report_->records;
    if (r.result.ok()) {
      ++report_->ok;
    } else {
      ++report_->failed;
    }
    if (sink_ != nullptr) {
      (*sink_)(std::move(r));
    } else {
      ++num_records_;
    }
  }
  void Emit(Record&& r) {
    NewRecord() = std::move(r);
    Emit();
  }

  // Kept records (no sink): records()[0, num_records()) in line order. ClearRecords() starts a
  // new chunk; the storage stays for reuse.
  size_t num_records() const { return num_records_; }
  std::vector<Record>& records() { return records_; }
  void ClearRecords() { num_records_ = 0; }

  bool stopped() const { return !fatal_.ok(); }
  const Status& fatal() const { return fatal_; }

  // Iterates over the lines of [begin, end), numbered from first_line, calling fn(number, line)
  // for those that are not blank or '#' comments. A line is passed with SIMDJSON_PADDING
  // readable bytes after it (copied when the text has none left). Stops early in strict mode
  // after a skip.
  template <typename Fn>
  void ForEachLine(const char* begin, const char* end, int64_t first_line, Fn fn) {
    const char* p = begin;
    int64_t line_no = first_line - 1;
    while (p < end && !stopped()) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* line_end = nl ? nl : end;
      ++line_no;
      ++report_->lines;
      const char* b = p;
      const char* e = line_end;
      while (b < e && (*b == ' ' || *b == '\t' || *b == '\r')) ++b;
      while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
      if (b == e || *b == '#') {
        ++report_->comment_lines;
      } else if (readable_end_ - e < static_cast<std::ptrdiff_t>(simdjson::SIMDJSON_PADDING)) {
        line_copy_ = PaddedCopy(std::string_view(b, static_cast<size_t>(e - b)));
        fn(line_no, std::string_view(line_copy_));
      } else {
        fn(line_no, std::string_view(b, static_cast<size_t>(e - b)));
      }
      p = nl ? nl + 1 : end;
    }
  }

  // Cache of the last task seen, so consecutive records of one task share its identity.
  struct TaskCache {
    std::string target, op, args_json;
    TaskIdentity task;
    uint64_t key = 0;
    bool valid = false;
  };
  TaskCache& task_cache() { return task_cache_; }
  std::string& scratch() { return scratch_; }

  simdjson::dom::parser& parser() { return parser_; }
  std::string_view source() const { return source_; }
  const ImportOptions& options() const { return options_; }
  // The AutoTVM fast reader of this importer, made on first use; null when
  // options().autotvm_fast_path is off.
  AutoTvmFastReader* autotvm_fast_reader();

 private:
  std::string SkipMessage(int64_t line, std::string_view reason) const {
    return std::string(source_) + ":" + std::to_string(line) + ": " + std::string(reason);
  }

  std::string_view source_;
  const ImportOptions& options_;
  const char* readable_end_;
  const std::function<void(Record&&)>* sink_;
  ImportReport* report_;
  Status fatal_;
  std::vector<std::pair<int64_t, std::string>> skips_;  // (line, reason), kept ones only
  std::vector<Record> records_;
  size_t num_records_ = 0;
  simdjson::dom::parser parser_;
  TaskCache task_cache_;
  std::string scratch_;
  std::string line_copy_;
  std::unique_ptr<AutoTvmFastReader> autotvm_fast_;
};

// Prints the kept skip messages of a finished import, and how many were not kept.
void LogSkips(std::string_view source, const ImportOptions& options, const ImportReport& report) {
  if (!options.log_skips) return;
  for (const std::string& m : report.skip_messages) std::fprintf(stderr, "sonar: skipped %s\n", m.c_str());
  const int64_t hidden = report.skipped_lines - static_cast<int64_t>(report.skip_messages.size());
  if (hidden > 0) {
    std::fprintf(stderr, "sonar: %s: %lld more skipped lines not shown\n",
                 std::string(source).c_str(), static_cast<long long>(hidden));
  }
}

// Parses `line` (which must have SIMDJSON_PADDING readable bytes after it) into an object.
bool ParseObjectLine(Importer& im, int64_t line_no, std::string_view line, object* out) {
  element doc;
  auto err = im.parser().parse(line.data(), line.size(), false).get(doc);
  if (err) {
    im.Skip(line_no, std::string("not valid JSON: ") + simdjson::error_message(err));
    return false;
  }
  if (doc.get_object().get(*out)) {
    im.Skip(line_no, "expected a JSON object, got " + TypeName(doc));
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// AutoTVM.

bool ParseEntity(element entity, std::vector<KnobValue>* values, std::string* why) {
  array items;
  if (entity.get_array().get(items)) {
    *why = "config entity is not an array";
    return false;
  }
  values->reserve(values->size() + items.size());
  for (element item : items) {
    array triple;
    element parts[4];
    if (item.get_array().get(triple) || FirstElements(triple, parts) != 3) {
      *why = "config entity item is not a [name, type, value] triple";
      return false;
    }
    KnobValue v;
    std::string_view type;
    if (!GetString(parts[0], &v.name) || parts[1].get_string().get(type)) {
      *why = "config entity item has a non-string name or type";
      return false;
    }
    element value = parts[2];
    v.source_type = type;
    if (type == "sp" || type == "re") {
      v.kind = type == "sp" ? KnobKind::kSplit : KnobKind::kReorder;
      if (!GetIntList(value, &v.ints)) {
        *why = "knob '" + v.name + "' (" + std::string(type) + ") is not a list of integers";
        return false;
      }
    } else if (type == "an") {
      v.kind = KnobKind::kChoice;
      array a;
      if (value.get_array().get(a)) {
        *why = "knob '" + v.name + "' (an) is not a list";
        return false;
      }
      for (element x : a) {
        std::string s;
        if (!GetString(x, &s)) {
          *why = "knob '" + v.name + "' (an) holds a non-string";
          return false;
        }
        v.strings.push_back(std::move(s));
      }
    } else if (type == "ot") {
      int64_t i = 0;
      bool b = false;
      if (GetInt(value, &i)) {
        v.kind = KnobKind::kChoice;
        v.ints = {i};
      } else if (!value.get_bool().get(b)) {
        v.kind = KnobKind::kBool;
        v.ints = {b ? 1 : 0};
      } else if (value.type() == element_type::STRING || value.type() == element_type::DOUBLE ||
                 value.type() == element_type::NULL_VALUE) {
        v.kind = KnobKind::kChoice;
        std::string s;
        if (!GetString(value, &s)) s = Minified(value);
        v.strings = {std::move(s)};
      } else {
        *why = "knob '" + v.name + "' (ot) has a value of type " + TypeName(value);
        return false;
      }
    } else {
      *why = "knob '" + v.name + "' has unknown type '" + std::string(type) + "'";
      return false;
    }
    values->push_back(std::move(v));
  }
  return true;
}

// Fills r.result from an AutoTVM/Ansor result array [costs, error_no, all_cost, timestamp].
bool ParseTvmResult(element result, double failure_sentinel, Record* r, std::string* why) {
  array a;
  element parts[4];
  size_t num_parts = 0;
  if (result.get_array().get(a) || (num_parts = FirstElements(a, parts)) < 2) {
    *why = "result is not an array [costs, error_no, all_cost, timestamp]";
    return false;
  }
  int64_t error_no = 0;
  if (!GetInt(parts[1], &error_no)) {
    *why = "error_no is not an integer";
    return false;
  }
  if (!AutoTvmErrorToStatus(error_no, &r->result.status)) {
    *why = "unknown error_no " + std::to_string(error_no) + " (AutoTVM uses 0-8)";
    return false;
  }
  r->result.source_error_code = static_cast<int32_t>(error_no);
  array costs;
  if (parts[0].get_array().get(costs)) {
    *why = "costs is not an array";
    return false;
  }
  if (r->result.ok()) {
    r->result.run_seconds.reserve(costs.size());
    if (costs.size() == 0) {
      *why = "successful record has no costs";
      return false;
    }
    for (element c : costs) {
      double s = 0;
      if (!GetNumber(c, &s)) {
        *why = "cost is a " + TypeName(c) + ", not a number";
        return false;
      }
      if (!std::isfinite(s) || s <= 0) {
        *why = "cost " + std::to_string(s) + " is not a positive time";
        return false;
      }
      if (s >= failure_sentinel) {
        *why = "cost " + std::to_string(s) + " is the failure sentinel on a record with error_no 0";
        return false;
      }
      r->result.run_seconds.push_back(s);
    }
    if (r->result.run_seconds.size() > 1) r->result.reported_seconds = r->result.mean_seconds();
  } else {
    // Failures carry a sentinel (1e9 in AutoTVM, 1e10 in Ansor) or a message: never a time.
    for (element c : costs) {
      if (c.type() == element_type::STRING && r->result.error_msg.empty()) {
        GetString(c, &r->result.error_msg);
      }
    }
  }
  if (num_parts >= 3) {
    double all_cost = 0;
    if (!GetNumber(parts[2], &all_cost) || !std::isfinite(all_cost) || all_cost < 0) {
      *why = "all_cost is not a non-negative number";
      return false;
    }
    r->result.all_cost_seconds = all_cost;
  }
  if (num_parts >= 4) {
    double ts = 0;
    if (!GetNumber(parts[3], &ts) || !std::isfinite(ts)) {
      *why = "timestamp is not a number";
      return false;
    }
    r->timestamp_unix_s = ts;
  }
  return true;
}

// Reads AutoTVM's config object: v0.2 {"index","code_hash","entity"}, v0.1 {"i","c","e","t"}.
bool ParseAutoTvmConfig(element config, Record* r, std::string* why) {
  object o;
  if (config.get_object().get(o)) {
    *why = "config is not an object";
    return false;
  }
  element index, code_hash, entity;
  const bool has_index = !o["index"].get(index) || !o["i"].get(index);
  const bool has_hash = !o["code_hash"].get(code_hash) || !o["c"].get(code_hash);
  if (o["entity"].get(entity) && o["e"].get(entity)) {
    *why = "config has no entity";
    return false;
  }
  if (has_index) {
    int64_t i = 0;
    if (!GetInt(index, &i) || i < 0) {
      *why = "config index is not a non-negative integer";
      return false;
    }
    r->config.index = i;
  }
  if (has_hash && code_hash.type() == element_type::STRING) GetString(code_hash, &r->config.code_hash);
  return ParseEntity(entity, &r->config.values, why);
}

bool FillTvmTask(Importer& im,
                 element target,
                 element task_name,
                 element args,
                 Record* r,
                 std::string* why) {
  std::string_view t, op;
  if (target.get_string().get(t)) {
    *why = "target is not a string";
    return false;
  }
  if (task_name.get_string().get(op)) {
    *why = "task name is not a string";
    return false;
  }
  std::string& args_json = im.scratch();
  args_json.clear();
  AppendMinified(args, &args_json);
  Importer::TaskCache& cache = im.task_cache();
  if (!cache.valid || cache.target != t || cache.op != op || cache.args_json != args_json) {
    cache.task = TaskIdentity{};
    cache.task.target.assign(t);
    cache.task.op.assign(op);
    cache.task.name.assign(op);
    cache.task.args_json = args_json;
    cache.key = cache.task.ComputeWorkloadKey();
    cache.target.assign(t);
    cache.op.assign(op);
    cache.args_json = args_json;
    cache.valid = true;
  }
  r->task = cache.task;
  r->workload_key = cache.key;
  return true;
}

// ---------------------------------------------------------------------------------------------
// AutoTVM v0.2, fast path.
//
// The general reader (ImportAutoTvmLine below) builds a DOM of each line and a Record from
// scratch. This one reads a v0.2 line with simdjson's On-Demand API straight into a Record
// whose storage is reused from line to line, and looks the task input up by its raw text in a
// table of identities already built: a log repeats each task's input on every line, and
// minifying and hashing it is most of the work of a record.
//
// It accepts a line only when the general reader would make the same record of it. Every value
// it keeps is read through a typed getter, which validates it; every value it does not keep
// (a null code_hash, a failure's sentinel cost) is validated the same way; the task input is
// parsed by the general reader's own code (FillTvmTask, on a DOM) the first time its text is
// seen; and nothing may follow the object. For anything else (another version, a key it does
// not expect or one written twice, a value type the general reader treats specially, any
// error) it returns false, and the caller reads the line with the general reader, which also
// words the skip message. A test checks that both give equal records and reports on every
// AutoTVM file in the data sets and on thousands of mutated lines.

namespace od = simdjson::ondemand;

// An integer the way GetInt reads one from the DOM: an integer token that fits an int64
// (On-Demand refuses a fraction, an exponent and a larger value, as the DOM types them).
bool OdInt(od::value v, int64_t* out) { return !v.get_int64().get(*out); }

// A number the way GetNumber reads one from the DOM: an integer token converted, else a double.
bool OdNumber(od::value v, double* out) {
  od::number_type type;
  if (v.get_number_type().get(type)) return false;
  switch (type) {
    case od::number_type::signed_integer: {
      int64_t i = 0;
      if (v.get_int64().get(i)) return false;
      *out = static_cast<double>(i);
      return true;
    }
    case od::number_type::unsigned_integer: {
      uint64_t u = 0;
      if (v.get_uint64().get(u)) return false;
      *out = static_cast<double>(u);
      return true;
    }
    case od::number_type::floating_point_number:
      return !v.get_double().get(*out);
  }
  return false;
}

// True when `v` is a valid null.
bool OdNull(od::value v) {
  bool is_null = false;
  return !v.is_null().get(is_null) && is_null;
}

// Sets *s to the string `v`. When *s already holds it, as consecutive records of a task do for
// their knob names and types, it only compares: the token's bytes between its quotes equal *s,
// which holds no backslash, quote or control character, so the token has no escapes and is
// that string. The value is then consumed without being unescaped or copied.
bool OdStringInto(od::value v, std::string* s) {
  const std::string_view token = v.raw_json_token();
  const size_t n = s->size();
  bool same = token.size() >= n + 2 && token[0] == '"' && token[n + 1] == '"';
  for (size_t i = 0; same && i < n; ++i) {
    const char c = token[i + 1];
    same = c == (*s)[i] && c != '\\' && c != '"' && static_cast<unsigned char>(c) >= 0x20;
  }
  if (same) {
    od::raw_json_string raw;
    return !v.get_raw_json_string().get(raw);
  }
  std::string_view value;
  if (v.get_string().get(value)) return false;
  s->assign(value);
  return true;
}

// Sets (*list)[i] to `value`, reusing the string's storage when it exists (i <= size()).
void AssignString(std::string_view value, size_t i, std::vector<std::string>* list) {
  if (i < list->size()) {
    (*list)[i].assign(value);
  } else {
    list->emplace_back(value);
  }
}

// Resets every field of a record to its default, keeping the storage of its strings and
// vectors.
void ResetKeepingStorage(Record* r) {
  r->workload_key = 0;
  r->task.name.clear();
  r->task.op.clear();
  r->task.args_json.clear();
  r->task.target.clear();
  r->task.template_version = 0;
  r->config.index.reset();
  r->config.code_hash.clear();
  // config.values: sized by the reader, each value reset as it is filled.
  r->result.status = MeasureStatus::kUnknownError;
  r->result.run_seconds.clear();
  r->result.compile_seconds = 0;
  r->result.all_cost_seconds = 0;
  r->result.error_msg.clear();
  r->result.source_error_code = -1;
  r->result.reference_seconds = 0;
  r->result.reported_seconds = 0;
  r->timestamp_unix_s = 0;
  r->tuner.clear();
  r->trial = -1;
  r->hardware_id.clear();
  r->source_version.clear();
  r->tool_version.clear();
}

// Thread safety: thread-compatible; one per importer.
class AutoTvmFastReader {
 public:
  // Reads `line` (SIMDJSON_PADDING readable bytes after it) into *r. False when the general
  // reader must read the line instead; *r is then unspecified.
  bool Read(Importer& im, std::string_view line, Record* r) {
    od::document doc;
    od::object o;
    if (parser_.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING)
            .get(doc) ||
        doc.get_object().get(o)) {
      return false;
    }
    ResetKeepingStorage(r);
    enum : unsigned { kInput = 1, kConfig = 2, kResult = 4, kVersion = 8, kTvmVersion = 16 };
    unsigned seen = 0;
    for (auto field_or_error : o) {
      od::field field;
      if (std::move(field_or_error).get(field)) return false;
      const od::raw_json_string key = field.key();
      od::value value = field.value();
      unsigned which = 0;
      bool ok = false;
      if (key == "input") {
        which = kInput;
        ok = ReadInput(im, value, r);
      } else if (key == "config") {
        which = kConfig;
        ok = ReadConfig(value, r);
      } else if (key == "result") {
        which = kResult;
        ok = ReadResult(value, r);
      } else if (key == "version") {
        which = kVersion;
        double v = 0;
        ok = OdNumber(value, &v) && v == 0.2;
      } else if (key == "tvm_version") {
        which = kTvmVersion;
        std::string_view tv;
        if (!value.get_string().get(tv)) {
          r->tool_version.assign(tv);
          ok = true;
        } else {
          ok = OdNull(value);
        }
      }
      if (!ok || (seen & which) != 0) return false;
      seen |= which;
    }
    // Nothing may follow the object (the DOM rejects trailing content).
    const char* rest = nullptr;
    if ((seen | kTvmVersion) != 31 || doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
      return false;
    }
    r->source_version = "autotvm-0.2";
    r->tuner = "autotvm-log";
    return true;
  }

 private:
  struct Interned {
    TaskIdentity task;
    uint64_t workload_key = 0;
  };
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // A bound on the table, against a file where every line names another task.
  static constexpr size_t kMaxInterned = 1u << 14;

  // "input": [target, task_name, args, kwargs], by its raw text.
  bool ReadInput(Importer& im, od::value value, Record* r) {
    od::array a;
    std::string_view raw;
    if (value.get_array().get(a) || a.raw_json().get(raw)) return false;
    if (last_ == nullptr || raw != last_text_) {
      auto it = tasks_.find(raw);
      if (it == tasks_.end()) {
        // First sight: the general reader's code, on a DOM of the input alone. `raw` lies
        // inside the line, so SIMDJSON_PADDING bytes after it are readable.
        element doc;
        array in;
        element parts[3];
        Record scratch;
        std::string why;
        if (im.parser().parse(raw.data(), raw.size(), false).get(doc) || doc.get_array().get(in) ||
            FirstElements(in, parts) < 3 ||
            !FillTvmTask(im, parts[0], parts[1], parts[2], &scratch, &why)) {
          return false;
        }
        if (tasks_.size() >= kMaxInterned) {
          tasks_.clear();
          last_ = nullptr;
        }
        it = tasks_.emplace(std::string(raw), Interned{scratch.task, scratch.workload_key}).first;
      }
      last_ = &it->second;
      last_text_.assign(raw);
    }
    r->task = last_->task;
    r->workload_key = last_->workload_key;
    return true;
  }

  // "config": {"index", "code_hash", "entity"} (v0.2 names only).
  bool ReadConfig(od::value value, Record* r) {
    od::object o;
    if (value.get_object().get(o)) return false;
    bool has_index = false, has_hash = false, has_entity = false;
    for (auto field_or_error : o) {
      od::field field;
      if (std::move(field_or_error).get(field)) return false;
      const od::raw_json_string key = field.key();
      od::value v = field.value();
      if (key == "index" && !has_index) {
        has_index = true;
        int64_t i = 0;
        if (!OdInt(v, &i) || i < 0) return false;
        r->config.index = i;
      } else if (key == "code_hash" && !has_hash) {
        has_hash = true;
        std::string_view hash;
        if (!v.get_string().get(hash)) {
          r->config.code_hash.assign(hash);
        } else if (!OdNull(v)) {
          return false;
        }
      } else if (key == "entity" && !has_entity) {
        has_entity = true;
        if (!ReadEntity(v, &r->config.values)) return false;
      } else {
        return false;
      }
    }
    return has_entity;
  }

  // [[name, type, value], ...] as ParseEntity reads it.
  bool ReadEntity(od::value value, std::vector<KnobValue>* values) {
    od::array items;
    if (value.get_array().get(items)) return false;
    size_t n = 0;
    for (auto item_or_error : items) {
      od::array triple;
      if (item_or_error.get_array().get(triple)) return false;
      if (n == values->size()) {
        if (spare_knobs_.empty()) {
          values->emplace_back();
        } else {
          values->push_back(std::move(spare_knobs_.back()));
          spare_knobs_.pop_back();
        }
      }
      KnobValue& kv = (*values)[n++];
      kv.ints.clear();
      size_t part = 0;
      size_t num_strings = 0;
      for (auto x_or_error : triple) {
        od::value x;
        if (std::move(x_or_error).get(x)) return false;
        switch (part++) {
          case 0:
            if (!OdStringInto(x, &kv.name)) return false;
            break;
          case 1:
            if (!OdStringInto(x, &kv.source_type)) return false;
            break;
          case 2:
            if (!ReadKnobValue(kv.source_type, x, &kv, &num_strings)) return false;
            break;
          default:
            return false;  // not a triple
        }
      }
      if (part != 3) return false;
      kv.strings.resize(num_strings);
    }
    // Knob values beyond this record's keep their storage for a later record.
    for (size_t i = n; i < values->size(); ++i) spare_knobs_.push_back(std::move((*values)[i]));
    values->resize(n);
    return true;
  }

  bool ReadKnobValue(std::string_view type, od::value x, KnobValue* kv, size_t* num_strings) {
    // AutoTVM's two-letter knob types, compared without a call per comparison.
    auto is = [&](std::string_view name) {
      return type.size() == 2 && type[0] == name[0] && type[1] == name[1];
    };
    if (is("sp") || is("re")) {
      kv->kind = is("sp") ? KnobKind::kSplit : KnobKind::kReorder;
      od::array list;
      if (x.get_array().get(list)) return false;
      for (auto e_or_error : list) {
        od::value e;
        int64_t i = 0;
        if (std::move(e_or_error).get(e) || !OdInt(e, &i)) return false;
        kv->ints.push_back(i);
      }
      return true;
    }
    if (is("an")) {
      kv->kind = KnobKind::kChoice;
      od::array list;
      if (x.get_array().get(list)) return false;
      for (auto e_or_error : list) {
        std::string_view label;
        if (e_or_error.get_string().get(label)) return false;
        AssignString(label, (*num_strings)++, &kv->strings);
      }
      return true;
    }
    if (!is("ot")) return false;
    od::json_type json_type;
    if (x.type().get(json_type)) return false;
    switch (json_type) {
      case od::json_type::number: {
        od::number_type number_type;
        if (x.get_number_type().get(number_type)) return false;
        if (number_type == od::number_type::signed_integer) {
          int64_t i = 0;
          if (x.get_int64().get(i)) return false;
          kv->kind = KnobKind::kChoice;
          kv->ints.push_back(i);
          return true;
        }
        double d = 0;
        if (number_type != od::number_type::floating_point_number || x.get_double().get(d)) {
          return false;
        }
        kv->kind = KnobKind::kChoice;
        number_text_.clear();
        AppendDouble(d, &number_text_);  // as Minified() spells it
        AssignString(number_text_, (*num_strings)++, &kv->strings);
        return true;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (x.get_bool().get(b)) return false;
        kv->kind = KnobKind::kBool;
        kv->ints.push_back(b ? 1 : 0);
        return true;
      }
      case od::json_type::string: {
        std::string_view label;
        if (x.get_string().get(label)) return false;
        kv->kind = KnobKind::kChoice;
        AssignString(label, (*num_strings)++, &kv->strings);
        return true;
      }
      case od::json_type::null:
        if (!OdNull(x)) return false;
        kv->kind = KnobKind::kChoice;
        AssignString("null", (*num_strings)++, &kv->strings);
        return true;
      default:
        return false;
    }
  }

  // "result": [costs, error_no, all_cost, timestamp] as ParseTvmResult reads it.
  bool ReadResult(od::value value, Record* r) {
    od::array a;
    if (value.get_array().get(a)) return false;
    MeasureResult& result = r->result;
    bool has_string_cost = false;
    size_t part = 0;
    for (auto x_or_error : a) {
      od::value x;
      if (std::move(x_or_error).get(x)) return false;
      switch (part++) {
        case 0: {
          // The costs come before error_no: numbers are kept and strings noted, and both are
          // judged once error_no is known.
          od::array costs;
          if (x.get_array().get(costs)) return false;
          for (auto c_or_error : costs) {
            od::value c;
            if (std::move(c_or_error).get(c)) return false;
            std::string_view msg;
            double seconds = 0;
            if (OdNumber(c, &seconds)) {
              result.run_seconds.push_back(seconds);
            } else if (!c.get_string().get(msg)) {
              if (result.error_msg.empty()) result.error_msg.assign(msg);  // the first non-empty
              has_string_cost = true;
            } else {
              return false;
            }
          }
          break;
        }
        case 1: {
          int64_t error_no = 0;
          if (!OdInt(x, &error_no) || !AutoTvmErrorToStatus(error_no, &result.status)) return false;
          result.source_error_code = static_cast<int32_t>(error_no);
          break;
        }
        case 2:
          if (!OdNumber(x, &result.all_cost_seconds) || !std::isfinite(result.all_cost_seconds) ||
              result.all_cost_seconds < 0) {
            return false;
          }
          break;
        case 3:
          if (!OdNumber(x, &r->timestamp_unix_s) || !std::isfinite(r->timestamp_unix_s)) {
            return false;
          }
          break;
        default:
          return false;  // the general reader ignores a fifth element
      }
    }
    if (part < 2) return false;
    if (result.ok()) {
      if (has_string_cost || result.run_seconds.empty()) return false;
      for (double s : result.run_seconds) {
        if (!std::isfinite(s) || s <= 0 || s >= kAutoTvmFailureCost) return false;
      }
      result.error_msg.clear();
      if (result.run_seconds.size() > 1) result.reported_seconds = result.mean_seconds();
    } else {
      // Failures carry a sentinel or a message, never a time.
      result.run_seconds.clear();
    }
    return true;
  }

  od::parser parser_;
  std::unordered_map<std::string, Interned, TextHash, std::equal_to<>> tasks_;
  const Interned* last_ = nullptr;  // the entry of the previous line's input
  std::string last_text_;           // and its text
  std::string number_text_;
  std::vector<KnobValue> spare_knobs_;  // storage of knob values that records no longer use
};

Importer::~Importer() = default;

AutoTvmFastReader* Importer::autotvm_fast_reader() {
  if (!options_.autotvm_fast_path) return nullptr;
  if (autotvm_fast_ == nullptr) autotvm_fast_ = std::make_unique<AutoTvmFastReader>();
  return autotvm_fast_.get();
}

// ---------------------------------------------------------------------------------------------
// AutoTVM, the general reader.

void ImportAutoTvmLine(Importer& im, int64_t line_no, std::string_view line) {
  if (AutoTvmFastReader* fast = im.autotvm_fast_reader()) {
    if (fast->Read(im, line, &im.NewRecord())) {
      im.Emit();
      return;
    }
  }
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  Record r;
  std::string why;
  element input, config, result, version;
  if (!o["input"].get(input)) {
    // v0.2
    if (o["version"].get(version)) {
      im.Skip(line_no, "AutoTVM v0.2 record without a version");
      return;
    }
    double v = 0;
    if (!GetNumber(version, &v) || v != 0.2) {
      im.Skip(line_no, "unknown AutoTVM log version " + Minified(version) +
                           " (Sonar reads 0.1 and 0.2)");
      return;
    }
    array in;
    element parts[3];
    if (input.get_array().get(in) || FirstElements(in, parts) < 3) {
      im.Skip(line_no, "input is not an array [target, task_name, args, kwargs]");
      return;
    }
    if (!FillTvmTask(im, parts[0], parts[1], parts[2], &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    if (o["config"].get(config) || o["result"].get(result)) {
      im.Skip(line_no, "AutoTVM v0.2 record without config or result");
      return;
    }
    if (!ParseAutoTvmConfig(config, &r, &why) || !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    element tvm_version;
    if (!o["tvm_version"].get(tvm_version) && tvm_version.type() == element_type::STRING) {
      GetString(tvm_version, &r.tool_version);
    }
    r.source_version = "autotvm-0.2";
  } else if (!o["i"].get(input)) {
    // v0.1: "i": [target, task_name, args, kwargs, workload, config]
    if (o["v"].get(version)) {
      im.Skip(line_no, "AutoTVM v0.1 record without \"v\"");
      return;
    }
    double v = 0;
    if (!GetNumber(version, &v) || v != 0.1) {
      std::string hint = version.type() == element_type::STRING
                             ? " (an Ansor record? use --format ansor)"
                             : " (Sonar reads 0.1 and 0.2)";
      im.Skip(line_no, "unknown AutoTVM log version " + Minified(version) + hint);
      return;
    }
    array in;
    if (input.get_array().get(in) || in.size() < 4) {
      im.Skip(line_no, "\"i\" is not an array [target, task_name, args, kwargs, workload, config]");
      return;
    }
    if (!FillTvmTask(im, in.at(0).value_unsafe(), in.at(1).value_unsafe(), in.at(2).value_unsafe(),
                     &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    element last = in.at(in.size() - 1).value_unsafe();
    if (o["r"].get(result)) {
      im.Skip(line_no, "AutoTVM v0.1 record without \"r\"");
      return;
    }
    if (!ParseAutoTvmConfig(last, &r, &why) || !ParseTvmResult(result, kAutoTvmFailureCost, &r, &why)) {
      im.Skip(line_no, why);
      return;
    }
    r.source_version = "autotvm-0.1";
  } else {
    im.Skip(line_no, "not an AutoTVM record (no \"input\" or \"i\")");
    return;
  }
  r.tuner = "autotvm-log";
  im.Emit(std::move(r));
}

// ---------------------------------------------------------------------------------------------
// Ansor (auto_scheduler) logs: {"i": [[workload_key, target, ...], [stages, steps]], "r": [...],
// "v": "v0.6"}. Each distinct steps list is one config of the workload's listed space.

struct AnsorState {
  std::unordered_map<uint64_t, std::unordered_map<std::string, int64_t>> index_of_steps;
};

std::string AnsorTaskName(std::string_view key, simdjson::dom::parser& scratch) {
  // NNFusion-style keys are JSON arrays: ["get_expr", "fused_conv_expr_S1D1P1", [64, ...]];
  // TVM's own are ["<hash>", args...].
  std::string padded = PaddedCopy(key);
  element doc;
  array a;
  if (scratch.parse(padded.data(), padded.size(), false).get(doc) || doc.get_array().get(a) ||
      a.size() == 0) {
    return "auto_scheduler";
  }
  std::string first, second;
  if (!GetString(a.at(0).value_unsafe(), &first)) return "auto_scheduler";
  if (first == "get_expr" && a.size() > 1 && GetString(a.at(1).value_unsafe(), &second)) {
    return second;
  }
  return first;
}

void ImportAnsorLine(Importer& im, AnsorState& state, int64_t line_no, std::string_view line) {
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  element input, result, version;
  if (o["i"].get(input) || o["r"].get(result)) {
    im.Skip(line_no, "not an Ansor record (no \"i\" or \"r\")");
    return;
  }
  std::string v;
  if (o["v"].get(version) || !GetString(version, &v)) {
    im.Skip(line_no, "Ansor record without a string version \"v\"");
    return;
  }
  array in, task, state_arr, steps_arr;
  if (input.get_array().get(in) || in.size() < 2 || in.at(0).get_array().get(task) ||
      task.size() < 2 || in.at(1).get_array().get(state_arr) || state_arr.size() < 2 ||
      state_arr.at(1).get_array().get(steps_arr)) {
    im.Skip(line_no, "\"i\" is not [[workload_key, target, ...], [stages, steps]]");
    return;
  }
  Record r;
  std::string key;
  if (!GetString(task.at(0).value_unsafe(), &key) ||
      !GetString(task.at(1).value_unsafe(), &r.task.target)) {
    im.Skip(line_no, "workload key or target is not a string");
    return;
  }
  r.task.op = "auto_scheduler";
  simdjson::dom::parser key_parser;
  r.task.name = AnsorTaskName(key, key_parser);
  // The args are the workload key itself (a JSON string holding JSON).
  r.task.args_json = Minified(task.at(0).value_unsafe());
  r.workload_key = r.task.ComputeWorkloadKey();
  std::string why;
  if (!ParseTvmResult(result, 1e9, &r, &why)) {
    im.Skip(line_no, why);
    return;
  }
  const std::string steps = Minified(state_arr.at(1).value_unsafe());
  auto& index = state.index_of_steps[r.workload_key];
  auto [it, inserted] = index.emplace(steps, static_cast<int64_t>(index.size()));
  r.config.index = it->second;
  KnobValue steps_knob;
  steps_knob.name = "steps";
  steps_knob.kind = KnobKind::kChoice;
  steps_knob.strings = {steps};
  steps_knob.source_type = "ansor_steps";
  r.config.values.push_back(std::move(steps_knob));
  // Split steps ["SP", stage, iter, extent, [lengths], inner_to_outer] as split knobs, so that
  // models get numeric features; outer factor -1 = the rest, as in AutoTVM.
  int k = 0;
  for (element step : steps_arr) {
    array s;
    std::string kind;
    if (step.get_array().get(s) || s.size() < 5 || !GetString(s.at(0).value_unsafe(), &kind) ||
        kind != "SP") {
      continue;
    }
    std::vector<int64_t> lengths;
    int64_t stage = 0, iter = 0;
    if (!GetInt(s.at(1).value_unsafe(), &stage) || !GetInt(s.at(2).value_unsafe(), &iter) ||
        !GetIntList(s.at(4).value_unsafe(), &lengths)) {
      continue;
    }
    KnobValue sp;
    sp.name = "sp" + std::to_string(k++) + "_s" + std::to_string(stage) + "_i" + std::to_string(iter);
    sp.kind = KnobKind::kSplit;
    sp.ints.push_back(-1);
    sp.ints.insert(sp.ints.end(), lengths.begin(), lengths.end());
    sp.source_type = "ansor_sp";
    r.config.values.push_back(std::move(sp));
  }
  r.source_version = "ansor-" + v;
  r.tuner = "ansor-log";
  im.Emit(std::move(r));
}

// ---------------------------------------------------------------------------------------------
// Kernel Tuner cache files.

// "2023-01-26 19:47:39.876766+00:00" -> Unix seconds; false when it does not look like that.
bool ParseIsoTimestamp(std::string_view s, double* out) {
  int y, mo, d, h, mi;
  double sec;
  if (std::sscanf(std::string(s).c_str(), "%d-%d-%d%*c%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  const time_t t = timegm(&tm);
  double offset = 0;
  const size_t tz = s.find_first_of("+-", 19);
  if (tz != std::string_view::npos && s.size() >= tz + 6) {
    const int oh = std::atoi(std::string(s.substr(tz + 1, 2)).c_str());
    const int om = std::atoi(std::string(s.substr(tz + 4, 2)).c_str());
    offset = (s[tz] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  }
  *out = static_cast<double>(t) + sec - offset;
  return true;
}

struct KernelTunerHeader {
  TaskIdentity task;
  std::vector<std::string> keys;
  // For each key, its listed values (minified JSON) -> position; used for the config index.
  std::vector<std::unordered_map<std::string, int64_t>> positions;
  std::vector<int64_t> sizes;
};

bool ParseKernelTunerHeader(object doc, KernelTunerHeader* h, std::string* why) {
  element e;
  array keys;
  if (doc["tune_params_keys"].get(e) || e.get_array().get(keys)) {
    *why = "Kernel Tuner cache without a \"tune_params_keys\" list";
    return false;
  }
  for (element k : keys) {
    std::string s;
    if (!GetString(k, &s)) {
      *why = "tune_params_keys holds a non-string";
      return false;
    }
    h->keys.push_back(std::move(s));
  }
  object params;
  const bool has_params = !doc["tune_params"].get(e) && !e.get_object().get(params);
  for (const std::string& key : h->keys) {
    std::unordered_map<std::string, int64_t> pos;
    array values;
    if (has_params && !params[key].get(e) && !e.get_array().get(values)) {
      for (element v : values) pos.emplace(Minified(v), static_cast<int64_t>(pos.size()));
    }
    h->sizes.push_back(static_cast<int64_t>(pos.size()));
    h->positions.push_back(std::move(pos));
  }
  std::string kernel, device;
  if (!doc["kernel_name"].get(e)) GetString(e, &kernel);
  if (!doc["device_name"].get(e)) GetString(e, &device);
  h->task.op = kernel.empty() ? "kernel_tuner" : kernel;
  h->task.name = h->task.op;
  h->task.target = device.empty() ? "kernel_tuner:unknown_device" : device;
  h->task.args_json = doc["problem_size"].get(e) ? "" : Minified(e);
  return true;
}

bool IsKernelTunerFailure(std::string_view s, MeasureStatus* status) {
  if (s == "CompilationFailedConfig") {
    *status = MeasureStatus::kCompileError;
  } else if (s == "RuntimeFailedConfig") {
    *status = MeasureStatus::kRuntimeError;
  } else if (s == "InvalidConfig") {
    *status = MeasureStatus::kInvalidConfig;
  } else {
    return false;
  }
  return true;
}

bool ParseKernelTunerEntry(const KernelTunerHeader& h, element entry, Record* r, std::string* why) {
  object o;
  if (entry.get_object().get(o)) {
    *why = "cache entry is not an object";
    return false;
  }
  r->task = h.task;
  r->workload_key = r->task.ComputeWorkloadKey();
  int64_t index = 0, stride = 1;
  bool indexable = true;
  for (size_t k = 0; k < h.keys.size(); ++k) {
    element v;
    if (o[h.keys[k]].get(v)) {
      *why = "cache entry lacks parameter '" + h.keys[k] + "'";
      return false;
    }
    KnobValue kv;
    kv.name = h.keys[k];
    int64_t i = 0;
    bool b = false;
    if (GetInt(v, &i)) {
      kv.kind = KnobKind::kChoice;
      kv.ints = {i};
    } else if (!v.get_bool().get(b)) {
      kv.kind = KnobKind::kBool;
      kv.ints = {b ? 1 : 0};
    } else if (v.type() == element_type::STRING || v.type() == element_type::DOUBLE) {
      kv.kind = KnobKind::kChoice;
      std::string s;
      if (!GetString(v, &s)) s = Minified(v);
      kv.strings = {std::move(s)};
    } else {
      *why = "parameter '" + h.keys[k] + "' has a value of type " + TypeName(v);
      return false;
    }
    r->config.values.push_back(std::move(kv));
    auto it = h.positions[k].find(Minified(v));
    if (it == h.positions[k].end()) {
      indexable = false;
    } else {
      index += it->second * stride;
      stride *= std::max<int64_t>(h.sizes[k], 1);
    }
  }
  if (indexable) r->config.index = index;
  element time;
  if (o["time"].get(time)) {
    *why = "cache entry has no \"time\"";
    return false;
  }
  std::string failure;
  if (GetString(time, &failure)) {
    if (!IsKernelTunerFailure(failure, &r->result.status)) {
      *why = "unknown failure string \"" + failure + "\" in \"time\"";
      return false;
    }
    r->result.error_msg = failure;
  } else {
    double ms = 0;
    if (!GetNumber(time, &ms) || !std::isfinite(ms) || ms <= 0) {
      *why = "\"time\" is " + Minified(time) + ", not a positive number of milliseconds";
      return false;
    }
    r->result.status = MeasureStatus::kOk;
    r->result.reported_seconds = ms * 1e-3;  // Kernel Tuner ranks by "time"
    element times;
    array ta;
    if (!o["times"].get(times) && !times.get_array().get(ta) && ta.size() > 0) {
      for (element t : ta) {
        double x = 0;
        if (!GetNumber(t, &x) || !std::isfinite(x) || x <= 0) {
          *why = "\"times\" holds " + Minified(t) + ", not a positive number";
          return false;
        }
        r->result.run_seconds.push_back(x * 1e-3);
      }
    } else {
      r->result.run_seconds = {ms * 1e-3};
    }
  }
  element e;
  double x = 0;
  if (!o["compile_time"].get(e) && GetNumber(e, &x) && std::isfinite(x) && x >= 0) {
    r->result.compile_seconds = x * 1e-3;
  }
  std::string ts;
  if (!o["timestamp"].get(e) && GetString(e, &ts)) ParseIsoTimestamp(ts, &r->timestamp_unix_s);
  r->source_version = "kernel-tuner";
  r->tuner = "kernel-tuner-cache";
  return true;
}

int64_t LineOfOffset(const std::string& text, size_t offset) {
  int64_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

void ImportKernelTuner(Importer& im, const std::string& text, ImportReport* report) {
  element doc;
  object root;
  auto err = im.parser().parse(text.data(), text.size(), false).get(doc);
  if (!err && !doc.get_object().get(root)) {
    // The whole file is valid JSON: the usual case.
    KernelTunerHeader h;
    std::string why;
    if (!ParseKernelTunerHeader(root, &h, &why)) {
      im.Skip(1, why);
      return;
    }
    element cache;
    object entries;
    if (root["cache"].get(cache) || cache.get_object().get(entries)) {
      im.Skip(1, "Kernel Tuner file without a \"cache\" object");
      return;
    }
    for (auto [key, value] : entries) {
      ++report->lines;
      Record r;
      if (!ParseKernelTunerEntry(h, value, &r, &why)) {
        const size_t at = text.find("\"" + std::string(key) + "\"");
        im.Skip(at == std::string::npos ? 0 : LineOfOffset(text, at),
                "entry \"" + std::string(key) + "\": " + why);
        if (im.stopped()) return;
        continue;
      }
      im.Emit(std::move(r));
    }
    return;
  }
  // Not valid as a whole: Kernel Tuner writes one entry per line after a header ending in
  // "cache": {, and a killed run leaves the object unclosed. Read it line by line.
  const size_t cache_at = text.find("\"cache\"");
  const size_t brace = cache_at == std::string::npos ? std::string::npos : text.find('{', cache_at);
  if (brace == std::string::npos) {
    im.Skip(1, std::string("not valid JSON and no \"cache\" section: ") +
                   (err ? simdjson::error_message(err) : "not an object"));
    return;
  }
  std::string header = PaddedCopy(text.substr(0, brace) + "{}}");
  KernelTunerHeader h;
  std::string why;
  if (im.parser().parse(header.data(), header.size(), false).get(doc) || doc.get_object().get(root) ||
      !ParseKernelTunerHeader(root, &h, &why)) {
    im.Skip(1, "cannot read the Kernel Tuner header" + (why.empty() ? "" : ": " + why));
    return;
  }
  const int64_t header_lines = LineOfOffset(text, brace);
  std::string rest = PaddedCopy(std::string_view(text).substr(brace + 1));
  int64_t line_no = header_lines - 1;
  const char* p = rest.data();
  const char* end = p + rest.size();
  while (p < end && !im.stopped()) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* e = nl ? nl : end;
    ++line_no;
    std::string_view line(p, static_cast<size_t>(e - p));
    p = nl ? nl + 1 : end;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (!line.empty() && line.back() == ',') line.remove_suffix(1);
    if (line.empty() || line == "}" || line == "}}") continue;
    ++report->lines;
    std::string wrapped = PaddedCopy("{" + std::string(line) + "}");
    object one;
    if (im.parser().parse(wrapped.data(), wrapped.size(), false).get(doc) || doc.get_object().get(one)) {
      im.Skip(line_no, "cache entry is not valid JSON");
      continue;
    }
    for (auto [key, value] : one) {
      Record r;
      if (!ParseKernelTunerEntry(h, value, &r, &why)) {
        im.Skip(line_no, "entry \"" + std::string(key) + "\": " + why);
        continue;
      }
      im.Emit(std::move(r));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sonar JSON lines (the format RecordToJsonLine writes).

bool ParseJsonLineRecord(object o, Record* r, std::string* why) {
  element e;
  std::string s;
  if (o["workload_key"].get(e) || !GetString(e, &s) || !HexToWorkloadKey(s, &r->workload_key)) {
    *why = "\"workload_key\" is not a 16-digit hex string";
    return false;
  }
  object task;
  if (o["task"].get(e) || e.get_object().get(task)) {
    *why = "\"task\" is not an object";
    return false;
  }
  element t;
  if (!task["name"].get(t)) GetString(t, &r->task.name);
  if (task["op"].get(t) || !GetString(t, &r->task.op)) {
    *why = "task.op is not a string";
    return false;
  }
  if (!task["args"].get(t)) r->task.args_json = Minified(t);  // absent: unknown ("")
  if (!task["target"].get(t)) GetString(t, &r->task.target);
  int64_t tv = 0;
  if (!task["template_version"].get(t) && GetInt(t, &tv)) r->task.template_version = static_cast<int32_t>(tv);
  object config;
  if (o["config"].get(e) || e.get_object().get(config)) {
    *why = "\"config\" is not an object";
    return false;
  }
  int64_t index = 0;
  if (!config["index"].get(e) && e.type() != element_type::NULL_VALUE) {
    if (!GetInt(e, &index)) {
      *why = "config.index is not an integer";
      return false;
    }
    r->config.index = index;
  }
  if (!config["code_hash"].get(e)) GetString(e, &r->config.code_hash);
  array knobs;
  if (config["knobs"].get(e) || e.get_array().get(knobs)) {
    *why = "config.knobs is not an array";
    return false;
  }
  for (element k : knobs) {
    object ko;
    KnobValue v;
    std::string kind;
    if (k.get_object().get(ko) || ko["name"].get(e) || !GetString(e, &v.name) || ko["kind"].get(e) ||
        !GetString(e, &kind) || !StringToKnobKind(kind, &v.kind)) {
      *why = "a knob lacks a name or a known kind";
      return false;
    }
    if (!ko["ints"].get(e) && !GetIntList(e, &v.ints)) {
      *why = "knob '" + v.name + "': ints is not a list of integers";
      return false;
    }
    array strs;
    if (!ko["strings"].get(e) && !e.get_array().get(strs)) {
      for (element x : strs) {
        std::string str;
        if (!GetString(x, &str)) {
          *why = "knob '" + v.name + "': strings holds a non-string";
          return false;
        }
        v.strings.push_back(std::move(str));
      }
    }
    if (!ko["source_type"].get(e)) GetString(e, &v.source_type);
    r->config.values.push_back(std::move(v));
  }
  object res;
  if (o["result"].get(e) || e.get_object().get(res)) {
    *why = "\"result\" is not an object";
    return false;
  }
  if (res["status"].get(e) || !GetString(e, &s) || !StringToMeasureStatus(s, &r->result.status)) {
    *why = "result.status is missing or unknown";
    return false;
  }
  array runs;
  if (!res["run_seconds"].get(e) && !e.get_array().get(runs)) {
    for (element x : runs) {
      double v = 0;
      if (!GetNumber(x, &v) || !std::isfinite(v) || v <= 0) {
        *why = "result.run_seconds holds " + Minified(x) + ", not a positive time";
        return false;
      }
      r->result.run_seconds.push_back(v);
    }
  }
  if (r->result.ok() && r->result.run_seconds.empty()) {
    *why = "an ok result without run_seconds";
    return false;
  }
  if (!r->result.ok()) r->result.run_seconds.clear();
  double d = 0;
  if (!res["compile_seconds"].get(e) && GetNumber(e, &d)) r->result.compile_seconds = d;
  if (!res["all_cost_seconds"].get(e) && GetNumber(e, &d)) r->result.all_cost_seconds = d;
  if (!res["error_msg"].get(e)) GetString(e, &r->result.error_msg);
  if (!res["source_error_code"].get(e) && GetInt(e, &index)) {
    r->result.source_error_code = static_cast<int32_t>(index);
  }
  if (!res["reference_seconds"].get(e) && GetNumber(e, &d)) r->result.reference_seconds = d;
  if (!res["reported_seconds"].get(e) && GetNumber(e, &d)) r->result.reported_seconds = d;
  if (!o["timestamp"].get(e) && GetNumber(e, &d)) r->timestamp_unix_s = d;
  if (!o["tuner"].get(e)) GetString(e, &r->tuner);
  if (!o["trial"].get(e) && GetInt(e, &index)) r->trial = static_cast<int32_t>(index);
  if (!o["hardware_id"].get(e)) GetString(e, &r->hardware_id);
  if (!o["source_version"].get(e)) GetString(e, &r->source_version);
  if (!o["tool_version"].get(e)) GetString(e, &r->tool_version);
  return true;
}

void ImportJsonLine(Importer& im, int64_t line_no, std::string_view line) {
  object o;
  if (!ParseObjectLine(im, line_no, line, &o)) return;
  element v;
  std::string version;
  if (o["v"].get(v) || !GetString(v, &version) || version != "sonar-1") {
    im.Skip(line_no, "not a Sonar JSON-lines record (\"v\" is not \"sonar-1\")");
    return;
  }
  Record r;
  std::string why;
  if (!ParseJsonLineRecord(o, &r, &why)) {
    im.Skip(line_no, why);
    return;
  }
  im.Emit(std::move(r));
}

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
Status ImportLines(std::string_view text,
                   const char* readable_end,
                   std::string_view source,
                   const ImportOptions& options,
                   int threads,
                   int64_t first_line,
                   const Output& out,
                   ImportReport* report,
                   LineFn line_fn) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  // Small enough that a thread's two chunks of records stay in its cache.
  constexpr size_t kChunkBytes = 64u << 10;
  auto chunk_end_after = [&](const char* from, size_t bytes) {
    const char* guess = from + std::min<size_t>(bytes, static_cast<size_t>(end - from));
    const char* nl = guess >= end ? nullptr
                                  : static_cast<const char*>(std::memchr(
                                        guess, '\n', static_cast<size_t>(end - guess)));
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
  const char* cursor = begin;  // where the next chunk starts; guarded by mu
  int64_t next_chunk = 0;      // the number of the next chunk to take; guarded by mu
  int64_t next_turn = 0;       // the chunk whose records go on next; guarded by mu
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
        im.FinishSkips(
            next_line - 1,
            static_cast<size_t>(options.max_logged_skips) - report->skip_messages.size());
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
            chunk_begin, chunk_end, 1, [&](int64_t no, std::string_view line) {
              line_fn(*idle->importer, no, line);
            });
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
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, kImportSlots / kBuffersPerThread);
  if (bytes < (8u << 20) || options.strict) threads = 1;
  return threads;
}

// Imports one block of a JSON-lines text, the lines numbered from first_line; *report gathers
// across blocks. `ansor` carries the Ansor listed-space state from block to block.
Status ImportLineBlock(std::string_view text,
                       const char* readable_end,
                       std::string_view source,
                       const ImportOptions& options,
                       HistoryFormat format,
                       int64_t first_line,
                       const Output& out,
                       AnsorState* ansor,
                       ImportReport* report) {
  ImportReport block;
  Status s;
  const int threads = ImportThreads(options, text.size());
  switch (format) {
    case HistoryFormat::kAutoTvm:
      s = ImportLines(
          text, readable_end, source, options, threads, first_line, out, &block, ImportAutoTvmLine);
      break;
    case HistoryFormat::kJsonLines:
      s = ImportLines(
          text, readable_end, source, options, threads, first_line, out, &block, ImportJsonLine);
      break;
    case HistoryFormat::kAnsor:
      // Sequential: the listed-space index of a config is its order of first appearance.
      s = ImportLines(text, readable_end, source, options, 1, first_line, out, &block,
                      [&](Importer& im, int64_t n, std::string_view l) {
                        ImportAnsorLine(im, *ansor, n, l);
                      });
      break;
    case HistoryFormat::kKernelTuner:
    case HistoryFormat::kRecordLog:
    case HistoryFormat::kAuto:
      return InternalError("ImportLineBlock: not a JSON-lines format");
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
Status ImportKernelTunerText(std::string_view text,
                             std::string_view source,
                             const ImportOptions& options,
                             const Output& out,
                             ImportReport* report) {
  const std::string padded = PaddedCopy(text);
  std::vector<Record> kept;
  const std::function<void(Record&&)> buffer = [&](Record&& r) {
    kept.push_back(std::move(r));
    if (kept.size() >= 1024) {
      if (out.stages->prepare) out.stages->prepare(kept, kept.size(), 0);
      out.stages->consume(kept, kept.size(), 0);
      kept.clear();
    }
  };
  Importer im(source,
              options,
              padded.data() + padded.size() + simdjson::SIMDJSON_PADDING,
              out.stages ? &buffer : out.sink,
              report);
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
StatusOr<HistoryFormat> FormatOf(std::string_view text,
                                 std::string_view source,
                                 const ImportOptions& options) {
  if (options.format != HistoryFormat::kAuto) return options.format;
  const HistoryFormat format = DetectHistoryFormat(text);
  if (format == HistoryFormat::kAuto &&
      text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return InvalidArgumentError(std::string(source) +
                                ": cannot tell the history format from the content; name it "
                                "with --format autotvm|ansor|kernel-tuner|jsonl");
  }
  return format;
}

// Imports a whole text held in memory (or mapped).
Status ImportText(std::string_view text,
                  const char* readable_end,
                  std::string_view source,
                  const ImportOptions& options,
                  const Output& out,
                  ImportReport* report) {
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
Status ImportGzipped(const std::string& path,
                     const ImportOptions& options,
                     const Output& out,
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
Status ImportRecordLog(const std::string& path,
                       const ImportOptions& options,
                       const Output& out,
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
  Status s = ForEachRecord(path, [&](Record&& r) {
    ++report->records;
    ++report->lines;
    ++(r.result.ok() ? report->ok : report->failed);
    if (out.stages == nullptr) {
      (*out.sink)(std::move(r));
      return;
    }
    kept.push_back(std::move(r));
    if (kept.size() >= 1024) hand_on();
  }, &stats);
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
Status ImportFile(const std::string& path,
                  const ImportOptions& options,
                  Output out,
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

// ---------------------------------------------------------------------------------------------
// Public functions.

std::string_view HistoryFormatToString(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::kAuto: return "auto";
    case HistoryFormat::kAutoTvm: return "autotvm";
    case HistoryFormat::kAnsor: return "ansor";
    case HistoryFormat::kKernelTuner: return "kernel-tuner";
    case HistoryFormat::kJsonLines: return "jsonl";
    case HistoryFormat::kRecordLog: return "sonar-log";
  }
  return "auto";
}

bool StringToHistoryFormat(std::string_view name, HistoryFormat* format) {
  for (HistoryFormat f : {HistoryFormat::kAuto, HistoryFormat::kAutoTvm, HistoryFormat::kAnsor,
                          HistoryFormat::kKernelTuner, HistoryFormat::kJsonLines,
                          HistoryFormat::kRecordLog}) {
    if (HistoryFormatToString(f) == name) {
      *format = f;
      return true;
    }
  }
  return false;
}

Status ImportOptions::Validate() const {
  if (max_logged_skips < 0) {
    return InvalidArgumentError("ImportOptions::max_logged_skips must be >= 0");
  }
  if (threads < 0) return InvalidArgumentError("ImportOptions::threads must be >= 0");
  return OkStatus();
}

void ImportReport::Merge(const ImportReport& o) {
  lines += o.lines;
  comment_lines += o.comment_lines;
  records += o.records;
  ok += o.ok;
  failed += o.failed;
  skipped_lines += o.skipped_lines;
  appended += o.appended;
  duplicates += o.duplicates;
  unchecked += o.unchecked;
  skip_messages.insert(skip_messages.end(), o.skip_messages.begin(), o.skip_messages.end());
}

bool AutoTvmErrorToStatus(int64_t error_no, MeasureStatus* status) {
  switch (error_no) {
    case 0: *status = MeasureStatus::kOk; return true;
    case 1: *status = MeasureStatus::kInvalidConfig; return true;
    case 2:  // compile error on host
    case 3:  // compile error on device
      *status = MeasureStatus::kCompileError;
      return true;
    case 4: *status = MeasureStatus::kRuntimeError; return true;
    case 5: *status = MeasureStatus::kWrongAnswer; return true;
    case 6: *status = MeasureStatus::kCompileTimeout; return true;
    case 7: *status = MeasureStatus::kRunTimeout; return true;
    case 8: *status = MeasureStatus::kUnknownError; return true;
    default: return false;
  }
}

int AutoTvmErrorFromStatus(MeasureStatus status) {
  switch (status) {
    case MeasureStatus::kOk: return 0;
    case MeasureStatus::kInvalidConfig: return 1;
    case MeasureStatus::kCompileError: return 2;
    case MeasureStatus::kRuntimeError: return 4;
    case MeasureStatus::kCrashed: return 4;
    case MeasureStatus::kWrongAnswer: return 5;
    case MeasureStatus::kCompileTimeout: return 6;
    case MeasureStatus::kRunTimeout: return 7;
    case MeasureStatus::kNotInTable: return 8;
    case MeasureStatus::kUnknownError: return 8;
  }
  return 8;
}

namespace {

// The format of one parsed JSON line, or kAuto when its keys name none.
HistoryFormat FormatOfObject(object o) {
  element e;
  if (!o["input"].get(e)) return HistoryFormat::kAutoTvm;
  if (!o["i"].get(e)) {
    element v;
    if (!o["v"].get(v) && v.type() == element_type::STRING) return HistoryFormat::kAnsor;
    return HistoryFormat::kAutoTvm;
  }
  std::string_view s;
  if (!o["v"].get(e) && !e.get_string().get(s) && s == "sonar-1") return HistoryFormat::kJsonLines;
  if (!o["tune_params_keys"].get(e) || !o["cache"].get(e)) return HistoryFormat::kKernelTuner;
  return HistoryFormat::kAuto;
}

// A guess from the text of a line that is not valid JSON on its own.
HistoryFormat FormatOfText(std::string_view line) {
  auto has = [&](std::string_view needle) { return line.find(needle) != std::string_view::npos; };
  if (has("\"tune_params_keys\"") || has("\"cache\"")) return HistoryFormat::kKernelTuner;
  if (has("\"sonar-1\"") || has("\"workload_key\"")) return HistoryFormat::kJsonLines;
  if (has("\"input\"")) return HistoryFormat::kAutoTvm;
  if (has("\"i\"")) return has("\"v0.") ? HistoryFormat::kAnsor : HistoryFormat::kAutoTvm;
  return HistoryFormat::kAuto;
}

}  // namespace

HistoryFormat DetectHistoryFormat(std::string_view text) {
  // Kernel Tuner caches are one (usually multi-line) JSON object.
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return HistoryFormat::kAuto;
  std::string_view head = text.substr(0, std::min<size_t>(text.size(), 1 << 16));
  if (head.find("\"tune_params_keys\"") != std::string_view::npos && text[first] == '{') {
    return HistoryFormat::kKernelTuner;
  }
  // Otherwise JSON lines: the first of the first 50 non-comment lines that parses decides.
  simdjson::dom::parser parser;
  std::string_view first_line;
  size_t pos = 0;
  for (int looked = 0; pos < text.size() && looked < 50;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t b = l.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || l[b] == '#') continue;
    l = l.substr(b);
    ++looked;
    if (first_line.empty()) first_line = l;
    std::string padded = PaddedCopy(l);
    element doc;
    object o;
    if (!parser.parse(padded.data(), padded.size(), false).get(doc) && !doc.get_object().get(o)) {
      return FormatOfObject(o);
    }
  }
  return FormatOfText(first_line);
}

Status ImportHistory(const std::string& path,
                     const ImportOptions& options,
                     const std::function<void(Record&&)>& sink,
                     ImportReport* report) {
  Output out;
  out.sink = &sink;
  return ImportFile(path, options, out, report);
}

Status ImportHistoryInChunks(const std::string& path,
                             const ImportOptions& options,
                             const ImportStages& stages,
                             ImportReport* report) {
  if (!stages.consume) return InvalidArgumentError("ImportHistoryInChunks: no consume stage");
  Output out;
  out.stages = &stages;
  return ImportFile(path, options, out, report);
}

Status ImportHistoryIntoLog(
    const std::string& path,
    const ImportOptions& options,
    RecordLogWriter& log,
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
    EncodeFrames(records.data(), n, &b);
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
  Status s = ImportHistory(path, options, [&](Record&& r) { out.push_back(std::move(r)); }, report);
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<Record>> ImportHistoryText(std::string_view text,
                                                std::string_view source_name,
                                                const ImportOptions& options,
                                                ImportReport* report) {
  std::vector<Record> out;
  const std::string padded = PaddedCopy(text);
  const std::function<void(Record&&)> sink = [&](Record&& r) { out.push_back(std::move(r)); };
  Output output;
  output.sink = &sink;
  Status s = ImportText(padded,
                        padded.data() + padded.size() + simdjson::SIMDJSON_PADDING,
                        source_name,
                        options,
                        output,
                        report);
  if (!s.ok()) return s;
  return out;
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
