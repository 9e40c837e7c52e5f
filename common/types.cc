// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "common/types.h"

#include "common/enum_names.h"

namespace sonar {
namespace {

constexpr EnumNames<KnobKind, 5> kKnobKindNames = {{
    {KnobKind::kSplit, "split"},
    {KnobKind::kReorder, "reorder"},
    {KnobKind::kChoice, "choice"},
    {KnobKind::kInt, "int"},
    {KnobKind::kBool, "bool"},
}};

constexpr EnumNames<MeasureStatus, 10> kMeasureStatusNames = {{
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

}  // namespace

std::string_view KnobKindToString(KnobKind kind) { return EnumToName(kKnobKindNames, kind); }
bool StringToKnobKind(std::string_view name, KnobKind* kind) {
  return NameToEnum(kKnobKindNames, name, kind);
}
std::string_view MeasureStatusToString(MeasureStatus status) {
  return EnumToName(kMeasureStatusNames, status);
}
bool StringToMeasureStatus(std::string_view name, MeasureStatus* status) {
  return NameToEnum(kMeasureStatusNames, name, status);
}

}  // namespace sonar
