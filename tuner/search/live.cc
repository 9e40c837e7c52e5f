// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/live.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "measure/operators.h"
#include "tuner/tune.h"

namespace sonar {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr char kUntunedTuner[] = "untuned";

class LiveEnvironment final : public SearchEnvironment {
 public:
  LiveEnvironment(const SearchProblem& p, StartTrainingFn start, Measurer& measurer,
                  RecordStore& records, const LiveSearchOptions& o)
      : p_(p),
        start_(std::move(start)),
        measurer_(measurer),
        records_(records),
        o_(o),
        candidates_(p.candidates.size()),
        layers_(p.layers.size()) {
    // What the log already holds.
    std::map<int64_t, TrainingCurve> curves =
        TrainingCurves(*p.space, o.trainer_id, records.records());
    for (size_t c = 0; c < p.candidates.size(); ++c) {
      auto it = curves.find(p.candidates[c]);
      if (it != curves.end()) candidates_[c].logged = it->second;
    }
    std::map<uint64_t, int> layer_of;
    for (size_t l = 0; l < p.layers.size(); ++l) {
      layer_of.emplace(p.layers[l].task.WorkloadKey(), static_cast<int>(l));
    }
    for (const Record& r : records.records()) {
      auto it = layer_of.find(r.workload_key);
      if (it == layer_of.end() || IsTrainingRecord(r)) continue;
      Layer& layer = layers_[it->second];
      if (r.tuner == kUntunedTuner) {
        if (r.result.ok() && !r.result.run_seconds.empty()) layer.untuned = r;
      } else {
        layer.logged.push_back(r);
      }
    }
  }

