// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/record_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <atomic>
#include <unordered_map>

#include "measure/record.pb.h"

namespace sonar {
namespace {

constexpr unsigned char kMagic[4] = {0xA5, 'S', 'N', 'R'};
constexpr size_t kHeaderBytes = 12;
constexpr uint32_t kMaxPayloadBytes = 64u << 20;  // no record comes near this

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint32_t Crc32(const void* data, size_t n) {
  return static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), static_cast<const Bytef*>(data), static_cast<uInt>(n)));
}

void ToProto(const Record& r, proto::Record* p) {
  p->set_workload_key(r.workload_key);
  proto::TaskIdentity* t = p->mutable_task();
  t->set_name(r.task.name);
  t->set_op(r.task.op);
  t->set_args_json(r.task.args_json);
  t->set_target(r.task.target);
  t->set_template_version(r.task.template_version);
  proto::Config* c = p->mutable_config();
  for (const KnobValue& v : r.config.values) {
    proto::KnobValue* pv = c->add_values();
    pv->set_name(v.name);
    pv->set_kind(static_cast<proto::KnobKind>(static_cast<int>(v.kind)));
    for (int64_t x : v.ints) pv->add_ints(x);
    for (const std::string& s : v.strings) pv->add_strings(s);
    pv->set_source_type(v.source_type);
  }
  if (r.config.index) c->set_index(*r.config.index);
  c->set_code_hash(r.config.code_hash);
  proto::MeasureResult* m = p->mutable_result();
  m->set_status(static_cast<proto::MeasureStatus>(static_cast<int>(r.result.status)));
  for (double s : r.result.run_seconds) m->add_run_seconds(s);
  m->set_compile_seconds(r.result.compile_seconds);
  m->set_all_cost_seconds(r.result.all_cost_seconds);
  m->set_error_msg(r.result.error_msg);
  m->set_source_error_code(r.result.source_error_code);
  m->set_reference_seconds(r.result.reference_seconds);
  m->set_reported_seconds(r.result.reported_seconds);
  p->set_timestamp_unix_s(r.timestamp_unix_s);
  p->set_tuner(r.tuner);
  p->set_trial(r.trial);
  p->set_hardware_id(r.hardware_id);
  p->set_source_version(r.source_version);
  p->set_tool_version(r.tool_version);
}

// Returns false when the message holds values outside the enums (a corrupt or newer record).
bool FromProto(const proto::Record& p, Record* r) {
  r->workload_key = p.workload_key();
  const proto::TaskIdentity& t = p.task();
  r->task.name = t.name();
  r->task.op = t.op();
  r->task.args_json = t.args_json();
  r->task.target = t.target();
  r->task.template_version = t.template_version();
  const proto::Config& c = p.config();
  r->config.values.resize(static_cast<size_t>(c.values_size()));
  for (int i = 0; i < c.values_size(); ++i) {
    const proto::KnobValue& pv = c.values(i);
    KnobValue& v = r->config.values[static_cast<size_t>(i)];
    v.name = pv.name();
    const int kind = static_cast<int>(pv.kind());
    if (kind < 0 || kind > static_cast<int>(KnobKind::kBool)) return false;
    v.kind = static_cast<KnobKind>(kind);
    v.ints.assign(pv.ints().begin(), pv.ints().end());
    v.strings.assign(pv.strings().begin(), pv.strings().end());
    v.source_type = pv.source_type();
  }
  if (c.has_index()) {
    r->config.index = c.index();
  } else {
    r->config.index.reset();
  }
  r->config.code_hash = c.code_hash();
  const proto::MeasureResult& m = p.result();
  const int status = static_cast<int>(m.status());
  if (status < 0 || status > static_cast<int>(MeasureStatus::kUnknownError)) return false;
  r->result.status = static_cast<MeasureStatus>(status);
  r->result.run_seconds.assign(m.run_seconds().begin(), m.run_seconds().end());
  r->result.compile_seconds = m.compile_seconds();
  r->result.all_cost_seconds = m.all_cost_seconds();
  r->result.error_msg = m.error_msg();
  r->result.source_error_code = m.source_error_code();
  r->result.reference_seconds = m.reference_seconds();
  r->result.reported_seconds = m.reported_seconds();
  r->timestamp_unix_s = p.timestamp_unix_s();
  r->tuner = p.tuner();
  r->trial = p.trial();
  r->hardware_id = p.hardware_id();
  r->source_version = p.source_version();
  r->tool_version = p.tool_version();
  return true;
}

