// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/record_store.h"

#include <fcntl.h>
#include <isa-l/crc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/check.h"
#include "common/parallel.h"
#include "measure/history_io.h"
#include "measure/record.pb.h"

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>

namespace sonar {
namespace {

constexpr unsigned char kMagic[4] = {0xA5, 'S', 'N', 'R'};        // a frame
constexpr unsigned char kHeaderMagic[4] = {0xA5, 'S', 'N', 'L'};  // the log's header
constexpr size_t kHeaderBytes = 12;                               // of a frame
constexpr size_t kLogHeaderBytes = 16;
// Format 1: every frame holds its whole record. Format 2: a frame may leave its task out (see
// PayloadHead); a log gets the version 2 header with its first such frame.
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kPlainFormatVersion = 1;
constexpr unsigned char kKeyTag = (1 << 3) | 1;          // workload_key, fixed64
constexpr unsigned char kTaskTag = (2 << 3) | 2;         // task, length-delimited
constexpr unsigned char kElidedTaskTag = (11 << 3) | 5;  // elided_task_crc, fixed32
constexpr uint32_t kMaxPayloadBytes = 64u << 20;         // no record comes near this
constexpr size_t kWindowBytes = 8u << 20;                // what a streamed read holds of the file

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
// CRC-32 as zlib and gzip compute it (ISA-L's carry-less-multiply version: the same numbers as
// zlib's crc32, about 6 times faster here, and it was most of the cost of a frame).
uint32_t Crc32(const void* data, size_t n) {
  return crc32_gzip_refl(0, static_cast<const unsigned char*>(data), n);
}
// The duplicate index's hash of a frame: its payload's CRC and length, mixed. A match is only
// a candidate (the bytes are compared), and 32 bits of CRC plus the length leave few of them.
uint64_t FrameHash(uint32_t crc, size_t payload_bytes) {
  return ((static_cast<uint64_t>(payload_bytes) << 32) | crc) * 0x9E3779B97F4A7C15ull;
}

// The start of a payload as Sonar's encoder writes it: the workload key (field 1), then either
// the task (field 2) or, in a frame that leaves its task out, the CRC-32 of the task's bytes
// (field 11, elided_task_crc). A frame leaves its task out only after an earlier frame of the
// same Append that holds that task (same key, same CRC); a reader takes the task from the
// latest earlier frame with that key and CRC.
struct PayloadHead {
  bool found = false;     // the payload starts with field 1 and then field 2 or 11
  bool elided = false;    // field 11: the task was left out
  uint32_t task_crc = 0;  // CRC-32 of the task's bytes, or field 11's value
  std::string_view task;  // the task's bytes (field 2's content)
  size_t rest = 0;        // where the payload goes on after the task field
};

PayloadHead ReadPayloadHead(std::string_view payload) {
  PayloadHead h;
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  const size_t n = payload.size();
  if (n < 10 || p[0] != kKeyTag) return h;
  if (p[9] == kElidedTaskTag) {
    if (n < 14) return h;
    h.found = h.elided = true;
    h.task_crc = GetU32(p + 10);
    h.rest = 14;
    return h;
  }
  if (p[9] != kTaskTag) return h;
  uint64_t len = 0;
  size_t at = 10;
  for (int shift = 0; at < n && shift < 35; shift += 7) {
    const unsigned char b = p[at++];
    len |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      if (len > n - at) return h;
      h.found = true;
      h.task = payload.substr(at, len);
      h.task_crc = Crc32(h.task.data(), h.task.size());
      h.rest = at + len;
      return h;
    }
  }
  return h;
}

// A frame's identity for the duplicate index: the payload with its task replaced by the task's
// CRC-32, so that a frame that leaves its task out and one that holds it are the same record
// (they also share the workload key). A payload not laid out as Sonar writes it is itself.
void CanonicalPayload(std::string_view payload, std::string* out) {
  out->clear();
  const PayloadHead h = ReadPayloadHead(payload);
  if (!h.found) {
    out->assign(payload);
    return;
  }
  out->assign(payload.substr(0, 9));
  PutU32(out, h.task_crc);
  out->append(payload.substr(h.rest));
}

uint64_t CanonicalFrameHash(std::string_view payload) {
  const PayloadHead h = ReadPayloadHead(payload);
  if (!h.found) return FrameHash(Crc32(payload.data(), payload.size()), payload.size());
  unsigned char crc_bytes[4];
  for (int i = 0; i < 4; ++i) crc_bytes[i] = static_cast<unsigned char>(h.task_crc >> (8 * i));
  uint32_t crc = crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(payload.data()), 9);
  crc = crc32_gzip_refl(crc, crc_bytes, 4);
  crc = crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(payload.data()) + h.rest,
                        payload.size() - h.rest);
  return FrameHash(crc, 13 + payload.size() - h.rest);
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
  m->set_accuracy(r.result.accuracy);
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
  r->result.accuracy = m.accuracy();
  r->timestamp_unix_s = p.timestamp_unix_s();
  r->tuner = p.tuner();
  r->trial = p.trial();
  r->hardware_id = p.hardware_id();
  r->source_version = p.source_version();
  r->tool_version = p.tool_version();
  return true;
}

