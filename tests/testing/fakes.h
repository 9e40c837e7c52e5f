// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: test doubles for the tuner layer (BoTorch's MockModel idea): a
// synthetic task whose cost is a known function of the config, and a Measurer that answers
// from that function (optionally failing some configs and sleeping to simulate work).
//
// Example:
//   Task task = SyntheticTask();
//   FunctionMeasurer measurer(&SyntheticCost);
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <set>
#include <thread>

#include "common/random.h"
#include "measure/measurer.h"
#include "measure/record.h"
#include "space/config_space.h"
#include "space/task.h"

namespace sonar::testing {

// Three integer knobs of 16 values and a bool: 8192 configs; constraint forbids a+b > 28.
inline Task SyntheticTask(const std::string& name = "synthetic") {
  std::vector<Knob> knobs = {IntKnob("a", 0, 15), IntKnob("b", 0, 15), IntKnob("c", 0, 15),
                             BoolKnob("d")};
  std::vector<NamedConstraint> constraints = {{"a_plus_b", [](const ConfigSpace&, const Config& c) {
                                                 return c.choice[0] + c.choice[1] <= 28;
                                               }}};
  Task task;
  task.name = name;
  task.op = "synthetic";
  task.shape = {16, 16, 16};
  task.target = "test";
  task.space = ConfigSpace::Make(knobs, constraints).value();
  return task;
}

// A smooth bowl with its minimum at a=11, b=3, c=7, d=1; configs with c == 0 fail (compile error).
inline MeasureResult SyntheticCost(const Config& c) {
  MeasureResult r;
  if (c.choice[2] == 0) {
    r.status = MeasureStatus::kCompileError;
    r.error_msg = "synthetic failure";
    return r;
  }
  const double a = c.choice[0] - 11, b = c.choice[1] - 3, cc = c.choice[2] - 7;
  const double cost =
      1e-3 * (1 + 0.05 * a * a + 0.08 * b * b + 0.03 * cc * cc + (c.choice[3] ? 0 : 0.3));
  r.status = MeasureStatus::kOk;
  r.run_seconds = {cost, cost * 1.01, cost * 0.99};
  return r;
}

// The synthetic bowl of testing/fakes.h with its minimum moved by (da, db); no failures.
inline MeasureResult Bowl(const Config& c, int da, int db) {
  const double a = c.choice[0] - 11 - da, b = c.choice[1] - 3 - db, cc = c.choice[2] - 7;
  const double cost =
      1e-3 * (1 + 0.05 * a * a + 0.08 * b * b + 0.03 * cc * cc + (c.choice[3] ? 0 : 0.3));
  MeasureResult r;
  r.status = MeasureStatus::kOk;
  r.run_seconds = {cost};
  return r;
}

inline Task SourceTask(int i) {
  Task t = SyntheticTask("source" + std::to_string(i));
  t.shape = {16, 16, 16 + i};
  t.target = "source-device-" + std::to_string(i);
  return t;
}

// n random records of source i (its bowl moved by (i-1, 0)): the transfer fixture of the tests
// of transfer-bo and rgpe, and of the tests that cover every tuner kind.
inline std::vector<Record> SourceRecords(int i, int n, uint64_t seed) {
  const Task source = SourceTask(i);
  Rng rng = MakeRng(seed);
  std::set<std::vector<int32_t>> seen;
  std::vector<Record> out;
  while (static_cast<int>(out.size()) < n) {
    Config c = source.space.Sample(rng).value();
    if (!seen.insert(c.choice).second) continue;
    Record r;
    r.workload_key = source.WorkloadKey();
    r.task.name = source.name;
    r.task.op = source.op;
    r.task.args_json = source.ArgsJson();
    r.task.target = source.target;
    r.config.values = source.space.ToValues(c);
    r.result = Bowl(c, i - 1, 0);
    out.push_back(std::move(r));
  }
  return out;
}

// Answers from a function of the config; counts configs measured.
class FunctionMeasurer final : public Measurer {
 public:
  explicit FunctionMeasurer(std::function<MeasureResult(const Config&)> fn, double sleep_s = 0)
      : fn_(std::move(fn)), sleep_s_(sleep_s) {}
  std::vector<MeasureResult> Measure(const Task&, const std::vector<Config>& configs) override {
    std::vector<MeasureResult> out;
    for (const Config& c : configs) {
      if (sleep_s_ > 0) std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s_));
      out.push_back(fn_(c));
      ++measured_;
    }
    return out;
  }
  int measured() const { return measured_; }

 private:
  std::function<MeasureResult(const Config&)> fn_;
  double sleep_s_;
  int measured_ = 0;
};

}  // namespace sonar::testing
