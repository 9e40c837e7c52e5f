// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The AutoTVM-style model-based tuner (AutoTVM's XGBTuner = ModelBasedTuner + XGBoostCostModel
// with loss_type "rank" and knob features + SimulatedAnnealingOptimizer; Chen et al., "Learning
// to Optimize Tensor Programs", NeurIPS 2018). What it does, in AutoTVM's terms:
//   - next_batch: configs from the current plan in order, skipping visited ones; the last
//     floor(eps_greedy * plan_size) places of each plan, and everything before the first plan,
//     are random unvisited configs.
//   - update: every observation becomes a training row, y = 1 / cost (AutoTVM: FLOPs / cost;
//     the FLOPs of one task are a constant, and y is normalised by its maximum, so the targets
//     are the same), 0 for a failed config. Once plan_size * (fits + 1) rows exist and one of
//     them succeeded, the model is refitted on all rows and simulated annealing picks the next
//     plan: the plan_size unvisited configs with the best predicted score.
//   - find_maximums: sa_chains persistent chains; each step moves every chain to a random
//     one-knob neighbour, predicts all of them in one batch, accepts with probability
//     exp(min((new - old) / (t + 1e-5), 1)), t cooling linearly from the start to the end
//     temperature, and keeps a heap of the best plan_size unvisited configs seen; it stops after
//     sa_iterations steps or sa_early_stop steps without a heap change.
//   - load_history: a base model fitted on transfer records (>= min_transfer_records usable)
//     picks the first plan, and its scores, times 1 / 2^(n / 64) for n training rows, are the
//     base margin of the tuning model until that weight drops below 0.05.
// docs/autotvm_tuner.md lists where Sonar departs from AutoTVM and why.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/check.h"
#include "space/features.h"
#include "surrogate/xgb_cost_model.h"
#include "tuner/internal.h"

namespace sonar::internal {
namespace {

// AutoTVM XGBoostCostModel._base_model_discount: 1 / 2^(n / 64), dropped below 0.05.
constexpr double kBaseModelHalfLifeRows = 64.0;
constexpr double kMinBaseModelDiscount = 0.05;
// AutoTVM fit_log: the base model trains up to 400 rounds, stopping 100 rounds after the best
// a-recall@(2 * plan_size).
constexpr int kBaseModelRounds = 400;
constexpr int kBaseModelStoppingRounds = 100;
// Transfer sets larger than this train with tree_method "hist" instead of "exact".
constexpr Eigen::Index kExactTreeMaxRows = 20000;
// AutoTVM fit: stop 20 rounds after the best a-recall@plan_size.
constexpr int kModelStoppingRounds = 20;

// Knob features as AutoTVM's "knob" feature type: one column per split factor, the
// permutation of a reorder, one index column per labelled choice, the value of an int knob.
// Trees are invariant to monotone transforms of a column, so log2 or raw makes no difference.
FeatureOptions KnobFeatureOptions() {
  FeatureOptions options;
  options.one_hot_choice = false;
  return options;
}

class AutoTvmTuner final : public Tuner {
 public:
  AutoTvmTuner(const Task& task, const TunerOptions& options)
      : task_(task),
        options_(options.autotvm),
        features_(KnobFeatureOptions()),
        rng_(MakeRng(options.seed, 40)),
        sampler_(task_.space, MakeRng(options.seed, 41)),
        model_(ModelOptions(options)),
        base_model_(BaseModelOptions(options)) {
    if (!options.transfer_records.empty()) LoadHistory(options.transfer_records);
  }

