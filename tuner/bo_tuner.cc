// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The Bayesian-optimisation tuner (TunerKind::kBayesOpt; docs/bayesian_optimization.md):
//   - initial design: options.bo.num_initial uniformly random valid configs;
//   - model: a GaussianProcess on y = log(cost seconds) of the successful configs only, with a
//     full MAP refit of its hyperparameters on every observation while it is small
//     (refit_all_below) and then every refit_every observations, and incremental AddSamples in
//     between (Limbo's hp_period); a FeasibilityModel (a GP classifier by default) on every
//     observed config, feasible or failed. No failed config ever reaches the GP;
//   - acquisition (log EI by default) weighted by the probability of feasibility, maximised over
//     a candidate pool (tuner/candidate_pool.h) whose size is bounded by the work of its
//     predictive variances (max_predict_work ~ n^2 * m);
//   - batches of q > 1: local penalization (default), Thompson draws or kriging believer;
//   - configs proposed but not yet observed (an asynchronous loop, tuner/mpi/, proposes while
//     others are measured) are pending: BO conditions its GP on their predicted means before it
//     proposes (kriging believer), transfer-bo and rgpe penalize the acquisition around them
//     (local penalization), so N workers do not measure near-duplicates. Nothing is pending in
//     a synchronous loop (Tune, CompareTuners), whose proposals are therefore unchanged.
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
  if (!(max_predict_work > 0))
    return InvalidArgumentError("BoOptions::max_predict_work must be > 0");
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
// transfer-bo's weights (UpdateTransferWeights): BO's own GP competes from kGateMinSamples ok
// observations on; the ranking uses at most kRankPoints of them, kRankResamples bootstrap
// resamples, and leave-one-out predictions conditioned on at most kLooMaxPoints others.
constexpr int kGateMinSamples = 6;
constexpr int kRankPoints = 60;
constexpr int kRankResamples = 128;
constexpr int kLooMaxPoints = 150;

class BayesOptTuner final : public Tuner {
 public:
  BayesOptTuner(const Task& task, const TunerOptions& options,
                std::unique_ptr<TransferPrior> owned_prior)
      : task_(task),
        options_(options.bo),
        rng_(MakeRng(options.seed, 60)),
        sampler_(task_.space, MakeRng(options.seed, 61)),
        gp_(GpWithSeed(options)),
        feasibility_(FeasibilityWithSeed(options)),
        kind_(options.kind),
        transfer_(options.transfer),
        owned_prior_(std::move(owned_prior)),
        prior_(options.transfer_prior),
        plain_gp_(GpWithSeed(options)) {
    if (kind_ == TunerKind::kTransferBayesOpt) {
      SONAR_CHECK(prior_ != nullptr) << "transfer-bo needs a transfer prior";
      dkgp_ = std::make_unique<DeepKernelGp>(prior_->dkgp);
    } else if (kind_ == TunerKind::kRgpe) {
      SONAR_CHECK(prior_ != nullptr) << "rgpe needs a transfer prior";
      rgpe_ =
          std::make_unique<RgpeModel>(&prior_->source_gps, GpWithSeed(options),
                                      transfer_.rgpe_loss_samples, MixSeed(options.seed ^ 0x7267));
    }
    if (task_.space.is_listed() && task_.space.size() <= options_.pool.enumerate_limit) {
      member_features_ = prior_ ? prior_->encoder.EncodeConfigs(task_.space.members())
                                : EncodeFeatures(task_.space, task_.space.members(), features_);
    }
  }

