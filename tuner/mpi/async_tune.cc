// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/mpi/async_tune.h"

#include "tuner/internal.h"

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
  const std::string tuner_name =
      options.tuner_name.empty() ? std::string(tuner.name()) : options.tuner_name;
  TuneSummary summary;
  internal::TuneCurve curve;  // the curve and stopping rules Tune() uses
  if (options.resume) internal::ResumeFromLog(task, records, tuner, &curve, &summary);

  auto progress = [&]() {
    TuneProgress p;
    p.trial = curve.trials();
    p.num_failed = curve.failed();
    p.num_resumed = summary.num_resumed;
    p.best_seconds = curve.best();
    p.elapsed_seconds = elapsed();
    p.max_trials = options.max_trials;
    return p;
  };
  // Why the loop stops submitting; nullopt while it goes on.
  std::optional<std::pair<TerminationReason, std::string>> stop;
  auto check_stop = [&]() {
    if (!stop) stop = internal::StopReason(options, curve, elapsed());
  };

  std::map<int64_t, Config> in_flight;
  int64_t next_id = 0;
  bool exhausted = false;
  while (true) {
    check_stop();
    // Fill every free worker (one Propose for all of them: the first round is a batch).
    const int budget_left =
        options.max_trials - curve.trials() - static_cast<int>(in_flight.size());
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
    Record record =
        MakeRecord(task, o.config, o.result, tuner_name, curve.trials(), options.hardware_id);
    // Written before the tuner sees it: a kill after this point loses nothing.
    SONAR_RETURN_IF_ERROR(records.AppendBatch({record}));
    curve.Add(o, record, &summary.best);
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
  summary.num_trials = curve.trials();
  summary.num_failed = curve.failed();
  summary.best_seconds_by_trial = curve.by_trial();
  summary.failures = curve.failures();
  summary.wall_seconds = elapsed();
  return summary;
}

}  // namespace sonar
