// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/tune.h"

#include "tuner/internal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "common/enum_names.h"

namespace sonar {

namespace {
constexpr EnumNames<TerminationReason, 5> kTerminationReasonNames = {{
    {TerminationReason::kMaxTrials, "max_trials"},
    {TerminationReason::kEarlyStopped, "early_stopped"},
    {TerminationReason::kSpaceExhausted, "space_exhausted"},
    {TerminationReason::kWallTime, "wall_time"},
    {TerminationReason::kUserRequested, "user_requested"},
}};
}  // namespace

std::string_view TerminationReasonToString(TerminationReason reason) {
  return EnumToName(kTerminationReasonNames, reason);
}

Status EarlyStopOptions::Validate() const {
  if (no_improvement_trials < 0) {
    return InvalidArgumentError("EarlyStopOptions::no_improvement_trials must be >= 0");
  }
  if (min_relative_gain < 0 || relative_window < 0) {
    return InvalidArgumentError(
        "EarlyStopOptions: min_relative_gain and relative_window must be >= 0");
  }
  return OkStatus();
}

Status TuneOptions::Validate() const {
  if (max_trials < 0) return InvalidArgumentError("TuneOptions::max_trials must be >= 0");
  if (batch_size < 1) return InvalidArgumentError("TuneOptions::batch_size must be >= 1");
  if (max_wall_seconds < 0)
    return InvalidArgumentError("TuneOptions::max_wall_seconds must be >= 0");
  return early_stopping.Validate();
}

Record MakeRecord(const Task& task, const Config& config, const MeasureResult& result,
                  const std::string& tuner, int trial, const std::string& hardware_id) {
  Record r;
  r.task.name = task.name;
  r.task.op = task.op;
  r.task.args_json = task.ArgsJson();
  r.task.target = task.target;
  r.task.template_version = task.template_version;
  r.workload_key = task.WorkloadKey();
  r.config.values = task.space.ToValues(config);
  const int64_t index = task.space.IndexOf(config);
  if (index >= 0) r.config.index = index;
  r.result = result;
  r.timestamp_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  r.tuner = tuner;
  r.trial = trial;
  r.hardware_id = hardware_id;
  r.source_version = "sonar";
  return r;
}

namespace internal {

void TuneCurve::Add(const Observation& o, const Record& record, std::optional<Record>* best) {
  const double cost = ObservationCost(o);
  ++trials_;
  if (!o.result.ok()) {
    ++failed_;
    auto it = std::find_if(failures_.begin(), failures_.end(),
                           [&](const FailureClass& f) { return f.status == o.result.status; });
    if (it == failures_.end()) {
      failures_.push_back({o.result.status, 0, o.result.error_msg});
      it = failures_.end() - 1;
    }
    ++it->count;
  }
  if (cost < best_) {
    best_ = cost;
    best_trial_ = trials_;
    *best = record;
  }
  by_trial_.push_back(best_);
}

bool TuneCurve::GainBelow(double gain, int window) const {
  if (gain <= 0 || window <= 0 || trials_ < window) return false;
  const double before = by_trial_[static_cast<size_t>(trials_ - window)];
  if (!std::isfinite(best_)) return false;  // nothing works yet: keep searching
  if (!std::isfinite(before)) return false;
  return (before - best_) / before < gain;
}

std::optional<std::pair<TerminationReason, std::string>> StopReason(const TuneOptions& options,
                                                                    const TuneCurve& curve,
                                                                    double elapsed_seconds) {
  if (curve.trials() >= options.max_trials) {
    return {{TerminationReason::kMaxTrials,
             "reached " + std::to_string(options.max_trials) + " trials"}};
  }
  if (curve.NoImprovementFor(options.early_stopping.no_improvement_trials)) {
    return {{TerminationReason::kEarlyStopped,
             "no new best in the last " +
                 std::to_string(options.early_stopping.no_improvement_trials) + " trials"}};
  }
  if (curve.GainBelow(options.early_stopping.min_relative_gain,
                      options.early_stopping.relative_window)) {
    std::ostringstream m;
    m << "best improved by less than " << 100 * options.early_stopping.min_relative_gain
      << "% over the last " << options.early_stopping.relative_window << " trials";
    return {{TerminationReason::kEarlyStopped, m.str()}};
  }
  if (options.max_wall_seconds > 0 && elapsed_seconds >= options.max_wall_seconds) {
    return {{TerminationReason::kWallTime, "wall-time budget spent"}};
  }
  return std::nullopt;
}

void ResumeFromLog(const Task& task, const RecordStore& records, Tuner& tuner, TuneCurve* curve,
                   TuneSummary* summary) {
  std::vector<Observation> replay;
  const uint64_t key = task.WorkloadKey();
  for (const Record& r : records.records()) {
    if (r.workload_key != key) continue;
    StatusOr<Config> config = task.space.FromValues(r.config.values);
    if (!config.ok()) {
      ++summary->num_unreadable_resumed;
      continue;
    }
    Observation o{*config, r.result};
    curve->Add(o, r, &summary->best);
    replay.push_back(std::move(o));
  }
  summary->num_resumed = static_cast<int>(replay.size());
  if (!replay.empty()) tuner.Observe(replay);
}

}  // namespace internal

StatusOr<TuneSummary> Tune(const TuneOptions& options, const Task& task, Tuner& tuner,
                           Measurer& measurer, RecordStore& records) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  TuneSummary summary;
  internal::TuneCurve curve;
  const std::string tuner_name =
      options.tuner_name.empty() ? std::string(tuner.name()) : options.tuner_name;