// ------------------------------------------------------------------------------ fast encoder
// Writes a Record in Protobuf's wire format straight from the struct, byte for byte what
// proto::Record::SerializeToString writes after ToProto (fields in number order; proto3
// scalars only when not zero, doubles only when their bits are not all zero; `index` whenever
// set; packed repeated scalars; task, config and result always present). Building the proto
// message first cost 1.3 us a record here, most of an import's time. Sizes are computed first
// (every field number is below 16, so each tag is one byte), then the bytes are written through
// a pointer into space reserved once. The TaskIdentity, the same on most records, is encoded
// once per workload and reused. A test checks the bytes against Protobuf's on records with
// every field set and on real imports.
class WireEncoder {
 public:
  // Appends the payload of `r` to *out; with elide_task, field 11 (the CRC-32 of the task's
  // bytes) stands for the task (the caller checks an earlier frame holds it; r.workload_key
  // must not be 0).
  void Encode(const Record& r, std::string* out, bool elide_task = false) {
    const CachedTask& cached = Task(r);
    const std::string& task = cached.bytes;
    const size_t config = ConfigSize(r.config);
    const size_t result = ResultSize(r.result);
    size_t n = (r.workload_key != 0 ? 9 : 0) + (elide_task ? 5 : Field(task.size())) +
               Field(config) + Field(result) + DoubleSize(r.timestamp_unix_s) + BytesSize(r.tuner) +
               SInt32Size(r.trial) + BytesSize(r.hardware_id) + BytesSize(r.source_version) +
               BytesSize(r.tool_version);
    const size_t start = out->size();
    out->resize(start + n);
    char* p = out->data() + start;
    if (r.workload_key != 0) {
      *p++ = Tag(1, 1);
      p = Fixed64(p, r.workload_key);
    }
    if (elide_task) {
      *p++ = static_cast<char>(kElidedTaskTag);
      for (int i = 0; i < 4; ++i) *p++ = static_cast<char>((cached.crc >> (8 * i)) & 0xFF);
    } else {
      *p++ = Tag(2, 2);
      p = Varint(p, task.size());
      p = Copy(p, task);
    }
    *p++ = Tag(3, 2);
    p = Varint(p, config);
    for (const KnobValue& v : r.config.values) {
      *p++ = Tag(1, 2);
      p = Varint(p, KnobSize(v));
      p = Bytes(p, 1, v.name);
      if (v.kind != KnobKind::kSplit) {
        *p++ = Tag(2, 0);
        p = Varint(p, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(v.kind))));
      }
      if (!v.ints.empty()) {
        *p++ = Tag(3, 2);
        p = Varint(p, IntsSize(v.ints));
        for (int64_t x : v.ints) p = Varint(p, static_cast<uint64_t>(x));
      }
      for (const std::string& s : v.strings) {
        *p++ = Tag(4, 2);
        p = Varint(p, s.size());
        p = Copy(p, s);
      }
      p = Bytes(p, 5, v.source_type);
    }
    if (r.config.index) {
      *p++ = Tag(2, 0);
      p = Varint(p, static_cast<uint64_t>(*r.config.index));
    }
    p = Bytes(p, 3, r.config.code_hash);
    *p++ = Tag(4, 2);
    p = Varint(p, result);
    const MeasureResult& m = r.result;
    if (m.status != MeasureStatus::kOk) {
      *p++ = Tag(1, 0);
      p = Varint(p, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(m.status))));
    }
    if (!m.run_seconds.empty()) {
      *p++ = Tag(2, 2);
      p = Varint(p, 8 * m.run_seconds.size());
      for (double s : m.run_seconds) p = Fixed64(p, Bits(s));
    }
    p = Double(p, 3, m.compile_seconds);
    p = Double(p, 4, m.all_cost_seconds);
    p = Bytes(p, 5, m.error_msg);
    p = SInt32(p, 6, m.source_error_code);
    p = Double(p, 7, m.reference_seconds);
    p = Double(p, 8, m.reported_seconds);
    p = Double(p, 9, m.accuracy);
    p = Double(p, 5, r.timestamp_unix_s);
    p = Bytes(p, 6, r.tuner);
    p = SInt32(p, 7, r.trial);
    p = Bytes(p, 8, r.hardware_id);
    p = Bytes(p, 9, r.source_version);
    p = Bytes(p, 10, r.tool_version);
    SONAR_CHECK(p == out->data() + out->size()) << "WireEncoder: size and bytes disagree";
  }

  struct CachedTask {
    bool used = false;
    TaskIdentity task;
    std::string bytes;
    uint32_t crc = 0;  // of `bytes`
  };

  // The encoded task of `r` (field 2's content) and its CRC-32.
  const CachedTask& Task(const Record& r) {
    CachedTask& c = tasks_[r.workload_key % tasks_.size()];
    if (c.used && c.task == r.task) return c;
    c.used = true;
    c.task = r.task;
    const TaskIdentity& t = r.task;
    const bool version = t.template_version != 0;
    const uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(t.template_version));
    c.bytes.resize(BytesSize(t.name) + BytesSize(t.op) + BytesSize(t.args_json) +
                   BytesSize(t.target) + (version ? 1 + VarintSize(v) : 0));
    char* p = c.bytes.data();
    p = Bytes(p, 1, t.name);
    p = Bytes(p, 2, t.op);
    p = Bytes(p, 3, t.args_json);
    p = Bytes(p, 4, t.target);
    if (version) {
      *p++ = Tag(5, 0);
      p = Varint(p, v);
    }
    c.crc = Crc32(c.bytes.data(), c.bytes.size());
    return c;
  }

 private:
  static size_t IntsSize(const std::vector<int64_t>& ints) {
    size_t n = 0;
    for (int64_t x : ints) n += VarintSize(static_cast<uint64_t>(x));
    return n;
  }
  static size_t KnobSize(const KnobValue& v) {
    size_t n = BytesSize(v.name) + BytesSize(v.source_type);
    if (v.kind != KnobKind::kSplit) n += 2;  // a kind below 128
    if (!v.ints.empty()) n += Field(IntsSize(v.ints));
    for (const std::string& s : v.strings) n += Field(s.size());
    return n;
  }
  static size_t ConfigSize(const RecordConfig& c) {
    size_t n = BytesSize(c.code_hash);
    for (const KnobValue& v : c.values) n += Field(KnobSize(v));
    if (c.index) n += 1 + VarintSize(static_cast<uint64_t>(*c.index));
    return n;
  }
  static size_t ResultSize(const MeasureResult& m) {
    size_t n = (m.status != MeasureStatus::kOk ? 2 : 0) + DoubleSize(m.compile_seconds) +
               DoubleSize(m.all_cost_seconds) + BytesSize(m.error_msg) +
               SInt32Size(m.source_error_code) + DoubleSize(m.reference_seconds) +
               DoubleSize(m.reported_seconds) + DoubleSize(m.accuracy);
    if (!m.run_seconds.empty()) n += Field(8 * m.run_seconds.size());
    return n;
  }

  static uint64_t Bits(double d) {
    uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    return u;
  }
  static uint32_t ZigZag(int32_t v) {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  }
  static size_t VarintSize(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }
  // A length-delimited field of `n` bytes: tag, length, body.
  static size_t Field(size_t n) { return 1 + VarintSize(n) + n; }
  static size_t BytesSize(std::string_view s) { return s.empty() ? 0 : Field(s.size()); }
  static size_t DoubleSize(double d) { return Bits(d) != 0 ? 9 : 0; }
  static size_t SInt32Size(int32_t v) { return v != 0 ? 1 + VarintSize(ZigZag(v)) : 0; }

  static char Tag(uint32_t field, uint32_t wire_type) {
    return static_cast<char>((field << 3) | wire_type);
  }
  static char* Varint(char* p, uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }
  static char* Fixed64(char* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>((v >> (8 * i)) & 0xFF);
    return p;
  }
  static char* Copy(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }
  static char* Bytes(char* p, uint32_t field, std::string_view s) {
    if (s.empty()) return p;
    *p++ = Tag(field, 2);
    p = Varint(p, s.size());
    return Copy(p, s);
  }
  static char* Double(char* p, uint32_t field, double d) {
    const uint64_t bits = Bits(d);
    if (bits == 0) return p;
    *p++ = Tag(field, 1);
    return Fixed64(p, bits);
  }
  static char* SInt32(char* p, uint32_t field, int32_t v) {
    if (v == 0) return p;
    *p++ = Tag(field, 0);
    return Varint(p, ZigZag(v));
  }

  std::array<CachedTask, 64> tasks_;
};

// ------------------------------------------------------------------------------ fast decoder
// Reads a Record payload straight into a Record, reusing its storage: the inverse of
// WireEncoder, and a reader of every payload Protobuf reads, with the same result as
// proto::Record::ParseFromArray followed by FromProto (fields in any order, repeated scalars
// packed or not, a field seen twice keeps its last value, sub-messages seen twice merge,
// unknown fields and groups skipped, invalid UTF-8 in `strings` and enum values outside Sonar's
// enums rejected). Decoding through the message cost about 3 us a record, mostly allocation; a
// test and the fuzz target check the two readers agree on valid and mutated payloads.
class WireDecoder {
 public:
  bool Decode(std::string_view payload, Record* r) {
    Reset(r);
    knobs_ = 0;
    elided_ = false;
    const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
    depth_ = 0;
    const bool ok = Message(p, p + payload.size(), r, &WireDecoder::RecordField);
    r->config.values.resize(knobs_);
    return ok;
  }

 private:
  using FieldFn = bool (WireDecoder::*)(uint32_t field, uint32_t type, const uint8_t** p,
                                        const uint8_t* end, void* out, bool* known);

  // Protobuf's defaults where they differ from Record's (a field absent from the payload).
  static void Reset(Record* r) {
    ResetKeepingStorage(r);
    r->result.status = MeasureStatus::kOk;
    r->result.source_error_code = 0;
    r->trial = 0;
  }

