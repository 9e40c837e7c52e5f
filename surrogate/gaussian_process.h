// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: GaussianProcess, an exact GP regression model (Rasmussen &
// Williams) with a Matern 5/2 or RBF kernel with ARD lengthscales, constant mean and Gaussian
// noise. Inputs are scaled to the unit cube and targets standardized inside; hyperparameters are
// fitted by MAP (priors on lengthscales, signal and noise) with Ceres' GradientProblemSolver
// (L-BFGS) using analytic gradients, from several seeded restarts. The Cholesky factorization
// retries with escalating jitter; AddSamples updates the factor incrementally between
// hyperparameter refits (Limbo's add_sample); Predict is batched; Save/Load keep a fitted model.
//
// Example:
//   GpOptions options;
//   options.kernel = GpKernel::kMatern52;
//   GaussianProcess gp(options);
//   SONAR_RETURN_IF_ERROR(gp.Fit(x, y));            // full MAP fit
//   SONAR_RETURN_IF_ERROR(gp.AddSamples(x2, y2));   // cheap update, same hyperparameters
//   Prediction p = gp.Predict(candidates);
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/status.h"
#include "surrogate/prediction.h"

namespace sonar {

enum class GpKernel { kMatern52, kRbf };

struct GpOptions {
  GpKernel kernel = GpKernel::kMatern52;
  // ARD: one lengthscale per input dimension (else one shared lengthscale).
  bool ard = true;
  // MAP fitting: L-BFGS runs from `restarts` starting points (the first from the current or
  // default hyperparameters, the others drawn from the priors with `seed`).
  int restarts = 5;
  int max_iterations = 200;  // per restart
  uint64_t seed = 0;
  // Priors on log hyperparameters (inputs scaled to [0,1], targets standardized):
  // log lengthscale ~ N(lengthscale_prior_mean + 0.5 log(d) [if lengthscale_prior_scales_with_dim],
  // lengthscale_prior_sd^2), likewise signal variance and noise variance. Set a sd <= 0 to drop
  // that prior (maximum likelihood). The lengthscale default is the dimension-scaled log-normal
  // prior of Hvarfner et al. 2024 ("Vanilla BO performs great in high dimensions": mean
  // sqrt(2) + log(d)/2, sd sqrt(3)); irrelevant inputs get long lengthscales instead of the
  // short ones a prior centred at 0.37 pulls them to.
  double lengthscale_prior_mean = 1.4142135623730951;
  double lengthscale_prior_sd = 1.7320508075688772;
  bool lengthscale_prior_scales_with_dim = true;
  double signal_prior_mean = 0.0;
  double signal_prior_sd = 1.5;
  double noise_prior_mean = -4.0;
  double noise_prior_sd = 2.0;
  // Lower bound on the noise variance (standardized units), for numerical safety.
  double min_noise_variance = 1e-8;
  // Cholesky jitter: starts at initial_jitter x mean diagonal, x10 per retry, up to max_jitter.
  double initial_jitter = 1e-10;
  double max_jitter = 1e-2;
  // Scale inputs to the unit cube with the bounds of the training data (else use as given).
  bool normalize_inputs = true;

  // Scale (see docs/gaussian_process.md for measured costs). The exact GP keeps at most
  // max_exact_samples observations, >= 1. Beyond that it is a subset-of-data approximation:
  // the model keeps the subset_best_fraction * max_exact_samples observations with the lowest
  // y (the incumbent's neighbourhood, for a minimizing tuner) plus a random subset (seed) of
  // the others; Fit and AddSamples both apply it. Exact cost per factorization: O(n^3 / 3).
  int max_exact_samples = 3000;
  double subset_best_fraction = 0.5;  // in [0, 1]
  // Hyperparameters are fitted on a random subset (seed) of at most max_fit_samples of the
  // model's observations; the factorization and predictions then use all of them. This bounds
  // the cost of a refit (one L-BFGS evaluation costs about n^3 flops). >= 1; raise it to
  // max_exact_samples for a fully exact fit.
  int max_fit_samples = 1000;
  // Threads that run the restarts in parallel and share Predict's blocks of 256 candidates,
  // >= 1. 1 by default: comparisons run one tuner per core. The result does not depend on it.
  int num_threads = 1;
  // L-BFGS stops when the relative change of the objective falls below this, > 0.
  double function_tolerance = 1e-7;
  Status Validate() const;
};

// What the last hyperparameter fit did. Defaults describe "no fit ran".
// Thread safety: value type.
struct GpFitSummary {
  int num_observed = 0;           // observations given (Fit + AddSamples)
  int num_model_samples = 0;      // observations in the model (< num_observed: subset of data)
  int num_fit_samples = 0;        // observations the hyperparameters were fitted on
  int restarts_run = 0;           // L-BFGS runs that produced a usable point
  int best_restart = -1;          // index of the restart that won (0 = warm/default start)
  int total_iterations = 0;       // L-BFGS iterations over all restarts
  double best_log_posterior = 0;  // log marginal likelihood + log prior, on the fit samples
  double fit_seconds = 0;         // wall time of Fit
  double jitter = 0;              // diagonal jitter the final factorization needed
  std::string BriefReport() const;
};

// Thread safety: Predict, LogMarginalLikelihood and the other const methods may run
// concurrently after Fit; Fit, AddSamples and Condition need exclusive access.
class GaussianProcess {
 public:
  explicit GaussianProcess(GpOptions options = {});
  ~GaussianProcess();
  GaussianProcess(GaussianProcess&&) noexcept;
  GaussianProcess& operator=(GaussianProcess&&) noexcept;