  if (options.resume) internal::ResumeFromLog(task, records, tuner, &curve, &summary);

  auto finish = [&](TerminationReason reason, std::string message) {
    summary.reason = reason;
    summary.message = std::move(message);
    summary.num_trials = curve.trials();
    summary.num_failed = curve.failed();
    summary.best_seconds_by_trial = curve.by_trial();
    summary.failures = curve.failures();
    summary.wall_seconds = elapsed();
    return summary;
  };

  while (true) {
    if (auto stop = internal::StopReason(options, curve, elapsed())) {
      return finish(stop->first, std::move(stop->second));
    }
    const int want = std::min(options.batch_size, options.max_trials - curve.trials());
    std::vector<Config> batch = tuner.Propose(want);
    if (batch.empty()) return finish(TerminationReason::kSpaceExhausted, "the space is exhausted");
    if (options.on_result) {
      int done = 0, failed_in_batch = 0;
      const int batch_size = static_cast<int>(batch.size());
      measurer.set_result_callback([&](size_t, const MeasureResult& r) {
        ++done;
        failed_in_batch += !r.ok();
        TuneProgress p;
        p.trial = curve.trials() + done;
        p.num_failed = curve.failed() + failed_in_batch;
        p.num_resumed = summary.num_resumed;
        const double cost = r.ok() && !r.run_seconds.empty()
                                ? r.cost_seconds()
                                : std::numeric_limits<double>::infinity();
        p.best_seconds = std::min(curve.best(), cost);
        p.elapsed_seconds = elapsed();
        p.max_trials = options.max_trials;
        p.batch_done = done;
        p.batch_size = batch_size;
        options.on_result(p);
      });
    }
    std::vector<MeasureResult> results = measurer.Measure(task, batch);
    measurer.set_result_callback(nullptr);
    if (results.size() != batch.size()) {
      return InternalError("the measurer returned " + std::to_string(results.size()) +
                           " results for " + std::to_string(batch.size()) + " configs");
    }
    std::vector<Record> new_records;
    std::vector<Observation> observations;
    for (size_t i = 0; i < batch.size(); ++i) {
      new_records.push_back(MakeRecord(task, batch[i], results[i], tuner_name,
                                       curve.trials() + static_cast<int>(i), options.hardware_id));
      observations.push_back({batch[i], results[i]});
    }
    // Written before the tuner sees them: a kill after this point loses nothing.
    SONAR_RETURN_IF_ERROR(records.AppendBatch(new_records));
    for (size_t i = 0; i < batch.size(); ++i)
      curve.Add(observations[i], new_records[i], &summary.best);
    tuner.Observe(observations);
    TuneProgress progress;
    progress.trial = curve.trials();
    progress.num_failed = curve.failed();
    progress.num_resumed = summary.num_resumed;
    progress.best_seconds = curve.best();
    progress.elapsed_seconds = elapsed();
    progress.max_trials = options.max_trials;
    progress.last_batch = &observations;
    for (const auto& callback : options.callbacks) {
      if (callback(progress) == CallbackAction::kStop) {
        return finish(TerminationReason::kUserRequested, "stopped by a callback");
      }
    }
  }
}

std::string TuneSummary::BriefReport() const {
  std::ostringstream s;
  s << "Tune: " << TerminationReasonToString(reason) << " (" << message << "), " << num_trials
    << " trials (" << num_resumed << " resumed, " << num_failed << " failed)";
  if (best) {
    s << ", best " << RecordCost(*best) << " s";
  } else {
    s << ", no successful config";
  }
  for (const FailureClass& f : failures) {
    s << "\n  " << f.count << " failed with " << MeasureStatusToString(f.status);
    if (!f.first_message.empty()) {
      std::string first = f.first_message.substr(0, f.first_message.find('\n'));
      if (first.size() > 160) first = first.substr(0, 157) + "...";
      s << " (first: " << first << ")";
    }
  }
  return s.str();
}

std::string TuneSummary::FullReport() const {
  std::ostringstream s;
  s << BriefReport() << "\n";
  s << "  wall time: " << wall_seconds << " s\n";
  if (num_unreadable_resumed > 0) {
    s << "  records not replayed (config outside the current space): " << num_unreadable_resumed
      << "\n";
  }
  if (best) {
    s << "  best trial: " << best->trial << ", tuner " << best->tuner << "\n  best config:";
    for (const KnobValue& v : best->config.values) {
      s << " " << v.name << "=";
      if (!v.strings.empty()) {
        s << v.strings[0];
      } else if (v.ints.size() == 1) {
        s << v.ints[0];
      } else {
        s << "[";
        for (size_t i = 0; i < v.ints.size(); ++i) s << (i ? "," : "") << v.ints[i];
        s << "]";
      }
    }
    s << "\n";
  }
  return s.str();
}

}  // namespace sonar
