// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The one file that calls XGBoost's C API: every call's error code becomes a Status here.
// Training follows AutoTVM's XGBoostCostModel.fit (python/tvm/autotvm/tuner/
// xgboost_cost_model.py): shuffled rows, xgb.train with custom_callback early stopping on
// "a-recall@N" of the training set, maximised, stopping `stopping_rounds` after the best.
#include "surrogate/xgb_cost_model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/random.h"

namespace sonar {
namespace {

using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Status XgbError(const char* what) {
  return InternalError(std::string("XGBoost ") + what + " failed: " + XGBGetLastError());
}

// Owns a DMatrixHandle.
class DMatrix {
 public:
  DMatrix() = default;
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// Rows `rows` of x as a dense float matrix, with labels and optional base margins.
Status MakeDMatrix(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                   const Eigen::VectorXd* base_margin, const std::vector<Eigen::Index>& rows,
                   DMatrix* out) {
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  RowMajorXf data(n, x.cols());
  std::vector<float> label(rows.size()), margin;
  for (Eigen::Index i = 0; i < n; ++i) {
    data.row(i) = x.row(rows[i]).cast<float>();
    label[i] = static_cast<float>(y[rows[i]]);
    if (base_margin != nullptr) margin.push_back(static_cast<float>((*base_margin)[rows[i]]));
  }
  if (XGDMatrixCreateFromMat(data.data(), static_cast<bst_ulong>(n),
                             static_cast<bst_ulong>(x.cols()), std::nanf(""), out->out()) != 0) {
    return XgbError("XGDMatrixCreateFromMat");
  }
  if (XGDMatrixSetFloatInfo(out->get(), "label", label.data(), static_cast<bst_ulong>(n)) != 0) {
    return XgbError("XGDMatrixSetFloatInfo(label)");
  }
  if (base_margin != nullptr && XGDMatrixSetFloatInfo(out->get(), "base_margin", margin.data(),
                                                      static_cast<bst_ulong>(n)) != 0) {
    return XgbError("XGDMatrixSetFloatInfo(base_margin)");
  }
  return OkStatus();
}

std::string FormatDouble(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", v);
  return buffer;
}

}  // namespace

Status XgbOptions::Validate() const {
  if (objective.empty()) return InvalidArgumentError("XgbOptions::objective must not be empty");
  if (max_depth < 1) return InvalidArgumentError("XgbOptions::max_depth must be >= 1");
  if (!(gamma >= 0)) return InvalidArgumentError("XgbOptions::gamma must be >= 0");
  if (!(min_child_weight >= 0)) {
    return InvalidArgumentError("XgbOptions::min_child_weight must be >= 0");
  }
  if (!(subsample > 0 && subsample <= 1)) {
    return InvalidArgumentError("XgbOptions::subsample must be in (0, 1]");
  }
  if (!(eta > 0 && eta <= 1)) return InvalidArgumentError("XgbOptions::eta must be in (0, 1]");
  if (!(lambda >= 0) || !(alpha >= 0)) {
    return InvalidArgumentError("XgbOptions: lambda and alpha must be >= 0");
  }
  if (!std::isfinite(base_score)) {
    return InvalidArgumentError("XgbOptions::base_score must be finite");
  }
  if (tree_method.empty()) {
    return InvalidArgumentError("XgbOptions::tree_method must not be empty");
  }
  if (nthread < 0) return InvalidArgumentError("XgbOptions::nthread must be >= 0");
  if (num_boost_round < 1) return InvalidArgumentError("XgbOptions::num_boost_round must be >= 1");
  if (early_stopping_rounds < 1) {
    return InvalidArgumentError("XgbOptions::early_stopping_rounds must be >= 1");
  }
  if (recall_at < 1) return InvalidArgumentError("XgbOptions::recall_at must be >= 1");
  if (!(validation_fraction >= 0 && validation_fraction <= 0.9)) {
    return InvalidArgumentError("XgbOptions::validation_fraction must be in [0, 0.9]");
  }
  return OkStatus();
}

double AverageRecallAtN(const Eigen::VectorXd& score, const Eigen::VectorXd& label, int n) {
  SONAR_CHECK(score.size() == label.size())
      << "AverageRecallAtN: " << score.size() << " scores for " << label.size() << " labels";
  const Eigen::Index m = score.size();
  if (m == 0 || n < 1) return 0.0;
  const Eigen::Index top = std::min<Eigen::Index>(n, m);
  // True rank of each row: 0 for the largest label (ties broken by row order: deterministic).
  std::vector<Eigen::Index> by_label(static_cast<size_t>(m));
  std::iota(by_label.begin(), by_label.end(), Eigen::Index{0});
  std::stable_sort(by_label.begin(), by_label.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return label[a] > label[b]; });
  std::vector<Eigen::Index> rank(static_cast<size_t>(m));
  for (Eigen::Index r = 0; r < m; ++r) rank[static_cast<size_t>(by_label[r])] = r;
  // Trial order: descending score.
  std::vector<Eigen::Index> trials(static_cast<size_t>(m));
  std::iota(trials.begin(), trials.end(), Eigen::Index{0});
  std::stable_sort(trials.begin(), trials.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return score[a] > score[b]; });
  // curve[i] = |{j < i : rank[trials[j]] <= i}| / (i + 1), as AutoTVM's recall_curve.
  double sum = 0;
  for (Eigen::Index i = 0; i < top; ++i) {
    int hits = 0;
    for (Eigen::Index j = 0; j < i; ++j) hits += rank[static_cast<size_t>(trials[j])] <= i;
    sum += static_cast<double>(hits) / static_cast<double>(i + 1);
  }
  return sum / static_cast<double>(top);
}