  static bool Varint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
    uint64_t x = 0;
    for (int i = 0; i < 10; ++i) {
      if (*p >= end) return false;
      const uint8_t b = *(*p)++;
      x |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        *v = x;
        return true;
      }
    }
    return false;
  }
  // A tag as Protobuf reads it: at most 5 bytes, the value kept modulo 2^32; field 0 is refused.
  static bool Tag(const uint8_t** p, const uint8_t* end, uint32_t* tag) {
    uint32_t x = 0;
    for (int i = 0; i < 5; ++i) {
      if (*p >= end) return false;
      const uint8_t b = *(*p)++;
      x |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        *tag = x;
        return (x >> 3) != 0;
      }
    }
    return false;
  }
  static bool Fixed64(const uint8_t** p, const uint8_t* end, uint64_t* v) {
    if (end - *p < 8) return false;
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= static_cast<uint64_t>((*p)[i]) << (8 * i);
    *p += 8;
    *v = x;
    return true;
  }
  static bool Double(const uint8_t** p, const uint8_t* end, double* d) {
    uint64_t bits;
    if (!Fixed64(p, end, &bits)) return false;
    std::memcpy(d, &bits, sizeof bits);
    return true;
  }
  static bool Length(const uint8_t** p, const uint8_t* end, std::string_view* s) {
    uint64_t n;
    if (!Varint(p, end, &n) || n > static_cast<uint64_t>(end - *p) || n > (1u << 31) - 16) {
      return false;
    }
    *s = std::string_view(reinterpret_cast<const char*>(*p), static_cast<size_t>(n));
    *p += n;
    return true;
  }
  static bool Bytes(const uint8_t** p, const uint8_t* end, std::string* out) {
    std::string_view s;
    if (!Length(p, end, &s)) return false;
    out->assign(s);
    return true;
  }
  static int32_t ZigZag32(uint64_t v) {
    const auto u = static_cast<uint32_t>(v);
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }

  // Skips a field Sonar does not know (or knows with another wire type).
  bool Skip(uint32_t field, uint32_t type, const uint8_t** p, const uint8_t* end) {
    uint64_t v;
    std::string_view s;
    switch (type) {
      case 0: return Varint(p, end, &v);
      case 1: return Fixed64(p, end, &v);
      case 2: return Length(p, end, &s);
      case 5:
        if (end - *p < 4) return false;
        *p += 4;
        return true;
      case 3: {  // a group: fields until the matching end-group tag
        if (++depth_ > kMaxDepth) return false;
        while (true) {
          uint32_t tag;
          if (!Tag(p, end, &tag)) return false;
          if ((tag & 7) == 4) {
            --depth_;
            return (tag >> 3) == field;
          }
          if (!Skip(static_cast<uint32_t>(tag >> 3), static_cast<uint32_t>(tag & 7), p, end)) {
            return false;
          }
        }
      }
      default: return false;  // an end-group outside a group, or wire types 6 and 7
    }
  }

  // Reads the fields of one message in [p, end) with `fn`.
  bool Message(const uint8_t* p, const uint8_t* end, void* out, FieldFn fn) {
    while (p < end) {
      uint32_t tag;
      if (!Tag(&p, end, &tag) || (tag & 7) == 4) return false;
      const auto field = static_cast<uint32_t>(tag >> 3);
      const auto type = static_cast<uint32_t>(tag & 7);
      bool known = false;
      if (!(this->*fn)(field, type, &p, end, out, &known)) return false;
      if (!known && !Skip(field, type, &p, end)) return false;
    }
    return true;
  }
  bool Sub(const uint8_t** p, const uint8_t* end, void* out, FieldFn fn) {
    std::string_view s;
    if (!Length(p, end, &s)) return false;
    if (++depth_ > kMaxDepth) return false;
    const auto* b = reinterpret_cast<const uint8_t*>(s.data());
    const bool ok = Message(b, b + s.size(), out, fn);
    --depth_;
    return ok;
  }

  bool RecordField(uint32_t f, uint32_t t, const uint8_t** p, const uint8_t* e, void* o, bool* k) {
    Record* r = static_cast<Record*>(o);
    uint64_t v;
    *k = true;
    if (f == 1 && t == 1) return Fixed64(p, e, &r->workload_key);
    if (f == 2 && t == 2) return Sub(p, e, &r->task, &WireDecoder::TaskField);
    if (f == 3 && t == 2) return Sub(p, e, r, &WireDecoder::ConfigField);
    if (f == 4 && t == 2) return Sub(p, e, &r->result, &WireDecoder::ResultField);
    if (f == 5 && t == 1) return Double(p, e, &r->timestamp_unix_s);
    if (f == 6 && t == 2) return Bytes(p, e, &r->tuner);
    if (f == 7 && t == 0) {
      if (!Varint(p, e, &v)) return false;
      r->trial = ZigZag32(v);
      return true;
    }
    if (f == 8 && t == 2) return Bytes(p, e, &r->hardware_id);
    if (f == 9 && t == 2) return Bytes(p, e, &r->source_version);
    if (f == 10 && t == 2) return Bytes(p, e, &r->tool_version);
    if (f == 11 && t == 5) {
      if (e - *p < 4) return false;
      elided_ = true;
      elided_crc_ = GetU32(*p);
      *p += 4;
      return true;
    }
    *k = false;
    return true;
  }
  bool TaskField(uint32_t f, uint32_t t, const uint8_t** p, const uint8_t* e, void* o, bool* k) {
    TaskIdentity* task = static_cast<TaskIdentity*>(o);
    *k = true;
    if (t == 2 && f >= 1 && f <= 4) {
      std::string* s[] = {&task->name, &task->op, &task->args_json, &task->target};
      return Bytes(p, e, s[f - 1]);
    }
    if (f == 5 && t == 0) {
      uint64_t v;
      if (!Varint(p, e, &v)) return false;
      task->template_version = static_cast<int32_t>(v);
      return true;
    }
    *k = false;
    return true;
  }
  bool ConfigField(uint32_t f, uint32_t t, const uint8_t** p, const uint8_t* e, void* o, bool* k) {
    Record* r = static_cast<Record*>(o);
    *k = true;
    if (f == 1 && t == 2) {
      std::vector<KnobValue>& values = r->config.values;
      if (knobs_ == values.size()) values.emplace_back();
      KnobValue& knob = values[knobs_++];
      knob.name.clear();
      knob.kind = KnobKind::kSplit;
      knob.ints.clear();
      knob.strings.clear();
      knob.source_type.clear();
      return Sub(p, e, &knob, &WireDecoder::KnobField);
    }
    if (f == 2 && t == 0) {
      uint64_t v;
      if (!Varint(p, e, &v)) return false;
      r->config.index = static_cast<int64_t>(v);
      return true;
    }
    if (f == 3 && t == 2) return Bytes(p, e, &r->config.code_hash);
    *k = false;
    return true;
  }
  bool KnobField(uint32_t f, uint32_t t, const uint8_t** p, const uint8_t* e, void* o, bool* k) {
    KnobValue* knob = static_cast<KnobValue*>(o);
    uint64_t v;
    *k = true;
    if (f == 1 && t == 2) return Bytes(p, e, &knob->name);
    if (f == 2 && t == 0) {
      if (!Varint(p, e, &v)) return false;
      const auto kind = static_cast<int32_t>(v);
      if (kind < 0 || kind > static_cast<int32_t>(KnobKind::kBool)) return false;
      knob->kind = static_cast<KnobKind>(kind);
      return true;
    }
    if (f == 3 && t == 2) {
      std::string_view s;
      if (!Length(p, e, &s)) return false;
      const auto* q = reinterpret_cast<const uint8_t*>(s.data());
      const uint8_t* qe = q + s.size();
      while (q < qe) {
        if (!Varint(&q, qe, &v)) return false;
        knob->ints.push_back(static_cast<int64_t>(v));
      }
      return true;
    }
    if (f == 3 && t == 0) {
      if (!Varint(p, e, &v)) return false;
      knob->ints.push_back(static_cast<int64_t>(v));
      return true;
    }
    if (f == 4 && t == 2) {
      std::string_view s;
      if (!Length(p, e, &s) || !google::protobuf::internal::IsStructurallyValidUTF8(
                                   s.data(), static_cast<int>(s.size()))) {
        return false;
      }
      knob->strings.emplace_back(s);
      return true;
    }
    if (f == 5 && t == 2) return Bytes(p, e, &knob->source_type);
    *k = false;
    return true;
  }
  bool ResultField(uint32_t f, uint32_t t, const uint8_t** p, const uint8_t* e, void* o, bool* k) {
    MeasureResult* m = static_cast<MeasureResult*>(o);
    uint64_t v;
    *k = true;
    if (f == 1 && t == 0) {
      if (!Varint(p, e, &v)) return false;
      const auto status = static_cast<int32_t>(v);
      if (status < 0 || status > static_cast<int32_t>(MeasureStatus::kUnknownError)) return false;
      m->status = static_cast<MeasureStatus>(status);
      return true;
    }
    if (f == 2 && t == 2) {
      std::string_view s;
      if (!Length(p, e, &s) || s.size() % 8 != 0) return false;
      const auto* q = reinterpret_cast<const uint8_t*>(s.data());
      for (size_t i = 0; i < s.size(); i += 8) {
        double d;
        const uint8_t* at = q + i;
        Double(&at, q + s.size(), &d);
        m->run_seconds.push_back(d);
      }
      return true;
    }
    if (f == 2 && t == 1) {
      double d;
      if (!Double(p, e, &d)) return false;
      m->run_seconds.push_back(d);
      return true;
    }
    if (t == 1 && (f == 3 || f == 4 || f == 7 || f == 8 || f == 9)) {
      double* d[] = {&m->compile_seconds,   &m->all_cost_seconds, nullptr,     nullptr,
                     &m->reference_seconds, &m->reported_seconds, &m->accuracy};
      return Double(p, e, d[f - 3]);
    }
    if (f == 5 && t == 2) return Bytes(p, e, &m->error_msg);
    if (f == 6 && t == 0) {
      if (!Varint(p, e, &v)) return false;
      m->source_error_code = ZigZag32(v);
      return true;
    }
    *k = false;
    return true;
  }

  static constexpr int kMaxDepth = 100;  // Protobuf's default recursion limit
  size_t knobs_ = 0;
  int depth_ = 0;  // sub-messages and groups open
  bool elided_ = false;
  uint32_t elided_crc_ = 0;

 public:
  // Whether the last payload decoded left its task out (field 11), and the task's CRC-32.
  bool elided() const { return elided_; }
  uint32_t elided_crc() const { return elided_crc_; }
};