void AppendFrame(const Record& record, proto::Record* scratch, std::string* out) {
  scratch->Clear();
  ToProto(record, scratch);
  const size_t n = scratch->ByteSizeLong();
  const size_t start = out->size();
  out->append(reinterpret_cast<const char*>(kMagic), 4);
  PutU32(out, static_cast<uint32_t>(n));
  PutU32(out, 0);  // CRC placeholder
  out->resize(start + kHeaderBytes + n);
  char* payload = out->data() + start + kHeaderBytes;
  scratch->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(payload));
  const uint32_t crc = Crc32(payload, n);
  for (int i = 0; i < 4; ++i) {
    (*out)[start + 8 + static_cast<size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
}

// Tries to decode the frame at `pos`; returns its total size, or 0 when there is no valid
// frame there. `*truncated` is set when the header is plausible but the frame runs past EOF.
size_t TryFrame(std::string_view bytes,
                size_t pos,
                proto::Record* scratch,
                Record* out,
                bool* truncated) {
  *truncated = false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + pos;
  const size_t left = bytes.size() - pos;
  if (left < 4 || std::memcmp(p, kMagic, 4) != 0) {
    if (left < 4 && std::memcmp(p, kMagic, left) == 0) *truncated = true;
    return 0;
  }
  if (left < kHeaderBytes) {
    *truncated = true;
    return 0;
  }
  const uint32_t n = GetU32(p + 4);
  if (n > kMaxPayloadBytes) return 0;
  if (left < kHeaderBytes + n) {
    *truncated = true;
    return 0;
  }
  if (Crc32(p + kHeaderBytes, n) != GetU32(p + 8)) return 0;
  scratch->Clear();
  if (!scratch->ParseFromArray(p + kHeaderBytes, static_cast<int>(n))) return 0;
  if (!FromProto(*scratch, out)) return 0;
  return kHeaderBytes + n;
}

}  // namespace

std::string EncodeRecordFrame(const Record& record) {
  proto::Record scratch;
  std::string out;
  AppendFrame(record, &scratch, &out);
  return out;
}

namespace {

// The common case, fast: when the whole log is a clean sequence of frames (every header
// plausible and every frame ending where the next begins), decode the frames on several threads.
// Returns false, leaving *out alone, when anything is off (a bad header, a CRC or payload that
// does not decode): the caller then runs the sequential, resynchronizing reader.
bool ParseCleanLogInParallel(std::string_view bytes, std::vector<Record>* out) {
  std::vector<std::pair<size_t, uint32_t>> frames;  // payload offset, length
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < kHeaderBytes || std::memcmp(p + pos, kMagic, 4) != 0) return false;
    const uint32_t n = GetU32(p + pos + 4);
    if (n > kMaxPayloadBytes || bytes.size() - pos - kHeaderBytes < n) return false;
    frames.emplace_back(pos + kHeaderBytes, n);
    pos += kHeaderBytes + n;
  }
  std::vector<Record> records(frames.size());
  std::atomic<bool> ok{true};
  auto work = [&](size_t begin, size_t end) {
    proto::Record scratch;
    for (size_t i = begin; i < end && ok.load(std::memory_order_relaxed); ++i) {
      const auto [offset, n] = frames[i];
      if (Crc32(p + offset, n) != GetU32(p + offset - 4)) {
        ok = false;
        return;
      }
      scratch.Clear();
      if (!scratch.ParseFromArray(p + offset, static_cast<int>(n)) ||
          !FromProto(scratch, &records[i])) {
        ok = false;
        return;
      }
    }
  };
  const size_t threads =
      frames.size() < 4096 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  std::vector<std::thread> pool;
  const size_t per = (frames.size() + threads - 1) / threads;
  for (size_t t = 1; t < threads; ++t) {
    pool.emplace_back(work, std::min(frames.size(), t * per), std::min(frames.size(), (t + 1) * per));
  }
  work(0, std::min(frames.size(), per));
  for (std::thread& t : pool) t.join();
  if (!ok) return false;
  *out = std::move(records);
  return true;
}

}  // namespace

