// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The Bayesian-optimisation tuner (TunerKind::kBayesOpt; docs/bayesian_optimization.md):
//   - initial design: options.bo.num_initial uniformly random valid configs;
//   - model: a GaussianProcess on y = log(cost seconds) of the successful configs only, with a
//     full MAP refit of its hyperparameters on every observation while it is small
//     (refit_all_below) and then every refit_every observations, and incremental AddSamples in
//     between (Limbo's hp_period); a FeasibilityModel (logistic regression) on every observed
//     config, feasible or failed. No failed config ever reaches the GP;
//   - acquisition (log EI by default) weighted by the probability of feasibility, maximised over
//     a candidate pool (tuner/candidate_pool.h) whose size is bounded by the work of its
//     predictive variances (max_predict_work ~ n^2 * m);
//   - batches of q > 1: local penalization (default), Thompson draws or kriging believer.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/check.h"
#include "space/features.h"
#include "surrogate/feasibility.h"
#include "surrogate/gaussian_process.h"
#include "tuner/acquisition.h"
#include "tuner/candidate_pool.h"
#include "tuner/internal.h"

namespace sonar {

Status BoOptions::Validate() const {
  if (num_initial < 1) return InvalidArgumentError("BoOptions::num_initial must be >= 1");
  if (refit_all_below < 0) return InvalidArgumentError("BoOptions::refit_all_below must be >= 0");
  if (refit_every < 1) return InvalidArgumentError("BoOptions::refit_every must be >= 1");
  if (!(refit_growth >= 0)) return InvalidArgumentError("BoOptions::refit_growth must be >= 0");
  if (!(max_predict_work > 0)) return InvalidArgumentError("BoOptions::max_predict_work must be > 0");
  SONAR_RETURN_IF_ERROR(acquisition.Validate());
  SONAR_RETURN_IF_ERROR(pool.Validate());
  SONAR_RETURN_IF_ERROR(feasibility.Validate());
  SONAR_RETURN_IF_ERROR(gp.Validate());
  return OkStatus();
}

namespace internal {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kMinRandomCandidates = 64;
constexpr int kLipschitzSamples = 256;

bool IsWellFormed(const ConfigSpace& space, const Config& config) {
  if (config.choice.size() != static_cast<size_t>(space.num_knobs())) return false;
  for (int k = 0; k < space.num_knobs(); ++k) {
    if (config.choice[k] < 0 || config.choice[k] >= space.knob(k).size()) return false;
  }
  return true;
}

class BayesOptTuner final : public Tuner {
 public:
  BayesOptTuner(const Task& task, const TunerOptions& options)
      : task_(task),
        options_(options.bo),
        rng_(MakeRng(options.seed, 60)),
        sampler_(task_.space, MakeRng(options.seed, 61)),
        gp_(GpWithSeed(options)),
        feasibility_(FeasibilityWithSeed(options)) {
    if (task_.space.is_listed() && task_.space.size() <= options_.pool.enumerate_limit) {
      member_features_ = EncodeFeatures(task_.space, task_.space.members(), features_);
    }
  }

  std::vector<Config> Propose(int max_configs) override {
    SONAR_CHECK(max_configs >= 1) << "Propose needs max_configs >= 1, got " << max_configs;
    std::vector<Config> out;
    if (UpdateModels()) out = ModelBatch(max_configs);
    while (static_cast<int>(out.size()) < max_configs) {  // initial design, or a model failure
      std::optional<Config> c = sampler_.Next(visited_);
      if (!c) break;
      visited_.insert(*c);
      out.push_back(std::move(*c));
    }
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) {
      visited_.insert(o.config);
      if (!IsWellFormed(task_.space, o.config)) continue;  // cannot be encoded
      const double cost = ObservationCost(o);
      const bool ok = std::isfinite(cost) && cost > 0;
      configs_.push_back(o.config);
      feasible_.push_back(ok ? 1.0 : 0.0);
      num_failed_ += !ok;
      if (ok) {
        ok_configs_.push_back(o.config);
        ok_y_.push_back(std::log(cost));
      }
    }
  }

  std::string_view name() const override { return "bo"; }

 private:
  static GpOptions GpWithSeed(const TunerOptions& options) {
    GpOptions gp = options.bo.gp;
    gp.seed = MixSeed(options.seed ^ 0x6770);
    return gp;
  }