WireDecoder& ThreadDecoder() {
  thread_local WireDecoder decoder;
  return decoder;
}

// Appends one frame holding `record` to *out (its task left out with elide_task).
void AppendFrame(const Record& record, WireEncoder* encoder, std::string* out,
                 bool elide_task = false) {
  const size_t start = out->size();
  out->append(reinterpret_cast<const char*>(kMagic), 4);
  out->append(8, '\0');  // length and CRC, filled in below
  encoder->Encode(record, out, elide_task);
  const size_t n = out->size() - start - kHeaderBytes;
  const uint32_t crc = Crc32(out->data() + start + kHeaderBytes, n);
  for (int i = 0; i < 4; ++i) {
    (*out)[start + 4 + static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    (*out)[start + 8 + static_cast<size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
}

WireEncoder& ThreadEncoder() {
  thread_local WireEncoder encoder;
  return encoder;
}

}  // namespace

std::string RecordLogHeader(uint32_t version) {
  std::string h(reinterpret_cast<const char*>(kHeaderMagic), 4);
  PutU32(&h, version);
  PutU32(&h, 0);
  PutU32(&h, Crc32(h.data(), h.size()));
  return h;
}

std::string internal::EncodeRecordFrameWithProtobuf(const Record& record) {
  proto::Record message;
  ToProto(record, &message);
  const std::string payload = message.SerializeAsString();
  std::string out(reinterpret_cast<const char*>(kMagic), 4);
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  PutU32(&out, Crc32(payload.data(), payload.size()));
  return out + payload;
}

bool internal::DecodeRecordPayloadWithProtobuf(std::string_view payload, Record* record) {
  google::protobuf::LogSilencer quiet;  // it would log each string that is not UTF-8
  proto::Record message;
  return message.ParseFromArray(payload.data(), static_cast<int>(payload.size())) &&
         FromProto(message, record);
}

bool DecodeRecordPayload(std::string_view payload, Record* record) {
  return ThreadDecoder().Decode(payload, record);
}

std::string EncodeRecordFrame(const Record& record) {
  std::string out;
  AppendFrame(record, &ThreadEncoder(), &out);
  return out;
}

void EncodeFrames(const Record* records, size_t n, FrameBatch* batch, bool elide_tasks) {
  WireEncoder& encoder = ThreadEncoder();
  for (size_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    bool elide = false;
    if (elide_tasks && r.workload_key != 0) {
      // Left out when a frame before it in the batch holds the same task.
      const uint32_t crc = encoder.Task(r).crc;
      auto& held = batch->tasks_held;
      elide =
          std::find(held.begin(), held.end(), std::make_pair(r.workload_key, crc)) != held.end();
      if (!elide) {
        if (held.size() >= 64) held.clear();  // a batch of many tasks: just elide less
        held.emplace_back(r.workload_key, crc);
      }
    }
    const size_t start = batch->bytes.size();
    AppendFrame(r, &encoder, &batch->bytes, elide);
    batch->elided |= elide;
    batch->ends.push_back(static_cast<uint32_t>(batch->bytes.size()));
    batch->hashes.push_back(
        CanonicalFrameHash(std::string_view(batch->bytes).substr(start + kHeaderBytes)));
  }
}

// ------------------------------------------------------------------------------------ reading
namespace {

// Where a log's bytes come from: all in memory, or a file read in windows.
class LogSource {
 public:
  explicit LogSource(std::string_view memory)
      : memory_(memory), path_("record log"), size_(memory.size()) {}
  LogSource(int fd, const std::string& path, int64_t size)
      : fd_(fd), path_(path), size_(static_cast<size_t>(size)) {}
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // True when Window(pos, want) returns the bytes it already holds (views into them stay valid).
  bool Covers(size_t pos, size_t want) const {
    if (fd_ < 0) return true;
    const size_t end = std::min(size_, pos + want);
    return pos >= window_pos_ && end <= window_pos_ + window_.size();
  }
  // Makes [pos, pos + want) readable (as much of it as the file has), keeping at least
  // kWindowBytes when the file has them. Returns the readable bytes from pos.
  StatusOr<std::string_view> Window(size_t pos, size_t want) {
    if (fd_ < 0) return memory_.substr(pos);
    if (Covers(pos, want)) return std::string_view(window_).substr(pos - window_pos_);
    const size_t end = std::min(size_, pos + std::max(want, kWindowBytes));
    window_.resize(end - pos);
    size_t done = 0;
    while (done < window_.size()) {
      const ssize_t got =
          pread(fd_, window_.data() + done, window_.size() - done, static_cast<off_t>(pos + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return InternalError("cannot read record log " + path_ + ": " + std::strerror(errno));
      }
      if (got == 0) break;  // the file shrank while read
      done += static_cast<size_t>(got);
    }
    window_.resize(done);
    window_pos_ = pos;
    if (done < end - pos) size_ = pos + done;
    return std::string_view(window_);
  }

 private:
  std::string_view memory_;
  int fd_ = -1;
  std::string path_;
  size_t size_ = 0;
  std::string window_;
  size_t window_pos_ = 0;
};

struct FrameRef {
  int64_t offset;            // of the frame's magic in the log
  std::string_view payload;  // valid until the next Window call
};

bool IsPrefixOf(std::string_view bytes, const unsigned char (&magic)[4]) {
  return bytes.size() < 4 && std::memcmp(bytes.data(), magic, bytes.size()) == 0;
}

// Walks the frames of a log. Calls on_frames(frames) with the CRC-valid frames of each window,
// in order, before the window moves on; corrupt regions are counted in *stats (records are
// left to the caller, who decodes the payloads). Fails only on a read error or a header of a
// newer format version.
template <typename OnFrames>
Status ScanFrames(LogSource& source, RecordLogStats* stats, OnFrames&& on_frames) {
  *stats = RecordLogStats{};
  std::vector<FrameRef> frames;
  size_t pos = 0;
  bool in_bad = false, bad_truncated = false;
  size_t bad_start = 0;
  auto flush = [&] {
    if (!frames.empty()) on_frames(frames);
    frames.clear();
  };
  // The readable bytes from `at`: frames found so far are handed on first when the window moves.
  auto window = [&](size_t at, size_t want) {
    if (!source.Covers(at, want)) flush();
    return source.Window(at, want);
  };
  auto begin_bad = [&](bool truncated) {
    if (in_bad) return;
    in_bad = true;
    bad_truncated = truncated;
    bad_start = pos;
    ++stats->skipped_frames;
  };
  {
    SONAR_ASSIGN_OR_RETURN(std::string_view w, window(0, kLogHeaderBytes));
    if (w.size() >= 4 && std::memcmp(w.data(), kHeaderMagic, 4) == 0) {
      if (w.size() < kLogHeaderBytes) {
        begin_bad(true);  // a header cut short: the log holds nothing yet
        pos = w.size();
      } else {
        const auto* p = reinterpret_cast<const unsigned char*>(w.data());
        if (Crc32(p, 12) == GetU32(p + 12)) {
          if (GetU32(p + 4) > kFormatVersion) {
            return FailedPreconditionError(
                source.path() + " was written by a newer Sonar (format " +
                std::to_string(GetU32(p + 4)) + ", this one reads up to " +
                std::to_string(kFormatVersion) + ")");
          }
          stats->has_header = true;
          stats->format_version = GetU32(p + 4);
          pos = kLogHeaderBytes;
          stats->valid_bytes = static_cast<int64_t>(pos);
        }
      }
    } else if (!w.empty() && IsPrefixOf(w, kHeaderMagic)) {
      begin_bad(true);
      pos = w.size();
    }
  }
  while (pos < source.size()) {
    SONAR_ASSIGN_OR_RETURN(std::string_view w, window(pos, kHeaderBytes));
    const size_t left = source.size() - pos;
    const auto* p = reinterpret_cast<const unsigned char*>(w.data());
    bool truncated = false;
    size_t used = 0;
    if (left >= 4 && std::memcmp(p, kMagic, 4) == 0) {
      if (left < kHeaderBytes) {
        truncated = true;
      } else {
        const uint32_t n = GetU32(p + 4);
        if (n <= kMaxPayloadBytes) {
          if (left < kHeaderBytes + n) {
            truncated = true;
          } else {
            if (w.size() < kHeaderBytes + n) {
              SONAR_ASSIGN_OR_RETURN(w, window(pos, kHeaderBytes + n));
              p = reinterpret_cast<const unsigned char*>(w.data());
            }
            if (Crc32(p + kHeaderBytes, n) == GetU32(p + 8)) {
              frames.push_back({static_cast<int64_t>(pos), w.substr(kHeaderBytes, n)});
              used = kHeaderBytes + n;
            }
          }
        }
      }
    } else if (left < 4 && IsPrefixOf(w.substr(0, left), kMagic)) {
      truncated = true;
    }
    if (used > 0) {
      if (in_bad) {
        stats->skipped_bytes += static_cast<int64_t>(pos - bad_start);
        in_bad = false;
      }
      pos += used;
      stats->valid_bytes = static_cast<int64_t>(pos);
      continue;
    }
    begin_bad(truncated);
    // Re-synchronize on the next frame magic after pos, window by window.
    while (true) {
      const void* next = w.size() > 1 ? memmem(w.data() + 1, w.size() - 1, kMagic, 4) : nullptr;
      if (next != nullptr) {
        pos += static_cast<size_t>(static_cast<const char*>(next) - w.data());
        break;
      }
      if (pos + w.size() >= source.size()) {
        pos = source.size();
        break;
      }
      pos += std::max<size_t>(1, w.size() - 3);  // a magic may straddle the window's end
      SONAR_ASSIGN_OR_RETURN(w, window(pos, kWindowBytes));
    }
  }
  flush();
  if (in_bad) {
    stats->skipped_bytes += static_cast<int64_t>(source.size() - bad_start);
    // The log ends inside a frame that a writer had begun: a torn tail. (A corrupt but
    // complete last frame is counted, not called torn, and is never cut off.)
    stats->torn_tail = bad_truncated;
  }
  return OkStatus();
}

// The tasks of a format-2 log's frames so far, by workload key: what a frame that leaves its
// task out takes (the latest earlier frame of its key whose task has its CRC).
struct TaskTable {
  struct Entry {
    bool set = false;
    uint32_t crc = 0;
    TaskIdentity task;
  };
  std::unordered_map<uint64_t, Entry> by_key;
};

// Decodes the payloads of `frames` into (*records)[0, frames.size()) on up to `threads`
// threads; (*ok)[i] says whether frame i decoded. With `tasks` (a format-2 log), fills in the
// tasks that frames left out, and learns those the others hold. Then counts the result into
// *stats.
//
// The frames are cut into blocks decoded in parallel. Within a block, a frame that left its task
// out takes it from the block's latest earlier frame of its workload key (an append's frames
// are mostly in one block); the few whose key the block has not seen before them are filled in
// afterwards, block by block in order, from the table of what the blocks before held.
void DecodeFrames(const std::vector<FrameRef>& frames, int threads, std::vector<Record>* records,
                  std::vector<char>* ok, TaskTable* tasks, RecordLogStats* stats) {
  if (records->size() < frames.size()) records->resize(frames.size());
  ok->assign(frames.size(), 0);
  constexpr size_t kBlock = 2048;
  const size_t blocks = (frames.size() + kBlock - 1) / kBlock;
  struct Block {
    std::vector<std::pair<size_t, uint32_t>> open;  // frames left to the table: (index, CRC)
    std::vector<std::pair<uint64_t, std::pair<size_t, uint32_t>>> last;  // key -> (index, CRC)
    int64_t unresolved = 0;
  };
  std::vector<Block> block(tasks != nullptr ? blocks : 0);
  ParallelForEach(blocks, threads, [&](size_t b) {
    WireDecoder& decoder = ThreadDecoder();
    const size_t end = std::min(frames.size(), (b + 1) * kBlock);
    // The latest frame holding its task, by key, in this block so far.
    std::unordered_map<uint64_t, std::pair<size_t, uint32_t>> held;
    for (size_t i = b * kBlock; i < end; ++i) {
      Record& r = (*records)[i];
      (*ok)[i] = decoder.Decode(frames[i].payload, &r);
      if (tasks == nullptr || !(*ok)[i]) continue;
      if (decoder.elided()) {
        const auto it = held.find(r.workload_key);
        if (it == held.end()) {
          block[b].open.emplace_back(i, decoder.elided_crc());
        } else if (it->second.second == decoder.elided_crc()) {
          r.task = (*records)[it->second.first].task;
        } else {
          (*ok)[i] = 0;  // the latest task of its key is another one: its own is lost
          ++block[b].unresolved;
        }
      } else if (r.workload_key != 0) {
        const PayloadHead h = ReadPayloadHead(frames[i].payload);
        if (h.found) held[r.workload_key] = {i, h.task_crc};
      }
    }
    if (tasks != nullptr) block[b].last.assign(held.begin(), held.end());
  });
  for (Block& bl : block) {
    for (const auto& [i, crc] : bl.open) {
      const auto it = tasks->by_key.find((*records)[i].workload_key);
      if (it != tasks->by_key.end() && it->second.crc == crc) {
        (*records)[i].task = it->second.task;
      } else {
        (*ok)[i] = 0;  // the frame holding its task is lost (corrupt) or was never written
        ++bl.unresolved;
      }
    }
    stats->unresolved_tasks += bl.unresolved;
    for (const auto& [key, at] : bl.last) {
      TaskTable::Entry& e = tasks->by_key[key];
      if (!e.set || e.crc != at.second) {
        e.set = true;
        e.crc = at.second;
        e.task = (*records)[at.first].task;
      }
    }
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    if ((*ok)[i]) {
      ++stats->records;
    } else {  // a frame whose checksum holds but whose payload does not decode
      ++stats->skipped_frames;
      stats->skipped_bytes += static_cast<int64_t>(kHeaderBytes + frames[i].payload.size());
    }
  }
}

// Reads every frame of `source`: hands each window's frames to on_frames (when set), then
// decodes them on `threads` threads and calls fn with each record (when fn is set; without it,
// every frame whose checksum holds counts as a record and nothing is decoded). Counts into
// *stats.
Status ForEachRecordIn(
    LogSource& source, const std::function<void(Record&&)>& fn, RecordLogStats* stats, int threads,
    const std::function<void(const std::vector<FrameRef>&)>& on_frames = nullptr) {
  std::vector<Record> records;
  std::vector<char> ok;
  RecordLogStats decoded;
  TaskTable tasks;
  SONAR_RETURN_IF_ERROR(ScanFrames(source, stats, [&](const std::vector<FrameRef>& frames) {
    if (on_frames) on_frames(frames);
    if (!fn) {
      decoded.records += static_cast<int64_t>(frames.size());
      return;
    }
    DecodeFrames(frames, threads, &records, &ok, stats->format_version >= 2 ? &tasks : nullptr,
                 &decoded);
    for (size_t i = 0; i < frames.size(); ++i) {
      if (ok[i]) fn(std::move(records[i]));
    }
  }));
  stats->records = decoded.records;
  stats->unresolved_tasks = decoded.unresolved_tasks;
  stats->skipped_frames += decoded.skipped_frames;
  stats->skipped_bytes += decoded.skipped_bytes;
  return OkStatus();
}

Status OpenForReading(const std::string& path, int* fd, int64_t* size) {
  *fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return NotFoundError("cannot open record log " + path + ": " + strerror(errno));
  struct stat st;
  if (fstat(*fd, &st) != 0) {
    const int err = errno;
    close(*fd);
    return InternalError("cannot stat " + path + ": " + strerror(err));
  }
  *size = st.st_size;
  return OkStatus();
}

}  // namespace

bool LooksLikeRecordLog(std::string_view head) {
  if (head.empty()) return true;
  const size_t n = std::min<size_t>(head.size(), 4);
  return std::memcmp(head.data(), kMagic, n) == 0 || std::memcmp(head.data(), kHeaderMagic, n) == 0;
}

std::string DescribeNonRecordLog(std::string_view head) {
  if (LooksLikeRecordLog(head)) return "";
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
      static_cast<unsigned char>(head[1]) == 0x8b) {
    return "looks like gzip-compressed data: if it holds a tuning history, import it with "
           "`sonar import`";
  }
  switch (DetectHistoryFormat(head)) {
    case HistoryFormat::kAutoTvm: return "looks like an AutoTVM log: import it with `sonar import`";
    case HistoryFormat::kAnsor:
      return "looks like an Ansor (auto_scheduler) log: import it with `sonar import`";
    case HistoryFormat::kKernelTuner:
      return "looks like a Kernel Tuner cache: import it with `sonar import`";
    case HistoryFormat::kJsonLines:
      return "looks like Sonar JSON lines: import it with `sonar import`";
    case HistoryFormat::kRecordLog:
    case HistoryFormat::kAuto: break;
  }
  size_t text = 0;
  for (char c : head) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 || c == '\n' || c == '\r' || c == '\t') ++text;
  }
  if (text == head.size()) {
    return "looks like a text file, not a Sonar record log: name a new file (e.g. "
           "records.sonar) or an existing record log";
  }
  return "is not a Sonar record log (it starts with other binary data): name a new file or an "
         "existing record log";
}

