// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The JSON helpers, PaddedCopy, and the Importer's out-of-line pieces.
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

namespace sonar::history_internal {

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
    case element_type::DOUBLE: AppendDouble(double(e), out); return;
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

// Prints the kept skip messages of a finished import, and how many were not kept.
void LogSkips(std::string_view source, const ImportOptions& options, const ImportReport& report) {
  if (!options.log_skips) return;
  for (const std::string& m : report.skip_messages)
    std::fprintf(stderr, "sonar: skipped %s\n", m.c_str());
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

}  // namespace sonar::history_internal
