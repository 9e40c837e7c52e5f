// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The AutoTVM v0.2 fast reader (simdjson On-Demand into reused records).
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

#include "space/task.h"

namespace sonar::history_internal {
namespace {

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
//
// Consecutive lines of one task differ only in their numbers, so most lines are not parsed at
// all: a line read in full becomes a template (its text cut around the numbers that vary), and
// the next line is compared with it byte for byte outside those numbers, which are converted
// with the same rules On-Demand applies (ReadByTemplate). This halves the parsing work of a
// real log; a line that does not fit is read in full and becomes the next template.

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
    case od::number_type::floating_point_number: return !v.get_double().get(*out);
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

// Thread safety: thread-compatible; one per importer.
class FastReader {
 public:
  // Reads `line` (SIMDJSON_PADDING readable bytes after it) into *r. False when the general
  // reader must read the line instead; *r is then unspecified.
  bool Read(Importer& im, std::string_view line, Record* r) {
    if (template_.valid && ReadByTemplate(line, r)) return true;
    slots_.clear();
    line_begin_ = line.data();
    line_end_ = line.data() + line.size();
    if (!ReadWhole(im, line, r)) return false;
    BuildTemplate(line, *r);
    return true;
  }

 private:
  // What a number of the template line becomes in the record.
  enum class Role : uint8_t { kIndex, kKnobInt, kCost, kErrorNo, kAllCost, kTimestamp };
  struct Slot {
    uint32_t begin = 0;  // where the number starts in the line
    Role role = Role::kIndex;
    uint32_t knob = 0;  // kKnobInt: which knob, and which of its integers
    uint32_t item = 0;
  };
  // The last line read in full, cut into literal text and the numbers that vary from record to
  // record of one task (the config's index and integers, the costs, error_no, all_cost and the
  // timestamp). A later line that has the very same text around its numbers is that line's
  // JSON with other numbers, so it gives that line's record with those numbers put in: the
  // reader then only compares bytes and converts numbers. Everything else (a literal that
  // differs, a number the reader would convert otherwise, such as an integer beyond int64) goes
  // to the full read.
  struct LineTemplate {
    bool valid = false;
    std::string text;
    std::vector<uint32_t> literal_end;  // literal i is text[i ? slot_end[i-1] : 0, literal_end[i])
    std::vector<uint32_t> slot_end;     // where slot i's number ends in `text`
    std::vector<Slot> slots;
    Record record;                   // the template line's record
    std::string first_cost_message;  // the first string among the costs, before it was judged
    bool has_string_cost = false;
  };

  // The extent of the JSON number at p (strict grammar); null when there is none.
  static const char* NumberEnd(const char* p, const char* end, bool* integral) {
    auto digit = [&](const char* q) { return q < end && *q >= '0' && *q <= '9'; };
    const char* q = p;
    if (q < end && *q == '-') ++q;
    if (!digit(q)) return nullptr;
    if (*q == '0') {
      ++q;
    } else {
      while (digit(q)) ++q;
    }
    *integral = true;
    if (q < end && *q == '.') {
      *integral = false;
      ++q;
      if (!digit(q)) return nullptr;
      while (digit(q)) ++q;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
      *integral = false;
      ++q;
      if (q < end && (*q == '+' || *q == '-')) ++q;
      if (!digit(q)) return nullptr;
      while (digit(q)) ++q;
    }
    return q;
  }

  // Notes that the number `v` (not yet consumed) fills `role` of the record.
  void NoteSlot(od::value v, Role role, size_t knob = 0, size_t item = 0) {
    const char* at = v.raw_json_token().data();
    if (at < line_begin_ || at >= line_end_) return;  // cannot happen; the template is then off
    slots_.push_back(Slot{static_cast<uint32_t>(at - line_begin_), role,
                          static_cast<uint32_t>(knob), static_cast<uint32_t>(item)});
  }

