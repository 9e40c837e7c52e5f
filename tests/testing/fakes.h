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
#include <thread>

#include "common/random.h"
#include "measure/measurer.h"
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
