// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/latency_data.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_map>

#include "common/enum_names.h"

namespace sonar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool ParseInt(std::string_view s, int64_t* v) {
  s = Trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Empty, "nan" and "NaN" are absent (NaN); anything else must be a full number.
bool ParseDoubleOrAbsent(std::string_view s, double* v) {
  s = Trim(s);
  if (s.empty() || s == "nan" || s == "NaN" || s == "NA") {
    *v = kNaN;
    return true;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

StatusOr<std::vector<int64_t>> ParseIntList(std::string_view s, size_t expected,
                                            std::string_view what) {
  std::vector<int64_t> out;
  for (std::string_view part : Split(Trim(s), '-')) {
    int64_t v = 0;
    if (!ParseInt(part, &v)) {
      return InvalidArgumentError(std::string(what) + " must be dash-joined integers, got '" +
                                  std::string(s) + "'");
    }
    out.push_back(v);
  }
  if (out.size() != expected) {
    return InvalidArgumentError(std::string(what) + " must have " + std::to_string(expected) +
                                " values, got " + std::to_string(out.size()) + " in '" +
                                std::string(s) + "'");
  }
  return out;
}

int IndexIn(int64_t v, std::initializer_list<int64_t> values) {
  int i = 0;
  for (int64_t x : values) {
    if (x == v) return i;
    ++i;
  }
  return -1;
}

}  // namespace

namespace {
constexpr EnumNames<LatencySpace, 3> kLatencySpaceNames = {{
    {LatencySpace::kNasBench201, "nasbench201"},
    {LatencySpace::kFbnet, "fbnet"},
    {LatencySpace::kOfa, "ofa"},
}};
}  // namespace

std::string_view LatencySpaceToString(LatencySpace space) {
  return EnumToName(kLatencySpaceNames, space);
}
bool StringToLatencySpace(std::string_view name, LatencySpace* space) {
  return NameToEnum(kLatencySpaceNames, name, space);
}

int LatencyEncodingSize(LatencySpace space) {
  switch (space) {
    case LatencySpace::kNasBench201: return 30;
    case LatencySpace::kFbnet: return 22 * 9;
    case LatencySpace::kOfa: return 20 * 6 + 5 * 3 + 25 + 1;
  }
  return 0;
}

std::vector<std::string> LatencyKeyColumns(LatencySpace space) {
  switch (space) {
    case LatencySpace::kNasBench201: return {"arch_str"};
    case LatencySpace::kFbnet: return {"op_idx_list"};
    case LatencySpace::kOfa: return {"ks", "e", "d", "r"};
  }
  return {};
}

StatusOr<Eigen::VectorXd> EncodeNasBench201(std::string_view cell) {
  static const char* const kOps[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                     "avg_pool_3x3"};
  const std::string original(cell);
  cell = Trim(cell);
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("NAS-Bench-201 cell '" + original + "': " + why +
                                " (expected e.g. |nor_conv_3x3~0|+|skip_connect~0|none~1|+|"
                                "avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|)");
  };
  std::vector<std::string_view> nodes = Split(cell, '+');
  if (nodes.size() != 3) return bad("it must have 3 nodes joined by '+'");
  Eigen::VectorXd x = Eigen::VectorXd::Zero(30);
  int edge = 0;
  for (int node = 0; node < 3; ++node) {
    std::string_view n = nodes[node];
    if (n.size() < 2 || n.front() != '|' || n.back() != '|') return bad("a node is not |...|");
    n = n.substr(1, n.size() - 2);
    std::vector<std::string_view> inputs = Split(n, '|');
    if (static_cast<int>(inputs.size()) != node + 1) {
      return bad("node " + std::to_string(node + 1) + " must have " + std::to_string(node + 1) +
                 " inputs");
    }
    for (int j = 0; j <= node; ++j, ++edge) {
      const size_t tilde = inputs[j].find('~');
      if (tilde == std::string_view::npos) return bad("an input lacks '~'");
      const std::string_view op = inputs[j].substr(0, tilde);
      int64_t from = -1;
      if (!ParseInt(inputs[j].substr(tilde + 1), &from) || from != j) {
        return bad("input " + std::to_string(j) + " of node " + std::to_string(node + 1) +
                   " must come from node " + std::to_string(j));
      }
      int k = -1;
      for (int o = 0; o < 5; ++o) {
        if (op == kOps[o]) k = o;
      }
      if (k < 0) return bad("unknown operation '" + std::string(op) + "'");
      x(edge * 5 + k) = 1.0;
    }
  }
  return x;
}

StatusOr<Eigen::VectorXd> EncodeFbnet(std::string_view op_idx_list) {
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> ops,
                         ParseIntList(op_idx_list, 22, "FBNet op_idx_list"));
  Eigen::VectorXd x = Eigen::VectorXd::Zero(22 * 9);
  for (int b = 0; b < 22; ++b) {
    if (ops[b] < 0 || ops[b] > 8) {
      return InvalidArgumentError("FBNet op id " + std::to_string(ops[b]) + " of block " +
                                  std::to_string(b) + " is outside 0..8");
    }
    x(b * 9 + ops[b]) = 1.0;
  }
  return x;
}