std::vector<Record> ParseRecordLog(std::string_view bytes, RecordLogStats* stats) {
  LogSource source(bytes);
  std::vector<Record> out;
  out.reserve(bytes.size() / 256);
  // In memory there are no read errors; a header of a newer version reads as no records.
  static_cast<void>(ForEachRecordIn(
      source, [&](Record&& r) { out.push_back(std::move(r)); }, stats, 0));
  return out;
}

StatusOr<std::vector<Record>> ReadRecordLog(const std::string& path, RecordLogStats* stats) {
  std::vector<Record> out;
  SONAR_RETURN_IF_ERROR(ForEachRecord(
      path, [&](Record&& r) { out.push_back(std::move(r)); }, stats));
  return out;
}

Status ForEachRecord(const std::string& path, const std::function<void(Record&&)>& fn,
                     RecordLogStats* stats, int threads) {
  int fd = -1;
  int64_t size = 0;
  SONAR_RETURN_IF_ERROR(OpenForReading(path, &fd, &size));
  LogSource source(fd, path, size);
  Status s = ForEachRecordIn(source, fn, stats, threads);
  close(fd);
  return s;
}

// ------------------------------------------------------------------------------------ writing
namespace {

Status WriteAll(int fd, const std::string& path, const struct iovec* parts, int count) {
  std::vector<struct iovec> iov(parts, parts + count);
  size_t i = 0;
  while (i < iov.size()) {
    if (iov[i].iov_len == 0) {
      ++i;
      continue;
    }
    const ssize_t put = writev(fd, iov.data() + i, static_cast<int>(iov.size() - i));
    if (put < 0) {
      if (errno == EINTR) continue;
      return InternalError("cannot append to record log " + path + ": " + strerror(errno));
    }
    size_t left = static_cast<size_t>(put);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (i < iov.size()) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return OkStatus();
}

// Rewrites the header of the log open as `fd` (with O_APPEND) to `version`: the 16 bytes at
// offset 0, which a pwrite on an O_APPEND descriptor would append instead on Linux.
Status RewriteHeader(int fd, const std::string& path, uint32_t version) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_APPEND) != 0) {
    return InternalError("cannot rewrite the header of " + path + ": " + strerror(errno));
  }
  const std::string header = RecordLogHeader(version);
  const ssize_t put = pwrite(fd, header.data(), header.size(), 0);
  const int err = errno;
  const bool restored = fcntl(fd, F_SETFL, flags) == 0;
  if (put != static_cast<ssize_t>(header.size()) || !restored) {
    return InternalError("cannot rewrite the header of " + path + ": " + strerror(err));
  }
  return OkStatus();
}