  std::vector<Config> Propose(int max_configs) override {
    SONAR_CHECK(max_configs >= 1) << "Propose needs max_configs >= 1, got " << max_configs;
    std::vector<Config> out;
    const int64_t random_tail =
        static_cast<int64_t>(std::floor(options_.eps_greedy * options_.plan_size));
    while (static_cast<int>(out.size()) < max_configs) {
      while (plan_pos_ < plan_.size() && visited_.count(plan_[plan_pos_])) ++plan_pos_;
      std::optional<Config> c;
      if (static_cast<int64_t>(plan_pos_) >= static_cast<int64_t>(plan_.size()) - random_tail) {
        c = sampler_.Take(&visited_);  // no plan yet, or its epsilon-greedy tail
      } else {
        c = plan_[plan_pos_++];
        visited_.insert(*c);
      }
      if (!c) break;
      out.push_back(std::move(*c));
    }
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) {
      visited_.insert(o.config);
      if (!IsWellFormed(task_.space, o.config)) continue;  // cannot be encoded
      const std::optional<double> cost = UsableCost(o);
      const double y = cost ? 1.0 / *cost : 0.0;
      xs_.push_back(o.config);
      ys_.push_back(std::isfinite(y) ? y : 0.0);
      max_y_ = std::max(max_y_, ys_.back());
    }
    const size_t needed = static_cast<size_t>(options_.plan_size) * (num_fits_ + 1);
    if (xs_.size() >= needed && max_y_ > 0) Refit();
  }

  std::string_view name() const override { return "autotvm"; }

 private:
  using ScoreFn = std::function<bool(const std::vector<Config>&, Eigen::VectorXd*)>;

  static XgbOptions ModelOptions(const TunerOptions& options) {
    XgbOptions xgb;
    xgb.seed = MixSeed(options.seed ^ 0x7867);
    xgb.num_boost_round = options.autotvm.num_boost_round;
    xgb.early_stopping_rounds = kModelStoppingRounds;
    xgb.recall_at = options.autotvm.plan_size;
    return xgb;
  }

  static XgbOptions BaseModelOptions(const TunerOptions& options) {
    XgbOptions xgb = ModelOptions(options);
    xgb.seed = MixSeed(options.seed ^ 0x6261);
    xgb.num_boost_round = kBaseModelRounds;
    xgb.early_stopping_rounds = kBaseModelStoppingRounds;
    xgb.recall_at = 2 * options.autotvm.plan_size;
    return xgb;
  }

  // AutoTVM load_history / fit_log, with records of other workloads mapped onto this task's
  // knobs by name (see docs/autotvm_tuner.md).
  void LoadHistory(const std::vector<Record>& transfer_records) {
    // A listed space holds only its members; encode through the product space of its knobs.
    std::optional<ConfigSpace> product;
    if (task_.space.is_listed()) {
      StatusOr<ConfigSpace> made = ConfigSpace::Make(task_.space.knobs());
      if (!made.ok()) return;
      product = std::move(made).value();
    }
    const ConfigSpace& space = product ? *product : task_.space;
    const uint64_t own_key = task_.WorkloadKey();
    std::vector<Config> configs;
    std::vector<double> costs;
    std::vector<uint64_t> keys;
    std::unordered_map<uint64_t, double> best_cost;  // per workload
    std::vector<KnobValue> values(static_cast<size_t>(space.num_knobs()));
    for (const Record& record : transfer_records) {
      if (record.workload_key == own_key) continue;  // this task's records are observations
      bool complete = true;
      for (int k = 0; k < space.num_knobs() && complete; ++k) {
        const Knob& knob = space.knob(k);
        auto it = std::find_if(record.config.values.begin(), record.config.values.end(),
                               [&](const KnobValue& v) { return v.name == knob.name; });
        if (it == record.config.values.end() || it->kind != knob.kind) {
          complete = false;
          break;
        }
        values[static_cast<size_t>(k)] = *it;
        // Other shapes split other extents: match on the inner factors (AutoTVM's knob
        // features hold -1 for the outer factor too).
        if (knob.kind == KnobKind::kSplit && !values[k].ints.empty()) values[k].ints[0] = -1;
      }
      if (!complete) continue;
      StatusOr<Config> config = space.FromValues(values);
      if (!config.ok()) continue;
      const double cost = RecordCost(record);
      const bool ok = std::isfinite(cost) && cost > 0;
      configs.push_back(std::move(config).value());
      costs.push_back(ok ? cost : std::numeric_limits<double>::infinity());
      keys.push_back(record.workload_key);
      if (ok) {
        auto [it, inserted] = best_cost.emplace(record.workload_key, cost);
        if (!inserted) it->second = std::min(it->second, cost);
      }
    }
    num_transfer_records_ = static_cast<int>(configs.size());
    if (num_transfer_records_ < options_.min_transfer_records || best_cost.empty()) return;
    // y = best cost of the record's own workload / cost: 1 for each workload's best, 0 for
    // failures (FLOPs would make workloads comparable; without them each is normalised alone).
    Eigen::VectorXd y(static_cast<Eigen::Index>(configs.size()));
    for (size_t i = 0; i < configs.size(); ++i) {
      auto it = best_cost.find(keys[i]);
      y[static_cast<Eigen::Index>(i)] =
          it != best_cost.end() && std::isfinite(costs[i]) ? it->second / costs[i] : 0.0;
    }
    const Eigen::MatrixXd x = EncodeFeatures(space, configs, features_);
    if (x.cols() == 0) return;
    if (x.rows() > kExactTreeMaxRows) {  // large histories: histogram trees are much faster
      XgbOptions large = base_model_.options();
      large.tree_method = "hist";
      base_model_ = XgbCostModel(large);
    }
    if (!base_model_.Fit(x, y).ok()) return;
    has_base_model_ = true;
    // No plan yet: the base model picks the first one.
    if (plan_.empty()) {
      plan_ = FindMaximums(
          [this](const std::vector<Config>& c, Eigen::VectorXd* out) { return BaseScore(c, out); },
          options_.plan_size);
      plan_pos_ = 0;
    }
  }

