// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/mpi/async_tune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace sonar {

StatusOr<TuneSummary> TuneAsync(const TuneOptions& options, const Task& task, Tuner& tuner,
                                AsyncMeasurer& measurer, RecordStore& records) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::string tuner_name =
      options.tuner_name.empty() ? std::string(tuner.name()) : options.tuner_name;
  TuneSummary summary;
  // The curve, as Tune() keeps it.
  int trials = 0, failed = 0, best_trial = 0;
  double best = kInf;
  auto add = [&](const Observation& o, const Record& record) {
    ++trials;
    if (!o.result.ok()) {
      ++failed;
      auto it = std::find_if(summary.failures.begin(), summary.failures.end(),
                             [&](const FailureClass& f) { return f.status == o.result.status; });
      if (it == summary.failures.end()) {
        summary.failures.push_back({o.result.status, 0, o.result.error_msg});
        it = summary.failures.end() - 1;
      }
      ++it->count;
    }
    const double cost = ObservationCost(o);
    if (cost < best) {
      best = cost;
      best_trial = trials;
      summary.best = record;
    }
    summary.best_seconds_by_trial.push_back(best);
  };

  if (options.resume) {
    std::vector<Observation> replay;
    const uint64_t key = task.WorkloadKey();
    for (const Record& r : records.records()) {
      if (r.workload_key != key) continue;
      StatusOr<Config> config = task.space.FromValues(r.config.values);
      if (!config.ok()) {
        ++summary.num_unreadable_resumed;
        continue;
      }
      Observation o{*config, r.result};
      add(o, r);
      replay.push_back(std::move(o));
    }
    summary.num_resumed = static_cast<int>(replay.size());
    if (!replay.empty()) tuner.Observe(replay);
  }

  auto progress = [&]() {
    TuneProgress p;
    p.trial = trials;
    p.num_failed = failed;
    p.num_resumed = summary.num_resumed;
    p.best_seconds = best;
    p.elapsed_seconds = elapsed();
    p.max_trials = options.max_trials;
    return p;
  };
  // Why the loop stops submitting; nullopt while it goes on.
  std::optional<std::pair<TerminationReason, std::string>> stop;
  auto check_stop = [&]() {
    if (stop) return;
    const int window = options.early_stopping.relative_window;
    const double gain = options.early_stopping.min_relative_gain;
    if (trials >= options.max_trials) {
      stop = {TerminationReason::kMaxTrials,
              "reached " + std::to_string(options.max_trials) + " trials"};
    } else if (options.early_stopping.no_improvement_trials > 0 &&
               trials - best_trial >= options.early_stopping.no_improvement_trials) {
      stop = {TerminationReason::kEarlyStopped,
              "no new best in the last " +
                  std::to_string(options.early_stopping.no_improvement_trials) + " trials"};
    } else if (gain > 0 && window > 0 && trials >= window && std::isfinite(best)) {
      const double before = summary.best_seconds_by_trial[static_cast<size_t>(trials - window)];
      if (std::isfinite(before) && (before - best) / before < gain) {
        std::ostringstream m;
        m << "best improved by less than " << 100 * gain << "% over the last " << window
          << " trials";
        stop = {TerminationReason::kEarlyStopped, m.str()};
      }
    } else if (options.max_wall_seconds > 0 && elapsed() >= options.max_wall_seconds) {
      stop = {TerminationReason::kWallTime, "wall-time budget spent"};
    }
  };

  std::map<int64_t, Config> in_flight;
  int64_t next_id = 0;
  bool exhausted = false;
  while (true) {
    check_stop();
    // Fill every free worker (one Propose for all of them: the first round is a batch).
    const int budget_left = options.max_trials - trials - static_cast<int>(in_flight.size());
    const int free =
        std::min(measurer.capacity() - static_cast<int>(in_flight.size()), budget_left);
    if (!stop && !exhausted && free > 0) {
      std::vector<Config> configs = tuner.Propose(free);
      if (configs.empty()) exhausted = true;
      for (const Config& c : configs) {
        measurer.Submit(next_id, task, c);
        in_flight.emplace(next_id++, c);
      }
    }
    if (in_flight.empty()) break;
    auto [id, result] = measurer.Next();
    auto it = in_flight.find(id);
    if (it == in_flight.end()) {
      return InternalError("the async measurer returned a result for unknown job " +
                           std::to_string(id));
    }
    Observation o{it->second, std::move(result)};
    in_flight.erase(it);
    Record record = MakeRecord(task, o.config, o.result, tuner_name, trials, options.hardware_id);
    // Written before the tuner sees it: a kill after this point loses nothing.
    SONAR_RETURN_IF_ERROR(records.AppendBatch({record}));
    add(o, record);
    const std::vector<Observation> batch = {o};
    tuner.Observe(batch);
    TuneProgress p = progress();
    if (options.on_result) {
      p.batch_done = 1;
      p.batch_size = 1;
      options.on_result(p);
    }
    p.last_batch = &batch;
    for (const auto& callback : options.callbacks) {
      if (callback(p) == CallbackAction::kStop && !stop) {
        stop = {TerminationReason::kUserRequested, "stopped by a callback"};
      }
    }
  }
  if (!stop) {
    check_stop();
    if (!stop) stop = {TerminationReason::kSpaceExhausted, "the space is exhausted"};
  }
  summary.reason = stop->first;
  summary.message = stop->second;
  summary.num_trials = trials;
  summary.num_failed = failed;
  summary.wall_seconds = elapsed();
  return summary;
}

}  // namespace sonar