  // Full fit: input scaling, target standardization, MAP hyperparameters, factorization.
  // x: n x d rows of features, y: n targets. Fails with InvalidArgument on mismatched sizes,
  // NaN/inf values or n == 0.
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Adds observations with the current hyperparameters and scalings, updating the Cholesky
  // factor incrementally (O(n^2 m) instead of O(n^3)). requires: a successful Fit.
  Status AddSamples(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Mean and variance of the latent function (noise excluded), in the units of y.
  // requires: a successful Fit; x has the same d.
  Prediction Predict(const Eigen::MatrixXd& x) const;

  // Log marginal likelihood and its gradient w.r.t. the log hyperparameters
  // [log lengthscales (d or 1), log signal variance, log noise variance, constant mean], on the
  // scaled training data of the last Fit (exposed for gradient checks). The noise variance is
  // exp(log noise) + min_noise_variance. Returns -inf (gradient untouched) where the kernel
  // matrix cannot be factorized even with max_jitter or a parameter is beyond +-20.
  double LogMarginalLikelihood(const Eigen::VectorXd& log_params, Eigen::VectorXd* gradient) const;
  Eigen::VectorXd log_params() const;  // the fitted ones
  int num_samples() const;
  // Held-out mean negative log predictive density (noise included), in the units of y.
  double NegativeLogPredictiveDensity(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) const;

  // The MAP objective: LogMarginalLikelihood plus the log priors of GpOptions, same
  // parameters and gradient layout.
  double LogPosterior(const Eigen::VectorXd& log_params, Eigen::VectorXd* gradient) const;
  // Fit with given hyperparameters (no optimization): scalings from x and y as Fit does.
  // requires: log_params.size() == d + 3 (ard) or 4.
  Status FitWithParams(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                       const Eigen::VectorXd& log_params);
  // Replaces the observations by (x, y) keeping the hyperparameters, input scaling and target
  // standardization of the last fit; one O(n^3) factorization, no optimization.
  // requires: a successful Fit.
  Status Condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Fitted hyperparameters in natural units: lengthscales (d, or 1 without ARD) in the scaled
  // input space (unit cube), signal and noise variances in the units of y squared.
  Eigen::VectorXd lengthscales() const;
  double signal_variance() const;
  double noise_variance() const;
  int num_observed() const;  // observations given to Fit and AddSamples since the last Fit
  bool uses_subset() const;  // num_observed() > num_samples(): subset-of-data approximation
  bool fitted() const;
  const GpOptions& options() const;
  const GpFitSummary& fit_summary() const;

  // Writes a text file (format in docs/gaussian_process.md: options, scalings, hyperparameters
  // and the model's observations, 17 significant digits); Load refactorizes, so a loaded model
  // predicts as the saved one did. Load returns DataLoss/InvalidArgument with the line number on
  // a malformed file, NotFound when it cannot be opened.
  Status Save(const std::string& path) const;
  static StatusOr<GaussianProcess> Load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Leave-one-out predictions of a fitted GP at x.row(at) for each `at` in eval: its hyperparameters
// (fitted.log_params()), conditioned on the other rows of (x, y), at most max_others of them (a
// random subset from rng). How the ranking weights of rgpe and transfer-bo judge a target model.
StatusOr<Prediction> LeaveOneOut(const GaussianProcess& fitted, const Eigen::MatrixXd& x,
                                 const Eigen::VectorXd& y, const std::vector<Eigen::Index>& eval,
                                 int max_others, Rng& rng);

}  // namespace sonar