struct XgbCostModel::Impl {
  ~Impl() {
    if (booster != nullptr) XGBoosterFree(booster);
  }
  BoosterHandle booster = nullptr;
  int num_features = 0;
  int num_rounds = 0;
  int best_round = 0;
  double best_score = 0;
  bool with_base_margin = false;
};

XgbCostModel::XgbCostModel(const XgbOptions& options)
    : options_(options), impl_(std::make_unique<Impl>()) {
  const Status status = options.Validate();
  SONAR_CHECK(status.ok()) << status.ToString();
}

XgbCostModel::~XgbCostModel() = default;
XgbCostModel::XgbCostModel(XgbCostModel&& other) noexcept = default;
XgbCostModel& XgbCostModel::operator=(XgbCostModel&& other) noexcept = default;

bool XgbCostModel::fitted() const { return impl_ != nullptr && impl_->booster != nullptr; }
int XgbCostModel::num_features() const { return impl_ ? impl_->num_features : 0; }
int XgbCostModel::num_rounds() const { return impl_ ? impl_->num_rounds : 0; }
int XgbCostModel::best_round() const { return impl_ ? impl_->best_round : 0; }
double XgbCostModel::best_score() const { return impl_ ? impl_->best_score : 0; }

Status XgbCostModel::Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                         const Eigen::VectorXd* base_margin) {
  const Eigen::Index n = x.rows();
  if (n == 0) return InvalidArgumentError("XgbCostModel::Fit needs at least one row");
  if (x.cols() == 0) return InvalidArgumentError("XgbCostModel::Fit needs at least one feature");
  if (y.size() != n) {
    return InvalidArgumentError("XgbCostModel::Fit: " + std::to_string(y.size()) + " targets for " +
                                std::to_string(n) + " rows");
  }
  if (base_margin != nullptr && base_margin->size() != n) {
    return InvalidArgumentError("XgbCostModel::Fit: " + std::to_string(base_margin->size()) +
                                " base margins for " + std::to_string(n) + " rows");
  }
  if (!x.allFinite() || !y.allFinite() || (base_margin != nullptr && !base_margin->allFinite())) {
    return InvalidArgumentError("XgbCostModel::Fit: features, targets and margins must be finite");
  }
  if (!impl_) impl_ = std::make_unique<Impl>();
  if (impl_->booster != nullptr) {
    XGBoosterFree(impl_->booster);
    impl_->booster = nullptr;
  }
  impl_->num_rounds = 0;
  impl_->best_round = 0;
  impl_->best_score = 0;

  // Shuffle (AutoTVM: np.random.permutation) and split off the early-stopping rows.
  std::vector<Eigen::Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  Rng rng = MakeRng(options_.seed, 0x5867);
  for (Eigen::Index i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(UniformInt(rng, 0, i))]);
  }
  Eigen::Index num_valid = 0;
  if (options_.validation_fraction > 0 && n >= 2) {
    num_valid = std::clamp<Eigen::Index>(
        static_cast<Eigen::Index>(std::floor(options_.validation_fraction * n)), 1, n - 1);
  }
  std::vector<Eigen::Index> train_rows(order.begin() + num_valid, order.end());
  std::vector<Eigen::Index> valid_rows(order.begin(), order.begin() + num_valid);

  DMatrix dtrain, dvalid;
  SONAR_RETURN_IF_ERROR(MakeDMatrix(x, y, base_margin, train_rows, &dtrain));
  const bool held_out = num_valid > 0;
  if (held_out) SONAR_RETURN_IF_ERROR(MakeDMatrix(x, y, base_margin, valid_rows, &dvalid));
  const std::vector<Eigen::Index>& eval_rows = held_out ? valid_rows : train_rows;
  Eigen::VectorXd eval_label(static_cast<Eigen::Index>(eval_rows.size()));
  for (size_t i = 0; i < eval_rows.size(); ++i) {
    eval_label[static_cast<Eigen::Index>(i)] = y[eval_rows[i]];
  }

  DMatrixHandle cache[2] = {dtrain.get(), dvalid.get()};
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(cache, held_out ? 2 : 1, &booster) != 0) {
    return XgbError("XGBoosterCreate");
  }
  impl_->booster = booster;
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", options_.objective},
      {"max_depth", std::to_string(options_.max_depth)},
      {"gamma", FormatDouble(options_.gamma)},
      {"min_child_weight", FormatDouble(options_.min_child_weight)},
      {"subsample", FormatDouble(options_.subsample)},
      {"eta", FormatDouble(options_.eta)},
      {"lambda", FormatDouble(options_.lambda)},
      {"alpha", FormatDouble(options_.alpha)},
      {"base_score", FormatDouble(options_.base_score)},
      {"tree_method", options_.tree_method},
      {"nthread", std::to_string(options_.nthread)},
      {"seed", std::to_string(options_.seed & 0x7fffffffULL)},
      {"verbosity", "0"},
  };
  for (const auto& [key, value] : params) {
    if (XGBoosterSetParam(booster, key.c_str(), value.c_str()) != 0) {
      return XgbError(("XGBoosterSetParam(" + key + "=" + value + ")").c_str());
    }
  }

  const char* kPredictConfig =
      R"({"type": 1, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
      R"( "strict_shape": false})";
  double best = -std::numeric_limits<double>::infinity();
  int best_round = 0;
  Eigen::VectorXd eval_score(eval_label.size());
  for (int round = 0; round < options_.num_boost_round; ++round) {
    if (XGBoosterUpdateOneIter(booster, round, dtrain.get()) != 0) {
      return XgbError("XGBoosterUpdateOneIter");
    }
    impl_->num_rounds = round + 1;
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDMatrix(booster, held_out ? dvalid.get() : dtrain.get(), kPredictConfig,
                                    &shape, &dim, &result) != 0) {
      return XgbError("XGBoosterPredictFromDMatrix");
    }
    for (Eigen::Index i = 0; i < eval_score.size(); ++i) eval_score[i] = result[i];
    const double score = AverageRecallAtN(eval_score, eval_label, options_.recall_at);
    if (score > best) {
      best = score;
      best_round = round;
    } else if (round - best_round >= options_.early_stopping_rounds) {
      break;
    }
  }
  impl_->best_round = best_round;
  impl_->best_score = best;
  impl_->num_features = static_cast<int>(x.cols());
  impl_->with_base_margin = base_margin != nullptr;
  return OkStatus();
}

