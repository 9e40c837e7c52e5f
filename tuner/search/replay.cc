// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/replay.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "common/parallel.h"
#include "common/statistics.h"
#include "measure/measurer.h"
#include "measure/operators.h"

namespace sonar {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

StatusOr<SearchTable> LoadSearchTable(const ArchitectureSpace& space,
                                      const std::vector<Record>& records,
                                      const SearchTableOptions& options) {
  SearchTable t;
  t.space = std::make_unique<ArchitectureSpace>(space);
  std::set<std::string> trainers;
  for (const Record& r : records) {
    if (IsTrainingRecord(r)) trainers.insert(r.task.target);
  }
  if (trainers.empty()) {
    return InvalidArgumentError(
        "the records hold no training: make the table with `sonar search --method brute-force`");
  }
  if (!options.trainer_id.empty()) {
    if (!trainers.count(options.trainer_id)) {
      return InvalidArgumentError("no training records of trainer " + options.trainer_id);
    }
    t.trainer_id = options.trainer_id;
  } else if (trainers.size() > 1) {
    std::string names;
    for (const std::string& n : trainers) names += "\n  " + n;
    return InvalidArgumentError("the records hold several trainers; name one:" + names);
  } else {
    t.trainer_id = *trainers.begin();
  }
  std::map<int64_t, TrainingCurve> curves = TrainingCurves(*t.space, t.trainer_id, records);
  t.full_epochs = options.full_epochs;
  if (t.full_epochs <= 0) {
    for (const auto& [index, curve] : curves) {
      t.full_epochs = std::max(t.full_epochs, static_cast<int>(curve.accuracy.size()));
    }
  }
  if (t.full_epochs <= 0) return InvalidArgumentError("no architecture has a trained epoch");
  std::vector<int64_t> trained;
  for (const auto& [index, curve] : curves) {
    if (curve.failed || static_cast<int>(curve.accuracy.size()) >= t.full_epochs) {
      trained.push_back(index);
    }
  }
  // Keep the candidates whose every layer has a successful measurement (a table still being
  // generated replays over what it has).
  std::set<uint64_t> measured;
  for (const Record& r : records) {
    if (!IsTrainingRecord(r) && r.result.ok() && !r.result.run_seconds.empty()) {
      measured.insert(r.workload_key);
    }
  }
  std::vector<int64_t> candidates;
  std::string missing;
  for (int64_t index : trained) {
    bool complete = true;
    for (const LayerSpec& spec : t.space->Layers(t.space->at(index))) {
      StatusOr<Task> task = MakeOperatorTask(spec.op, spec.shape, "");
      if (!task.ok() || !measured.count(task->WorkloadKey())) {
        complete = false;
        if (missing.empty() && task.ok()) missing = task->name;
        break;
      }
    }
    if (complete) {
      candidates.push_back(index);
    } else {
      ++t.incomplete_candidates;
    }
  }
  if (candidates.empty()) {
    return InvalidArgumentError("no trained architecture has all its layers measured (e.g. " +
                                missing +
                                "): run the brute-force tuning phase (--phase tune) first");
  }
  SONAR_ASSIGN_OR_RETURN(t.problem, MakeSearchProblem(*t.space, candidates, ""));
  for (int64_t index : t.problem.candidates) {
    TrainingCurve curve = curves[index];
    if (!curve.failed) {
      curve.accuracy.resize(t.full_epochs);
      curve.seconds.resize(t.full_epochs);
    }
    t.curves.push_back(std::move(curve));
  }
  std::unordered_map<uint64_t, int> layer_of;
  for (size_t l = 0; l < t.problem.layers.size(); ++l) {
    layer_of.emplace(t.problem.layers[l].task.WorkloadKey(), static_cast<int>(l));
  }
  t.layer_records.resize(t.problem.layers.size());
  for (const Record& r : records) {
    if (IsTrainingRecord(r)) continue;
    auto it = layer_of.find(r.workload_key);
    if (it != layer_of.end()) t.layer_records[it->second].push_back(r);
  }
  const size_t L = t.problem.layers.size();
  t.untuned_seconds.assign(L, kNaN);
  t.trial_seconds.assign(L, 0);
  std::vector<double> best(L, kInf);
  for (size_t l = 0; l < L; ++l) {
    std::vector<double> refs, costs;
    double worst = 0;
    for (const Record& r : t.layer_records[l]) {
      if (r.result.reference_seconds > 0) refs.push_back(r.result.reference_seconds);
      costs.push_back(r.result.all_cost_seconds);
      t.brute_force_seconds += r.result.all_cost_seconds;
      if (r.result.ok() && !r.result.run_seconds.empty()) {
        best[l] = std::min(best[l], r.result.cost_seconds());
        worst = std::max(worst, r.result.cost_seconds());
      }
    }
    if (!std::isfinite(best[l])) {
      return InvalidArgumentError("layer " + t.problem.layers[l].task.name +
                                  " has no successful measurement in the records: run the "
                                  "brute-force tuning phase (--phase tune) to the end");
    }
    t.untuned_seconds[l] = refs.empty() ? worst : Median(refs);
    t.trial_seconds[l] = Median(costs);
    t.full_trials = std::max(t.full_trials, static_cast<int>(t.layer_records[l].size()));
  }
  for (size_t c = 0; c < t.problem.candidates.size(); ++c) {
    const TrainingCurve& curve = t.curves[c];
    for (double s : curve.seconds) t.brute_force_seconds += s;
    if (curve.failed) {
      t.true_accuracy.push_back(kNaN);
      t.true_latency.push_back(kInf);
      continue;
    }
    t.true_accuracy.push_back(*std::max_element(curve.accuracy.begin(), curve.accuracy.end()));
    double latency = 0;
    for (int l : t.problem.layers_of[c]) latency += best[l];
    t.true_latency.push_back(latency);
  }
  // The true front: ascending latency, each more accurate than every faster one.
  std::vector<int> order;
  for (size_t c = 0; c < t.problem.candidates.size(); ++c) {
    if (!t.curves[c].failed) order.push_back(static_cast<int>(c));
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return t.true_latency[a] != t.true_latency[b] ? t.true_latency[a] < t.true_latency[b]
                                                  : t.true_accuracy[a] > t.true_accuracy[b];
  });
  double best_acc = -kInf;
  for (int c : order) {
    if (t.true_accuracy[c] > best_acc) {
      t.true_front.push_back(c);
      best_acc = t.true_accuracy[c];
    }
  }
  return t;
}