StatusOr<Eigen::VectorXd> EncodeOfa(std::string_view ks, std::string_view e, std::string_view d,
                                    int r) {
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> kv, ParseIntList(ks, 20, "OFA ks"));
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> ev, ParseIntList(e, 20, "OFA e"));
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> dv, ParseIntList(d, 5, "OFA d"));
  if (r < 32 || r > 1024) {
    return InvalidArgumentError("OFA resolution r=" + std::to_string(r) + " is outside 32..1024");
  }
  Eigen::VectorXd x = Eigen::VectorXd::Zero(LatencyEncodingSize(LatencySpace::kOfa));
  for (int s = 0; s < 5; ++s) {
    const int di = IndexIn(dv[s], {2, 3, 4});
    if (di < 0) {
      return InvalidArgumentError("OFA depth " + std::to_string(dv[s]) + " of stage " +
                                  std::to_string(s) + " is not 2, 3 or 4");
    }
    x(120 + s * 3 + di) = 1.0;
    for (int j = 0; j < 4; ++j) {
      const int layer = s * 4 + j;
      const int ki = IndexIn(kv[layer], {3, 5, 7});
      const int ei = IndexIn(ev[layer], {3, 4, 6});
      if (ki < 0 || ei < 0) {
        return InvalidArgumentError(
            "OFA layer " + std::to_string(layer) + ": kernel size " + std::to_string(kv[layer]) +
            " must be 3, 5 or 7 and expansion " + std::to_string(ev[layer]) + " must be 3, 4 or 6");
      }
      if (j >= dv[s]) continue;  // inactive layer: its ks/e are ignored by the supernet
      x(layer * 6 + ki) = 1.0;
      x(layer * 6 + 3 + ei) = 1.0;
    }
  }
  if (r >= 128 && r <= 224 && r % 4 == 0) x(135 + (r - 128) / 4) = 1.0;
  x(160) = (r / 224.0) * (r / 224.0);
  return x;
}

StatusOr<Eigen::VectorXd> EncodeArchitecture(LatencySpace space,
                                             const std::vector<std::string>& key_values) {
  const size_t n = LatencyKeyColumns(space).size();
  if (key_values.size() != n) {
    return InvalidArgumentError("an architecture of " + std::string(LatencySpaceToString(space)) +
                                " needs " + std::to_string(n) + " key values, got " +
                                std::to_string(key_values.size()));
  }
  switch (space) {
    case LatencySpace::kNasBench201: return EncodeNasBench201(key_values[0]);
    case LatencySpace::kFbnet: return EncodeFbnet(key_values[0]);
    case LatencySpace::kOfa: {
      int64_t r = 0;
      if (!ParseInt(key_values[3], &r)) {
        return InvalidArgumentError("OFA resolution '" + key_values[3] + "' is not an integer");
      }
      return EncodeOfa(key_values[0], key_values[1], key_values[2], static_cast<int>(r));
    }
  }
  return InternalError("unknown latency space");
}

StatusOr<std::vector<int64_t>> ReadReferenceArchIndices(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open reference-architecture file " + path);
  std::vector<int64_t> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    int64_t v = 0;
    if (!ParseInt(t, &v) || v < 0) {
      return InvalidArgumentError(path + ":" + std::to_string(line_no) +
                                  ": expected one non-negative arch_idx per line, got '" +
                                  std::string(t) + "'");
    }
    out.push_back(v);
  }
  if (out.empty()) return InvalidArgumentError(path + " lists no reference architectures");
  return out;
}

std::string ReferenceFeatureName(int64_t arch_idx) {
  return "ref_arch_" + std::to_string(arch_idx);
}

int64_t ReferenceFeatureArchIndex(std::string_view name) {
  constexpr std::string_view kPrefix = "ref_arch_";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int64_t v = -1;
  if (!ParseInt(name.substr(kPrefix.size()), &v) || v < 0) return -1;
  return v;
}

