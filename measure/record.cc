// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/record.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "common/check.h"
#include "space/task.h"

namespace sonar {

uint64_t TaskIdentity::ComputeWorkloadKey() const { return WorkloadKeyOf(op, args_json, target); }

double MeasureResult::median_seconds() const {
  SONAR_CHECK(ok() && !run_seconds.empty()) << "median_seconds() needs an ok result with costs";
  std::vector<double> v = run_seconds;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double upper = v[mid];
  const double lower = *std::max_element(v.begin(), v.begin() + mid);
  return 0.5 * (lower + upper);
}

double MeasureResult::mean_seconds() const {
  SONAR_CHECK(ok() && !run_seconds.empty()) << "mean_seconds() needs an ok result with costs";
  return std::accumulate(run_seconds.begin(), run_seconds.end(), 0.0) /
         static_cast<double>(run_seconds.size());
}

double RecordCost(const Record& record) {
  if (!record.result.ok() || record.result.run_seconds.empty()) {
    return std::numeric_limits<double>::infinity();
  }
  return record.result.cost_seconds();
}

void ResetKeepingStorage(Record* r) {
  r->workload_key = 0;
  r->task.name.clear();
  r->task.op.clear();
  r->task.args_json.clear();
  r->task.target.clear();
  r->task.template_version = 0;
  r->config.index.reset();
  r->config.code_hash.clear();
  MeasureResult& m = r->result;
  m.status = MeasureStatus::kUnknownError;
  m.run_seconds.clear();
  m.compile_seconds = m.all_cost_seconds = m.reference_seconds = m.reported_seconds = m.accuracy =
      0;
  m.error_msg.clear();
  m.source_error_code = -1;
  r->timestamp_unix_s = 0;
  r->tuner.clear();
  r->trial = -1;
  r->hardware_id.clear();
  r->source_version.clear();
  r->tool_version.clear();
}

}  // namespace sonar
