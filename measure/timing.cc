// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/timing.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

namespace sonar {

StatusOr<HarnessOutput> ParseHarnessOutput(const std::string& stdout_text) {
  std::string line;
  size_t pos = 0;
  while (pos < stdout_text.size()) {
    size_t end = stdout_text.find('\n', pos);
    if (end == std::string::npos) end = stdout_text.size();
    if (stdout_text.compare(pos, 9, "{\"sonar\":") == 0) line = stdout_text.substr(pos, end - pos);
    pos = end + 1;
  }
  if (line.empty()) {
    return InvalidArgumentError("the kernel binary printed no result line ({\"sonar\": ...})");
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("malformed result line: " + line.substr(0, 200));
  }
  HarnessOutput out;
  if (!j.contains("max_error") || !j.contains("number") || !j.contains("run_seconds")) {
    return InvalidArgumentError("result line lacks max_error, number or run_seconds: " +
                                line.substr(0, 200));
  }
  const auto& e = j["max_error"];
  if (e.is_null()) {
    out.max_error = std::numeric_limits<double>::quiet_NaN();
  } else if (e.is_number()) {
    out.max_error = e.get<double>();
  } else {
    return InvalidArgumentError("result line: max_error is not a number");
  }
  if (!j["number"].is_number_integer()) {
    return InvalidArgumentError("result line: number is not an integer");
  }
  out.number = j["number"].get<long long>();
  if (out.number < 1) {
    return InvalidArgumentError("result line: number is " + std::to_string(out.number) +
                                ", not a positive count of calls");
  }
  if (j.contains("output_floats") && j["output_floats"].is_number_unsigned()) {
    out.output_floats = j["output_floats"].get<unsigned long long>();
  }
  const auto& rs = j["run_seconds"];
  if (!rs.is_array()) return InvalidArgumentError("result line: run_seconds is not an array");
  for (const auto& s : rs) {
    if (!s.is_number()) return InvalidArgumentError("result line: run_seconds holds a non-number");
    const double t = s.get<double>();
    if (!std::isfinite(t) || t <= 0) {
      return InvalidArgumentError("result line: run_seconds holds " + std::to_string(t) +
                                  ", not a positive time");
    }
    out.run_seconds.push_back(t);
  }
  return out;
}

double RepeatSpread(const std::vector<double>& values) {
  SONAR_CHECK(!values.empty()) << "RepeatSpread of no values";
  const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
  if (*mn <= 0) return std::numeric_limits<double>::infinity();
  return *mx / *mn - 1.0;
}

}  // namespace sonar