  std::vector<Config> Propose(int max_configs) override {
    SONAR_CHECK(max_configs >= 1) << "Propose needs max_configs >= 1, got " << max_configs;
    std::vector<Config> out;
    if (UpdateModels()) out = ModelBatch(max_configs);
    // The initial design, or what a model that failed left to fill.
    sampler_.Fill(static_cast<size_t>(max_configs), &visited_, &out);
    pending_.insert(pending_.end(), out.begin(), out.end());
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) {
      visited_.insert(o.config);
      if (!pending_.empty()) {
        auto it = std::find(pending_.begin(), pending_.end(), o.config);
        if (it != pending_.end()) pending_.erase(it);
      }
      if (!IsWellFormed(task_.space, o.config)) continue;  // cannot be encoded
      const std::optional<double> cost = UsableCost(o);
      configs_.push_back(o.config);
      feasible_.push_back(cost ? 1.0 : 0.0);
      num_failed_ += !cost;
      if (cost) {
        ok_configs_.push_back(o.config);
        ok_y_.push_back(std::log(*cost));
      }
    }
  }

  std::string_view name() const override { return TunerKindToString(kind_); }

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
    if (member_features_.rows() == 0) {
      return prior_ ? prior_->encoder.EncodeConfigs(configs)
                    : EncodeFeatures(task_.space, configs, features_);
    }
    Eigen::MatrixXd x(static_cast<Eigen::Index>(configs.size()), member_features_.cols());
    for (size_t i = 0; i < configs.size(); ++i) {
      const int64_t at = task_.space.IndexOf(configs[i]);
      SONAR_CHECK(at >= 0) << "config " << configs[i] << " is not a member of the listed space";
      x.row(static_cast<Eigen::Index>(i)) = member_features_.row(at);
    }
    return x;
  }

  // The refit schedule of BO's models (BoOptions): a full fit (hyperparameters too) while the
  // model has fewer than refit_all_below rows, then once its rows grew by
  // max(refit_every, refit_growth * the rows at the last full fit); incremental updates between.
  bool NeedsFullFit(bool fitted, int rows, int rows_at_last_fit) const {
    const int step =
        std::max(options_.refit_every,
                 static_cast<int>(std::ceil(options_.refit_growth * rows_at_last_fit)));
    return !fitted || rows < options_.refit_all_below || rows - rows_at_last_fit >= step;
  }

  static Eigen::VectorXd ToVector(const std::vector<double>& v) {
    return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }

  // Brings the GP and the feasibility model up to date with the observations. False while the
  // initial design runs or when the GP cannot be fitted (the caller proposes random configs).
  bool UpdateModels() {
    if (prior_) return UpdateTransferModel();
    const int n_ok = static_cast<int>(ok_y_.size());
    if (static_cast<int>(configs_.size()) < options_.num_initial || n_ok < 2) return false;
    if (n_ok > gp_rows_ || !gp_.fitted()) {
      const bool full = NeedsFullFit(gp_.fitted(), n_ok, last_fit_rows_);
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
    UpdateFeasibility();
    best_y_ = *std::min_element(ok_y_.begin(), ok_y_.end());
    return true;
  }

  // The transfer models: usable from zero target observations (the pretrained model or the
  // source ensemble proposes), re-adapted on a geometric schedule and conditioned in between.
  bool UpdateTransferModel() {
    if (static_cast<int>(configs_.size()) < transfer_.num_initial) return false;
    const int n_ok = static_cast<int>(ok_y_.size());
    if (n_ok != model_rows_ || !model_ready_) {
      const int step =
          std::max(4, static_cast<int>(std::ceil(transfer_.readapt_growth * last_fit_rows_)));
      const bool full =
          !model_ready_ || n_ok < transfer_.readapt_all_below || n_ok - last_fit_rows_ >= step;
      const Eigen::MatrixXd x =
          n_ok > 0 ? Encode(ok_configs_) : Eigen::MatrixXd(0, prior_->encoder.dim());
      const Eigen::VectorXd y = ToVector(ok_y_);
      Status s;
      if (dkgp_) {
        if (full) s = UpdateTransferWeights(x, y);
        if (s.ok()) s = full ? dkgp_->Adapt(x, y) : dkgp_->Condition(x, y);
        if (s.ok()) s = UpdateResidualGp(x, y, full);
      }
      if (rgpe_) s = full ? rgpe_->Fit(x, y) : rgpe_->Condition(x, y);
      if (!s.ok()) return false;
      model_rows_ = n_ok;
      if (full) last_fit_rows_ = n_ok;
      model_ready_ = true;
    }
    UpdateFeasibility();
    best_y_ = n_ok > 0 ? *std::min_element(ok_y_.begin(), ok_y_.end())
                       : std::numeric_limits<double>::infinity();
    return true;
  }

  // transfer-bo's model once the target has data: a GP (BO's, ARD Matern) on the config
  // features augmented with the adapted network's learned features, whose prior mean is the
  // adapted mean head scaled by beta (least squares, clipped to [0, 2]), mixed with BO's own GP
  // by the weight UpdateTransferWeights gives it.
  Eigen::MatrixXd Augment(const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd a(x.rows(), x.cols() + dkgp_->options().feature_dim);
    a << x, dkgp_->Features(x);
    return a;
  }

  Status UpdateResidualGp(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, bool full) {
    const int n = static_cast<int>(y.size());
    if (n < 3) {
      residual_rows_ = 0;
      return OkStatus();
    }
    if (full || residual_rows_ == 0) {
      const Eigen::VectorXd m = dkgp_->PriorMean(x);
      const Eigen::VectorXd mc = m.array() - m.mean();
      const Eigen::VectorXd yc = y.array() - y.mean();
      beta_ = mc.squaredNorm() > 1e-12 ? std::clamp(mc.dot(yc) / mc.squaredNorm(), 0.0, 2.0) : 0.0;
      SONAR_RETURN_IF_ERROR(gp_.Fit(Augment(x), y - beta_ * m));
    } else {
      const Eigen::MatrixXd fresh = x.bottomRows(n - residual_rows_);
      const Eigen::VectorXd fy = y.tail(n - residual_rows_);
      Status s = gp_.AddSamples(Augment(fresh), fy - beta_ * dkgp_->PriorMean(fresh));
      if (s.ok() && plain_rows_ > 0) {
        // BO's GP keeps BO's refit schedule (a full fit on every observation while small).
        s = n < options_.refit_all_below ? plain_gp_.Fit(x, y) : plain_gp_.AddSamples(fresh, fy);
        plain_rows_ = s.ok() ? n : 0;  // a failed update takes BO's GP out of the mixture
      }
      if (!s.ok()) return UpdateResidualGp(x, y, /*full=*/true);
    }
    residual_rows_ = n;
    return OkStatus();
  }

  // The guard against negative transfer and the choice among sources, in the spirit of RGPE
  // (Feurer et al. 2018) but with transfer-bo's own members: at every full refit with >= 3 target
  // observations, each source's zero-shot view (DeepKernelGp::SourcePriorMeans) and, from
  // kGateMinSamples observations on, BO's own GP on the config features (judged by
  // leave-one-out: its fitted hyperparameters, conditioned on the others) count the pairs of
  // observations they order wrongly, on bootstrap resamples of at most kRankPoints observations.
  // A member's weight is the share of resamples it wins (ties split). The sources' shares
  // reweight the residuals in the transferred mean; BO's share is its weight in the predictive
  // mixture (1: plain BO, so an unrelated history costs little). Same seed, same weights.
  Status UpdateTransferWeights(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
    const Eigen::Index n = y.size();
    const int sources = dkgp_->num_sources();
    plain_weight_ = 0;
    if (n < 3 || sources == 0) return OkStatus();
    const std::vector<Eigen::Index> eval = RandomSubset(n, kRankPoints, rng_);
    const Eigen::Index m = static_cast<Eigen::Index>(eval.size());
    const Eigen::VectorXd ye = y(eval);
    Eigen::MatrixXd preds(m, sources + 1);
    preds.leftCols(sources) = dkgp_->SourcePriorMeans(x(eval, Eigen::all));
    const bool with_plain = n >= kGateMinSamples;
    plain_rows_ = 0;
    if (with_plain) {
      SONAR_RETURN_IF_ERROR(plain_gp_.Fit(x, y));
      plain_rows_ = static_cast<int>(n);
      SONAR_ASSIGN_OR_RETURN(Prediction loo,
                             LeaveOneOut(plain_gp_, x, y, eval, kLooMaxPoints, rng_));
      preds.col(sources) = loo.mean;
    }
    const int members = sources + (with_plain ? 1 : 0);
    std::vector<double> share(static_cast<size_t>(members), 0.0);
    std::vector<Eigen::Index> pick(static_cast<size_t>(m));
    std::vector<int> loss(static_cast<size_t>(members));
    for (int b = 0; b < kRankResamples; ++b) {
      for (Eigen::Index& p : pick) p = UniformInt(rng_, 0, m - 1);
      std::fill(loss.begin(), loss.end(), 0);
      for (size_t i = 0; i < pick.size(); ++i) {
        for (size_t j = i + 1; j < pick.size(); ++j) {
          const Eigen::Index a = pick[i], c = pick[j];
          if (ye(a) == ye(c)) continue;
          const bool truth = ye(a) < ye(c);
          for (int k = 0; k < members; ++k)
            loss[static_cast<size_t>(k)] += (preds(a, k) < preds(c, k)) != truth;
        }
      }
      const int best = *std::min_element(loss.begin(), loss.end());
      const double ties = static_cast<double>(std::count(loss.begin(), loss.end(), best));
      for (int k = 0; k < members; ++k) {
        if (loss[static_cast<size_t>(k)] == best)
          share[static_cast<size_t>(k)] += 1.0 / ties / kRankResamples;
      }
    }
    plain_weight_ = with_plain ? share.back() : 0.0;
    std::vector<double> w(share.begin(), share.begin() + sources);
    // All resamples won by BO's GP: the sources keep equal weights (their mean still centres
    // the transfer member, whose weight is then 0).
    if (std::accumulate(w.begin(), w.end(), 0.0) <= 0) w.assign(static_cast<size_t>(sources), 1.0);
    return dkgp_->SetSourceWeights(w);
  }

  Prediction PredictModel(const Eigen::MatrixXd& x) const {
    if (dkgp_ && residual_rows_ > 0) {
      Prediction t;
      if (plain_weight_ < 1) {
        t = gp_.Predict(Augment(x));
        t.mean += beta_ * dkgp_->PriorMean(x);
      }
      if (plain_weight_ <= 0 || plain_rows_ == 0) return t;
      Prediction b = plain_gp_.Predict(x);
      if (plain_weight_ >= 1) return b;
      // The two-member mixture's mean and variance.
      const double w = plain_weight_;
      Prediction out;
      out.mean = (1 - w) * t.mean + w * b.mean;
      out.variance =
          ((1 - w) * (t.variance.array() + t.mean.array().square()) +
           w * (b.variance.array() + b.mean.array().square()) - out.mean.array().square())
              .max(0.0)
              .matrix();
      return out;
    }
    if (dkgp_) return dkgp_->Predict(x);
    if (rgpe_) return rgpe_->Predict(x);
    return gp_.Predict(x);
  }

  int ModelSamples() const {
    if (prior_) return std::max(1, model_rows_);
    return gp_.num_samples();
  }

  // Transfer tuners also learn feasibility from the sources' records (failures are mostly
  // resource limits, which carry over): their sample is part of every full fit.
  bool SourceFailures() const { return prior_ && (prior_->feasibility_y.array() < 0.5).any(); }

  void UpdateFeasibility() {
    const int n_all = static_cast<int>(configs_.size());
    const bool wanted = num_failed_ > 0 || SourceFailures();
    if (!options_.model_failures || !wanted) return;
    if (feasibility_ready_ && feasibility_rows_ == n_all) return;
    // Same schedule as the GP.
    const bool full = NeedsFullFit(feasibility_ready_, n_all, feasibility_fit_rows_);
    Status s;
    if (!full) {
      std::vector<Config> fresh(configs_.begin() + feasibility_rows_, configs_.end());
      std::vector<double> fresh_f(feasible_.begin() + feasibility_rows_, feasible_.end());
      s = feasibility_.AddSamples(Encode(fresh), ToVector(fresh_f));
    }
    if (full || !s.ok()) {
      Eigen::MatrixXd x = n_all > 0 ? Encode(configs_) : Eigen::MatrixXd(0, 0);
      Eigen::VectorXd f = ToVector(feasible_);
      if (SourceFailures()) {
        const Eigen::MatrixXd& sx = prior_->feasibility_x;
        Eigen::MatrixXd all(sx.rows() + x.rows(), sx.cols());
        all << sx, (x.rows() > 0 ? x : Eigen::MatrixXd(0, sx.cols()));
        Eigen::VectorXd fy(prior_->feasibility_y.size() + f.size());
        fy << prior_->feasibility_y, f;
        x = std::move(all);
        f = std::move(fy);
      }
      s = feasibility_.Fit(x, f);
      feasibility_fit_rows_ = n_all;
    }
    feasibility_ready_ = s.ok();
    feasibility_rows_ = s.ok() ? n_all : 0;
  }

  bool UseFeasibility() const { return options_.model_failures && feasibility_ready_; }

  Eigen::VectorXd Score(const Eigen::MatrixXd& x, const Prediction& p,
                        const AcquisitionOptions& a) {
    if (!std::isfinite(best_y_)) {
      // No success yet (a transfer model proposing from its prior): exploit its mean.
      Eigen::VectorXd s = -p.mean;
      if (UseFeasibility()) s += feasibility_.LogProbability(x);
      return s;
    }
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
    const double n = std::max(1, ModelSamples());
    const double max_m = options_.max_predict_work / (n * n);
    if (static_cast<double>(task_.space.size()) > max_m) pool.enumerate_limit = 0;
    // Over budget: half random, a quarter neighbours, a quarter annealing.
    const double full = pool.num_random +
                        static_cast<double>(pool.num_incumbents) * pool.max_neighbors +
                        static_cast<double>(pool.sa_chains) * pool.sa_steps;
    if (full > max_m) {
      pool.num_random = std::max(std::min(kMinRandomCandidates, pool.num_random),
                                 static_cast<int>(std::min<double>(pool.num_random, max_m / 2)));
      if (pool.num_incumbents > 0) {
        pool.max_neighbors = std::max(1, static_cast<int>(std::min<double>(
                                             pool.max_neighbors, max_m / 4 / pool.num_incumbents)));
      }
      if (pool.sa_chains > 0) {
        pool.sa_steps = std::max(
            1, static_cast<int>(std::min<double>(pool.sa_steps, max_m / 4 / pool.sa_chains)));
      }
    }
    return pool;
  }

  // Kriging believer over the pending configs (BO's GP only): each is believed to return the
  // GP's predicted mean, which shrinks the variance, and so the acquisition, around it. Returns
  // whether the GP now holds fantasies (RestoreGp() drops them).
  bool BelievePending() {
    if (pending_.empty() || !options_.fantasize_pending || prior_) return false;
    const Eigen::MatrixXd xp = Encode(pending_);
    const Prediction pp = gp_.Predict(xp);
    return gp_.AddSamples(xp, pp.mean).ok();
  }

  // Back to the real observations with the same hyperparameters.
  void RestoreGp() {
    if (!gp_.Condition(Encode(ok_configs_), ToVector(ok_y_)).ok()) {
      gp_ = GaussianProcess(gp_.options());  // refitted in full on the next Propose
      last_fit_rows_ = 0;
    }
  }

  std::vector<Config> ModelBatch(int q) {
    const bool believed = BelievePending();
    std::vector<Config> out = ModelBatchWithModel(q);
    if (believed) RestoreGp();
    return out;
  }

  std::vector<Config> ModelBatchWithModel(int q) {
    const AcquisitionFn score = [this](const std::vector<Config>& configs) {
      const Eigen::MatrixXd x = Encode(configs);
      return Score(x, PredictModel(x), options_.acquisition);
    };
    ScoredPool pool =
        MaximizeAcquisition(task_.space, score, Incumbents(), visited_, RoundPoolOptions(), rng_);
    std::vector<Config> out;
    if (pool.best < 0) return out;
    if (prior_ && options_.fantasize_pending && !pending_.empty()) {
      // The transfer models: local penalization around the pending configs, then q picks.
      ScoredPool all = pool;
      std::vector<int> picks;
      for (const Config& c : pending_) {
        picks.push_back(static_cast<int>(all.configs.size()));
        all.configs.push_back(c);
      }
      all.scores.conservativeResize(static_cast<Eigen::Index>(all.configs.size()));
      for (int p : picks) all.scores[p] = kNegInf;
      const size_t fixed = picks.size();
      LocalPenalization(all, static_cast<int>(fixed) + q, &picks);
      for (size_t i = fixed; i < picks.size(); ++i) out.push_back(all.configs[picks[i]]);
      for (const Config& c : out) visited_.insert(c);
      return out;
    }
    out.push_back(pool.configs[static_cast<size_t>(pool.best)]);
    if (q > 1 && pool.configs.size() > 1) {
      std::vector<int> picks = {pool.best};
      switch (options_.batch) {
        case BoBatchMethod::kLocalPenalization: LocalPenalization(pool, q, &picks); break;
        case BoBatchMethod::kThompson: ThompsonPicks(pool, q, &picks); break;
        case BoBatchMethod::kKrigingBeliever:
          // The transfer models have no fantasy update: local penalization instead.
          if (prior_)
            LocalPenalization(pool, q, &picks);
          else
            KrigingBeliever(pool, q, &picks);
          break;
      }
      for (size_t i = 1; i < picks.size(); ++i) out.push_back(pool.configs[picks[i]]);
    }
    for (const Config& c : out) visited_.insert(c);
    return out;
  }

  // Gonzalez et al. 2016 on the log-scale acquisition: each pick multiplies the acquisition of
  // every candidate by the probability that it lies outside the pick's exclusion ball. Adds
  // picks until there are q (those given are penalized around first).
  void LocalPenalization(const ScoredPool& pool, int q, std::vector<int>* picks) {
    const Eigen::MatrixXd x = Encode(pool.configs);
    const Prediction p = PredictModel(x);
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
      if (nn >= 0)
        lipschitz = std::max(lipschitz, std::abs(p.mean[i] - p.mean[nn]) / std::sqrt(best));
    }
    if (!(lipschitz > 1e-9)) lipschitz = 1.0;
    Eigen::VectorXd s = pool.scores;
    // The incumbent; before any success (transfer models), the best predicted mean.
    const double best_y = std::isfinite(best_y_) ? best_y_ : p.mean.minCoeff();
    if (options_.acquisition.kind == AcquisitionKind::kExpectedImprovement &&
        std::isfinite(best_y_)) {
      s = s.array().max(1e-300).log().matrix();
    }
    for (int pick : *picks) s[pick] = kNegInf;
    size_t penalized = 0;
    while (static_cast<int>(picks->size()) < q) {
      for (; penalized < picks->size(); ++penalized) {
        const int last = (*picks)[penalized];
        const Eigen::VectorXd d = (u.rowwise() - u.row(last)).rowwise().norm();
        s += LogLocalPenalty(d, p.mean[last], std::sqrt(std::max(p.variance[last], 0.0)), best_y,
                             lipschitz);
      }
      Eigen::Index best;
      if (!(s.maxCoeff(&best) > kNegInf)) break;
      picks->push_back(static_cast<int>(best));
      s[best] = kNegInf;
    }
  }

  // A fresh Thompson draw (independent marginals over the pool) per pick.
  void ThompsonPicks(const ScoredPool& pool, int q, std::vector<int>* picks) {
    const Eigen::MatrixXd x = Encode(pool.configs);
    const Prediction p = PredictModel(x);
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
    RestoreGp();
  }

  Task task_;
  BoOptions options_;
  FeatureOptions features_;
  Rng rng_;
  IndexSampler sampler_;
  VisitedSet visited_;
  std::vector<Config> pending_;      // proposed, not yet observed, in the order proposed
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
  int feasibility_rows_ = 0;        // observations it holds
  bool feasibility_ready_ = false;  // a fitted model (after the first failure, or source failures)
  int feasibility_fit_rows_ = 0;    // observations at its last full fit
  // Transfer (kind_ transfer-bo or rgpe): the prior (shared, or owned when MakeTuner built it
  // for this tuner) and this run's model.
  TunerKind kind_;
  TransferOptions transfer_;
  std::unique_ptr<TransferPrior> owned_prior_;
  const TransferPrior* prior_;
  std::unique_ptr<DeepKernelGp> dkgp_;
  std::unique_ptr<RgpeModel> rgpe_;
  int model_rows_ = 0;
  bool model_ready_ = false;
  int residual_rows_ = 0;     // transfer-bo: target observations in the residual GP (gp_)
  double beta_ = 0;           // transfer-bo: weight of the mean head in the residual GP's mean
  GaussianProcess plain_gp_;  // transfer-bo: BO's GP on the config features (a mixture member)
  int plain_rows_ = 0;        // observations it holds (0: not fitted)
  double plain_weight_ = 0;   // its weight in the mixture (UpdateTransferWeights)
};

}  // namespace

std::unique_ptr<Tuner> MakeBayesOptTuner(const Task& task, const TunerOptions& options,
                                         std::unique_ptr<TransferPrior> owned_prior) {
  return std::make_unique<BayesOptTuner>(task, options, std::move(owned_prior));
}

}  // namespace internal
}  // namespace sonar
