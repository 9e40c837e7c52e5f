// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/brute_force.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "tuner/tune.h"

namespace sonar {

Status BruteForceOptions::Validate() const {
  if (epochs < 1) return InvalidArgumentError("the epoch budget must be >= 1");
  if (layer_trials < 1) return InvalidArgumentError("the layer trial budget must be >= 1");
  if (batch_size < 1) return InvalidArgumentError("the batch size must be >= 1");
  if (max_wall_seconds < 0) return InvalidArgumentError("the wall-time limit must be >= 0");
  if (trainer_id.empty()) return InvalidArgumentError("the trainer id must not be empty");
  return OkStatus();
}

std::string BruteForceSummary::BriefReport() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "brute force %s: layers tuned %d/%d (%lld trials, %.0f s), architectures "
                "trained %d/%d (%d failed, %lld epochs, %.0f s)",
                complete ? "complete" : "stopped early (run it again to resume)", layers_done,
                layers, static_cast<long long>(trials_measured), tune_seconds, architectures_done,
                architectures, architectures_failed, static_cast<long long>(epochs_trained),
                train_seconds);
  return buf;
}

StatusOr<BruteForceSummary> RunBruteForce(const BruteForceOptions& options,
                                          const SearchProblem& problem,
                                          const StartTrainingFn& start_training, Measurer& measurer,
                                          RecordStore& records) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  auto out_of_time = [&] {
    return options.max_wall_seconds > 0 && elapsed() >= options.max_wall_seconds;
  };
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  BruteForceSummary summary;
  summary.layers = static_cast<int>(problem.layers.size());
  summary.architectures = static_cast<int>(problem.candidates.size());
  bool stopped = false;

  if (options.tune) {
    const double phase_start = elapsed();
    for (size_t l = 0; l < problem.layers.size() && !stopped; ++l) {
      const Task& task = problem.layers[l].task;
      const int64_t budget =
          std::min<int64_t>(options.layer_trials, static_cast<int64_t>(task.space.size()));
      TunerOptions tuner_options;
      tuner_options.kind = options.layer_tuner;
      tuner_options.seed = options.seed;
      SONAR_ASSIGN_OR_RETURN(std::unique_ptr<Tuner> tuner, MakeTuner(task, tuner_options));
      TuneOptions tune;
      tune.max_trials = static_cast<int>(budget);
      tune.batch_size = options.batch_size;
      tune.tuner_name = "brute-force";
      tune.hardware_id = options.hardware_id;
      if (options.max_wall_seconds > 0) {
        tune.max_wall_seconds = std::max(1e-3, options.max_wall_seconds - elapsed());
      }
      SONAR_ASSIGN_OR_RETURN(TuneSummary s, Tune(tune, task, *tuner, measurer, records));
      summary.trials_measured += s.num_trials - s.num_resumed;
      const bool done =
          s.reason != TerminationReason::kWallTime && s.reason != TerminationReason::kUserRequested;
      if (done) ++summary.layers_done;
      char line[256];
      std::snprintf(line, sizeof line, "layer %zu/%zu %s: %d trials (%d resumed), best %.4g s",
                    l + 1, problem.layers.size(), task.name.c_str(), s.num_trials, s.num_resumed,
                    s.best ? s.best->result.cost_seconds() : 0.0);
      say(line);
      if (!done || (out_of_time() && l + 1 < problem.layers.size())) stopped = true;
    }
    summary.tune_seconds = elapsed() - phase_start;
  }

  if (options.train && !stopped) {
    const double phase_start = elapsed();
    std::map<int64_t, TrainingCurve> curves =
        TrainingCurves(*problem.space, options.trainer_id, records.records());
    for (size_t c = 0; c < problem.candidates.size() && !stopped; ++c) {
      const Architecture& arch = problem.architecture(static_cast<int>(c));
      const TrainingCurve* curve = nullptr;
      if (auto it = curves.find(problem.candidates[c]); it != curves.end()) curve = &it->second;
      const int have = curve ? static_cast<int>(curve->accuracy.size()) : 0;
      if (curve && (curve->failed || have >= options.epochs)) {
        ++summary.architectures_done;
        summary.architectures_failed += curve->failed;
        continue;
      }
      if (out_of_time()) {
        stopped = true;
        break;
      }
      StatusOr<std::unique_ptr<TrainingRun>> run = start_training(arch);
      Status failure = run.status();
      EpochResult last;
      for (int e = 1; failure.ok() && e <= options.epochs; ++e) {
        StatusOr<EpochResult> epoch = (*run)->NextEpoch();
        if (!epoch.ok()) {
          failure = epoch.status();
          last.epoch = std::max(e, have + 1);
          break;
        }
        last = *epoch;
        if (e <= have) continue;  // retrained to catch up: the log has this epoch already
        ++summary.epochs_trained;
        SONAR_RETURN_IF_ERROR(
            records.Append(MakeTrainingRecord(*problem.space, arch, options.trainer_id, *epoch,
                                              OkStatus(), "brute-force", options.hardware_id)));
        if (out_of_time() && e < options.epochs) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      if (!failure.ok()) {
        if (last.epoch == 0) last.epoch = have + 1;
        SONAR_RETURN_IF_ERROR(
            records.Append(MakeTrainingRecord(*problem.space, arch, options.trainer_id, last,
                                              failure, "brute-force", options.hardware_id)));
        ++summary.architectures_failed;
      }
      ++summary.architectures_done;
      char line[320];
      if (failure.ok()) {
        std::snprintf(line, sizeof line, "architecture %zu/%zu %s: accuracy %.4f after %d epochs",
                      c + 1, problem.candidates.size(), arch.Name().c_str(),
                      last.validation_accuracy, last.epoch);
      } else {
        std::snprintf(line, sizeof line, "architecture %zu/%zu %s: failed: %s", c + 1,
                      problem.candidates.size(), arch.Name().c_str(),
                      std::string(failure.message()).substr(0, 200).c_str());
      }
      say(line);
    }
    summary.train_seconds = elapsed() - phase_start;
  }
  summary.complete = !stopped && (!options.tune || summary.layers_done == summary.layers) &&
                     (!options.train || summary.architectures_done == summary.architectures);
  return summary;
}

}  // namespace sonar