  static FeasibilityOptions FeasibilityWithSeed(const TunerOptions& options) {
    FeasibilityOptions f = options.bo.feasibility;
    f.gp.seed = MixSeed(options.seed ^ 0x6665);
    return f;
  }

  Eigen::MatrixXd Encode(const std::vector<Config>& configs) const {
    if (member_features_.rows() == 0) return EncodeFeatures(task_.space, configs, features_);
    Eigen::MatrixXd x(static_cast<Eigen::Index>(configs.size()), member_features_.cols());
    for (size_t i = 0; i < configs.size(); ++i) {
      const int64_t at = task_.space.IndexOf(configs[i]);
      SONAR_CHECK(at >= 0) << "config " << configs[i] << " is not a member of the listed space";
      x.row(static_cast<Eigen::Index>(i)) = member_features_.row(at);
    }
    return x;
  }

  int RefitStep(int rows_at_last_fit) const {
    return std::max(options_.refit_every,
                    static_cast<int>(std::ceil(options_.refit_growth * rows_at_last_fit)));
  }

  static Eigen::VectorXd ToVector(const std::vector<double>& v) {
    return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }

  // Brings the GP and the feasibility model up to date with the observations. False while the
  // initial design runs or when the GP cannot be fitted (the caller proposes random configs).
  bool UpdateModels() {
    const int n_ok = static_cast<int>(ok_y_.size());
    if (static_cast<int>(configs_.size()) < options_.num_initial || n_ok < 2) return false;
    if (n_ok > gp_rows_ || !gp_.fitted()) {
      const bool full = !gp_.fitted() || n_ok < options_.refit_all_below ||
                        n_ok - last_fit_rows_ >= RefitStep(last_fit_rows_);
      Status s;
      if (!full) {
        std::vector<Config> fresh(ok_configs_.begin() + gp_rows_, ok_configs_.end());
        std::vector<double> fresh_y(ok_y_.begin() + gp_rows_, ok_y_.end());
        s = gp_.AddSamples(Encode(fresh), ToVector(fresh_y));
      }
      if (full || !s.ok()) {
        s = gp_.Fit(Encode(ok_configs_), ToVector(ok_y_));
        last_fit_rows_ = n_ok;
      }
      if (!s.ok()) return false;
      gp_rows_ = n_ok;
    }
    const int n_all = static_cast<int>(configs_.size());
    if (options_.model_failures && num_failed_ > 0 && feasibility_rows_ < n_all) {
      // Same schedule as the GP: full fits while small, then every refit_every observations.
      const bool full = !feasibility_.fitted() || n_all < options_.refit_all_below ||
                        n_all - feasibility_fit_rows_ >= RefitStep(feasibility_fit_rows_);
      Status s;
      if (!full) {
        std::vector<Config> fresh(configs_.begin() + feasibility_rows_, configs_.end());
        std::vector<double> fresh_f(feasible_.begin() + feasibility_rows_, feasible_.end());
        s = feasibility_.AddSamples(Encode(fresh), ToVector(fresh_f));
      }
      if (full || !s.ok()) {
        s = feasibility_.Fit(Encode(configs_), ToVector(feasible_));
        feasibility_fit_rows_ = n_all;
      }
      feasibility_rows_ = s.ok() ? n_all : 0;
    }
    best_y_ = *std::min_element(ok_y_.begin(), ok_y_.end());
    return true;
  }

  bool UseFeasibility() const { return options_.model_failures && feasibility_rows_ > 0; }

  Eigen::VectorXd Score(const Eigen::MatrixXd& x, const Prediction& p, const AcquisitionOptions& a) {
    if (!UseFeasibility()) return ScoreAcquisition(p, best_y_, a, nullptr, rng_);
    const Eigen::VectorXd lpf = feasibility_.LogProbability(x);
    return ScoreAcquisition(p, best_y_, a, &lpf, rng_);
  }

  // Incumbents for the pool's neighbourhoods: observed successful configs, best first.
  std::vector<Config> Incumbents() const {
    std::vector<int> order(ok_y_.size());
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min<int>(options_.pool.num_incumbents, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return ok_y_[a] < ok_y_[b]; });
    std::vector<Config> out;
    for (int i = 0; i < k; ++i) out.push_back(ok_configs_[static_cast<size_t>(order[i])]);
    return out;
  }

