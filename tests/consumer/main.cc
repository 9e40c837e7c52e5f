// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Sonar as a library: BO tunes a made-up objective through ask/tell (Propose, Observe), with
// the headers as an installed consumer includes them. The same program is in README.md.
#include <sonar/sonar.h>

#include <cmath>
#include <cstdio>
#include <limits>

// The user's own measurement: here, a bowl with its minimum at block 64, unroll 4.
double Objective(int64_t block, int64_t unroll) {
  return 1e-3 * (1.0 + std::pow(std::log2(block / 64.0), 2) + 0.1 * std::abs(unroll - 4));
}

int main() {
  sonar::StatusOr<sonar::ConfigSpace> space = sonar::ConfigSpace::Make(
      {sonar::IntChoiceKnob("block", {8, 16, 32, 64, 128, 256}), sonar::IntKnob("unroll", 1, 8)});
  if (!space.ok()) {
    std::fprintf(stderr, "%s\n", space.status().ToString().c_str());
    return 1;
  }
  sonar::Task task{.name = "my_kernel", .op = "user", .space = *space};
  sonar::TunerOptions options;
  options.kind = sonar::TunerKind::kBayesOpt;
  options.seed = 0;
  sonar::StatusOr<std::unique_ptr<sonar::Tuner>> tuner = sonar::MakeTuner(task, options);
  if (!tuner.ok()) {
    std::fprintf(stderr, "%s\n", tuner.status().ToString().c_str());
    return 1;
  }
  double best = std::numeric_limits<double>::infinity();
  std::string best_config;
  for (int round = 0; round < 8; ++round) {
    std::vector<sonar::Observation> observations;
    for (const sonar::Config& config : (*tuner)->Propose(4)) {
      const std::vector<sonar::KnobValue> values = space->ToValues(config);
      sonar::MeasureResult result;
      result.status = sonar::MeasureStatus::kOk;
      result.run_seconds = {Objective(values[0].ints[0], values[1].ints[0])};
      if (result.run_seconds[0] < best) {
        best = result.run_seconds[0];
        best_config = space->ToString(config);
      }
      observations.push_back({config, result});
    }
    (*tuner)->Observe(observations);
  }
  std::printf("best %s: %.4f ms\n", best_config.c_str(), best * 1e3);
  return best < 1.2e-3 ? 0 : 1;  // 32 of the 48 configs, and BO finds the bowl's floor
}