bool CoversTrueFront(const SearchTable& table, const std::vector<int>& answer,
                     double accuracy_tolerance, double latency_tolerance) {
  for (int p : table.true_front) {
    bool covered = false;
    for (int q : answer) {
      if (table.true_accuracy[q] >= table.true_accuracy[p] - accuracy_tolerance - 1e-12 &&
          table.true_latency[q] <= table.true_latency[p] * (1 + latency_tolerance)) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

namespace {

double Hypervolume(const SearchTable& t, std::vector<int> points) {
  double ref_acc = kInf, ref_lat = 0;
  for (size_t c = 0; c < t.true_accuracy.size(); ++c) {
    if (std::isnan(t.true_accuracy[c])) continue;
    ref_acc = std::min(ref_acc, t.true_accuracy[c]);
    ref_lat = std::max(ref_lat, t.true_latency[c]);
  }
  std::erase_if(points, [&](int c) { return std::isnan(t.true_accuracy[c]); });
  std::sort(points.begin(), points.end(),
            [&](int a, int b) { return t.true_latency[a] < t.true_latency[b]; });
  // Sweep from fast to slow: each point adds the area between its latency and the next
  // faster-and-better point's accuracy.
  double hv = 0, acc_so_far = ref_acc;
  for (size_t i = 0; i < points.size(); ++i) {
    const int c = points[i];
    if (t.true_accuracy[c] <= acc_so_far) continue;
    hv += (t.true_accuracy[c] - acc_so_far) * (ref_lat - t.true_latency[c]);
    acc_so_far = t.true_accuracy[c];
  }
  return hv;
}

class ReplayEnvironment final : public SearchEnvironment {
 public:
  ReplayEnvironment(const SearchTable& t, TunerKind kind, uint64_t seed)
      : t_(t),
        kind_(kind),
        seed_(seed),
        epochs_(t.problem.candidates.size(), 0),
        layers_(t.problem.layers.size()) {}

  StatusOr<EpochResult> TrainEpoch(int c) override {
    const TrainingCurve& curve = t_.curves[c];
    const int e = epochs_[c];
    if (e < static_cast<int>(curve.accuracy.size())) {
      ++epochs_[c];
      train_seconds_ += curve.seconds[e];
      return EpochResult{e + 1, curve.accuracy[e], kNaN, curve.seconds[e]};
    }
    if (curve.failed) return InternalError(curve.error);
    return OutOfRange(c);
  }

  StatusOr<std::vector<double>> TuneLayer(int l, int n) override {
    LayerRun& run = layers_[l];
    if (!run.tuner) {
      SONAR_ASSIGN_OR_RETURN(
          run.task, TaskFromRecords(t_.layer_records[l], t_.problem.layers[l].task.WorkloadKey()));
      TunerOptions options;
      options.kind = kind_;
      options.seed = seed_ * 1000003 + static_cast<uint64_t>(l);
      SONAR_ASSIGN_OR_RETURN(run.tuner, MakeTuner(run.task, options));
      run.measurer = MakeReplayMeasurer(t_.layer_records[l]);
    }
    std::vector<Config> configs = run.tuner->Propose(n);
    std::vector<MeasureResult> results = run.measurer->Measure(run.task, configs);
    std::vector<Observation> observations;
    std::vector<double> costs;
    for (size_t i = 0; i < configs.size(); ++i) {
      const MeasureResult& r = results[i];
      tune_seconds_ += r.all_cost_seconds > 0 ? r.all_cost_seconds : t_.trial_seconds[l];
      costs.push_back(r.ok() && !r.run_seconds.empty() ? r.cost_seconds() : kInf);
      observations.push_back({configs[i], r});
    }
    run.tuner->Observe(observations);
    return costs;
  }

  StatusOr<double> UntunedLatency(int l) override {
    tune_seconds_ += t_.trial_seconds[l];
    return t_.untuned_seconds[l];
  }

  double train_seconds() const override { return train_seconds_; }
  double tune_seconds() const override { return tune_seconds_; }

 private:
  Status OutOfRange(int c) const {
    return InternalError("the table has only " + std::to_string(t_.full_epochs) + " epochs of " +
                         t_.problem.architecture(c).Name());
  }
  struct LayerRun {
    Task task;
    std::unique_ptr<Tuner> tuner;
    std::unique_ptr<Measurer> measurer;
  };
  const SearchTable& t_;
  TunerKind kind_;
  uint64_t seed_;
  std::vector<int> epochs_;
  std::vector<LayerRun> layers_;
  double train_seconds_ = 0, tune_seconds_ = 0;
};

}  // namespace

double HypervolumeRatio(const SearchTable& table, const std::vector<int>& answer) {
  const double full = Hypervolume(table, table.true_front);
  return full > 0 ? std::clamp(Hypervolume(table, answer) / full, 0.0, 1.0) : 1.0;
}

std::unique_ptr<SearchEnvironment> MakeReplayEnvironment(const SearchTable& table,
                                                         TunerKind layer_tuner, uint64_t seed) {
  return std::make_unique<ReplayEnvironment>(table, layer_tuner, seed);
}

Status ReplayOptions::Validate() const {
  if (methods.empty()) return InvalidArgumentError("name at least one method");
  if (seeds < 1) return InvalidArgumentError("seeds must be >= 1");
  if (!(accuracy_tolerance >= 0) || !(latency_tolerance >= 0)) {
    return InvalidArgumentError("the tolerances must be >= 0");
  }
  if (layer_tuner == TunerKind::kTransferBayesOpt || layer_tuner == TunerKind::kRgpe) {
    return InvalidArgumentError("replay tunes layers with random, grid, ga, autotvm or bo");
  }
  JointSearchOptions check = search;
  check.full_epochs = std::max(check.full_epochs, 1);
  return check.Validate();
}

StatusOr<ReplayResult> ReplaySearch(const SearchTable& table, const ReplayOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const auto start = std::chrono::steady_clock::now();
  ReplayResult result;
  result.brute_force_seconds = table.brute_force_seconds;
  result.seeds = options.seeds;
  result.candidates = static_cast<int>(table.problem.candidates.size());
  result.layers = static_cast<int>(table.problem.layers.size());
  result.true_front_size = table.true_front.size();
  const size_t M = options.methods.size(), S = static_cast<size_t>(options.seeds);
  result.methods.resize(M);
  for (size_t m = 0; m < M; ++m) {
    ReplayMethodResult& r = result.methods[m];
    r.method = options.methods[m];
    r.seconds_to_front.assign(S, table.brute_force_seconds);
    r.reached.assign(S, false);
    r.final_hypervolume.assign(S, 0);
    r.hypervolume_curve.resize(S);
  }
  std::vector<Status> errors(M * S);
  ParallelForEach(M * S, options.threads, [&](size_t run) {
    const size_t m = run / S, s = run % S;
    ReplayMethodResult& r = result.methods[m];
    std::unique_ptr<SearchEnvironment> env =
        MakeReplayEnvironment(table, options.layer_tuner, static_cast<uint64_t>(s));
    JointSearchOptions o = options.search;
    o.method = options.methods[m];
    o.seed = static_cast<uint64_t>(s);
    o.full_epochs = table.full_epochs;
    o.full_trials = table.full_trials;
    o.budget_seconds = table.brute_force_seconds * (1 + 1e-9);
    o.log = nullptr;
    std::vector<int> last;
    o.on_step = [&](const SearchState& state, const SearchEnvironment& e) {
      std::vector<int> front = state.Front();
      if (front != last) {
        last = front;
        const double hv = HypervolumeRatio(table, front);
        r.hypervolume_curve[s].push_back({e.charged_seconds(), hv});
        r.final_hypervolume[s] = hv;
        if (CoversTrueFront(table, front, options.accuracy_tolerance, options.latency_tolerance)) {
          r.reached[s] = true;
          r.seconds_to_front[s] = e.charged_seconds();
          return false;
        }
      }
      return true;
    };
    StatusOr<SearchSummary> summary = RunJointSearch(o, table.problem, *env);
    if (!summary.ok()) errors[run] = summary.status();
  });
  for (const Status& e : errors) SONAR_RETURN_IF_ERROR(e);
  for (ReplayMethodResult& r : result.methods) {
    r.median_seconds_to_front = Median(r.seconds_to_front);
    r.seeds_reaching_front = static_cast<int>(std::count(r.reached.begin(), r.reached.end(), true));
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string ReplaySummaryJson(const ReplayResult& result) {
  using Json = nlohmann::ordered_json;
  Json methods = Json::array();
  for (const ReplayMethodResult& r : result.methods) {
    methods.push_back({{"method", std::string(SearchMethodToString(r.method))},
                       {"median_seconds_to_front", r.median_seconds_to_front},
                       {"speedup_vs_brute_force",
                        r.median_seconds_to_front > 0
                            ? Json(result.brute_force_seconds / r.median_seconds_to_front)
                            : Json(nullptr)},
                       {"seeds_reaching_front", r.seeds_reaching_front},
                       {"median_final_hypervolume_ratio", Median(r.final_hypervolume)}});
  }
  Json j = {{"brute_force_seconds", result.brute_force_seconds},
            {"seeds", result.seeds},
            {"candidates", result.candidates},
            {"layers", result.layers},
            {"true_front_size", result.true_front_size},
            {"methods", methods},
            {"wall_seconds", result.wall_seconds}};
  return j.dump();
}

}  // namespace sonar