StatusOr<Eigen::VectorXd> XgbCostModel::Predict(const Eigen::MatrixXd& x,
                                                const Eigen::VectorXd* base_margin) const {
  SONAR_CHECK(fitted()) << "XgbCostModel::Predict called before a successful Fit";
  SONAR_CHECK(x.cols() == impl_->num_features) << "XgbCostModel::Predict: rows have " << x.cols()
                                               << " features, the model " << impl_->num_features;
  SONAR_CHECK(base_margin == nullptr || base_margin->size() == x.rows())
      << "XgbCostModel::Predict: " << base_margin->size() << " base margins for " << x.rows()
      << " rows";
  const Eigen::Index m = x.rows();
  Eigen::VectorXd out(m);
  if (m == 0) return out;
  const RowMajorXf data = x.cast<float>();
  char array[256];
  std::snprintf(array, sizeof(array),
                R"({"data": [%llu, true], "shape": [%lld, %lld], "typestr": "<f4", "version": 3})",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data.data())),
                static_cast<long long>(m), static_cast<long long>(x.cols()));
  const int end = options_.truncate_to_best_round ? impl_->best_round + 1 : 0;
  const std::string config =
      R"({"type": 1, "training": false, "iteration_begin": 0, "iteration_end": )" +
      std::to_string(end) + R"(, "strict_shape": false, "cache_id": 0, "missing": NaN})";
  // Base margins travel in a proxy DMatrix that carries only meta information.
  DMatrix proxy;
  if (base_margin != nullptr) {
    if (XGProxyDMatrixCreate(proxy.out()) != 0) return XgbError("XGProxyDMatrixCreate");
    const std::vector<float> as_float(base_margin->data(), base_margin->data() + m);
    if (XGDMatrixSetFloatInfo(proxy.get(), "base_margin", as_float.data(),
                              static_cast<bst_ulong>(m)) != 0) {
      return XgbError("XGDMatrixSetFloatInfo(base_margin)");
    }
  }
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(impl_->booster, array, config.c_str(),
                                base_margin != nullptr ? proxy.get() : nullptr, &shape, &dim,
                                &result) != 0) {
    return XgbError("XGBoosterPredictFromDense");
  }
  for (Eigen::Index i = 0; i < m; ++i) out[i] = result[i];
  return out;
}

}  // namespace sonar