  bool BaseScore(const std::vector<Config>& configs, Eigen::VectorXd* out) const {
    StatusOr<Eigen::VectorXd> s =
        base_model_.Predict(EncodeFeatures(task_.space, configs, features_));
    if (!s.ok()) return false;
    *out = std::move(s).value();
    return true;
  }

  // Scores of the tuning model, with the discounted base model as base margin while it lasts.
  bool ModelScore(const std::vector<Config>& configs, Eigen::VectorXd* out) const {
    const Eigen::MatrixXd x = EncodeFeatures(task_.space, configs, features_);
    Eigen::VectorXd margin;
    if (has_base_model_) {
      StatusOr<Eigen::VectorXd> base = base_model_.Predict(x);
      if (!base.ok()) return false;
      margin = base_discount_ * base.value();
    }
    StatusOr<Eigen::VectorXd> s = model_.Predict(x, has_base_model_ ? &margin : nullptr);
    if (!s.ok()) return false;
    *out = std::move(s).value();
    return true;
  }

  void Refit() {
    ++num_fits_;  // counted even when the fit fails, so a failing fit is not retried every call
    const Eigen::MatrixXd x = EncodeFeatures(task_.space, xs_, features_);
    Eigen::VectorXd y(static_cast<Eigen::Index>(ys_.size()));
    for (size_t i = 0; i < ys_.size(); ++i) {
      y[static_cast<Eigen::Index>(i)] = ys_[i] / std::max(max_y_, 1e-300);
    }
    Status fitted;
    if (has_base_model_) {
      base_discount_ =
          1.0 / std::pow(2.0, static_cast<double>(xs_.size()) / kBaseModelHalfLifeRows);
      if (base_discount_ < kMinBaseModelDiscount) has_base_model_ = false;
    }
    if (has_base_model_) {
      StatusOr<Eigen::VectorXd> base = base_model_.Predict(x);
      if (!base.ok()) return;
      const Eigen::VectorXd margin = base_discount_ * base.value();
      fitted = model_.Fit(x, y, &margin);
    } else {
      fitted = model_.Fit(x, y);
    }
    if (!fitted.ok()) return;  // keep the previous plan; its tail and beyond are random
    plan_ = FindMaximums(
        [this](const std::vector<Config>& c, Eigen::VectorXd* out) { return ModelScore(c, out); },
        options_.plan_size);
    plan_pos_ = 0;
  }

  // A random valid config, or nullopt when the space seems to have none.
  std::optional<Config> RandomPoint() {
    StatusOr<Config> c = task_.space.Sample(rng_);
    if (!c.ok()) return std::nullopt;
    return std::move(c).value();
  }