// The duplicate index: open addressing over (hash, frame offset + 1) pairs, 0 meaning empty,
// at a load of at most 3/4 (16 bytes a slot: 21-43 bytes a record). A hash match is a
// candidate only; the caller compares the frames' bytes.
class FrameIndex {
 public:
  explicit FrameIndex(size_t max_bytes = 0) : max_slots_(max_bytes / sizeof(Slot)) {}
  // False, leaving the index as it was, when it is full: growing would pass max_bytes.
  bool Insert(uint64_t hash, int64_t offset) {
    if (4 * (count_ + 1) > 3 * slots_.size()) {
      if (std::max<size_t>(1024, 2 * slots_.size()) > max_slots_) return false;
      Grow();
    }
    Place({hash, offset + 1});
    ++count_;
    return true;
  }
  // Calls same(offset) for each indexed frame with this hash until one returns true.
  template <typename Same>
  bool Find(uint64_t hash, Same&& same) const {
    if (slots_.empty()) return false;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask; slots_[i].offset_plus_1 != 0; i = (i + 1) & mask) {
      if (slots_[i].hash == hash && same(slots_[i].offset_plus_1 - 1)) return true;
    }
    return false;
  }
  size_t bytes() const { return slots_.size() * sizeof(Slot); }
  // Starts loading the home slots of `hashes` into the cache (a lookup in a large index is a
  // cache miss; many at once overlap).
  void Prefetch(const std::vector<uint64_t>& hashes) const {
    if (slots_.empty()) return;
    for (uint64_t h : hashes) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int64_t offset_plus_1 = 0;
  };
  void Place(const Slot& s) {
    const size_t mask = slots_.size() - 1;
    size_t i = s.hash & mask;
    while (slots_[i].offset_plus_1 != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
  void Grow() {
    std::vector<Slot> old(std::max<size_t>(1024, 2 * slots_.size()));
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.offset_plus_1 != 0) Place(s);
    }
  }

  size_t max_slots_ = 0;
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace

struct RecordLogWriter::Impl {
  std::string path;
  RecordLogWriterOptions options;
  int fd = -1;
  bool created = false;          // this writer created the file
  bool needs_header = false;     // the file is empty: the first append writes the header first
  uint32_t header_version = 0;   // of the file's header (0: none, or none yet)
  bool can_elide_tasks = false;  // frames may leave their task out (the file has or gets a header)
  bool truncated = false;        // TruncateTo was called
  int64_t size_bytes = 0;
  int64_t records = 0;
  RecordLogStats stats;
  FrameIndex index;
  int64_t unchecked = 0;  // frames the full index could not take (never checked against)
  std::string out;        // the frames an Append keeps
  std::string probe;      // a frame read back to confirm a duplicate
  std::string canonical_a, canonical_b;  // the two frames' identities being compared

  ~Impl() {
    if (fd < 0) return;
    if (options.fsync == FsyncPolicy::kOnClose) fdatasync(fd);
    if (created && size_bytes == 0) {
      // Nothing was ever written: leave no new empty file behind (unless the path now names
      // another file).
      struct stat mine, named;
      if (fstat(fd, &mine) == 0 && stat(path.c_str(), &named) == 0 && mine.st_ino == named.st_ino &&
          mine.st_dev == named.st_dev) {
        unlink(path.c_str());
      }
    }
    close(fd);
  }

  // True when the frame at `offset` holds the record of `payload` (CanonicalPayload: the same
  // bytes, a task left out or not): a frame in the file, or, at `base` and past it, one in
  // `pending` (the frames an Append is about to write).
  bool SameFrame(int64_t offset, std::string_view payload, int64_t base, std::string_view pending) {
    std::string_view other;
    if (offset >= base) {
      const size_t at = static_cast<size_t>(offset - base);
      if (at + kHeaderBytes > pending.size()) return false;
      const auto* p = reinterpret_cast<const unsigned char*>(pending.data() + at);
      const size_t n = GetU32(p + 4);
      if (at + kHeaderBytes + n > pending.size()) return false;
      other = pending.substr(at + kHeaderBytes, n);
    } else {
      unsigned char head[kHeaderBytes];
      if (pread(fd, head, kHeaderBytes, static_cast<off_t>(offset)) !=
          static_cast<ssize_t>(kHeaderBytes)) {
        return false;
      }
      const size_t n = GetU32(head + 4);
      if (n > kMaxPayloadBytes) return false;
      probe.resize(n);
      const ssize_t got = pread(fd, probe.data(), n,
                                static_cast<off_t>(offset + static_cast<int64_t>(kHeaderBytes)));
      if (got != static_cast<ssize_t>(n)) return false;
      other = probe;
    }
    if (other == payload) return true;
    CanonicalPayload(payload, &canonical_a);
    CanonicalPayload(other, &canonical_b);
    return canonical_a == canonical_b;
  }
};

Status RecordLogWriterOptions::Validate() const {
  if (skip_duplicates && max_index_bytes < (64u << 10)) {
    return InvalidArgumentError("RecordLogWriterOptions::max_index_bytes must be at least 64 KB");
  }
  return OkStatus();
}

RecordLogWriter::RecordLogWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordLogWriter::RecordLogWriter(RecordLogWriter&&) noexcept = default;
RecordLogWriter& RecordLogWriter::operator=(RecordLogWriter&&) noexcept = default;
RecordLogWriter::~RecordLogWriter() = default;

StatusOr<RecordLogWriter> RecordLogWriter::Open(const std::string& path,
                                                const RecordLogWriterOptions& options,
                                                const std::function<void(Record&&)>& existing) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  impl->index = FrameIndex(options.max_index_bytes);
  // Open without creating first, so that we know whether we created it.
  impl->fd = open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (impl->fd < 0 && errno == ENOENT && options.create_if_missing) {
    impl->fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    impl->created = impl->fd >= 0;
  }
  if (impl->fd < 0) {
    const int err = errno;
    if (err == ENOENT && options.create_if_missing) {
      const std::string dir = std::filesystem::path(path).parent_path().string();
      return NotFoundError("cannot create the record log " + path + ": its directory " + dir +
                           " does not exist");
    }
    if (err == ENOENT) return NotFoundError("record log " + path + " does not exist");
    return InvalidArgumentError("cannot open record log " + path + ": " + strerror(err));
  }
  struct stat st;
  if (fstat(impl->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidArgumentError("cannot write record log " + path + ": not a regular file");
  }
  if (flock(impl->fd, LOCK_EX | LOCK_NB) != 0) {
    return FailedPreconditionError("record log " + path +
                                   " is being written by another process (one writer at a time)");
  }
  // A file that does not open like a log is left exactly as it is.
  char head[4096];
  const ssize_t got = pread(impl->fd, head, sizeof head, 0);
  if (got < 0) return InternalError("cannot read " + path + ": " + strerror(errno));
  const std::string why = DescribeNonRecordLog(std::string_view(head, static_cast<size_t>(got)));
  if (!why.empty()) {
    return FailedPreconditionError(path + " " + why + "; it was left unchanged");
  }
  LogSource source(impl->fd, path, st.st_size);
  std::function<void(const std::vector<FrameRef>&)> index_frames;
  if (options.skip_duplicates) {
    index_frames = [&](const std::vector<FrameRef>& frames) {
      for (const FrameRef& f : frames) {
        if (!impl->index.Insert(CanonicalFrameHash(f.payload), f.offset)) {
          ++impl->unchecked;
        }
      }
    };
  }
  SONAR_RETURN_IF_ERROR(ForEachRecordIn(source, existing, &impl->stats, 0, index_frames));
  impl->records = impl->stats.records;
  impl->size_bytes = static_cast<int64_t>(source.size());
  if (impl->stats.torn_tail && impl->stats.valid_bytes < impl->size_bytes) {
    // The tail holds no complete record; cut it so new frames follow a good one.
    if (ftruncate(impl->fd, static_cast<off_t>(impl->stats.valid_bytes)) != 0) {
      return InternalError("cannot cut the torn tail of " + path + ": " + strerror(errno));
    }
    impl->size_bytes = impl->stats.valid_bytes;
  }
  impl->needs_header = impl->size_bytes == 0;
  impl->header_version = impl->stats.has_header ? impl->stats.format_version : 0;
  // A log that starts with a frame (written before the header existed) gets no header, so its
  // frames keep their tasks.
  impl->can_elide_tasks = impl->needs_header || impl->stats.has_header;
  return RecordLogWriter(std::move(impl));
}