std::vector<Record> ParseRecordLog(std::string_view bytes, RecordLogStats* stats) {
  *stats = RecordLogStats{};
  {
    std::vector<Record> fast;
    if (ParseCleanLogInParallel(bytes, &fast)) {
      stats->records = static_cast<int64_t>(fast.size());
      stats->valid_bytes = static_cast<int64_t>(bytes.size());
      return fast;
    }
  }
  std::vector<Record> records;
  proto::Record scratch;
  size_t pos = 0;
  bool in_bad_region = false;
  bool region_truncated = false;
  int64_t bad_start = 0;
  while (pos < bytes.size()) {
    Record record;
    bool truncated = false;
    const size_t used = TryFrame(bytes, pos, &scratch, &record, &truncated);
    if (used > 0) {
      if (in_bad_region) {
        stats->skipped_bytes += static_cast<int64_t>(pos) - bad_start;
        in_bad_region = false;
      }
      records.push_back(std::move(record));
      pos += used;
      stats->valid_bytes = static_cast<int64_t>(pos);
      continue;
    }
    if (!in_bad_region) {
      in_bad_region = true;
      region_truncated = truncated;
      bad_start = static_cast<int64_t>(pos);
      ++stats->skipped_frames;
    }
    // Re-synchronize on the next magic number after this position.
    const void* next = memmem(bytes.data() + pos + 1, bytes.size() - pos - 1, kMagic, 4);
    pos = next ? static_cast<size_t>(static_cast<const char*>(next) - bytes.data()) : bytes.size();
  }
  if (in_bad_region) {
    stats->skipped_bytes += static_cast<int64_t>(bytes.size()) - bad_start;
    // The log ends inside a frame that a writer had begun: a torn tail. (A corrupt but
    // complete last frame is counted, not called torn, and is never cut off.)
    stats->torn_tail = region_truncated;
  }
  stats->records = static_cast<int64_t>(records.size());
  return records;
}

