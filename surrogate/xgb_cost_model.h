// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: XgbCostModel, a gradient-boosted-tree cost model over config features
// (AutoTVM's XGBoostCostModel), and XgbOptions, its training parameters. It wraps XGBoost's C
// API, which only xgb_cost_model.cc includes. By default it trains AutoTVM's ranking model: the
// "rank:pairwise" objective on targets y in [0, 1] (normalised throughput, 0 for failed configs;
// larger is better), rounds added until the average recall of the top `recall_at` configs
// (AutoTVM's "a-recall@N" metric) has not improved for `early_stopping_rounds` rounds. Predict
// returns raw scores (margins): only their order means something for a ranking objective.
// Transfer (AutoTVM's load_history) passes the scores of a base model as `base_margin` to both
// Fit and Predict.
//
// Example:
//   XgbOptions options;
//   options.seed = 7;
//   XgbCostModel model(options);
//   SONAR_RETURN_IF_ERROR(model.Fit(x_train, y_train));          // n x d, n
//   SONAR_ASSIGN_OR_RETURN(Eigen::VectorXd score, model.Predict(x_test));  // m scores
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace sonar {

// Training parameters. Defaults are AutoTVM's XGBoostCostModel with loss_type "rank".
// Thread safety: value type.
struct XgbOptions {
  // XGBoost objective: "rank:pairwise" (AutoTVM "rank", the default), "reg:squarederror"
  // (AutoTVM "reg") or any other objective XGBoost 1.7 accepts.
  std::string objective = "rank:pairwise";
  int max_depth = 3;              // tree depth, >= 1
  double gamma = 0.0001;          // minimum loss reduction to split, >= 0
  double min_child_weight = 1.0;  // minimum hessian in a leaf, >= 0
  double subsample = 1.0;         // row share per tree, in (0, 1]; 1 keeps training deterministic
  double eta = 0.3;               // learning rate, in (0, 1]
  double lambda = 1.0;            // L2 regularisation of leaf weights, >= 0
  double alpha = 0.0;             // L1 regularisation of leaf weights, >= 0
  // Score every prediction starts from when no base margin is given (XGBoost's default 0.5).
  double base_score = 0.5;
  // XGBoost's tree_method: "exact" (deterministic, fast for the few thousand rows a tuner has),
  // "hist" or "approx" for large transfer sets, "auto" to let XGBoost choose.
  std::string tree_method = "exact";
  // Threads XGBoost uses for training and prediction; 0 = all cores. 1 by default: tuners fit
  // small models, and comparisons run one tuner per core.
  int nthread = 1;
  uint64_t seed = 0;  // XGBoost's seed (pair sampling of rank:pairwise, subsampling)

  // Boosting rounds: at most num_boost_round; training stops once the early-stopping metric
  // has not improved for early_stopping_rounds rounds (AutoTVM: 8000 and 20 for the tuning
  // model, 400 and 100 for the transfer base model).
  int num_boost_round = 8000;
  int early_stopping_rounds = 20;
  // N of the early-stopping metric a-recall@N: the mean over n < N of the share of the model's
  // top-n configs that are among the true top-n (AutoTVM uses plan_size, 2 * plan_size for the
  // base model). >= 1.
  int recall_at = 64;
  // Share of rows held out for early stopping, in [0, 0.9]. 0 (AutoTVM) evaluates the metric on
  // the training rows. The held-out rows are drawn with `seed` and are not trained on.
  double validation_fraction = 0.0;
  // Predict with the trees up to the best early-stopping round only (true), or with every tree
  // trained, including the early_stopping_rounds after the best (false, as AutoTVM).
  bool truncate_to_best_round = false;

  Status Validate() const;
};

// A boosted-tree model of config quality: Fit(X, y) then Predict(X).
// Thread safety: Fit is thread-compatible; Predict is const and safe to call concurrently after
// Fit (XGBoost's in-place prediction is thread safe).
class XgbCostModel {
 public:
  // requires: options.Validate().ok() (checked: SONAR_CHECK).
  explicit XgbCostModel(const XgbOptions& options = XgbOptions());
  ~XgbCostModel();
  XgbCostModel(XgbCostModel&& other) noexcept;
  XgbCostModel& operator=(XgbCostModel&& other) noexcept;
  XgbCostModel(const XgbCostModel&) = delete;
  XgbCostModel& operator=(const XgbCostModel&) = delete;

  // Trains a new model (replacing any previous one) on x (n x d, one row per config) and y (n
  // targets; larger is better; AutoTVM passes throughput normalised to a maximum of 1 and 0 for
  // failed configs). `base_margin`, when not null, holds n scores every tree is added to (the
  // transfer prior); Predict must then be given the base margins of its rows too. Rows are
  // shuffled with options.seed before training, as AutoTVM does. Same options, same data: same
  // model. Returns InvalidArgument for n == 0, mismatched sizes or non-finite values, and
  // Internal for an XGBoost error (its message included).
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
             const Eigen::VectorXd* base_margin = nullptr);

  // Raw scores (margins) of the rows of x (m x d): with a ranking objective only their order
  // means something. `base_margin` (m values, or null for none) replaces base_score for each
  // row, as in Fit. requires: fitted() and x.cols() == num_features() (checked). Returns
  // Internal for an XGBoost error.
  StatusOr<Eigen::VectorXd> Predict(const Eigen::MatrixXd& x,
                                    const Eigen::VectorXd* base_margin = nullptr) const;

  bool fitted() const;
  int num_features() const;   // d of the last Fit; 0 before
  int num_rounds() const;     // boosting rounds trained by the last Fit (one tree each)
  int best_round() const;     // 0-based round with the best early-stopping metric
  double best_score() const;  // that metric's value (a-recall@N in [0, 1])
  const XgbOptions& options() const { return options_; }

 private:
  struct Impl;
  XgbOptions options_;
  std::unique_ptr<Impl> impl_;
};

// AutoTVM's "a-recall@N" (xgb_average_recalln_curve_score): with the rows ordered by descending
// `score`, the mean over i < N of |{j < i : true rank of row j <= i}| / (i + 1), where true
// ranks come from descending `label` (0 = best). N is capped at the row count. Returns 0 for no
// rows. requires: score.size() == label.size().
double AverageRecallAtN(const Eigen::VectorXd& score, const Eigen::VectorXd& label, int n);

}  // namespace sonar
