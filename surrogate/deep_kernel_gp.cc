// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// DeepKernelGp (see deep_kernel_gp.h). The gradient of one task's log marginal likelihood
// L = -1/2 r' K^-1 r - 1/2 log|K| - n/2 log 2 pi, with r = y - mu(z) and K = s2 k(z) + noise I:
//   G = 1/2 (alpha alpha' - K^-1), alpha = K^-1 r;
//   dL/dmu_i = alpha_i;  dL/dlog s2 = sum(G o s2 k);  dL/dlog noise = trace(G) exp(log noise);
//   dL/dz_i = 2 s2 sum_j G_ij q_ij (z_i - z_j), where dk(z_i, z_j)/dz_i = q_ij (z_i - z_j);
// then back through the mean head and the network (tanh layers) by the chain rule.
#include "surrogate/deep_kernel_gp.h"

#include <ceres/gradient_problem.h>
#include <ceres/gradient_problem_solver.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/check.h"
#include "common/random.h"
#include "common/statistics.h"

namespace sonar {
namespace {

// The exact bytes of a feature row (exact_source_values' key; -0.0 and 0.0 are made equal).
std::string RowKey(const Eigen::Ref<const Eigen::RowVectorXd>& row) {
  std::string key(static_cast<size_t>(row.size()) * sizeof(double), '\0');
  for (Eigen::Index j = 0; j < row.size(); ++j) {
    const double v = row(j) == 0.0 ? 0.0 : row(j);
    std::memcpy(key.data() + static_cast<size_t>(j) * sizeof(double), &v, sizeof(double));
  }
  return key;
}

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kLog2Pi = 1.8378770664093453;
constexpr double kSqrt5 = 2.23606797749979;
constexpr double kMinNoise = 1e-6;
// Weak priors on the hyperparameters (standardized targets): log signal variance ~ N(0, 1.5^2),
// log noise variance ~ N(-3, 2^2), mean-head bias ~ N(0, 1).
constexpr double kSignalPriorMean = 0.0, kSignalPriorSd = 1.5;
constexpr double kNoisePriorMean = -3.0, kNoisePriorSd = 2.0;
constexpr double kBiasPriorSd = 1.0;
constexpr double kLengthscalePriorSd = 1.0;  // log lengthscale of the kernel on the features

// Where each part of the parameter vector starts.
struct Layout {
  std::vector<int> dims;    // input, hidden..., feature
  std::vector<Index> w, b;  // offsets of each layer's weights and bias
  Index head = 0;           // mean-head weights (feature_dim), then its bias
  Index head_bias = 0;
  Index log_signal = 0, log_noise = 0, log_lengthscale = 0;
  Index size = 0;
  Index num_weights =
      0;  // params before log_signal that carry the weight prior (head bias excluded)

