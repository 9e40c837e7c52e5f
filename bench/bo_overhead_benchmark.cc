// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Time the BO tuner itself spends per proposed batch (issue 5, item 6) after 100, 1000 and 3000
// observations, on a 6-knob product space of 16^6 configs with a smooth cost and 10% failures.
// For each n: the tuner observes n random configs, then
//   - "refit": the first Propose(q) (full MAP hyperparameter fit of both GPs + acquisition),
//   - "step":  the median of 5 rounds of Observe(q results) + Propose(q) (incremental
//              AddSamples + acquisition), which is the steady-state cost per batch.
// Usage: bo_overhead_benchmark [q=1] [sizes...]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "space/config_space.h"
#include "space/task.h"
#include "tuner/tuner.h"

using namespace sonar;

namespace {

MeasureResult Cost(const Config& c) {
  MeasureResult r;
  if ((c.choice[0] + c.choice[1]) % 10 == 9) {  // ~10% failures
    r.status = MeasureStatus::kCompileError;
    return r;
  }
  double s = 1e-3;
  for (size_t k = 0; k < c.choice.size(); ++k) {
    const double d = c.choice[k] - 3.0 - static_cast<double>(k);
    s *= 1 + 0.02 * d * d;
  }
  r.status = MeasureStatus::kOk;
  r.run_seconds = {s};
  return r;
}

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int q = argc > 1 ? std::atoi(argv[1]) : 1;
  std::vector<int> sizes = {100, 1000, 3000};
  if (argc > 2) {
    sizes.clear();
    for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  }
  std::vector<Knob> knobs;
  for (int k = 0; k < 6; ++k) knobs.push_back(IntKnob("k" + std::to_string(k), 0, 15));
  Task task;
  task.op = "synthetic";
  task.space = ConfigSpace::Make(knobs).value();
  std::printf("%8s %4s %12s %12s\n", "n_obs", "q", "refit_s", "step_s");
  for (int n : sizes) {
    TunerOptions o;
    o.kind = TunerKind::kBayesOpt;
    o.seed = 1;
    std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
    Rng rng = MakeRng(7);
    std::vector<Observation> obs;
    std::unordered_set<Config, ConfigHash> seen;
    while (static_cast<int>(obs.size()) < n) {
      Config c = task.space.Sample(rng).value();
      if (!seen.insert(c).second) continue;
      obs.push_back({c, Cost(c)});
    }
    tuner->Observe(obs);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Config> batch = tuner->Propose(q);
    const double refit = Seconds(t0);
    std::vector<double> steps;
    for (int round = 0; round < 5; ++round) {
      std::vector<Observation> results;
      for (const Config& c : batch) results.push_back({c, Cost(c)});
      t0 = std::chrono::steady_clock::now();
      tuner->Observe(results);
      batch = tuner->Propose(q);
      steps.push_back(Seconds(t0));
    }
    std::sort(steps.begin(), steps.end());
    std::printf("%8d %4d %12.4f %12.4f\n", n, q, refit, steps[2]);
  }
  return 0;
}