Status RecordLogWriter::Append(const FrameBatch& batch, AppendCounts* counts) {
  Impl& m = *impl_;
  if (m.truncated && m.options.skip_duplicates) {
    return FailedPreconditionError("record log " + m.path +
                                   " was cut back: its duplicate index no longer holds");
  }
  AppendCounts c;
  std::string_view to_write = batch.bytes;
  if (m.options.skip_duplicates) {
    m.index.Prefetch(batch.hashes);
    // Frames are copied into `out` only once a duplicate has been left out; until then the
    // kept frames are batch.bytes[0, kept_end).
    bool copying = false;
    size_t kept_end = 0;
    m.out.clear();
    uint32_t start = 0;
    const int64_t base = m.size_bytes + (m.needs_header ? kLogHeaderBytes : 0);
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string_view frame =
          std::string_view(batch.bytes).substr(start, batch.ends[i] - start);
      start = batch.ends[i];
      const std::string_view payload = frame.substr(kHeaderBytes);
      const uint64_t h = batch.hashes[i];
      const std::string_view pending =
          copying ? std::string_view(m.out) : std::string_view(batch.bytes).substr(0, kept_end);
      if (m.index.Find(
              h, [&](int64_t offset) { return m.SameFrame(offset, payload, base, pending); })) {
        ++c.duplicates;
        if (!copying) {
          m.out.assign(batch.bytes.data(), kept_end);
          copying = true;
        }
        continue;
      }
      if (!m.index.Insert(h, base + static_cast<int64_t>(copying ? m.out.size() : kept_end))) {
        ++c.unchecked;
        ++m.unchecked;
      }
      if (copying) {
        m.out.append(frame);
      } else {
        kept_end = start;
      }
    }
    to_write =
        copying ? std::string_view(m.out) : std::string_view(batch.bytes).substr(0, kept_end);
    c.appended = static_cast<int64_t>(batch.size()) - c.duplicates;
  } else {
    c.appended = static_cast<int64_t>(batch.size());
  }
  if (!to_write.empty()) {
    if (batch.elided && !m.can_elide_tasks) {
      return FailedPreconditionError("record log " + m.path +
                                     " has no header: its frames must hold their tasks");
    }
    const uint32_t version = batch.elided ? kFormatVersion : kPlainFormatVersion;
    if (!m.needs_header && m.header_version != 0 && m.header_version < version) {
      SONAR_RETURN_IF_ERROR(RewriteHeader(m.fd, m.path, version));
      m.header_version = version;
    }
    const std::string header = m.needs_header ? RecordLogHeader(version) : std::string();
    if (m.needs_header) m.header_version = version;
    struct iovec parts[2] = {{const_cast<char*>(header.data()), header.size()},
                             {const_cast<char*>(to_write.data()), to_write.size()}};
    SONAR_RETURN_IF_ERROR(WriteAll(m.fd, m.path, parts, 2));
    m.size_bytes += static_cast<int64_t>(header.size() + to_write.size());
    m.needs_header = false;
    if (m.options.fsync == FsyncPolicy::kEveryAppend && fdatasync(m.fd) != 0) {
      return InternalError("fdatasync failed on " + m.path + ": " + strerror(errno));
    }
  }
  m.records += c.appended;
  if (counts != nullptr) *counts = c;
  return OkStatus();
}

bool RecordLogWriter::can_elide_tasks() const { return impl_->can_elide_tasks; }

RecordLogWriter::Mark RecordLogWriter::mark() const { return {impl_->size_bytes, impl_->records}; }

Status RecordLogWriter::TruncateTo(const Mark& mark) {
  Impl& m = *impl_;
  if (mark.size_bytes > m.size_bytes || mark.records > m.records) {
    return InvalidArgumentError("TruncateTo: the mark is past the end of " + m.path);
  }
  // A mark taken before the first append on an empty log is 0: the header goes too.
  if (ftruncate(m.fd, static_cast<off_t>(mark.size_bytes)) != 0) {
    return InternalError("cannot cut " + m.path + " back: " + strerror(errno));
  }
  m.size_bytes = mark.size_bytes;
  m.records = mark.records;
  m.needs_header = m.size_bytes == 0;
  if (m.needs_header) m.header_version = 0;
  m.truncated = true;
  return OkStatus();
}

int64_t RecordLogWriter::size_bytes() const { return impl_->size_bytes; }
int64_t RecordLogWriter::records() const { return impl_->records; }
int64_t RecordLogWriter::unchecked() const { return impl_->unchecked; }
const RecordLogStats& RecordLogWriter::open_stats() const { return impl_->stats; }
const std::string& RecordLogWriter::path() const { return impl_->path; }

// -------------------------------------------------------------------------------- RecordStore

Status RecordStoreOptions::Validate() const { return OkStatus(); }

struct RecordStore::Impl {
  std::string path;
  RecordStoreOptions options;
  std::optional<RecordLogWriter> writer;  // absent when read_only
  std::mutex mu;
  std::vector<Record> records;
  RecordLogStats stats;
  FrameBatch batch;
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
  if (options.read_only) {
    SONAR_ASSIGN_OR_RETURN(impl->records, ReadRecordLog(path, &impl->stats));
    return RecordStore(std::move(impl));
  }
  RecordLogWriterOptions wo;
  wo.fsync = options.fsync;
  wo.create_if_missing = options.create_if_missing;
  std::vector<Record>& records = impl->records;
  SONAR_ASSIGN_OR_RETURN(
      RecordLogWriter writer,
      RecordLogWriter::Open(path, wo, [&records](Record&& r) { records.push_back(std::move(r)); }));
  impl->stats = writer.open_stats();
  impl->writer.emplace(std::move(writer));
  return RecordStore(std::move(impl));
}

Status RecordStore::Append(const Record& record) {
  if (!impl_->writer) {
    return FailedPreconditionError("record log " + impl_->path + " was opened read-only");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->batch.Clear();
  EncodeFrames(&record, 1, &impl_->batch);
  SONAR_RETURN_IF_ERROR(impl_->writer->Append(impl_->batch));
  impl_->records.push_back(record);
  return OkStatus();
}

Status RecordStore::AppendBatch(const std::vector<Record>& records) {
  if (!impl_->writer) {
    return FailedPreconditionError("record log " + impl_->path + " was opened read-only");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->batch.Clear();
  EncodeFrames(records.data(), records.size(), &impl_->batch);
  SONAR_RETURN_IF_ERROR(impl_->writer->Append(impl_->batch));
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
  std::partial_sort(
      ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(n), ok.end(),
      [](const Record* a, const Record* b) { return RecordCost(*a) < RecordCost(*b); });
  std::vector<Record> out;
  for (size_t i = 0; i < n; ++i) out.push_back(*ok[i]);
  return out;
}

void WorkloadSummarizer::Add(const Record& r) {
  const auto [it, inserted] = index_.emplace(r.workload_key, summaries_.size());
  const size_t at = it->second;
  if (inserted) {
    WorkloadSummary s;
    s.workload_key = r.workload_key;
    s.task = r.task;
    s.best_seconds = std::numeric_limits<double>::infinity();
    summaries_.push_back(std::move(s));
  }
  WorkloadSummary& s = summaries_[at];
  ++s.records;
  if (r.result.ok()) {
    ++s.ok;
    s.best_seconds = std::min(s.best_seconds, RecordCost(r));
  }
}

void BestRecordKeeper::Add(const Record& r) {
  if (!r.result.ok() || r.result.run_seconds.empty()) return;
  const auto [it, inserted] = index_.emplace(r.workload_key, best_.size());
  const size_t at = it->second;
  if (inserted) {
    best_.push_back(r);
  } else if (RecordCost(r) < RecordCost(best_[at])) {
    best_[at] = r;
  }
}

std::vector<Record> BestRecordKeeper::Best() const { return best_; }

std::vector<WorkloadSummary> SummarizeWorkloads(const std::vector<Record>& records) {
  WorkloadSummarizer s;
  for (const Record& r : records) s.Add(r);
  return s.summaries();
}

std::vector<Record> BestPerWorkload(const std::vector<Record>& records) {
  BestRecordKeeper keeper;
  for (const Record& r : records) keeper.Add(r);
  return keeper.Best();
}

std::vector<WorkloadSummary> RecordStore::Workloads() const {
  return SummarizeWorkloads(impl_->records);
}

std::vector<Record> RecordStore::BestPerWorkload() const {
  return sonar::BestPerWorkload(impl_->records);
}

}  // namespace sonar