  void BuildTemplate(std::string_view line, const Record& r) {
    LineTemplate& t = template_;
    t.valid = false;
    if (line.size() >= (1u << 30)) return;
    t.text.assign(line);
    t.literal_end.clear();
    t.slot_end.clear();
    t.slots = slots_;
    uint32_t from = 0;
    for (const Slot& s : t.slots) {
      bool integral = false;
      const char* end = NumberEnd(line.data() + s.begin, line.data() + line.size(), &integral);
      if (s.begin < from || end == nullptr) return;
      t.literal_end.push_back(s.begin);
      from = static_cast<uint32_t>(end - line.data());
      t.slot_end.push_back(from);
    }
    t.literal_end.push_back(static_cast<uint32_t>(line.size()));
    t.record = r;
    t.first_cost_message = first_cost_message_;
    t.has_string_cost = has_string_cost_;
    t.valid = true;
  }

  // Reads `line` with the template: true, with *r set, when the line is the template's text with
  // other numbers in its slots and the reader would accept it.
  bool ReadByTemplate(std::string_view line, Record* r) {
    const LineTemplate& t = template_;
    const char* p = line.data();
    const char* const end = p + line.size();
    const char* text = t.text.data();
    uint32_t from = 0;
    // Compare everything first: a line that differs anywhere costs no record copy.
    numbers_.resize(t.slots.size());
    for (size_t i = 0; i < t.slots.size(); ++i) {
      const size_t n = t.literal_end[i] - from;
      if (static_cast<size_t>(end - p) < n || std::memcmp(p, text + from, n) != 0) return false;
      p += n;
      bool integral = false;
      const char* q = NumberEnd(p, end, &integral);
      if (q == nullptr) return false;
      Number& x = numbers_[i];
      const Role role = t.slots[i].role;
      if (integral) {
        const auto [ptr, ec] = std::from_chars(p, q, x.i);
        if (ec != std::errc() || ptr != q) return false;  // e.g. out of int64's range
        x.d = static_cast<double>(x.i);
      } else {
        if (role == Role::kIndex || role == Role::kKnobInt || role == Role::kErrorNo) return false;
        const auto [ptr, ec] = std::from_chars(p, q, x.d);
        if (ec != std::errc() || ptr != q) return false;
      }
      p = q;
      from = t.slot_end[i];
    }
    const size_t n = t.literal_end.back() - from;
    if (static_cast<size_t>(end - p) != n || std::memcmp(p, text + from, n) != 0) return false;

    *r = t.record;
    MeasureResult& result = r->result;
    result.run_seconds.clear();
    result.reported_seconds = 0;
    result.error_msg = t.first_cost_message;
    for (size_t i = 0; i < t.slots.size(); ++i) {
      const Slot& s = t.slots[i];
      const Number& x = numbers_[i];
      switch (s.role) {
        case Role::kIndex:
          if (x.i < 0) return false;
          r->config.index = x.i;
          break;
        case Role::kKnobInt: r->config.values[s.knob].ints[s.item] = x.i; break;
        case Role::kCost: result.run_seconds.push_back(x.d); break;
        case Role::kErrorNo:
          if (!AutoTvmErrorToStatus(x.i, &result.status)) return false;
          result.source_error_code = static_cast<int32_t>(x.i);
          break;
        case Role::kAllCost:
          if (!std::isfinite(x.d) || x.d < 0) return false;
          result.all_cost_seconds = x.d;
          break;
        case Role::kTimestamp:
          if (!std::isfinite(x.d)) return false;
          r->timestamp_unix_s = x.d;
          break;
      }
    }
    return JudgeCosts(t.has_string_cost, &result);
  }

  // The costs judged once error_no is known, as ParseTvmResult does.
  static bool JudgeCosts(bool has_string_cost, MeasureResult* result) {
    if (result->ok()) {
      if (has_string_cost || result->run_seconds.empty()) return false;
      for (double s : result->run_seconds) {
        if (!std::isfinite(s) || s <= 0 || s >= kAutoTvmFailureCost) return false;
      }
      result->error_msg.clear();
      if (result->run_seconds.size() > 1) result->reported_seconds = result->mean_seconds();
    } else {
      // Failures carry a sentinel or a message, never a time.
      result->run_seconds.clear();
    }
    return true;
  }

