// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: DeepKernelGp, a Gaussian process whose kernel and mean act on the
// output of a small multilayer perceptron (Wilson et al. 2016, "Deep kernel learning"), made
// for transfer across tuning tasks (docs/transfer.md):
//   - Pretrain: one network, one mean head and one set of GP hyperparameters shared by several
//     source tasks, each task its own independent GP on its own standardized targets; the sum
//     of their log marginal likelihoods plus a Gaussian weight prior is maximized with Ceres'
//     L-BFGS, the gradient flowing through the GP into the network (backpropagation by hand).
//   - Adapt: the same objective on the target task alone, with a Gaussian prior centred at the
//     pretrained parameters (maximum a posteriori). Its precision is chosen from the target data
//     by k-fold cross-validation over DkgpOptions::prior_precisions (held-out log predictive
//     density); a strong prior keeps the pretrained model, a weak one trains from scratch.
//   - Before any target data the pretrained mean head ranks configs (zero-shot).
//
// Parameters, in one vector (the layout of LogObjective's gradient): the network's layers in
// order, each its weight matrix (out x in, column-major) then its bias; the mean head (feature_dim
// weights, then a bias); log signal variance; log noise variance; log lengthscale of the kernel
// on the features (one, isotropic: the last layer learns the shape, the lengthscale lets the
// target rescale correlations without moving the network).
//
// Example:
//   DeepKernelGp model(DkgpOptions{});
//   SONAR_RETURN_IF_ERROR(model.Pretrain(sources));     // sources: {x, y} per task
//   Prediction zero_shot = model.Predict(candidates);     // standardized units, ranks only
//   SONAR_RETURN_IF_ERROR(model.Adapt(x_target, y_target));
//   Prediction p = model.Predict(candidates);             // units of y_target
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "surrogate/gaussian_process.h"
#include "surrogate/prediction.h"

namespace sonar {

struct DkgpOptions {
  // Hidden layer widths (tanh) and the width of the learned feature (linear output). Each >= 1.
  std::vector<int> hidden = {32, 32};
  int feature_dim = 8;
  // The GP kernel on the learned features (unit lengthscale).
  GpKernel kernel = GpKernel::kMatern52;
  uint64_t seed = 0;  // weight initialization and subsampling
  // Weight of the zero-shot term in every task's objective: the task's points under the prior
  // predictive alone (the mean head with variance signal + noise), which makes the mean head
  // learn what the tasks share, so the model ranks a new task before it has data. >= 0.
  double zero_shot_weight = 0.3;
  // The target's mean function also holds the sources' posterior residual: the average over
  // source tasks of what their GPs (pretrained parameters, conditioned on the task's pretraining
  // points) add to the mean head. It carries each source's fine detail (the mean head is
  // smooth), so the zero-shot ranking near the top follows the sources' best configs.
  bool source_residual = true;
  // Where a source measured exactly the config asked about (the same feature row), its residual
  // there is what makes the pretrained mean equal its measurement (standardized), not the GP's
  // smoothed value: a measurement is the best a source can say about its own config. Matters
  // when sources and target share a space (the same kernel on other devices).
  bool exact_source_values = true;
  // The last task_columns input columns describe the task (its shape), the others the config.
  // A source's residual is then read at the config with the source's own task columns: what the
  // source measured near this config, not a decay of it across the task distance (the network
  // may put tasks far apart, and the residual, a GP posterior, would fade to zero). 0: no task
  // columns. >= 0; each source's task columns must be the same in all its rows (Pretrain says
  // InvalidArgument otherwise). Where a source measured the config (exact_source_values), its view
  // stays its own measurement: the head's shift between the two tasks is not added there.
  int task_columns = 0;
  // Pretraining: L-BFGS iterations; each source task contributes at most max_samples_per_task
  // points (half its best, half a random subset of the rest; n^3 bounds the cost); the network's
  // weights have a N(0, 1 / weight_decay) prior. Ranges >= 1, >= 2, > 0.
  int pretrain_iterations = 300;
  int max_samples_per_task = 256;
  // The sources' posterior residual conditions each source's GP (pretrained parameters) on its
  // pretraining points plus random others of the task, at most residual_samples_per_task in all
  // (one n^3 factorization per source, once; n per source and candidate in every prediction):
  // more of each source's landscape than the pretraining subset alone. >= 2.
  int residual_samples_per_task = 1024;
  double weight_decay = 1e-2;
  // Adaptation: L-BFGS iterations per fit; at most max_adapt_samples target points enter the
  // weight fit (a random subset; the final factorization keeps all of them up to
  // max_exact_samples). Ranges >= 1, >= 2, >= 2.
  int adapt_iterations = 60;
  int max_adapt_samples = 200;
  int max_exact_samples = 2000;
  // Candidate precisions of the Gaussian prior centred at the pretrained parameters (largest =
  // strongest). Adapt picks one by cv_folds-fold cross-validation once the target has at least
  // min_cv_samples points; below that it uses the largest. Non-empty, each > 0; folds >= 2.
  std::vector<double> prior_precisions = {1e4, 1e2, 1.0, 1e-2};
  int cv_folds = 4;
  int min_cv_samples = 8;
  // Cross-validation runs on at most max_cv_samples target points (a random subset).
  int max_cv_samples = 96;
  Status Validate() const;
};

// One task's data: features (n x d, the same columns for every task) and targets (log cost).
struct DkgpTask {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
};

// What the last Adapt did.
struct DkgpAdaptSummary {
  int num_samples = 0;            // target points in the model
  double prior_precision = 0;     // the precision used (0: no adaptation ran: zero-shot)
  std::vector<double> cv_scores;  // mean held-out log density per candidate; empty without CV
  bool refitted = false;          // false: Condition only (same parameters)
};

// Thread safety: Predict and the const methods may run concurrently after Pretrain; Pretrain,
// Adapt and Condition need exclusive access. Copyable (a value type: tuners copy a shared
// pretrained model and adapt their copy).
class DeepKernelGp {
 public:
  explicit DeepKernelGp(DkgpOptions options = {});