  // The pool options for this round: enumerate and sample only as much as the work bound allows.
  CandidatePoolOptions RoundPoolOptions() const {
    CandidatePoolOptions pool = options_.pool;
    const double n = std::max(1, gp_.num_samples());
    const double max_m = options_.max_predict_work / (n * n);
    if (static_cast<double>(task_.space.size()) > max_m) pool.enumerate_limit = 0;
    // Over budget: half random, a quarter neighbours, a quarter annealing.
    const double full = pool.num_random + static_cast<double>(pool.num_incumbents) * pool.max_neighbors +
                        static_cast<double>(pool.sa_chains) * pool.sa_steps;
    if (full > max_m) {
      pool.num_random = std::max(std::min(kMinRandomCandidates, pool.num_random),
                                 static_cast<int>(std::min<double>(pool.num_random, max_m / 2)));
      if (pool.num_incumbents > 0) {
        pool.max_neighbors = std::max(
            1, static_cast<int>(std::min<double>(pool.max_neighbors, max_m / 4 / pool.num_incumbents)));
      }
      if (pool.sa_chains > 0) {
        pool.sa_steps = std::max(
            1, static_cast<int>(std::min<double>(pool.sa_steps, max_m / 4 / pool.sa_chains)));
      }
    }
    return pool;
  }

  std::vector<Config> ModelBatch(int q) {
    const AcquisitionFn score = [this](const std::vector<Config>& configs) {
      const Eigen::MatrixXd x = Encode(configs);
      return Score(x, gp_.Predict(x), options_.acquisition);
    };
    ScoredPool pool = MaximizeAcquisition(task_.space, score, Incumbents(), visited_,
                                          RoundPoolOptions(), rng_);
    std::vector<Config> out;
    if (pool.best < 0) return out;
    out.push_back(pool.configs[static_cast<size_t>(pool.best)]);
    if (q > 1 && pool.configs.size() > 1) {
      std::vector<int> picks = {pool.best};
      switch (options_.batch) {
        case BoBatchMethod::kLocalPenalization: LocalPenalization(pool, q, &picks); break;
        case BoBatchMethod::kThompson: ThompsonPicks(pool, q, &picks); break;
        case BoBatchMethod::kKrigingBeliever: KrigingBeliever(pool, q, &picks); break;
      }
      for (size_t i = 1; i < picks.size(); ++i) out.push_back(pool.configs[picks[i]]);
    }
    for (const Config& c : out) visited_.insert(c);
    return out;
  }

  // Gonzalez et al. 2016 on the log-scale acquisition: each pick multiplies the acquisition of
  // every candidate by the probability that it lies outside the pick's exclusion ball.
  void LocalPenalization(const ScoredPool& pool, int q, std::vector<int>* picks) {
    const Eigen::MatrixXd x = Encode(pool.configs);
    const Prediction p = gp_.Predict(x);
    // Distances in the pool's unit box.
    const Eigen::RowVectorXd lo = x.colwise().minCoeff();
    Eigen::RowVectorXd range = x.colwise().maxCoeff() - lo;
    for (Eigen::Index j = 0; j < range.size(); ++j) range[j] = range[j] > 0 ? range[j] : 1.0;
    const Eigen::MatrixXd u = (x.rowwise() - lo).array().rowwise() / range.array();
    // Lipschitz constant of the mean: the largest slope between sampled candidates and their
    // nearest pool neighbour.
    const Eigen::Index m = u.rows();
    double lipschitz = 0;
    const Eigen::Index step = std::max<Eigen::Index>(1, m / kLipschitzSamples);
    for (Eigen::Index i = 0; i < m; i += step) {
      const Eigen::VectorXd d2 = (u.rowwise() - u.row(i)).rowwise().squaredNorm();
      double best = std::numeric_limits<double>::infinity();
      Eigen::Index nn = -1;
      for (Eigen::Index j = 0; j < m; ++j) {
        if (j != i && d2[j] > 0 && d2[j] < best) best = d2[j], nn = j;
      }
      if (nn >= 0) lipschitz = std::max(lipschitz, std::abs(p.mean[i] - p.mean[nn]) / std::sqrt(best));
    }
    if (!(lipschitz > 1e-9)) lipschitz = 1.0;
    Eigen::VectorXd s = pool.scores;
    if (options_.acquisition.kind == AcquisitionKind::kExpectedImprovement) {
      s = s.array().max(1e-300).log().matrix();
    }
    for (int pick : *picks) s[pick] = kNegInf;
    while (static_cast<int>(picks->size()) < q) {
      const int last = picks->back();
      const Eigen::VectorXd d = (u.rowwise() - u.row(last)).rowwise().norm();
      s += LogLocalPenalty(d, p.mean[last], std::sqrt(std::max(p.variance[last], 0.0)), best_y_,
                           lipschitz);
      Eigen::Index best;
      if (!(s.maxCoeff(&best) > kNegInf)) break;
      picks->push_back(static_cast<int>(best));
      s[best] = kNegInf;
    }
  }

