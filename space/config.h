// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Config, a point in a ConfigSpace (one candidate index per knob, in
// knob order), and ConfigHash so Configs can key unordered containers. A Config means nothing
// without its space: ConfigSpace::ToString / ToValues turn it into names and values.
//
// Example:
//   Config c{.choice = {3, 0, 1}};
//   std::unordered_set<Config, ConfigHash> seen;
//   seen.insert(c);
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace sonar {

// A point in a ConfigSpace: choice[k] is the candidate index of knob k, in [0, knob(k).size()).
// Thread safety: value type.
struct Config {
  std::vector<int32_t> choice;
  friend bool operator==(const Config&, const Config&) = default;
};

// Hash of the candidate indices (FNV-1a over the values); stable across platforms.
// Thread safety: stateless.
struct ConfigHash {
  size_t operator()(const Config& config) const {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int32_t c : config.choice) {
      h ^= static_cast<uint32_t>(c);
      h *= 0x100000001b3ULL;
    }
    return static_cast<size_t>(h);
  }
};

// "(3,0,1)": the raw indices, for logs and test failure messages. Use ConfigSpace::ToString for
// names and values.
inline std::string ConfigIndicesToString(const Config& config) {
  std::string out = "(";
  for (size_t i = 0; i < config.choice.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(config.choice[i]);
  }
  return out + ")";
}

inline std::ostream& operator<<(std::ostream& os, const Config& config) {
  return os << ConfigIndicesToString(config);
}

}  // namespace sonar