  // Fits the shared parameters on every source task with at least 2 points (targets
  // standardized per task; inputs standardized with the statistics of all sources, kept for
  // the target). InvalidArgument when no task is usable or the columns differ.
  Status Pretrain(const std::vector<DkgpTask>& sources);

  // MAP adaptation to the target's data (any n >= 0; n == 0 returns to the pretrained model).
  // Re-chooses the prior precision by cross-validation, then fits. requires: Pretrain.
  Status Adapt(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Keeps the adapted parameters and the target's standardization and conditions the GP on
  // (x, y) (one factorization): the cheap update between Adapt calls. requires: Pretrain.
  Status Condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);

  // Predictive mean and variance of the latent function. With target data: in the units of the
  // target's y. Without (zero-shot): in standardized units (only the order is meaningful).
  Prediction Predict(const Eigen::MatrixXd& x) const;

  // The log objective of `params` on `tasks` (raw features, scaled with the model's input
  // scaling; targets standardized per task inside): the sum of the tasks' log marginal
  // likelihoods plus a Gaussian prior N(center, 1/precision) on the network and mean-head
  // weights and weak priors on the hyperparameters. Fills `gradient` (the layout of params)
  // when non-null. For gradient checks and diagnostics. requires: the input scaling is set.
  double LogObjective(const std::vector<DkgpTask>& tasks, const Eigen::VectorXd& params,
                      const Eigen::VectorXd& center, double precision,
                      Eigen::VectorXd* gradient) const;

  // The learned feature map of raw inputs (n x feature_dim).
  Eigen::MatrixXd Features(const Eigen::MatrixXd& x) const;
  // The mean function without the target's data: the mean head plus the sources' posterior
  // residual, in Predict's units.
  Eigen::VectorXd PriorMean(const Eigen::MatrixXd& x) const;
  // The sources' posterior residual (standardized units; zeros without source_residual): their
  // weighted average (SetSourceWeights; equal weights after Pretrain).
  Eigen::VectorXd SourceResidual(const Eigen::MatrixXd& x) const;
  // Each source's residual (n x num_sources(), standardized units).
  Eigen::MatrixXd SourceResiduals(const Eigen::MatrixXd& x) const;
  // Each source's own zero-shot view (n x num_sources(), standardized units): the pretrained
  // mean head plus that source's posterior residual. Tuners rank them on the target's data to
  // weight the sources. requires: Pretrain with source_residual.
  Eigen::MatrixXd SourcePriorMeans(const Eigen::MatrixXd& x) const;
  int num_sources() const { return static_cast<int>(source_z_.size()); }
  // Weights of the sources' residuals in the mean function (normalized here; each >= 0, sum >
  // 0, one per source). Applies from the next Adapt or Condition on (PriorMean and Predict
  // use them at once). InvalidArgument on a wrong size or negative weights.
  Status SetSourceWeights(const std::vector<double>& weights);
  const std::vector<double>& source_weights() const { return source_weights_; }

  const Eigen::VectorXd& params() const { return params_; }
  const Eigen::VectorXd& pretrained_params() const { return pretrained_; }
  int num_params() const;
  bool pretrained() const { return pretrained_.size() > 0; }
  int num_samples() const { return static_cast<int>(y_.size()); }
  const DkgpAdaptSummary& adapt_summary() const { return adapt_; }
  const DkgpOptions& options() const { return options_; }
  // Wall seconds of Pretrain and its final mean log marginal likelihood per point.
  double pretrain_seconds() const { return pretrain_seconds_; }
  double pretrain_log_likelihood() const { return pretrain_lml_; }

  // Sets the parameters directly (tests); also makes them the pretrained centre when
  // `as_pretrained`. requires: size num_params() after the input dimension is known (Pretrain
  // or SetInputScaling).
  void SetParams(const Eigen::VectorXd& params, bool as_pretrained);
  // Input standardization (column means and scales) for a model that is not pretrained (tests,
  // training from scratch). Initializes the parameters from the seed.
  void SetInputScaling(const Eigen::RowVectorXd& mean, const Eigen::RowVectorXd& scale);

 private:
  Status FitTarget(const Eigen::MatrixXd& xs, const Eigen::VectorXd& ys, double precision,
                   Eigen::VectorXd* params) const;
  Status Factorize();

  DkgpOptions options_;
  int input_dim_ = 0;
  Eigen::RowVectorXd x_mean_, x_scale_;
  Eigen::VectorXd params_, pretrained_;
  // Target data (raw x, standardized y) and its factorization.
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;
  double y_mean_ = 0, y_scale_ = 1;
  bool has_target_scaling_ = false;
  Eigen::MatrixXd z_;     // features of x_
  Eigen::MatrixXd chol_;  // lower factor of the target kernel matrix
  Eigen::VectorXd alpha_;
  DkgpAdaptSummary adapt_;
  // Per source: pretrained features / lengthscale of its pretraining points and s2 K^-1 r.
  std::vector<Eigen::MatrixXd> source_z_;
  std::vector<Eigen::VectorXd> source_alpha_;
  std::vector<Eigen::RowVectorXd> source_task_;  // task_columns: each source's raw task columns
  std::vector<double> source_weights_;           // sum 1
  // exact_source_values: each source's standardized measurements by the bytes of their raw row.
  std::vector<std::unordered_map<std::string, double>> source_exact_;
  double pretrain_seconds_ = 0, pretrain_lml_ = 0;
};

}  // namespace sonar