  // A fresh Thompson draw (independent marginals over the pool) per pick.
  void ThompsonPicks(const ScoredPool& pool, int q, std::vector<int>* picks) {
    const Eigen::MatrixXd x = Encode(pool.configs);
    const Prediction p = gp_.Predict(x);
    AcquisitionOptions ts = options_.acquisition;
    ts.kind = AcquisitionKind::kThompson;
    std::vector<char> taken(pool.configs.size(), 0);
    for (int pick : *picks) taken[static_cast<size_t>(pick)] = 1;
    while (static_cast<int>(picks->size()) < q) {
      Eigen::VectorXd s = Score(x, p, ts);
      for (size_t i = 0; i < taken.size(); ++i) {
        if (taken[i]) s[static_cast<Eigen::Index>(i)] = kNegInf;
      }
      Eigen::Index best;
      if (!(s.maxCoeff(&best) > kNegInf)) break;
      picks->push_back(static_cast<int>(best));
      taken[static_cast<size_t>(best)] = 1;
    }
  }

  // Ginsbourger et al. 2010: pretend each pick returned its predicted mean, condition the GP on
  // it (same hyperparameters) and re-score the pool; the real observations are restored after.
  void KrigingBeliever(const ScoredPool& pool, int q, std::vector<int>* picks) {
    const Eigen::MatrixXd x = Encode(pool.configs);
    std::vector<char> taken(pool.configs.size(), 0);
    for (int pick : *picks) taken[static_cast<size_t>(pick)] = 1;
    while (static_cast<int>(picks->size()) < q) {
      const Eigen::MatrixXd xp = x.row(picks->back());
      const Prediction pp = gp_.Predict(xp);
      if (!gp_.AddSamples(xp, pp.mean).ok()) break;
      Eigen::VectorXd s = Score(x, gp_.Predict(x), options_.acquisition);
      for (size_t i = 0; i < taken.size(); ++i) {
        if (taken[i]) s[static_cast<Eigen::Index>(i)] = kNegInf;
      }
      Eigen::Index best;
      if (!(s.maxCoeff(&best) > kNegInf)) break;
      picks->push_back(static_cast<int>(best));
      taken[static_cast<size_t>(best)] = 1;
    }
    // Drop the fantasies: back to the real observations with the same hyperparameters.
    if (!gp_.Condition(Encode(ok_configs_), ToVector(ok_y_)).ok()) {
      gp_ = GaussianProcess(gp_.options());  // refitted in full on the next Propose
      last_fit_rows_ = 0;
    }
  }

  Task task_;
  BoOptions options_;
  FeatureOptions features_;
  Rng rng_;
  IndexSampler sampler_;
  VisitedSet visited_;
  Eigen::MatrixXd member_features_;  // listed spaces small enough to enumerate: all members
  // Observations: every well-formed observed config with its feasibility, and the successful
  // ones with y = log(cost seconds).
  std::vector<Config> configs_;
  std::vector<double> feasible_;
  int num_failed_ = 0;
  std::vector<Config> ok_configs_;
  std::vector<double> ok_y_;
  double best_y_ = 0;
  GaussianProcess gp_;
  int gp_rows_ = 0;        // ok observations the GP holds
  int last_fit_rows_ = 0;  // ok observations at the last full hyperparameter fit
  FeasibilityModel feasibility_;
  int feasibility_rows_ = 0;      // observations it holds; 0 = no model (no failure yet)
  int feasibility_fit_rows_ = 0;  // observations at its last full fit
};

}  // namespace

std::unique_ptr<Tuner> MakeBayesOptTuner(const Task& task, const TunerOptions& options) {
  return std::make_unique<BayesOptTuner>(task, options);
}

}  // namespace internal
}  // namespace sonar