  // AutoTVM SimulatedAnnealingOptimizer.find_maximums: the best `num` unvisited configs seen,
  // best first.
  std::vector<Config> FindMaximums(const ScoreFn& score, int num) {
    const uint64_t size = task_.space.size();
    const int chains = static_cast<int>(std::min<uint64_t>(options_.sa_chains, size));
    if (points_.empty()) {  // persistent: later rounds start where the last one stopped
      std::unordered_set<Config, ConfigHash> seen;
      for (int tries = 0; static_cast<int>(points_.size()) < chains && tries < 4 * chains;
           ++tries) {
        std::optional<Config> c = RandomPoint();
        if (!c) break;
        if (seen.insert(*c).second) points_.push_back(std::move(*c));
      }
    }
    if (points_.empty()) return {};
    Eigen::VectorXd scores;
    if (!score(points_, &scores)) return {};

    // Min-heap of (score, config) on score; the front is the worst kept.
    struct Item {
      double score;
      Config config;
    };
    auto worse = [](const Item& a, const Item& b) { return a.score > b.score; };
    std::vector<Item> heap;
    heap.reserve(static_cast<size_t>(num));
    std::unordered_set<Config, ConfigHash> in_heap;
    auto offer = [&](double s, const Config& c) {
      if (!std::isfinite(s)) return false;
      if (static_cast<int>(heap.size()) == num && s <= heap.front().score) return false;
      if (visited_.count(c) || in_heap.count(c)) return false;
      if (static_cast<int>(heap.size()) == num) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        in_heap.erase(heap.back().config);
        heap.pop_back();
      }
      heap.push_back({s, c});
      std::push_heap(heap.begin(), heap.end(), worse);
      in_heap.insert(c);
      return true;
    };
    for (size_t i = 0; i < points_.size(); ++i)
      offer(scores[static_cast<Eigen::Index>(i)], points_[i]);

    double t = options_.sa_temperature_start;
    const double cool = (options_.sa_temperature_start - options_.sa_temperature_end) /
                        (options_.sa_iterations + 1);
    std::vector<Config> next(points_.size());
    Eigen::VectorXd next_scores;
    int k = 0, last_modified = 0;
    while (k < options_.sa_iterations && k < last_modified + options_.sa_early_stop) {
      for (size_t i = 0; i < points_.size(); ++i) {
        std::optional<Config> c = task_.space.RandomNeighbor(points_[i], rng_);
        // A listed space may have no member one knob away: jump to a random member instead.
        if (!c && task_.space.is_listed()) c = RandomPoint();
        next[i] = c ? std::move(*c) : points_[i];
      }
      if (!score(next, &next_scores)) break;
      for (size_t i = 0; i < points_.size(); ++i) {
        const Eigen::Index r = static_cast<Eigen::Index>(i);
        const double delta = (next_scores[r] - scores[r]) / (t + 1e-5);
        const double accept = std::exp(std::min(delta, 1.0));
        if (UniformDouble(rng_) < accept) {
          points_[i] = next[i];
          scores[r] = next_scores[r];
        }
      }
      for (size_t i = 0; i < next.size(); ++i) {
        if (offer(next_scores[static_cast<Eigen::Index>(i)], next[i])) last_modified = k;
      }
      ++k;
      t -= cool;
    }
    std::sort(heap.begin(), heap.end(),
              [](const Item& a, const Item& b) { return a.score > b.score; });
    std::vector<Config> out;
    out.reserve(heap.size());
    for (Item& item : heap) out.push_back(std::move(item.config));
    return out;
  }

  Task task_;
  AutoTvmOptions options_;
  FeatureOptions features_;
  Rng rng_;               // simulated annealing
  IndexSampler sampler_;  // random proposals
  VisitedSet visited_;
  // Training rows: every well-formed observed config and its y (1 / cost, 0 when failed).
  std::vector<Config> xs_;
  std::vector<double> ys_;
  double max_y_ = 0;
  size_t num_fits_ = 0;
  XgbCostModel model_;
  // Transfer (load_history).
  XgbCostModel base_model_;
  bool has_base_model_ = false;
  double base_discount_ = 1.0;
  int num_transfer_records_ = 0;
  // The plan: configs to propose next, best first.
  std::vector<Config> plan_;
  size_t plan_pos_ = 0;
  std::vector<Config> points_;  // SA chain positions, kept across rounds
};

}  // namespace

std::unique_ptr<Tuner> MakeAutoTvmTuner(const Task& task, const TunerOptions& options) {
  return std::make_unique<AutoTvmTuner>(task, options);
}

}  // namespace sonar::internal