  Layout(int input_dim, const DkgpOptions& o) {
    dims.push_back(input_dim);
    for (int h : o.hidden) dims.push_back(h);
    dims.push_back(o.feature_dim);
    Index at = 0;
    for (size_t l = 0; l + 1 < dims.size(); ++l) {
      w.push_back(at);
      at += static_cast<Index>(dims[l + 1]) * dims[l];
      b.push_back(at);
      at += dims[l + 1];
    }
    head = at;
    at += o.feature_dim;
    head_bias = at++;
    log_signal = at++;
    log_noise = at++;
    log_lengthscale = at++;
    size = at;
  }
  int layers() const { return static_cast<int>(dims.size()) - 1; }
};

// Activations of the network on n rows, kept for backpropagation.
struct Forward {
  std::vector<MatrixXd> a;  // a[0] = input, a[l+1] = output of layer l (n x dims[l+1])
};

void RunNetwork(const Layout& lay, const VectorXd& p, const MatrixXd& x, Forward* f) {
  f->a.resize(static_cast<size_t>(lay.layers()) + 1);
  f->a[0] = x;
  for (int l = 0; l < lay.layers(); ++l) {
    const Eigen::Map<const MatrixXd> w(p.data() + lay.w[l], lay.dims[l + 1], lay.dims[l]);
    const Eigen::Map<const VectorXd> b(p.data() + lay.b[l], lay.dims[l + 1]);
    MatrixXd h = f->a[l] * w.transpose();
    h.rowwise() += b.transpose();
    if (l + 1 < lay.layers()) h = h.array().tanh().matrix();
    f->a[l + 1] = std::move(h);
  }
}

// Adds the gradient of the inputs' contribution dL/dz (n x feature) to the layer parameters.
void Backpropagate(const Layout& lay, const VectorXd& p, const Forward& f, MatrixXd dz,
                   VectorXd* grad) {
  for (int l = lay.layers() - 1; l >= 0; --l) {
    if (l + 1 < lay.layers()) {  // through tanh: a = tanh(h), da/dh = 1 - a^2
      dz = (dz.array() * (1.0 - f.a[l + 1].array().square())).matrix();
    }
    Eigen::Map<MatrixXd> gw(grad->data() + lay.w[l], lay.dims[l + 1], lay.dims[l]);
    Eigen::Map<VectorXd> gb(grad->data() + lay.b[l], lay.dims[l + 1]);
    gw.noalias() += dz.transpose() * f.a[l];
    gb += dz.colwise().sum().transpose();
    if (l > 0) {
      const Eigen::Map<const MatrixXd> w(p.data() + lay.w[l], lay.dims[l + 1], lay.dims[l]);
      dz = dz * w;
    }
  }
}

// Kernel values k(r) and the factor q(r) with dk/dz_i = q (z_i - z_j), unit lengthscale.
void KernelAndSlope(GpKernel kernel, const MatrixXd& z, MatrixXd* k, MatrixXd* q) {
  const Index n = z.rows();
  const VectorXd sq = z.rowwise().squaredNorm();
  MatrixXd d2 = -2.0 * z * z.transpose();
  d2.colwise() += sq;
  d2.rowwise() += sq.transpose();
  k->resize(n, n);
  if (q != nullptr) q->resize(n, n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < n; ++i) {
      const double r2 = std::max(d2(i, j), 0.0);
      if (kernel == GpKernel::kRbf) {
        const double e = std::exp(-0.5 * r2);
        (*k)(i, j) = e;
        if (q != nullptr) (*q)(i, j) = -e;
      } else {
        const double r = std::sqrt(r2);
        const double e = std::exp(-kSqrt5 * r);
        (*k)(i, j) = (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * e;
        if (q != nullptr) (*q)(i, j) = -5.0 / 3.0 * (1.0 + kSqrt5 * r) * e;
      }
    }
  }
}

MatrixXd CrossKernel(GpKernel kernel, const MatrixXd& a, const MatrixXd& b) {
  MatrixXd d2 = -2.0 * a * b.transpose();
  d2.colwise() += a.rowwise().squaredNorm();
  d2.rowwise() += b.rowwise().squaredNorm().transpose();
  MatrixXd k(a.rows(), b.rows());
  for (Index j = 0; j < k.cols(); ++j) {
    for (Index i = 0; i < k.rows(); ++i) {
      const double r2 = std::max(d2(i, j), 0.0);
      if (kernel == GpKernel::kRbf) {
        k(i, j) = std::exp(-0.5 * r2);
      } else {
        const double r = std::sqrt(r2);
        k(i, j) = (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * std::exp(-kSqrt5 * r);
      }
    }
  }
  return k;
}

double NoiseVariance(double log_noise) { return std::exp(log_noise) + kMinNoise; }

// Lower Cholesky factor of s2 k + noise I with escalating jitter; false when impossible.
bool Factor(MatrixXd kk, MatrixXd* l) {
  const double mean_diag = kk.diagonal().mean();
  double jitter = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (jitter > 0) kk.diagonal().array() += jitter;
    Eigen::LLT<MatrixXd> llt(kk);
    if (llt.info() == Eigen::Success) {
      *l = llt.matrixL();
      return true;
    }
    jitter = jitter == 0 ? 1e-8 * mean_diag : jitter * 10;
  }
  return false;
}

// One task's log marginal likelihood; adds its gradient to *grad (when non-null) given the
// network activations `f` of the task's (standardized) inputs.
double TaskLml(GpKernel kernel, double zero_shot_weight, const Layout& lay, const VectorXd& p,
               const Forward& f, const VectorXd& y, VectorXd* grad) {
  const MatrixXd& z = f.a.back();
  const Index n = z.rows();
  const double ell = std::exp(p(lay.log_lengthscale));
  const MatrixXd zk = z / ell;  // the kernel sees the features over the lengthscale
  const double s2 = std::exp(p(lay.log_signal));
  const double noise = NoiseVariance(p(lay.log_noise));
  const Eigen::Map<const VectorXd> head(p.data() + lay.head, z.cols());
  const VectorXd r = y - (z * head).array().matrix() - VectorXd::Constant(n, p(lay.head_bias));
  MatrixXd k, q;
  KernelAndSlope(kernel, zk, &k, grad != nullptr ? &q : nullptr);
  MatrixXd kk = s2 * k;
  kk.diagonal().array() += noise;
  MatrixXd l;
  if (!Factor(kk, &l)) return -std::numeric_limits<double>::infinity();
  const auto tri = l.triangularView<Eigen::Lower>();
  const auto tri_t = l.transpose().triangularView<Eigen::Upper>();
  VectorXd alpha = tri.solve(r);
  alpha = tri_t.solve(alpha);
  double lml = -0.5 * r.dot(alpha) - l.diagonal().array().log().sum() - 0.5 * n * kLog2Pi;
  // The zero-shot term: the same points under the prior predictive alone (mean head, variance
  // s2 + noise, no conditioning), weighted. It makes the mean head carry what the tasks share.
  const double v = s2 + noise;
  const double w = zero_shot_weight;
  lml += -0.5 * w * (n * (kLog2Pi + std::log(v)) + r.squaredNorm() / v);
  if (grad == nullptr) return lml;
  const double dv = w * (-0.5 * n / v + 0.5 * r.squaredNorm() / (v * v));
  (*grad)(lay.log_signal) += dv * s2;
  (*grad)(lay.log_noise) += dv * (noise - kMinNoise);
  const VectorXd dmu = alpha + (w / v) * r;  // dL/dmu: conditional plus zero-shot part
  MatrixXd kinv = MatrixXd::Identity(n, n);
  tri.solveInPlace(kinv);
  tri_t.solveInPlace(kinv);
  const MatrixXd g = 0.5 * (alpha * alpha.transpose() - kinv);
  (*grad)(lay.log_signal) += (g.array() * k.array()).sum() * s2;
  (*grad)(lay.log_noise) += g.trace() * (noise - kMinNoise);
  // Mean head.
  Eigen::Map<VectorXd>(grad->data() + lay.head, z.cols()) += z.transpose() * dmu;
  (*grad)(lay.head_bias) += dmu.sum();
  // Features: kernel part 2 s2 (diag(P 1) z - P z) with P = G o q, plus the mean part.
  const MatrixXd pm = (g.array() * q.array()).matrix();
  const MatrixXd dzk = 2.0 * s2 * (pm.rowwise().sum().asDiagonal() * zk - pm * zk);
  (*grad)(lay.log_lengthscale) -= (dzk.array() * zk.array()).sum();
  MatrixXd dz = dzk / ell;
  dz += dmu * head.transpose();
  Backpropagate(lay, p, f, std::move(dz), grad);
  return lml;
}

// A task prepared for the objective: scaled inputs and standardized targets.
struct PreparedTask {
  MatrixXd x;
  VectorXd y;
};

// Sum of task log marginal likelihoods plus the priors; the gradient when non-null.
double Objective(const DkgpOptions& o, const Layout& lay, const std::vector<PreparedTask>& tasks,
                 const VectorXd& p, const VectorXd& center, double precision, VectorXd* grad) {
  if (grad != nullptr) *grad = VectorXd::Zero(p.size());
  if (std::abs(p(lay.log_signal)) > 20 || std::abs(p(lay.log_noise)) > 20 ||
      std::abs(p(lay.log_lengthscale)) > 20) {
    return -std::numeric_limits<double>::infinity();
  }
  double total = 0;
  Forward f;
  for (const PreparedTask& t : tasks) {
    RunNetwork(lay, p, t.x, &f);
    const double lml = TaskLml(o.kernel, o.zero_shot_weight, lay, p, f, t.y, grad);
    if (!std::isfinite(lml)) return -std::numeric_limits<double>::infinity();
    total += lml;
  }
  // Weight prior (network and mean-head weights): N(center, 1/precision).
  const Index nw = lay.head_bias;
  const VectorXd dw = p.head(nw) - center.head(nw);
  total += -0.5 * precision * dw.squaredNorm();
  if (grad != nullptr) grad->head(nw) -= precision * dw;
  auto normal = [&](Index i, double mu, double sd) {
    const double u = (p(i) - mu) / sd;
    total += -0.5 * u * u;
    if (grad != nullptr) (*grad)(i) -= u / sd;
  };
  normal(lay.head_bias, center(lay.head_bias), kBiasPriorSd);
  normal(lay.log_signal, kSignalPriorMean, kSignalPriorSd);
  normal(lay.log_noise, kNoisePriorMean, kNoisePriorSd);
  normal(lay.log_lengthscale, center(lay.log_lengthscale), kLengthscalePriorSd);
  return total;
}

class CeresObjective final : public ceres::FirstOrderFunction {
 public:
  CeresObjective(const DkgpOptions& o, const Layout& lay, const std::vector<PreparedTask>& tasks,
                 const VectorXd& center, double precision, double scale)
      : o_(o), lay_(lay), tasks_(tasks), center_(center), precision_(precision), scale_(scale) {}
  bool Evaluate(const double* parameters, double* cost, double* gradient) const override {
    const VectorXd p = Eigen::Map<const VectorXd>(parameters, lay_.size);
    VectorXd g;
    const double v = Objective(o_, lay_, tasks_, p, center_, precision_, gradient ? &g : nullptr);
    if (!std::isfinite(v)) return false;
    *cost = -v * scale_;
    if (gradient != nullptr) Eigen::Map<VectorXd>(gradient, lay_.size) = -g * scale_;
    return true;
  }
  int NumParameters() const override { return static_cast<int>(lay_.size); }