  StatusOr<EpochResult> TrainEpoch(int c) override {
    Candidate& cand = candidates_[c];
    const int e = cand.epochs;
    if (e < static_cast<int>(cand.logged.accuracy.size())) {  // resumed from the log
      ++cand.epochs;
      train_seconds_ += cand.logged.seconds[e];
      return EpochResult{e + 1, cand.logged.accuracy[e], std::nan(""), cand.logged.seconds[e]};
    }
    if (cand.logged.failed && e == static_cast<int>(cand.logged.accuracy.size())) {
      return InternalError(cand.logged.error);
    }
    const Architecture& arch = p_.architecture(c);
    const auto start = std::chrono::steady_clock::now();
    Status failure;
    EpochResult result;
    if (!cand.run) {
      StatusOr<std::unique_ptr<TrainingRun>> run = start_(arch);
      if (run.ok()) {
        cand.run = std::move(*run);
      } else {
        failure = run.status();
      }
    }
    // Catch up (a resumed candidate trains again from scratch), then the new epoch.
    while (failure.ok() && cand.run->epochs_done() <= e) {
      StatusOr<EpochResult> r = cand.run->NextEpoch();
      if (!r.ok()) {
        failure = r.status();
      } else {
        result = *r;
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds_ += seconds;
    if (!failure.ok()) {
      cand.run.reset();
      result.epoch = e + 1;
      result.seconds = seconds;
      SONAR_RETURN_IF_ERROR(records_.Append(MakeTrainingRecord(
          *p_.space, arch, o_.trainer_id, result, failure, o_.method_name, o_.hardware_id)));
      return failure;
    }
    ++cand.epochs;
    SONAR_RETURN_IF_ERROR(records_.Append(MakeTrainingRecord(
        *p_.space, arch, o_.trainer_id, result, OkStatus(), o_.method_name, o_.hardware_id)));
    return result;
  }

  StatusOr<std::vector<double>> TuneLayer(int l, int n) override {
    Layer& layer = layers_[l];
    const Task& task = p_.layers[l].task;
    std::vector<double> costs;
    // Resumed trials first.
    while (static_cast<int>(costs.size()) < n && layer.next_logged < layer.logged.size()) {
      const Record& r = layer.logged[layer.next_logged++];
      tune_seconds_ += r.result.all_cost_seconds;
      costs.push_back(r.result.ok() && !r.result.run_seconds.empty() ? r.result.cost_seconds()
                                                                     : kInf);
    }
    if (static_cast<int>(costs.size()) == n) return costs;
    if (!layer.tuner) SONAR_RETURN_IF_ERROR(StartTuner(l));
    std::vector<Config> configs = layer.tuner->Propose(n - static_cast<int>(costs.size()));
    if (configs.empty()) return costs;
    const auto start = std::chrono::steady_clock::now();
    std::vector<MeasureResult> results = measurer_.Measure(task, configs);
    tune_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<Observation> observations;
    for (size_t i = 0; i < configs.size(); ++i) {
      const int trial = static_cast<int>(layer.logged.size() + (layer.trials_measured++));
      SONAR_RETURN_IF_ERROR(records_.Append(
          MakeRecord(task, configs[i], results[i], o_.method_name, trial, o_.hardware_id)));
      costs.push_back(results[i].ok() && !results[i].run_seconds.empty() ? results[i].cost_seconds()
                                                                         : kInf);
      observations.push_back({configs[i], results[i]});
    }
    layer.tuner->Observe(observations);
    return costs;
  }

  StatusOr<double> UntunedLatency(int l) override {
    Layer& layer = layers_[l];
    if (!layer.untuned) {
      const Task& task = p_.layers[l].task;
      const auto start = std::chrono::steady_clock::now();
      std::vector<MeasureResult> r = measurer_.Measure(task, {DefaultConfig(task)});
      tune_seconds_ +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      Record rec = MakeRecord(task, DefaultConfig(task), r[0], kUntunedTuner, -1, o_.hardware_id);
      SONAR_RETURN_IF_ERROR(records_.Append(rec));
      if (!r[0].ok() || r[0].run_seconds.empty()) return kInf;
      layer.untuned = rec;
    } else {
      tune_seconds_ += layer.untuned->result.all_cost_seconds;
    }
    return layer.untuned->result.cost_seconds();
  }

  double train_seconds() const override { return train_seconds_; }
  double tune_seconds() const override { return tune_seconds_; }

 private:
  struct Candidate {
    TrainingCurve logged;
    int epochs = 0;
    std::unique_ptr<TrainingRun> run;
  };
  struct Layer {
    std::vector<Record> logged;
    size_t next_logged = 0;
    int trials_measured = 0;
    std::optional<Record> untuned;
    std::unique_ptr<Tuner> tuner;
  };

  // The layer's tuner, having observed the layer's logged records; transfer tuners learn from
  // --transfer-from and from every other layer's records in the log.
  Status StartTuner(int l) {
    Layer& layer = layers_[l];
    const Task& task = p_.layers[l].task;
    TunerOptions options;
    options.kind = o_.layer_tuner;
    options.seed = o_.seed * 1000003 + static_cast<uint64_t>(l);
    if (options.kind == TunerKind::kTransferBayesOpt || options.kind == TunerKind::kRgpe ||
        options.kind == TunerKind::kAutoTvm) {
      options.transfer_records = o_.transfer_records;
      for (const Record& r : records_.records()) {
        if (!IsTrainingRecord(r) && r.workload_key != task.WorkloadKey() && r.result.ok()) {
          options.transfer_records.push_back(r);
        }
      }
    }
    StatusOr<std::unique_ptr<Tuner>> tuner = MakeTuner(task, options);
    if (!tuner.ok() &&
        (options.kind == TunerKind::kTransferBayesOpt || options.kind == TunerKind::kRgpe)) {
      options.kind = TunerKind::kBayesOpt;  // nothing to learn from yet
      options.transfer_records.clear();
      tuner = MakeTuner(task, options);
    }
    if (!tuner.ok()) return tuner.status();
    layer.tuner = std::move(*tuner);
    std::vector<Observation> resumed;
    for (const Record& r : layer.logged) {
      StatusOr<Config> config = task.space.FromValues(r.config.values);
      if (config.ok()) resumed.push_back({*config, r.result});
    }
    if (!resumed.empty()) layer.tuner->Observe(resumed);
    return OkStatus();
  }

  const SearchProblem& p_;
  StartTrainingFn start_;
  Measurer& measurer_;
  RecordStore& records_;
  LiveSearchOptions o_;
  std::vector<Candidate> candidates_;
  std::vector<Layer> layers_;
  double train_seconds_ = 0, tune_seconds_ = 0;
};

}  // namespace

std::unique_ptr<SearchEnvironment> MakeLiveEnvironment(const SearchProblem& problem,
                                                       StartTrainingFn start_training,
                                                       Measurer& measurer, RecordStore& records,
                                                       const LiveSearchOptions& options) {
  return std::make_unique<LiveEnvironment>(problem, std::move(start_training), measurer, records,
                                           options);
}

}  // namespace sonar