HardwareDescriptor DescriptorFromReferenceLatencies(const std::string& device_name,
                                                    const std::vector<int64_t>& arch_idx,
                                                    const std::vector<double>& latency_ms) {
  SONAR_CHECK(arch_idx.size() == latency_ms.size())
      << arch_idx.size() << " reference architectures but " << latency_ms.size() << " latencies";
  HardwareDescriptor hw;
  hw.id = "ref-" + device_name;
  hw.device_name = device_name;
  hw.source = "reference_latencies";
  hw.features.resize(static_cast<Eigen::Index>(arch_idx.size()));
  for (size_t i = 0; i < arch_idx.size(); ++i) {
    hw.feature_names.push_back(ReferenceFeatureName(arch_idx[i]));
    hw.feature_sources.push_back("reference_arch");
    const double v = latency_ms[i];
    hw.features(static_cast<Eigen::Index>(i)) = (std::isfinite(v) && v > 0) ? std::log(v) : kNaN;
  }
  return hw;
}

int LatencyTable::DeviceColumn(std::string_view device) const {
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i] == device) return static_cast<int>(i);
  }
  return -1;
}

int LatencyTable::ArchRow(int64_t arch) const {
  // Tables are usually sorted by arch_idx; try the direct position first.
  if (arch >= 0 && arch < num_archs() && arch_idx[arch] == arch) return static_cast<int>(arch);
  for (int i = 0; i < num_archs(); ++i) {
    if (arch_idx[i] == arch) return i;
  }
  return -1;
}

HardwareDescriptor LatencyTable::Descriptor(int column,
                                            const std::vector<int64_t>& reference_arch_idx) const {
  SONAR_CHECK(column >= 0 && column < num_devices()) << "device column " << column;
  std::vector<double> lat;
  for (int64_t a : reference_arch_idx) {
    const int row = ArchRow(a);
    lat.push_back(row < 0 ? kNaN : latency_ms(row, column));
  }
  return DescriptorFromReferenceLatencies(devices[column], reference_arch_idx, lat);
}

namespace {

struct CsvFile {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_numbers;
};

StatusOr<CsvFile> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open " + path);
  CsvFile f;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    std::vector<std::string> cells;
    for (std::string_view c : Split(line, ',')) cells.emplace_back(Trim(c));
    if (f.header.empty()) {
      f.header = std::move(cells);
      continue;
    }
    if (cells.size() != f.header.size()) {
      return InvalidArgumentError(path + ":" + std::to_string(line_no) + ": " +
                                  std::to_string(cells.size()) + " cells but the header has " +
                                  std::to_string(f.header.size()));
    }
    f.rows.push_back(std::move(cells));
    f.line_numbers.push_back(line_no);
  }
  if (f.header.empty()) return InvalidArgumentError(path + " is empty");
  return f;
}