namespace {

Status ReadWholeFile(int fd, const std::string& path, std::string* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return InternalError("cannot stat " + path + ": " + strerror(errno));
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t got = pread(fd, out->data() + done, out->size() - done, static_cast<off_t>(done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return InternalError("cannot read " + path + ": " + strerror(errno));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  out->resize(done);
  return OkStatus();
}

Status WriteAll(int fd, const std::string& path, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t put = write(fd, data.data() + done, data.size() - done);
    if (put < 0) {
      if (errno == EINTR) continue;
      return InternalError("cannot append to record log " + path + ": " + strerror(errno));
    }
    done += static_cast<size_t>(put);
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<Record>> ReadRecordLog(const std::string& path, RecordLogStats* stats) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return NotFoundError("cannot open record log " + path + ": " + strerror(errno));
  }
  std::string bytes;
  Status s = ReadWholeFile(fd, path, &bytes);
  close(fd);
  SONAR_RETURN_IF_ERROR(s);
  return ParseRecordLog(bytes, stats);
}

Status RecordStoreOptions::Validate() const { return OkStatus(); }

struct RecordStore::Impl {
  std::string path;
  RecordStoreOptions options;
  int fd = -1;
  std::mutex mu;
  std::vector<Record> records;
  RecordLogStats stats;
  proto::Record scratch;
  ~Impl() {
    if (fd >= 0) {
      if (options.fsync == FsyncPolicy::kOnClose) fdatasync(fd);
      close(fd);
    }
  }
};

RecordStore::RecordStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordStore::RecordStore(RecordStore&&) noexcept = default;
RecordStore& RecordStore::operator=(RecordStore&&) noexcept = default;
RecordStore::~RecordStore() = default;

StatusOr<RecordStore> RecordStore::Open(const std::string& path,
                                        const RecordStoreOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  int flags = O_CLOEXEC;
  if (options.read_only) {
    flags |= O_RDONLY;
  } else {
    flags |= O_RDWR | O_APPEND;
    if (options.create_if_missing) flags |= O_CREAT;
  }
  impl->fd = open(path.c_str(), flags, 0644);
  if (impl->fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFoundError("record log " + path + " does not exist");
    return InvalidArgumentError("cannot open record log " + path + ": " + strerror(err));
  }
  std::string bytes;
  SONAR_RETURN_IF_ERROR(ReadWholeFile(impl->fd, path, &bytes));
  impl->records = ParseRecordLog(bytes, &impl->stats);
  if (!options.read_only && impl->stats.torn_tail &&
      impl->stats.valid_bytes < static_cast<int64_t>(bytes.size())) {
    // The tail holds no complete record; cut it so new frames follow a good one.
    if (ftruncate(impl->fd, static_cast<off_t>(impl->stats.valid_bytes)) != 0) {
      return InternalError("cannot cut the torn tail of " + path + ": " + strerror(errno));
    }
  }
  return RecordStore(std::move(impl));
}

Status RecordStore::Append(const Record& record) { return AppendBatch({record}); }

Status RecordStore::AppendBatch(const std::vector<Record>& records) {
  if (impl_->options.read_only) {
    return FailedPreconditionError("record log " + impl_->path + " was opened read-only");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string frames;
  for (const Record& r : records) AppendFrame(r, &impl_->scratch, &frames);
  SONAR_RETURN_IF_ERROR(WriteAll(impl_->fd, impl_->path, frames));
  if (impl_->options.fsync == FsyncPolicy::kEveryAppend && fdatasync(impl_->fd) != 0) {
    return InternalError("fdatasync failed on " + impl_->path + ": " + strerror(errno));
  }
  impl_->records.insert(impl_->records.end(), records.begin(), records.end());
  return OkStatus();
}

const std::vector<Record>& RecordStore::records() const { return impl_->records; }
const RecordLogStats& RecordStore::open_stats() const { return impl_->stats; }
const std::string& RecordStore::path() const { return impl_->path; }

std::vector<Record> RecordStore::ForWorkload(uint64_t workload_key) const {
  std::vector<Record> out;
  for (const Record& r : impl_->records) {
    if (r.workload_key == workload_key) out.push_back(r);
  }
  return out;
}

std::vector<Record> RecordStore::TopK(uint64_t workload_key, int k) const {
  std::vector<const Record*> ok;
  for (const Record& r : impl_->records) {
    if (r.workload_key == workload_key && r.result.ok() && !r.result.run_seconds.empty()) {
      ok.push_back(&r);
    }
  }
  const size_t n = std::min(ok.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(n), ok.end(),
                    [](const Record* a, const Record* b) { return RecordCost(*a) < RecordCost(*b); });
  std::vector<Record> out;
  for (size_t i = 0; i < n; ++i) out.push_back(*ok[i]);
  return out;
}

std::vector<WorkloadSummary> SummarizeWorkloads(const std::vector<Record>& records) {
  std::vector<WorkloadSummary> out;
  std::unordered_map<uint64_t, size_t> where;
  for (const Record& r : records) {
    auto [it, inserted] = where.emplace(r.workload_key, out.size());
    if (inserted) {
      WorkloadSummary s;
      s.workload_key = r.workload_key;
      s.task = r.task;
      s.best_seconds = std::numeric_limits<double>::infinity();
      out.push_back(std::move(s));
    }
    WorkloadSummary& s = out[it->second];
    ++s.records;
    if (r.result.ok()) {
      ++s.ok;
      s.best_seconds = std::min(s.best_seconds, RecordCost(r));
    }
  }
  return out;
}

std::vector<Record> BestPerWorkload(const std::vector<Record>& records) {
  std::vector<uint64_t> order;
  std::unordered_map<uint64_t, const Record*> best;
  for (const Record& r : records) {
    if (!r.result.ok() || r.result.run_seconds.empty()) continue;
    auto [it, inserted] = best.emplace(r.workload_key, &r);
    if (inserted) {
      order.push_back(r.workload_key);
    } else if (RecordCost(r) < RecordCost(*it->second)) {
      it->second = &r;
    }
  }
  std::vector<Record> out;
  for (uint64_t key : order) out.push_back(*best[key]);
  return out;
}

std::vector<WorkloadSummary> RecordStore::Workloads() const { return SummarizeWorkloads(impl_->records); }

std::vector<Record> RecordStore::BestPerWorkload() const { return sonar::BestPerWorkload(impl_->records); }

}  // namespace sonar