 private:
  const DkgpOptions& o_;
  const Layout& lay_;
  const std::vector<PreparedTask>& tasks_;
  const VectorXd& center_;
  double precision_;
  double scale_;
};

// L-BFGS from *p (updated in place). The objective is divided by the number of points.
void Maximize(const DkgpOptions& opts, const Layout& lay, const std::vector<PreparedTask>& tasks,
              const VectorXd& center, double precision, int iterations, VectorXd* p) {
  Index points = 0;
  for (const PreparedTask& t : tasks) points += t.y.size();
  ceres::GradientProblem problem(new CeresObjective(
      opts, lay, tasks, center, precision, 1.0 / static_cast<double>(std::max<Index>(1, points))));
  ceres::GradientProblemSolver::Options o;
  o.line_search_direction_type = ceres::LBFGS;
  o.max_num_iterations = iterations;
  o.function_tolerance = 1e-8;
  o.gradient_tolerance = 1e-9;
  o.logging_type = ceres::SILENT;
  ceres::GradientProblemSolver::Summary summary;
  VectorXd start = *p;
  ceres::Solve(o, problem, p->data(), &summary);
  if (!p->allFinite()) *p = start;
}

// At most k indices of y: the k/2 lowest (the region a minimizing tuner cares about), then a
// random subset of the others; in increasing order.
std::vector<Index> BestAndRandom(const VectorXd& y, Index k, Rng& rng) {
  const Index n = y.size();
  if (n <= k) return RandomSubset(n, k, rng);
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const Index best = k / 2;
  std::partial_sort(order.begin(), order.begin() + best, order.end(),
                    [&](Index a, Index b) { return y(a) < y(b) || (y(a) == y(b) && a < b); });
  std::vector<Index> rest(order.begin() + best, order.end());
  std::sort(rest.begin(), rest.end());
  std::vector<Index> out(order.begin(), order.begin() + best);
  for (Index i : RandomSubset(static_cast<Index>(rest.size()), k - best, rng))
    out.push_back(rest[static_cast<size_t>(i)]);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Status DkgpOptions::Validate() const {
  if (hidden.empty()) return InvalidArgumentError("DkgpOptions::hidden needs at least one layer");
  for (int h : hidden) {
    if (h < 1) return InvalidArgumentError("DkgpOptions::hidden widths must be >= 1");
  }
  if (feature_dim < 1) return InvalidArgumentError("DkgpOptions::feature_dim must be >= 1");
  if (pretrain_iterations < 1 || adapt_iterations < 1) {
    return InvalidArgumentError("DkgpOptions iterations must be >= 1");
  }
  if (max_samples_per_task < 2 || max_adapt_samples < 2 || max_exact_samples < 2 ||
      residual_samples_per_task < 2) {
    return InvalidArgumentError("DkgpOptions sample limits must be >= 2");
  }
  if (task_columns < 0) return InvalidArgumentError("DkgpOptions::task_columns must be >= 0");
  if (!(zero_shot_weight >= 0))
    return InvalidArgumentError("DkgpOptions::zero_shot_weight must be >= 0");
  if (!(weight_decay > 0)) return InvalidArgumentError("DkgpOptions::weight_decay must be > 0");
  if (prior_precisions.empty()) {
    return InvalidArgumentError("DkgpOptions::prior_precisions must not be empty");
  }
  for (double p : prior_precisions) {
    if (!(p > 0) || !std::isfinite(p)) {
      return InvalidArgumentError("DkgpOptions::prior_precisions must be finite and > 0");
    }
  }
  if (cv_folds < 2) return InvalidArgumentError("DkgpOptions::cv_folds must be >= 2");
  if (min_cv_samples < cv_folds) {
    return InvalidArgumentError("DkgpOptions::min_cv_samples must be >= cv_folds");
  }
  if (max_cv_samples < min_cv_samples) {
    return InvalidArgumentError("DkgpOptions::max_cv_samples must be >= min_cv_samples");
  }
  return OkStatus();
}

DeepKernelGp::DeepKernelGp(DkgpOptions options) : options_(std::move(options)) {}

int DeepKernelGp::num_params() const {
  return input_dim_ == 0 ? 0 : static_cast<int>(Layout(input_dim_, options_).size);
}

void DeepKernelGp::SetInputScaling(const Eigen::RowVectorXd& mean,
                                   const Eigen::RowVectorXd& scale) {
  input_dim_ = static_cast<int>(mean.size());
  x_mean_ = mean;
  x_scale_ = scale;
  const Layout lay(input_dim_, options_);
  Rng rng = MakeRng(options_.seed, 0x646b);
  params_ = VectorXd::Zero(lay.size);
  for (int l = 0; l < lay.layers(); ++l) {  // Glorot-uniform weights, zero biases
    const double a = std::sqrt(6.0 / (lay.dims[l] + lay.dims[l + 1]));
    const Index count = static_cast<Index>(lay.dims[l]) * lay.dims[l + 1];
    for (Index i = 0; i < count; ++i) params_(lay.w[l] + i) = a * (2.0 * UniformDouble(rng) - 1.0);
  }
  for (Index i = 0; i < options_.feature_dim; ++i) {
    params_(lay.head + i) = 0.1 * (2.0 * UniformDouble(rng) - 1.0);
  }
  params_(lay.log_signal) = 0.0;
  params_(lay.log_noise) = -2.0;
  params_(lay.log_lengthscale) = 0.0;
  pretrained_ = VectorXd();
}

void DeepKernelGp::SetParams(const VectorXd& params, bool as_pretrained) {
  params_ = params;
  if (as_pretrained) pretrained_ = params;
  has_target_scaling_ = false;
  x_.resize(0, input_dim_);
  y_.resize(0);
  (void)Factorize();
}

Status DeepKernelGp::Pretrain(const std::vector<DkgpTask>& sources) {
  SONAR_RETURN_IF_ERROR(options_.Validate());
  const auto start = std::chrono::steady_clock::now();
  Index d = -1, total = 0;
  for (const DkgpTask& t : sources) {
    if (t.x.rows() != t.y.size()) return InvalidArgumentError("DkgpTask: x rows != y size");
    if (t.y.size() < 2) continue;
    if (d >= 0 && t.x.cols() != d) return InvalidArgumentError("DkgpTask: tasks differ in columns");
    if (!t.x.allFinite() || !t.y.allFinite()) return InvalidArgumentError("DkgpTask: NaN or inf");
    d = t.x.cols();
    total += t.y.size();
  }
  if (d <= 0 || total == 0) return InvalidArgumentError("no source task with 2 or more points");
  if (options_.task_columns > d) {
    return InvalidArgumentError("DkgpOptions::task_columns exceeds the input's " +
                                std::to_string(d) + " columns");
  }
  for (const DkgpTask& t : sources) {  // a task's task columns are one row, repeated
    const Index tc = options_.task_columns;
    if (tc > 0 && t.y.size() >= 2 &&
        !(t.x.rightCols(tc).rowwise() - t.x.row(0).tail(tc)).isZero(0.0)) {
      return InvalidArgumentError("DkgpTask: the last " + std::to_string(tc) +
                                  " columns (task_columns) differ between rows of one task");
    }
  }
  // Input scaling from all source points.
  Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(d), sq = Eigen::RowVectorXd::Zero(d);
  for (const DkgpTask& t : sources) {
    if (t.y.size() < 2) continue;
    mean += t.x.colwise().sum();
    sq += t.x.array().square().matrix().colwise().sum();
  }
  mean /= static_cast<double>(total);
  Eigen::RowVectorXd scale = (sq / static_cast<double>(total) - mean.array().square().matrix())
                                 .array()
                                 .max(0.0)
                                 .sqrt()
                                 .matrix();
  for (Index j = 0; j < d; ++j) scale(j) = scale(j) > 1e-12 ? scale(j) : 1.0;
  SetInputScaling(mean, scale);

  Rng rng = MakeRng(options_.seed, 0x7072);
  std::vector<PreparedTask> tasks, residual_tasks;
  std::vector<std::unordered_map<std::string, double>> exact;
  std::vector<Eigen::RowVectorXd> task_rows;  // each task's raw task columns
  for (const DkgpTask& t : sources) {
    if (t.y.size() < 2) continue;
    task_rows.push_back(t.x.row(0).tail(options_.task_columns));
    const std::vector<Index> rows = BestAndRandom(t.y, options_.max_samples_per_task, rng);
    PreparedTask p;
    p.x =
        ((t.x(rows, Eigen::all).rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix();
    double m, s;
    Standardize(t.y, &m, &s);  // statistics of the whole task, applied to the subset
    p.y = ((t.y(rows).array() - m) / s).matrix();
    tasks.push_back(std::move(p));
    // The residual's points: the pretraining rows and random others.
    std::vector<Index> res = rows;
    const Index extra =
        std::max<Index>(0, std::min<Index>(options_.residual_samples_per_task, t.y.size()) -
                               static_cast<Index>(rows.size()));
    if (extra > 0) {
      std::vector<char> used(static_cast<size_t>(t.y.size()), 0);
      for (Index r : rows) used[static_cast<size_t>(r)] = 1;
      std::vector<Index> rest;
      for (Index r = 0; r < t.y.size(); ++r) {
        if (!used[static_cast<size_t>(r)]) rest.push_back(r);
      }
      for (Index i : RandomSubset(static_cast<Index>(rest.size()), extra, rng))
        res.push_back(rest[static_cast<size_t>(i)]);
    }
    PreparedTask q;
    q.x =
        ((t.x(res, Eigen::all).rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix();
    q.y = ((t.y(res).array() - m) / s).matrix();
    residual_tasks.push_back(std::move(q));
    exact.emplace_back();
    if (options_.exact_source_values) {
      for (Index r = 0; r < t.y.size(); ++r) exact.back()[RowKey(t.x.row(r))] = (t.y(r) - m) / s;
    }
  }
  const Layout lay(input_dim_, options_);
  const VectorXd zero = VectorXd::Zero(lay.size);
  VectorXd p = params_;
  Maximize(options_, lay, tasks, zero, options_.weight_decay, options_.pretrain_iterations, &p);
  Index points = 0;
  for (const PreparedTask& t : tasks) points += t.y.size();
  pretrain_lml_ = Objective(options_, lay, tasks, p, zero, options_.weight_decay, nullptr) /
                  static_cast<double>(points);
  SetParams(p, /*as_pretrained=*/true);
  adapt_ = DkgpAdaptSummary{};
  // Each source's posterior residual weights under the pretrained model (SourceResidual).
  source_z_.clear();
  source_alpha_.clear();
  source_exact_.clear();
  source_task_.clear();
  if (options_.source_residual) {
    const Eigen::Map<const VectorXd> head(p.data() + lay.head, options_.feature_dim);
    const double ell = std::exp(p(lay.log_lengthscale));
    const double s2 = std::exp(p(lay.log_signal));
    for (size_t task = 0; task < residual_tasks.size(); ++task) {
      const PreparedTask& t = residual_tasks[task];
      Forward f;
      RunNetwork(lay, p, t.x, &f);
      const MatrixXd z = f.a.back() / ell;
      MatrixXd k, l;
      KernelAndSlope(options_.kernel, z, &k, nullptr);
      MatrixXd kk = s2 * k;
      kk.diagonal().array() += NoiseVariance(p(lay.log_noise));
      if (!Factor(kk, &l)) continue;
      const VectorXd r = t.y - f.a.back() * head - VectorXd::Constant(t.y.size(), p(lay.head_bias));
      const auto tri = l.triangularView<Eigen::Lower>();
      const auto tri_t = l.transpose().triangularView<Eigen::Upper>();
      source_z_.push_back(z);
      source_alpha_.push_back(s2 * tri_t.solve(tri.solve(r)));
      source_exact_.push_back(std::move(exact[task]));
      source_task_.push_back(task_rows[task]);
    }
  }
  source_weights_.assign(source_z_.size(),
                         source_z_.empty() ? 0.0 : 1.0 / static_cast<double>(source_z_.size()));
  pretrain_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return OkStatus();
}

double DeepKernelGp::LogObjective(const std::vector<DkgpTask>& tasks, const VectorXd& params,
                                  const VectorXd& center, double precision,
                                  VectorXd* gradient) const {
  SONAR_CHECK(input_dim_ > 0) << "LogObjective needs the input scaling";
  std::vector<PreparedTask> prepared;
  for (const DkgpTask& t : tasks) {
    PreparedTask p;
    p.x = ((t.x.rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix();
    double m, s;
    p.y = Standardize(t.y, &m, &s);
    prepared.push_back(std::move(p));
  }
  return Objective(options_, Layout(input_dim_, options_), prepared, params, center, precision,
                   gradient);
}

MatrixXd DeepKernelGp::Features(const MatrixXd& x) const {
  const Layout lay(input_dim_, options_);
  Forward f;
  RunNetwork(lay, params_, ((x.rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix(),
             &f);
  return f.a.back();
}

MatrixXd DeepKernelGp::SourceResiduals(const MatrixXd& x) const {
  MatrixXd out = MatrixXd::Zero(x.rows(), static_cast<Index>(source_z_.size()));
  if (source_z_.empty() || x.rows() == 0) return out;
  const Layout lay(input_dim_, options_);
  const Eigen::Map<const VectorXd> head(pretrained_.data() + lay.head, options_.feature_dim);
  const double ell = std::exp(pretrained_(lay.log_lengthscale));
  // The network's features (over the lengthscale) and the rows' keys at some inputs; the head
  // only at the rows as given (exact values are taken against it).
  struct View {
    MatrixXd z;
    VectorXd head;
    std::vector<std::string> keys;  // only when a source keeps exact values
  };
  bool any_exact = false;
  for (const auto& e : source_exact_) any_exact = any_exact || !e.empty();
  auto view_of = [&](const MatrixXd& in, bool with_head) {
    View v;
    Forward f;
    RunNetwork(lay, pretrained_,
               ((in.rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix(), &f);
    v.z = f.a.back() / ell;
    if (any_exact) {
      if (with_head)
        v.head = f.a.back() * head + VectorXd::Constant(in.rows(), pretrained_(lay.head_bias));
      v.keys.reserve(static_cast<size_t>(in.rows()));
      for (Index i = 0; i < in.rows(); ++i) v.keys.push_back(RowKey(in.row(i)));
    }
    return v;
  };
  const Index tc = options_.task_columns;
  std::optional<View> at_x;  // the rows as given: sources whose task columns they already hold
  MatrixXd xt;
  for (size_t t = 0; t < source_z_.size(); ++t) {
    // The config at the source's own task (task_columns); no copy where the rows hold it already.
    const bool substitute = tc > 0 && !(x.rightCols(tc).rowwise() - source_task_[t]).isZero(0.0);
    View own;
    if (substitute) {
      xt = x;
      xt.rightCols(tc).rowwise() = source_task_[t];
      own = view_of(xt, /*with_head=*/false);
    }
    if (!at_x && (!substitute || !source_exact_[t].empty())) at_x = view_of(x, /*with_head=*/true);
    const View& v = substitute ? own : *at_x;
    out.col(static_cast<Index>(t)) =
        CrossKernel(options_.kernel, v.z, source_z_[t]) * source_alpha_[t];
    if (source_exact_[t].empty()) continue;
    // Where the source measured this config, its view (head at the rows as given + residual) is
    // its own standardized measurement: not shifted by the head's change between the two tasks,
    // which is a model's extrapolation where the measurement is data (LOWO matmul: 0.42x BO's
    // trials to 5% this way, 0.79x with the shift; docs/benchmarks.md).
    for (Index i = 0; i < x.rows(); ++i) {
      const auto it = source_exact_[t].find(v.keys[static_cast<size_t>(i)]);
      if (it != source_exact_[t].end()) out(i, static_cast<Index>(t)) = it->second - at_x->head(i);
    }
  }
  return out;
}

VectorXd DeepKernelGp::SourceResidual(const MatrixXd& x) const {
  if (source_z_.empty() || x.rows() == 0) return VectorXd::Zero(x.rows());
  return SourceResiduals(x) *
         Eigen::Map<const VectorXd>(source_weights_.data(),
                                    static_cast<Index>(source_weights_.size()));
}

MatrixXd DeepKernelGp::SourcePriorMeans(const MatrixXd& x) const {
  SONAR_CHECK(!source_z_.empty()) << "SourcePriorMeans needs Pretrain with source_residual";
  const Layout lay(input_dim_, options_);
  const Eigen::Map<const VectorXd> head(pretrained_.data() + lay.head, options_.feature_dim);
  Forward f;
  RunNetwork(lay, pretrained_,
             ((x.rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix(), &f);
  const VectorXd shared =
      f.a.back() * head + VectorXd::Constant(x.rows(), pretrained_(lay.head_bias));
  return SourceResiduals(x).colwise() + shared;
}

Status DeepKernelGp::SetSourceWeights(const std::vector<double>& weights) {
  if (weights.size() != source_z_.size()) {
    return InvalidArgumentError(
        "DeepKernelGp::SetSourceWeights: " + std::to_string(weights.size()) + " weights for " +
        std::to_string(source_z_.size()) + " sources");
  }
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w))
      return InvalidArgumentError(
          "DeepKernelGp::SetSourceWeights: a weight is negative or not finite");
    sum += w;
  }
  if (!(sum > 0))
    return InvalidArgumentError("DeepKernelGp::SetSourceWeights: the weights sum to 0");
  for (size_t i = 0; i < weights.size(); ++i) source_weights_[i] = weights[i] / sum;
  return OkStatus();
}

VectorXd DeepKernelGp::PriorMean(const MatrixXd& x) const {
  const Layout lay(input_dim_, options_);
  const Eigen::Map<const VectorXd> head(params_.data() + lay.head, options_.feature_dim);
  VectorXd m =
      Features(x) * head + VectorXd::Constant(x.rows(), params_(lay.head_bias)) + SourceResidual(x);
  if (y_.size() > 0) m = (m.array() * y_scale_ + y_mean_).matrix();
  return m;
}

Status DeepKernelGp::FitTarget(const MatrixXd& xs, const VectorXd& ys, double precision,
                               VectorXd* params) const {
  const Layout lay(input_dim_, options_);
  std::vector<PreparedTask> tasks(1);
  tasks[0].x = xs;
  tasks[0].y = ys;
  *params = pretrained_;
  Maximize(options_, lay, tasks, pretrained_, precision, options_.adapt_iterations, params);
  return OkStatus();
}

Status DeepKernelGp::Factorize() {
  const Layout lay(input_dim_, options_);
  z_ = Features(x_);
  if (y_.size() == 0) {
    chol_.resize(0, 0);
    alpha_.resize(0);
    return OkStatus();
  }
  MatrixXd k, unused;
  KernelAndSlope(options_.kernel, z_ / std::exp(params_(lay.log_lengthscale)), &k, nullptr);
  MatrixXd kk = std::exp(params_(lay.log_signal)) * k;
  kk.diagonal().array() += NoiseVariance(params_(lay.log_noise));
  if (!Factor(kk, &chol_)) return InternalError("deep-kernel GP: kernel matrix not factorizable");
  const Eigen::Map<const VectorXd> head(params_.data() + lay.head, options_.feature_dim);
  const VectorXd r = y_ - z_ * head - VectorXd::Constant(y_.size(), params_(lay.head_bias));
  const auto tri = chol_.triangularView<Eigen::Lower>();
  const auto tri_t = chol_.transpose().triangularView<Eigen::Upper>();
  alpha_ = tri_t.solve(tri.solve(r));
  return OkStatus();
}

Status DeepKernelGp::Condition(const MatrixXd& x, const VectorXd& y) {
  if (!pretrained()) return FailedPreconditionError("DeepKernelGp::Condition before Pretrain");
  if (x.rows() != y.size() || (y.size() > 0 && x.cols() != input_dim_)) {
    return InvalidArgumentError("DeepKernelGp::Condition: x and y do not match the model");
  }
  if (!x.allFinite() || !y.allFinite()) return InvalidArgumentError("DeepKernelGp: NaN or inf");
  // Keep the newest max_exact_samples points.
  const Index n = std::min<Index>(y.size(), options_.max_exact_samples);
  x_ = x.bottomRows(n);
  const VectorXd raw = y.tail(n);
  if (!has_target_scaling_ && n > 0) {
    Standardize(raw, &y_mean_, &y_scale_);
    has_target_scaling_ = true;
  }
  y_ = ((raw.array() - y_mean_) / y_scale_).matrix() - SourceResidual(x_);
  return Factorize();
}

Status DeepKernelGp::Adapt(const MatrixXd& x, const VectorXd& y) {
  if (!pretrained()) return FailedPreconditionError("DeepKernelGp::Adapt before Pretrain");
  if (x.rows() != y.size() || (y.size() > 0 && x.cols() != input_dim_)) {
    return InvalidArgumentError("DeepKernelGp::Adapt: x and y do not match the model");
  }
  if (!x.allFinite() || !y.allFinite()) return InvalidArgumentError("DeepKernelGp: NaN or inf");
  adapt_ = DkgpAdaptSummary{};
  params_ = pretrained_;
  const Index n = y.size();
  if (n == 0) {
    has_target_scaling_ = false;
    x_.resize(0, input_dim_);
    y_.resize(0);
    return Factorize();
  }
  // Targets relative to the sources' posterior residual (a fixed part of the mean function).
  VectorXd ys = Standardize(y, &y_mean_, &y_scale_) - SourceResidual(x);
  has_target_scaling_ = true;
  const MatrixXd xs = ((x.rowwise() - x_mean_).array().rowwise() / x_scale_.array()).matrix();
  Rng rng = MakeRng(options_.seed, 0x6164 + static_cast<uint64_t>(n));
  // Choose the prior precision: the largest below min_cv_samples, else k-fold cross-validation.
  std::vector<double> candidates = options_.prior_precisions;
  std::sort(candidates.begin(), candidates.end(), std::greater<>());
  double precision = candidates.front();
  if (n >= options_.min_cv_samples && candidates.size() > 1) {
    const std::vector<Index> cv = RandomSubset(n, options_.max_cv_samples, rng);
    std::vector<Index> order = cv;
    for (size_t i = order.size(); i > 1; --i) {  // shuffle for the folds
      std::swap(order[i - 1],
                order[static_cast<size_t>(UniformInt(rng, 0, static_cast<int64_t>(i) - 1))]);
    }
    const Layout lay(input_dim_, options_);
    double best = -std::numeric_limits<double>::infinity();
    for (double c : candidates) {
      double score = 0;
      for (int fold = 0; fold < options_.cv_folds; ++fold) {
        std::vector<Index> train, test;
        for (size_t i = 0; i < order.size(); ++i) {
          (static_cast<int>(i % options_.cv_folds) == fold ? test : train).push_back(order[i]);
        }
        if (train.size() < 2 || test.empty()) continue;
        VectorXd p;
        const MatrixXd xtr = xs(train, Eigen::all);
        const VectorXd ytr = ys(train);
        SONAR_RETURN_IF_ERROR(FitTarget(xtr, ytr, c, &p));
        // Held-out log predictive density (noise included).
        Forward f;
        RunNetwork(lay, p, xtr, &f);
        const MatrixXd ztr = f.a.back();
        RunNetwork(lay, p, xs(test, Eigen::all), &f);
        const MatrixXd zte = f.a.back();
        const double s2 = std::exp(p(lay.log_signal));
        const double noise = NoiseVariance(p(lay.log_noise));
        MatrixXd k, unused;
        const double ell = std::exp(p(lay.log_lengthscale));
        KernelAndSlope(options_.kernel, ztr / ell, &k, nullptr);
        MatrixXd kk = s2 * k;
        kk.diagonal().array() += noise;
        MatrixXd l;
        if (!Factor(kk, &l)) {
          score = -std::numeric_limits<double>::infinity();
          break;
        }
        const Eigen::Map<const VectorXd> head(p.data() + lay.head, options_.feature_dim);
        const VectorXd r = ytr - ztr * head - VectorXd::Constant(ytr.size(), p(lay.head_bias));
        const auto tri = l.triangularView<Eigen::Lower>();
        const auto tri_t = l.transpose().triangularView<Eigen::Upper>();
        const VectorXd alpha = tri_t.solve(tri.solve(r));
        const MatrixXd ks = s2 * CrossKernel(options_.kernel, zte / ell, ztr / ell);
        const VectorXd mu =
            ks * alpha + zte * head + VectorXd::Constant(zte.rows(), p(lay.head_bias));
        const MatrixXd v = tri.solve(ks.transpose());
        const VectorXd var =
            (VectorXd::Constant(zte.rows(), s2 + noise) - v.colwise().squaredNorm().transpose())
                .array()
                .max(1e-9)
                .matrix();
        const VectorXd yte = ys(test);
        for (Index i = 0; i < yte.size(); ++i) {
          const double e = yte(i) - mu(i);
          score += -0.5 * (kLog2Pi + std::log(var(i)) + e * e / var(i));
        }
      }
      score /= static_cast<double>(order.size());
      adapt_.cv_scores.push_back(score);
      if (score > best) best = score, precision = c;
    }
  }
  const std::vector<Index> fit_rows = RandomSubset(n, options_.max_adapt_samples, rng);
  VectorXd p;
  SONAR_RETURN_IF_ERROR(FitTarget(xs(fit_rows, Eigen::all), ys(fit_rows), precision, &p));
  params_ = p;
  adapt_.prior_precision = precision;
  adapt_.refitted = true;
  const Index keep = std::min<Index>(n, options_.max_exact_samples);
  x_ = x.bottomRows(keep);
  y_ = ys.tail(keep);
  adapt_.num_samples = static_cast<int>(keep);
  return Factorize();
}

Prediction DeepKernelGp::Predict(const MatrixXd& x) const {
  const Layout lay(input_dim_, options_);
  const MatrixXd z = Features(x);
  const Eigen::Map<const VectorXd> head(params_.data() + lay.head, options_.feature_dim);
  const double s2 = std::exp(params_(lay.log_signal));
  Prediction out;
  out.mean = z * head + VectorXd::Constant(z.rows(), params_(lay.head_bias)) + SourceResidual(x);
  out.variance = VectorXd::Constant(z.rows(), s2);
  if (y_.size() > 0) {
    const double ell = std::exp(params_(lay.log_lengthscale));
    const MatrixXd ks = s2 * CrossKernel(options_.kernel, z / ell, z_ / ell);
    out.mean += ks * alpha_;
    const MatrixXd v = chol_.triangularView<Eigen::Lower>().solve(ks.transpose());
    out.variance -= v.colwise().squaredNorm().transpose();
    out.variance = out.variance.array().max(0.0).matrix();
    out.mean = (out.mean.array() * y_scale_ + y_mean_).matrix();
    out.variance *= y_scale_ * y_scale_;
  }
  return out;
}

}  // namespace sonar