int ColumnOf(const CsvFile& f, std::string_view name) {
  for (size_t i = 0; i < f.header.size(); ++i) {
    if (f.header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

StatusOr<LatencyTable> LoadLatencyTable(const std::vector<std::string>& paths, LatencySpace space) {
  if (paths.empty()) return InvalidArgumentError("no latency CSV files given");
  const std::vector<std::string> keys = LatencyKeyColumns(space);
  LatencyTable t;
  t.space = space;
  // arch_idx -> (keys, per-device value); rows must be in every file.
  std::map<int64_t, std::vector<std::string>> arch_keys;
  std::map<int64_t, int> seen_in_files;
  std::vector<std::unordered_map<int64_t, double>> columns;
  for (size_t fi = 0; fi < paths.size(); ++fi) {
    const std::string& path = paths[fi];
    SONAR_ASSIGN_OR_RETURN(CsvFile f, ReadCsv(path));
    const int idx_col = ColumnOf(f, "arch_idx");
    if (idx_col < 0) return InvalidArgumentError(path + " has no arch_idx column");
    std::vector<int> key_cols;
    for (const std::string& k : keys) {
      const int c = ColumnOf(f, k);
      if (c < 0) {
        return InvalidArgumentError(path + " has no '" + k + "' column; is it a " +
                                    std::string(LatencySpaceToString(space)) + " file?");
      }
      key_cols.push_back(c);
    }
    // Every other column that is not a known key column is a device.
    std::vector<int> dev_cols;
    for (size_t c = 0; c < f.header.size(); ++c) {
      const std::string& h = f.header[c];
      if (static_cast<int>(c) == idx_col || h == "arch_str" || h == "op_idx_list" || h == "ks" ||
          h == "e" || h == "d" || h == "r") {
        continue;
      }
      if (t.DeviceColumn(h) >= 0) {
        return InvalidArgumentError("device column '" + h + "' appears in more than one file (" +
                                    path + ")");
      }
      t.devices.push_back(h);
      columns.emplace_back();
      dev_cols.push_back(static_cast<int>(c));
    }
    std::unordered_map<int64_t, bool> in_this_file;
    for (size_t r = 0; r < f.rows.size(); ++r) {
      const auto& row = f.rows[r];
      const std::string where = path + ":" + std::to_string(f.line_numbers[r]);
      int64_t a = 0;
      if (!ParseInt(row[idx_col], &a)) {
        return InvalidArgumentError(where + ": arch_idx '" + row[idx_col] + "' is not an integer");
      }
      if (in_this_file.count(a)) {
        return InvalidArgumentError(where + ": arch_idx " + std::to_string(a) + " repeats");
      }
      in_this_file[a] = true;
      std::vector<std::string> kv;
      for (int c : key_cols) kv.push_back(row[c]);
      auto it = arch_keys.find(a);
      if (it == arch_keys.end()) {
        if (fi > 0) continue;  // not in the first file: cannot be in every file
        arch_keys[a] = kv;
      } else if (it->second != kv) {
        return InvalidArgumentError(where + ": arch_idx " + std::to_string(a) +
                                    " describes a different architecture than in an earlier file");
      }
      ++seen_in_files[a];
      for (size_t j = 0; j < dev_cols.size(); ++j) {
        double v = 0;
        if (!ParseDoubleOrAbsent(row[dev_cols[j]], &v)) {
          return InvalidArgumentError(where + ": " + f.header[dev_cols[j]] + " value '" +
                                      row[dev_cols[j]] + "' is not a number");
        }
        columns[columns.size() - dev_cols.size() + j][a] = v;
      }
    }
  }
  for (const auto& [a, keys_of_a] : arch_keys) {
    if (seen_in_files[a] != static_cast<int>(paths.size())) continue;
    t.arch_idx.push_back(a);
    t.arch_keys.push_back(keys_of_a);
  }
  if (t.arch_idx.empty()) return InvalidArgumentError("the latency files share no arch_idx");
  if (t.devices.empty()) return InvalidArgumentError("the latency files have no device columns");
  const int n = t.num_archs();
  t.encodings.resize(n, LatencyEncodingSize(space));
  t.latency_ms.resize(n, t.num_devices());
  for (int i = 0; i < n; ++i) {
    StatusOr<Eigen::VectorXd> x = EncodeArchitecture(space, t.arch_keys[i]);
    if (!x.ok()) {
      return x.status().WithContext("arch_idx " + std::to_string(t.arch_idx[i]));
    }
    t.encodings.row(i) = x->transpose();
    for (int d = 0; d < t.num_devices(); ++d) t.latency_ms(i, d) = columns[d][t.arch_idx[i]];
  }
  return t;
}

Status LoadArchitectureCsv(const std::string& path, LatencySpace space, Eigen::MatrixXd* encodings,
                           std::vector<int64_t>* arch_idx, std::vector<double>* latency_ms,
                           std::vector<std::vector<std::string>>* keys) {
  SONAR_ASSIGN_OR_RETURN(CsvFile f, ReadCsv(path));
  std::vector<int> key_cols;
  for (const std::string& k : LatencyKeyColumns(space)) {
    const int c = ColumnOf(f, k);
    if (c < 0) {
      return InvalidArgumentError(path + " has no '" + k + "' column (a " +
                                  std::string(LatencySpaceToString(space)) +
                                  " architecture file needs it)");
    }
    key_cols.push_back(c);
  }
  const int idx_col = ColumnOf(f, "arch_idx");
  const int lat_col = ColumnOf(f, "latency_ms");
  const int n = static_cast<int>(f.rows.size());
  if (encodings) encodings->resize(n, LatencyEncodingSize(space));
  if (arch_idx) arch_idx->assign(n, -1);
  if (latency_ms) latency_ms->assign(n, kNaN);
  if (keys) keys->clear();
  for (int r = 0; r < n; ++r) {
    const auto& row = f.rows[r];
    const std::string where = path + ":" + std::to_string(f.line_numbers[r]);
    std::vector<std::string> kv;
    for (int c : key_cols) kv.push_back(row[c]);
    StatusOr<Eigen::VectorXd> x = EncodeArchitecture(space, kv);
    if (!x.ok()) return x.status().WithContext(where);
    if (encodings) encodings->row(r) = x->transpose();
    if (keys) keys->push_back(kv);
    if (idx_col >= 0 && arch_idx && !row[idx_col].empty()) {
      int64_t a = 0;
      if (!ParseInt(row[idx_col], &a)) {
        return InvalidArgumentError(where + ": arch_idx '" + row[idx_col] + "' is not an integer");
      }
      (*arch_idx)[r] = a;
    }
    if (lat_col >= 0 && latency_ms) {
      double v = 0;
      if (!ParseDoubleOrAbsent(row[lat_col], &v)) {
        return InvalidArgumentError(where + ": latency_ms '" + row[lat_col] + "' is not a number");
      }
      (*latency_ms)[r] = v;
    }
  }
  return OkStatus();
}

}  // namespace sonar
