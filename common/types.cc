// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "common/types.h"

#include <array>
#include <utility>

namespace sonar {
namespace {

constexpr std::array<std::pair<KnobKind, std::string_view>, 5> kKnobKindNames = {{
    {KnobKind::kSplit, "split"},
    {KnobKind::kReorder, "reorder"},
    {KnobKind::kChoice, "choice"},
    {KnobKind::kInt, "int"},
    {KnobKind::kBool, "bool"},
}};

constexpr std::array<std::pair<MeasureStatus, std::string_view>, 10> kMeasureStatusNames = {{
    {MeasureStatus::kOk, "ok"},
    {MeasureStatus::kInvalidConfig, "invalid_config"},
    {MeasureStatus::kCompileError, "compile_error"},
    {MeasureStatus::kCompileTimeout, "compile_timeout"},
    {MeasureStatus::kRuntimeError, "runtime_error"},
    {MeasureStatus::kRunTimeout, "run_timeout"},
    {MeasureStatus::kCrashed, "crashed"},
    {MeasureStatus::kWrongAnswer, "wrong_answer"},
    {MeasureStatus::kNotInTable, "not_in_table"},
    {MeasureStatus::kUnknownError, "unknown_error"},
}};

template <typename E, size_t N>
std::string_view ToName(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
bool FromName(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name,
              E* value) {
  for (const auto& [e, n] : table) {
    if (n == name) {
      *value = e;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view KnobKindToString(KnobKind kind) { return ToName(kKnobKindNames, kind); }
bool StringToKnobKind(std::string_view name, KnobKind* kind) {
  return FromName(kKnobKindNames, name, kind);
}
std::string_view MeasureStatusToString(MeasureStatus status) {
  return ToName(kMeasureStatusNames, status);
}
bool StringToMeasureStatus(std::string_view name, MeasureStatus* status) {
  return FromName(kMeasureStatusNames, name, status);
}

}  // namespace sonar