  // Reads the whole line with On-Demand, noting the slots of a template.
  bool ReadWhole(Importer& im, std::string_view line, Record* r) {
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
        NoteSlot(v, Role::kIndex);
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
            if (!ReadKnobValue(kv.source_type, x, n - 1, &kv, &num_strings)) return false;
            break;
          default: return false;  // not a triple
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

  bool ReadKnobValue(std::string_view type, od::value x, size_t knob, KnobValue* kv,
                     size_t* num_strings) {
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
        if (std::move(e_or_error).get(e)) return false;
        NoteSlot(e, Role::kKnobInt, knob, kv->ints.size());
        if (!OdInt(e, &i)) return false;
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
          NoteSlot(x, Role::kKnobInt, knob, 0);
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
      default: return false;
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
            const size_t slots = slots_.size();
            NoteSlot(c, Role::kCost);
            if (OdNumber(c, &seconds)) {
              result.run_seconds.push_back(seconds);
            } else if (!c.get_string().get(msg)) {
              slots_.resize(slots);  // a string: literal text of a template
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
          NoteSlot(x, Role::kErrorNo);
          if (!OdInt(x, &error_no) || !AutoTvmErrorToStatus(error_no, &result.status)) return false;
          result.source_error_code = static_cast<int32_t>(error_no);
          break;
        }
        case 2:
          NoteSlot(x, Role::kAllCost);
          if (!OdNumber(x, &result.all_cost_seconds) || !std::isfinite(result.all_cost_seconds) ||
              result.all_cost_seconds < 0) {
            return false;
          }
          break;
        case 3:
          NoteSlot(x, Role::kTimestamp);
          if (!OdNumber(x, &r->timestamp_unix_s) || !std::isfinite(r->timestamp_unix_s)) {
            return false;
          }
          break;
        default: return false;  // the general reader ignores a fifth element
      }
    }
    if (part < 2) return false;
    has_string_cost_ = has_string_cost;
    first_cost_message_ = result.error_msg;
    return JudgeCosts(has_string_cost, &result);
  }

  struct Number {
    int64_t i = 0;
    double d = 0;
  };

  od::parser parser_;
  LineTemplate template_;
  std::vector<Slot> slots_;           // the slots noted while the current line is read whole
  const char* line_begin_ = nullptr;  // and its text
  const char* line_end_ = nullptr;
  bool has_string_cost_ = false;    // its costs held a string
  std::string first_cost_message_;  // the first string among them
  std::vector<Number> numbers_;     // the numbers of a line read with the template
  std::unordered_map<std::string, Interned, TextHash, std::equal_to<>> tasks_;
  const Interned* last_ = nullptr;  // the entry of the previous line's input
  std::string last_text_;           // and its text
  std::string number_text_;
  std::vector<KnobValue> spare_knobs_;  // storage of knob values that records no longer use
};

}  // namespace

// The importer's handle on the fast reader; the reader itself has internal linkage, so that the
// compiler inlines its helpers as it did when everything was one file (with external linkage
// they were called out of line, and parsing took 30-40% longer).
class AutoTvmFastReader {
 public:
  FastReader reader;
};

Importer::Importer(std::string_view source, const ImportOptions& options, const char* readable_end,
                   const std::function<void(Record&&)>* sink, ImportReport* report)
    : source_(source),
      options_(options),
      readable_end_(readable_end),
      sink_(sink),
      report_(report) {}

Importer::~Importer() = default;

AutoTvmFastReader* Importer::autotvm_fast_reader() {
  if (!options_.autotvm_fast_path) return nullptr;
  if (autotvm_fast_ == nullptr) autotvm_fast_ = std::make_unique<AutoTvmFastReader>();
  return autotvm_fast_.get();
}

bool ReadAutoTvmLineFast(Importer& im, std::string_view line, Record* r) {
  AutoTvmFastReader* fast = im.autotvm_fast_reader();
  return fast != nullptr && fast->reader.Read(im, line, r);
}

}  // namespace sonar::history_internal
