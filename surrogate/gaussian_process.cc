// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/gaussian_process.h"

#include <ceres/gradient_problem.h>
#include <ceres/gradient_problem_solver.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "common/parallel.h"
#include "common/random.h"
#include "surrogate/kernels.h"

namespace sonar {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kLog2Pi = 1.83787706640934548356;
constexpr double kMaxAbsLogParam = 20.0;
constexpr double kMaxAbsStartParam = 10.0;
constexpr Index kPredictChunk =
    256;  // candidate rows per block of Predict (fixed: results never depend on threads)
constexpr const char* kFileMagic = "sonar-gaussian-process";
constexpr int kFileVersion = 1;

std::string KernelName(GpKernel kernel) { return kernel == GpKernel::kRbf ? "rbf" : "matern52"; }

bool AllFinite(const MatrixXd& m) { return m.allFinite(); }

// Hyperparameters in natural units, from [log l (1 or d), log s^2, log noise, mean].
struct Hyper {
  VectorXd lengthscales;
  double signal_variance = 1.0;
  double noise_exp = 0.0;       // exp(log noise)
  double noise_variance = 0.0;  // noise_exp + min_noise_variance
  double mean = 0.0;
};

Hyper Unpack(const VectorXd& p, double min_noise_variance) {
  const Index nl = p.size() - 3;
  Hyper h;
  h.lengthscales = p.head(nl).array().exp();
  h.signal_variance = std::exp(p(nl));
  h.noise_exp = std::exp(p(nl + 1));
  h.noise_variance = h.noise_exp + min_noise_variance;
  h.mean = p(nl + 2);
  return h;
}

// Factorizes k + jitter * I into `l` (lower triangle), jitter escalating from
// initial_jitter * mean diagonal by 10x up to max_jitter * mean diagonal. Returns the jitter,
// or a negative value when every attempt failed.
double CholeskyWithJitter(const MatrixXd& k, const GpOptions& options, MatrixXd* l) {
  if (!AllFinite(k)) return -1.0;
  double mean_diag = k.diagonal().mean();
  if (!(mean_diag > 0.0) || !std::isfinite(mean_diag)) mean_diag = 1.0;
  const double max_jitter = options.max_jitter * mean_diag * (1.0 + 1e-9);
  for (double jitter = options.initial_jitter * mean_diag; jitter <= max_jitter; jitter *= 10.0) {
    *l = k;
    l->diagonal().array() += jitter;
    Eigen::LLT<Eigen::Ref<MatrixXd>> llt(*l);
    if (llt.info() == Eigen::Success && l->diagonal().allFinite() &&
        l->diagonal().minCoeff() > 0.0) {
      return jitter;
    }
    if (options.initial_jitter <= 0.0) break;
  }
  return -1.0;
}

// Column-wise scaled training data and targets in standardized units.
struct Data {
  MatrixXd x;  // n x d, scaled inputs
  VectorXd y;  // n, standardized targets
};

// Work buffers of one likelihood evaluation (n x n each).
struct Workspace {
  MatrixXd k, g, l;
};

// Log marginal likelihood on `data` and, if gradient != nullptr, its gradient w.r.t. p.
// Returns false where it cannot be evaluated (factorization failed, parameters out of range).
bool EvaluateLml(const Data& data, const GpOptions& options, const VectorXd& p, double* lml,
                 VectorXd* gradient, Workspace* ws) {
  if (!p.allFinite() || p.cwiseAbs().maxCoeff() > kMaxAbsLogParam) return false;
  const Index n = data.x.rows();
  const Hyper h = Unpack(p, options.min_noise_variance);
  const MatrixXd z = internal::ScaleByLengthscales(data.x, h.lengthscales);
  internal::SquaredDistances(z, z, &ws->k);
  ws->k.diagonal().setZero();
  internal::ApplyKernel(options.kernel, h.signal_variance, &ws->k,
                        gradient != nullptr ? &ws->g : nullptr);
  ws->k.diagonal().array() += h.noise_variance;
  if (CholeskyWithJitter(ws->k, options, &ws->l) < 0.0) return false;
  ws->k.diagonal().array() -= h.noise_variance;  // back to the noise-free kernel
  VectorXd alpha = data.y.array() - h.mean;
  ws->l.triangularView<Eigen::Lower>().solveInPlace(alpha);
  const double quad = alpha.squaredNorm();
  ws->l.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha);
  const double log_det = 2.0 * ws->l.diagonal().array().log().sum();
  *lml = -0.5 * quad - 0.5 * log_det - 0.5 * static_cast<double>(n) * kLog2Pi;
  if (!std::isfinite(*lml)) return false;
  if (gradient == nullptr) return true;

  // K^-1 from the factor (trtri + lauum, n^3 flops), then W = alpha alpha^T - K^-1:
  // dLML/dθ = 0.5 * sum(W .* dK/dθ).
  internal::InvertLowerTriangular(ws->l);
  internal::LowerTransposeTimesLower(ws->l);
  MatrixXd& w = ws->l;
  for (Index j = 0; j < n; ++j) {
    for (Index i = j; i < n; ++i) {
      const double v = alpha(i) * alpha(j) - w(i, j);
      w(i, j) = v;
      w(j, i) = v;
    }
  }
  const Index nl = h.lengthscales.size();
  gradient->resize(p.size());
  (*gradient)(nl) = 0.5 * w.cwiseProduct(ws->k).sum();
  (*gradient)(nl + 1) = 0.5 * h.noise_exp * w.trace();
  (*gradient)(nl + 2) = alpha.sum();
  // Lengthscales: sum_ij M_ij (z_ik - z_jk)^2 with M = W .* G, symmetric.
  ws->g.array() *= w.array();
  const VectorXd m = ws->g.rowwise().sum();
  const MatrixXd mz = ws->g * z;
  const VectorXd per_dim = (z.array().square().colwise() * m.array()).colwise().sum().transpose() -
                           (z.array() * mz.array()).colwise().sum().transpose();
  if (nl == 1) {
    (*gradient)(0) = per_dim.sum();
  } else {
    gradient->head(nl) = per_dim;
  }
  return gradient->allFinite();
}

// Mean of the log-lengthscale prior for inputs of dimension `dim`.
double LengthscalePriorMean(const GpOptions& options, Index dim) {
  return options.lengthscale_prior_mean + (options.lengthscale_prior_scales_with_dim
                                               ? 0.5 * std::log(static_cast<double>(dim))
                                               : 0.0);
}

// Log prior of the hyperparameters and its gradient (added to *gradient); dim = input dimension.
double LogPrior(const GpOptions& options, const VectorXd& p, Index dim, VectorXd* gradient) {
  const Index nl = p.size() - 3;
  const double ls_mean = LengthscalePriorMean(options, dim);
  double lp = 0.0;
  auto term = [&](Index i, double mu, double sd) {
    if (sd <= 0.0) return;
    const double zz = (p(i) - mu) / sd;
    lp += -0.5 * zz * zz - std::log(sd) - 0.5 * kLog2Pi;
    if (gradient != nullptr) (*gradient)(i) -= zz / sd;
  };
  for (Index i = 0; i < nl; ++i) term(i, ls_mean, options.lengthscale_prior_sd);
  term(nl, options.signal_prior_mean, options.signal_prior_sd);
  term(nl + 1, options.noise_prior_mean, options.noise_prior_sd);
  return lp;
}

// The negative log posterior per observation, for Ceres' L-BFGS.
class MapObjective final : public ceres::FirstOrderFunction {
 public:
  MapObjective(const Data& data, const GpOptions& options, int num_params)
      : data_(data), options_(options), num_params_(num_params) {}

  bool Evaluate(const double* parameters, double* cost, double* gradient) const override {
    const VectorXd p = Eigen::Map<const VectorXd>(parameters, num_params_);
    double lml = 0.0;
    VectorXd grad;
    if (!EvaluateLml(data_, options_, p, &lml, gradient != nullptr ? &grad : nullptr, &ws_)) {
      return false;
    }
    const double lp = LogPrior(options_, p, data_.x.cols(), gradient != nullptr ? &grad : nullptr);
    const double scale = 1.0 / static_cast<double>(data_.x.rows());
    *cost = -(lml + lp) * scale;
    if (gradient != nullptr) Eigen::Map<VectorXd>(gradient, num_params_) = -grad * scale;
    return std::isfinite(*cost);
  }
  int NumParameters() const override { return num_params_; }

 private:
  const Data& data_;
  const GpOptions& options_;
  const int num_params_;
  mutable Workspace ws_;
};

struct RestartResult {
  bool usable = false;
  double cost = std::numeric_limits<double>::infinity();
  int iterations = 0;
  VectorXd params;
};

RestartResult RunRestart(const Data& data, const GpOptions& options, const VectorXd& start) {
  RestartResult result;
  result.params = start;
  ceres::GradientProblem problem(new MapObjective(data, options, static_cast<int>(start.size())));
  ceres::GradientProblemSolver::Options solver_options;
  solver_options.line_search_direction_type = ceres::LBFGS;
  solver_options.max_num_iterations = options.max_iterations;
  solver_options.function_tolerance = options.function_tolerance;
  solver_options.gradient_tolerance = 1e-8;
  solver_options.parameter_tolerance = 1e-9;
  solver_options.use_approximate_eigenvalue_bfgs_scaling = true;
  solver_options.logging_type = ceres::SILENT;
  solver_options.minimizer_progress_to_stdout = false;
  ceres::GradientProblemSolver::Summary summary;
  ceres::Solve(solver_options, problem, result.params.data(), &summary);
  result.iterations = static_cast<int>(summary.iterations.size());
  result.usable =
      summary.IsSolutionUsable() && std::isfinite(summary.final_cost) && result.params.allFinite();
  if (result.usable) result.cost = summary.final_cost;
  return result;
}

// Indices of the rows kept by the subset-of-data approximation, sorted.
std::vector<Index> SubsetIndices(const VectorXd& y, int max_samples, double best_fraction,
                                 Rng& rng) {
  const Index n = y.size();
  std::vector<Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (n <= max_samples) return order;
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return y(a) < y(b); });
  const Index num_best =
      std::min<Index>(max_samples, static_cast<Index>(std::llround(best_fraction * max_samples)));
  std::vector<Index> kept(order.begin(), order.begin() + num_best);
  std::vector<Index> rest(order.begin() + num_best, order.end());
  std::sort(rest.begin(), rest.end());
  // Partial Fisher-Yates with the portable UniformInt.
  const Index num_random = max_samples - num_best;
  for (Index i = 0; i < num_random; ++i) {
    const Index j = UniformInt(rng, i, static_cast<int64_t>(rest.size()) - 1);
    std::swap(rest[i], rest[j]);
    kept.push_back(rest[i]);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

Data SelectRows(const Data& data, const std::vector<Index>& rows) {
  Data out;
  out.x.resize(static_cast<Index>(rows.size()), data.x.cols());
  out.y.resize(static_cast<Index>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    out.x.row(static_cast<Index>(i)) = data.x.row(rows[i]);
    out.y(static_cast<Index>(i)) = data.y(rows[i]);
  }
  return out;
}

Status CheckData(const MatrixXd& x, const VectorXd& y, Index expected_dim) {
  if (x.rows() == 0) return InvalidArgumentError("GaussianProcess: no observations (x has 0 rows)");
  if (x.cols() == 0) return InvalidArgumentError("GaussianProcess: x has 0 columns");
  if (x.rows() != y.size()) {
    return InvalidArgumentError("GaussianProcess: x has " + std::to_string(x.rows()) +
                                " rows but y has " + std::to_string(y.size()) + " values");
  }
  if (expected_dim >= 0 && x.cols() != expected_dim) {
    return InvalidArgumentError("GaussianProcess: x has " + std::to_string(x.cols()) +
                                " columns, the model was fitted with " +
                                std::to_string(expected_dim));
  }
  if (!x.allFinite()) return InvalidArgumentError("GaussianProcess: x has NaN or inf values");
  if (!y.allFinite()) return InvalidArgumentError("GaussianProcess: y has NaN or inf values");
  return OkStatus();
}

}  // namespace

Status GpOptions::Validate() const {
  auto bad = [](const std::string& m) { return InvalidArgumentError("GpOptions: " + m); };
  if (restarts < 1) return bad("restarts must be >= 1, got " + std::to_string(restarts));
  if (max_iterations < 0) return bad("max_iterations must be >= 0");
  for (double v : {lengthscale_prior_mean, lengthscale_prior_sd, signal_prior_mean, signal_prior_sd,
                   noise_prior_mean, noise_prior_sd}) {
    if (!std::isfinite(v)) return bad("prior means and sds must be finite");
  }
  if (!(min_noise_variance > 0.0) || !std::isfinite(min_noise_variance)) {
    return bad("min_noise_variance must be > 0");
  }
  if (!(initial_jitter >= 0.0) || !(max_jitter >= initial_jitter) || !std::isfinite(max_jitter)) {
    return bad("need 0 <= initial_jitter <= max_jitter < inf");
  }
  if (max_exact_samples < 1) return bad("max_exact_samples must be >= 1");
  if (!(subset_best_fraction >= 0.0 && subset_best_fraction <= 1.0)) {
    return bad("subset_best_fraction must be in [0, 1]");
  }
  if (max_fit_samples < 1) return bad("max_fit_samples must be >= 1");
  if (num_threads < 1) return bad("num_threads must be >= 1");
  if (!(function_tolerance > 0.0)) return bad("function_tolerance must be > 0");
  return OkStatus();
}

std::string GpFitSummary::BriefReport() const {
  if (num_observed == 0) return "GaussianProcess::Fit was not called.";
  std::ostringstream out;
  out << "GP fit: " << num_observed << " observations, " << num_model_samples << " in the model, "
      << num_fit_samples << " for hyperparameters; " << restarts_run << " restarts ("
      << total_iterations << " L-BFGS iterations), best #" << best_restart << ", log posterior "
      << best_log_posterior << ", " << fit_seconds << " s";
  if (jitter > 0) out << ", jitter " << jitter;
  return out.str();
}

struct GaussianProcess::Impl {
  GpOptions options;
  bool fitted = false;
  Index dim = 0;
  // Input scaling x_scaled = (x - x_offset) / x_scale and target standardization.
  VectorXd x_offset, x_scale;
  double y_mean = 0.0, y_std = 1.0;
  VectorXd params;
  Hyper hyper;
  Data all;       // every observation (scaled), for the subset-of-data approximation
  Data model;     // the observations in the model
  MatrixXd chol;  // lower Cholesky factor of K + (noise + jitter) I on `model`
  double jitter = 0.0;
  VectorXd alpha;
  GpFitSummary summary;

  MatrixXd ScaleX(const MatrixXd& x) const {
    return (x.rowwise() - x_offset.transpose()) * x_scale.cwiseInverse().asDiagonal();
  }

  void SetScalings(const MatrixXd& x, const VectorXd& y) {
    dim = x.cols();
    x_offset = VectorXd::Zero(dim);
    x_scale = VectorXd::Ones(dim);
    if (options.normalize_inputs) {
      for (Index j = 0; j < dim; ++j) {
        const double lo = x.col(j).minCoeff(), hi = x.col(j).maxCoeff();
        x_offset(j) = lo;
        x_scale(j) = hi - lo > 1e-300 && std::isfinite(hi - lo) ? hi - lo : 1.0;
      }
    }
    y_mean = y.mean();
    const double var = (y.array() - y_mean).square().mean();
    y_std = std::sqrt(var);
    if (!(y_std > 1e-12 * std::max(1.0, std::abs(y_mean))) || !std::isfinite(y_std)) y_std = 1.0;
  }

  VectorXd DefaultParams() const {
    const Index nl = options.ard ? dim : 1;
    VectorXd p(nl + 3);
    p.head(nl).setConstant(LengthscalePriorMean(options, dim));
    p(nl) = options.signal_prior_mean;
    p(nl + 1) = options.noise_prior_mean;
    p(nl + 2) = 0.0;
    return p;
  }

  VectorXd DrawParams(Rng& rng) const {
    VectorXd p = DefaultParams();
    const Index nl = p.size() - 3;
    auto draw = [&](double mu, double sd) {
      const double v = mu + (sd > 0.0 ? sd : 1.0) * StandardNormal(rng);
      return std::clamp(v, -kMaxAbsStartParam, kMaxAbsStartParam);
    };
    const double ls_mean = LengthscalePriorMean(options, dim);
    for (Index i = 0; i < nl; ++i) p(i) = draw(ls_mean, options.lengthscale_prior_sd);
    p(nl) = draw(options.signal_prior_mean, options.signal_prior_sd);
    p(nl + 1) = draw(options.noise_prior_mean, options.noise_prior_sd);
    return p;
  }

  // Chooses the model's observations from `all` and factorizes with `params`.
  Status Factorize() {
    Rng rng = MakeRng(options.seed, 1);
    if (all.x.rows() > options.max_exact_samples) {
      model = SelectRows(
          all, SubsetIndices(all.y, options.max_exact_samples, options.subset_best_fraction, rng));
    } else {
      model = all;
    }
    hyper = Unpack(params, options.min_noise_variance);
    const MatrixXd z = internal::ScaleByLengthscales(model.x, hyper.lengthscales);
    MatrixXd k;
    internal::SquaredDistances(z, z, &k);
    k.diagonal().setZero();
    internal::ApplyKernel(options.kernel, hyper.signal_variance, &k, nullptr);
    k.diagonal().array() += hyper.noise_variance;
    jitter = CholeskyWithJitter(k, options, &chol);
    if (jitter < 0.0) {
      fitted = false;
      return InternalError(
          "GaussianProcess: the kernel matrix is not positive definite even with max_jitter " +
          std::to_string(options.max_jitter) +
          " (raise GpOptions::max_jitter or min_noise_variance)");
    }
    chol.triangularView<Eigen::StrictlyUpper>().setZero();
    ComputeAlpha();
    fitted = true;
    summary.num_observed = static_cast<int>(all.x.rows());
    summary.num_model_samples = static_cast<int>(model.x.rows());
    summary.jitter = jitter;
    return OkStatus();
  }

  void ComputeAlpha() {
    alpha = model.y.array() - hyper.mean;
    chol.triangularView<Eigen::Lower>().solveInPlace(alpha);
    chol.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha);
  }

  // Kernel between scaled rows a (n x d) and b (m x d), noise excluded.
  MatrixXd Cross(const MatrixXd& a, const MatrixXd& b) const {
    MatrixXd k;
    internal::SquaredDistances(internal::ScaleByLengthscales(a, hyper.lengthscales),
                               internal::ScaleByLengthscales(b, hyper.lengthscales), &k);
    internal::ApplyKernel(options.kernel, hyper.signal_variance, &k, nullptr);
    return k;
  }

  // Mean and latent variance in standardized units at scaled inputs.
  // Chunks of kPredictChunk rows, spread over options.num_threads threads (each chunk writes only
  // its own rows, so the result does not depend on the count).
  void PredictScaled(const MatrixXd& xs, VectorXd* mean, VectorXd* var) const {
    const Index m = xs.rows();
    mean->resize(m);
    var->resize(m);
    const Index chunks = (m + kPredictChunk - 1) / kPredictChunk;
    const int threads = static_cast<int>(std::min<Index>(std::max(1, options.num_threads), chunks));
    ParallelForEach(static_cast<size_t>(chunks), threads, [&](size_t chunk) {
      const Index start = static_cast<Index>(chunk) * kPredictChunk;
      const Index len = std::min(kPredictChunk, m - start);
      MatrixXd ks = Cross(model.x, xs.middleRows(start, len));  // n x len
      mean->segment(start, len) = (ks.transpose() * alpha).array() + hyper.mean;
      chol.triangularView<Eigen::Lower>().solveInPlace(ks);
      var->segment(start, len) =
          (hyper.signal_variance - ks.colwise().squaredNorm().transpose().array()).cwiseMax(0.0);
    });
  }
};

GaussianProcess::GaussianProcess(GpOptions options) : impl_(std::make_unique<Impl>()) {
  const Status status = options.Validate();
  SONAR_CHECK(status.ok()) << status.ToString();
  impl_->options = std::move(options);
}
GaussianProcess::~GaussianProcess() = default;
GaussianProcess::GaussianProcess(GaussianProcess&& other) noexcept
    : impl_(std::move(other.impl_)) {}
GaussianProcess& GaussianProcess::operator=(GaussianProcess&& other) noexcept {
  impl_ = std::move(other.impl_);
  return *this;
}

Status GaussianProcess::Fit(const MatrixXd& x, const VectorXd& y) {
  SONAR_CHECK(impl_ != nullptr) << "GaussianProcess used after move";
  SONAR_RETURN_IF_ERROR(CheckData(x, y, -1));
  const auto t0 = std::chrono::steady_clock::now();
  Impl& m = *impl_;
  const GpOptions& o = m.options;
  const bool warm = m.fitted && m.dim == x.cols() && m.params.size() == m.DefaultParams().size();
  const VectorXd previous = warm ? m.params : VectorXd();
  m.SetScalings(x, y);
  m.all.x = m.ScaleX(x);
  m.all.y = (y.array() - m.y_mean) / m.y_std;
  m.summary = GpFitSummary();

  // Model subset, then the hyperparameter-fit subset of it.
  Rng subset_rng = MakeRng(o.seed, 1);
  const Data model = m.all.x.rows() > o.max_exact_samples
                         ? SelectRows(m.all, SubsetIndices(m.all.y, o.max_exact_samples,
                                                           o.subset_best_fraction, subset_rng))
                         : m.all;
  Rng fit_rng = MakeRng(o.seed, 2);
  const Data fit_data =
      model.x.rows() > o.max_fit_samples
          ? SelectRows(model, SubsetIndices(model.y, o.max_fit_samples, 0.0, fit_rng))
          : model;

  std::vector<VectorXd> starts;
  starts.push_back(warm ? previous : m.DefaultParams());
  Rng start_rng = MakeRng(o.seed, 3);
  for (int r = 1; r < o.restarts; ++r) starts.push_back(m.DrawParams(start_rng));

  std::vector<RestartResult> results(starts.size());
  const int threads = std::min<int>(o.num_threads, static_cast<int>(starts.size()));
  if (threads <= 1) {
    for (size_t r = 0; r < starts.size(); ++r) results[r] = RunRestart(fit_data, o, starts[r]);
  } else {
    ParallelForEach(starts.size(), threads,
                    [&](size_t r) { results[r] = RunRestart(fit_data, o, starts[r]); });
  }
  int best = -1;
  for (size_t r = 0; r < results.size(); ++r) {
    m.summary.total_iterations += results[r].iterations;
    if (!results[r].usable) continue;
    ++m.summary.restarts_run;
    if (best < 0 || results[r].cost < results[best].cost) best = static_cast<int>(r);
  }
  if (best < 0) {
    // No restart could even evaluate its start: fall back to the default hyperparameters, which
    // the factorization below still protects with jitter.
    m.params = m.DefaultParams();
  } else {
    m.params = results[best].params;
    m.summary.best_log_posterior = -results[best].cost * static_cast<double>(fit_data.x.rows());
  }
  m.summary.best_restart = best;
  const Status status = m.Factorize();
  m.summary.num_fit_samples = static_cast<int>(fit_data.x.rows());
  m.summary.fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return status;
}

Status GaussianProcess::FitWithParams(const MatrixXd& x, const VectorXd& y,
                                      const VectorXd& log_params) {
  SONAR_CHECK(impl_ != nullptr) << "GaussianProcess used after move";
  SONAR_RETURN_IF_ERROR(CheckData(x, y, -1));
  Impl& m = *impl_;
  const Index expected = (m.options.ard ? x.cols() : 1) + 3;
  SONAR_CHECK(log_params.size() == expected)
      << "FitWithParams: log_params has " << log_params.size() << " entries, expected " << expected
      << " ([log lengthscales, log signal, log noise, mean])";
  if (!log_params.allFinite()) return InvalidArgumentError("FitWithParams: non-finite log_params");
  m.SetScalings(x, y);
  m.all.x = m.ScaleX(x);
  m.all.y = (y.array() - m.y_mean) / m.y_std;
  m.summary = GpFitSummary();
  m.params = log_params;
  return m.Factorize();
}

Status GaussianProcess::Condition(const MatrixXd& x, const VectorXd& y) {
  SONAR_CHECK(fitted()) << "GaussianProcess::Condition requires a successful Fit";
  Impl& m = *impl_;
  SONAR_RETURN_IF_ERROR(CheckData(x, y, m.dim));
  m.all.x = m.ScaleX(x);
  m.all.y = (y.array() - m.y_mean) / m.y_std;
  return m.Factorize();
}

Status GaussianProcess::AddSamples(const MatrixXd& x, const VectorXd& y) {
  SONAR_CHECK(fitted()) << "GaussianProcess::AddSamples requires a successful Fit";
  Impl& m = *impl_;
  SONAR_RETURN_IF_ERROR(CheckData(x, y, m.dim));
  const MatrixXd xs = m.ScaleX(x);
  const VectorXd ys = (y.array() - m.y_mean) / m.y_std;
  const Index n = m.all.x.rows(), k = x.rows();
  m.all.x.conservativeResize(n + k, Eigen::NoChange);
  m.all.x.bottomRows(k) = xs;
  m.all.y.conservativeResize(n + k);
  m.all.y.tail(k) = ys;
  if (m.all.x.rows() > m.options.max_exact_samples || m.model.x.rows() != n) {
    return m.Factorize();  // subset of data: reselect and refactorize
  }
  // Block Cholesky: [[L, 0], [B^T, L22]] with B = L^-1 K12, L22 L22^T = K22 - B^T B.
  MatrixXd b = m.Cross(m.model.x, xs);
  m.chol.triangularView<Eigen::Lower>().solveInPlace(b);
  MatrixXd s = m.Cross(xs, xs);
  s.diagonal().array() += m.hyper.noise_variance + m.jitter;
  s.noalias() -= b.transpose() * b;
  s = 0.5 * (s + s.transpose()).eval();
  // The Schur complement is factorized as is; only if that fails (new points duplicating old
  // ones) does it get escalating jitter of its own, on the new points' diagonal.
  MatrixXd l22 = s;
  Eigen::LLT<Eigen::Ref<MatrixXd>> llt(l22);
  if (llt.info() != Eigen::Success || !l22.diagonal().allFinite() ||
      !(l22.diagonal().minCoeff() > 0.0)) {
    GpOptions schur_options = m.options;
    if (schur_options.initial_jitter <= 0.0) schur_options.initial_jitter = 1e-12;
    if (CholeskyWithJitter(s, schur_options, &l22) < 0.0) return m.Factorize();
  }
  l22.triangularView<Eigen::StrictlyUpper>().setZero();
  m.model = m.all;
  m.chol.conservativeResize(n + k, n + k);
  m.chol.topRightCorner(n, k).setZero();
  m.chol.bottomLeftCorner(k, n) = b.transpose();
  m.chol.bottomRightCorner(k, k) = l22;
  m.ComputeAlpha();
  m.summary.num_observed = static_cast<int>(m.all.x.rows());
  m.summary.num_model_samples = static_cast<int>(m.model.x.rows());
  return OkStatus();
}

Prediction GaussianProcess::Predict(const MatrixXd& x) const {
  SONAR_CHECK(fitted()) << "GaussianProcess::Predict requires a successful Fit";
  const Impl& m = *impl_;
  SONAR_CHECK(x.cols() == m.dim) << "GaussianProcess::Predict: x has " << x.cols()
                                 << " columns, the model was fitted with " << m.dim;
  Prediction p;
  if (x.rows() == 0) {
    p.mean.resize(0);
    p.variance.resize(0);
    return p;
  }
  VectorXd mean, var;
  m.PredictScaled(m.ScaleX(x), &mean, &var);
  p.mean = mean.array() * m.y_std + m.y_mean;
  p.variance = var * (m.y_std * m.y_std);
  return p;
}

double GaussianProcess::LogMarginalLikelihood(const VectorXd& log_params,
                                              VectorXd* gradient) const {
  SONAR_CHECK(fitted()) << "LogMarginalLikelihood requires a successful Fit";
  const Impl& m = *impl_;
  SONAR_CHECK(log_params.size() == m.params.size())
      << "log_params has " << log_params.size() << " entries, expected " << m.params.size();
  Workspace ws;
  double lml = 0.0;
  VectorXd grad;
  if (!EvaluateLml(m.model, m.options, log_params, &lml, gradient != nullptr ? &grad : nullptr,
                   &ws)) {
    return -std::numeric_limits<double>::infinity();
  }
  if (gradient != nullptr) *gradient = grad;
  return lml;
}

double GaussianProcess::LogPosterior(const VectorXd& log_params, VectorXd* gradient) const {
  const double lml = LogMarginalLikelihood(log_params, gradient);
  if (!std::isfinite(lml)) return lml;
  return lml + LogPrior(impl_->options, log_params, impl_->dim, gradient);
}

VectorXd GaussianProcess::log_params() const {
  SONAR_CHECK(fitted()) << "log_params requires a successful Fit";
  return impl_->params;
}
int GaussianProcess::num_samples() const {
  return impl_ != nullptr && impl_->fitted ? static_cast<int>(impl_->model.x.rows()) : 0;
}
int GaussianProcess::num_observed() const {
  return impl_ != nullptr && impl_->fitted ? static_cast<int>(impl_->all.x.rows()) : 0;
}
bool GaussianProcess::uses_subset() const { return num_observed() > num_samples(); }
bool GaussianProcess::fitted() const { return impl_ != nullptr && impl_->fitted; }
const GpOptions& GaussianProcess::options() const { return impl_->options; }
const GpFitSummary& GaussianProcess::fit_summary() const { return impl_->summary; }

VectorXd GaussianProcess::lengthscales() const {
  SONAR_CHECK(fitted()) << "lengthscales requires a successful Fit";
  return impl_->hyper.lengthscales;
}
double GaussianProcess::signal_variance() const {
  SONAR_CHECK(fitted()) << "signal_variance requires a successful Fit";
  return impl_->hyper.signal_variance * impl_->y_std * impl_->y_std;
}
double GaussianProcess::noise_variance() const {
  SONAR_CHECK(fitted()) << "noise_variance requires a successful Fit";
  return impl_->hyper.noise_variance * impl_->y_std * impl_->y_std;
}

double GaussianProcess::NegativeLogPredictiveDensity(const MatrixXd& x, const VectorXd& y) const {
  SONAR_CHECK(x.rows() == y.size()) << "NegativeLogPredictiveDensity: x has " << x.rows()
                                    << " rows but y has " << y.size() << " values";
  if (y.size() == 0) return 0.0;
  const Prediction p = Predict(x);
  const double noise = noise_variance();
  double total = 0.0;
  for (Index i = 0; i < y.size(); ++i) {
    const double var = std::max(p.variance(i) + noise, 1e-300);
    const double r = y(i) - p.mean(i);
    total += 0.5 * (kLog2Pi + std::log(var)) + 0.5 * r * r / var;
  }
  return total / static_cast<double>(y.size());
}

// ---- Save / Load -------------------------------------------------------------------------------

Status GaussianProcess::Save(const std::string& path) const {
  SONAR_CHECK(fitted()) << "GaussianProcess::Save requires a successful Fit";
  const Impl& m = *impl_;
  const GpOptions& o = m.options;
  std::ofstream out(path, std::ios::trunc);
  if (!out) return NotFoundError("GaussianProcess::Save: cannot open " + path + " for writing");
  out.precision(17);
  out << kFileMagic << ' ' << kFileVersion << '\n';
  out << "kernel " << KernelName(o.kernel) << '\n';
  out << "ard " << (o.ard ? 1 : 0) << '\n';
  out << "options " << o.restarts << ' ' << o.max_iterations << ' ' << o.seed << ' '
      << o.lengthscale_prior_mean << ' ' << o.lengthscale_prior_sd << ' ' << o.signal_prior_mean
      << ' ' << o.signal_prior_sd << ' ' << o.noise_prior_mean << ' ' << o.noise_prior_sd << ' '
      << o.min_noise_variance << ' ' << o.initial_jitter << ' ' << o.max_jitter << ' '
      << (o.normalize_inputs ? 1 : 0) << ' ' << o.max_exact_samples << ' ' << o.subset_best_fraction
      << ' ' << o.max_fit_samples << ' ' << o.num_threads << ' ' << o.function_tolerance << ' '
      << (o.lengthscale_prior_scales_with_dim ? 1 : 0) << '\n';
  out << "dims " << m.model.x.rows() << ' ' << m.dim << '\n';
  out << "x_offset";
  for (Index j = 0; j < m.dim; ++j) out << ' ' << m.x_offset(j);
  out << "\nx_scale";
  for (Index j = 0; j < m.dim; ++j) out << ' ' << m.x_scale(j);
  out << "\ny " << m.y_mean << ' ' << m.y_std << '\n';
  out << "log_params";
  for (Index j = 0; j < m.params.size(); ++j) out << ' ' << m.params(j);
  out << '\n';
  // Observations in the model, scaled inputs then standardized target.
  for (Index i = 0; i < m.model.x.rows(); ++i) {
    for (Index j = 0; j < m.dim; ++j) out << m.model.x(i, j) << ' ';
    out << m.model.y(i) << '\n';
  }
  out << "end\n";
  out.flush();
  if (!out) return DataLossError("GaussianProcess::Save: write to " + path + " failed");
  return OkStatus();
}

StatusOr<GaussianProcess> GaussianProcess::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("GaussianProcess::Load: cannot open " + path);
  int line_no = 0;
  std::string line;
  auto fail = [&](const std::string& what) {
    return DataLossError("GaussianProcess::Load: " + path + ":" + std::to_string(line_no) + ": " +
                         what);
  };
  // Next line, split after the expected keyword (empty keyword: a data row).
  auto next = [&](const std::string& keyword, std::istringstream* fields) -> bool {
    if (!std::getline(in, line)) return false;
    ++line_no;
    fields->clear();
    fields->str(line);
    if (keyword.empty()) return true;
    std::string word;
    return static_cast<bool>(*fields >> word) && word == keyword;
  };
  auto at_end = [](std::istringstream& fields) {
    std::string rest;
    return !(fields >> rest);
  };
  std::istringstream f;
  if (!next(kFileMagic, &f))
    return fail(std::string("not a GP file (expected '") + kFileMagic + "')");
  int version = 0;
  if (!(f >> version) || version != kFileVersion) {
    return fail("unsupported version (this build reads version " + std::to_string(kFileVersion) +
                ")");
  }
  GpOptions o;
  std::string kernel;
  if (!next("kernel", &f) || !(f >> kernel)) return fail("expected 'kernel matern52|rbf'");
  if (kernel == "matern52") {
    o.kernel = GpKernel::kMatern52;
  } else if (kernel == "rbf") {
    o.kernel = GpKernel::kRbf;
  } else {
    return fail("unknown kernel '" + kernel + "'");
  }
  int ard = 0, normalize = 0, scales_with_dim = 0;
  if (!next("ard", &f) || !(f >> ard) || (ard != 0 && ard != 1)) return fail("expected 'ard 0|1'");
  o.ard = ard == 1;
  if (!next("options", &f) ||
      !(f >> o.restarts >> o.max_iterations >> o.seed >> o.lengthscale_prior_mean >>
        o.lengthscale_prior_sd >> o.signal_prior_mean >> o.signal_prior_sd >> o.noise_prior_mean >>
        o.noise_prior_sd >> o.min_noise_variance >> o.initial_jitter >> o.max_jitter >> normalize >>
        o.max_exact_samples >> o.subset_best_fraction >> o.max_fit_samples >> o.num_threads >>
        o.function_tolerance >> scales_with_dim) ||
      !at_end(f)) {
    return fail("malformed 'options' line (19 values expected)");
  }
  o.normalize_inputs = normalize != 0;
  o.lengthscale_prior_scales_with_dim = scales_with_dim != 0;
  if (Status s = o.Validate(); !s.ok()) return fail(s.message());
  long long n = 0, d = 0;
  if (!next("dims", &f) || !(f >> n >> d) || n < 1 || d < 1 || n > 100000000 || d > 1000000) {
    return fail("expected 'dims N D' with N, D >= 1");
  }
  Impl impl;
  impl.options = o;
  impl.dim = static_cast<Index>(d);
  auto read_vector = [&](const std::string& keyword, Index size, VectorXd* v) -> bool {
    if (!next(keyword, &f)) return false;
    v->resize(size);
    for (Index j = 0; j < size; ++j) {
      if (!(f >> (*v)(j))) return false;
    }
    return at_end(f) && v->allFinite();
  };
  if (!read_vector("x_offset", impl.dim, &impl.x_offset)) return fail("malformed 'x_offset' line");
  if (!read_vector("x_scale", impl.dim, &impl.x_scale) || impl.x_scale.minCoeff() <= 0.0) {
    return fail("malformed 'x_scale' line (positive values expected)");
  }
  if (!next("y", &f) || !(f >> impl.y_mean >> impl.y_std) || !at_end(f) ||
      !std::isfinite(impl.y_mean) || !(impl.y_std > 0.0) || !std::isfinite(impl.y_std)) {
    return fail("malformed 'y MEAN STD' line");
  }
  const Index num_params = (o.ard ? impl.dim : 1) + 3;
  if (!read_vector("log_params", num_params, &impl.params) ||
      impl.params.cwiseAbs().maxCoeff() > kMaxAbsLogParam) {
    return fail("malformed 'log_params' line (" + std::to_string(num_params) +
                " finite values expected)");
  }
  impl.all.x.resize(static_cast<Index>(n), impl.dim);
  impl.all.y.resize(static_cast<Index>(n));
  for (Index i = 0; i < n; ++i) {
    if (!next("", &f))
      return fail("file ends after " + std::to_string(i) + " of " + std::to_string(n) + " rows");
    for (Index j = 0; j < impl.dim; ++j) {
      if (!(f >> impl.all.x(i, j))) return fail("malformed data row");
    }
    if (!(f >> impl.all.y(i)) || !at_end(f)) return fail("malformed data row");
  }
  if (!impl.all.x.allFinite() || !impl.all.y.allFinite()) return fail("non-finite data");
  if (!next("end", &f)) return fail("missing 'end' line (truncated file?)");
  GaussianProcess gp(o);
  *gp.impl_ = std::move(impl);
  SONAR_RETURN_IF_ERROR(gp.impl_->Factorize());
  gp.impl_->summary.num_fit_samples = 0;
  return gp;
}

StatusOr<Prediction> LeaveOneOut(const GaussianProcess& fitted, const Eigen::MatrixXd& x,
                                 const Eigen::VectorXd& y, const std::vector<Eigen::Index>& eval,
                                 int max_others, Rng& rng) {
  const Eigen::Index n = y.size();
  Prediction out;
  out.mean.resize(static_cast<Eigen::Index>(eval.size()));
  out.variance.resize(static_cast<Eigen::Index>(eval.size()));
  for (size_t i = 0; i < eval.size(); ++i) {
    std::vector<Eigen::Index> others;
    for (Eigen::Index j = 0; j < n; ++j) {
      if (j != eval[i]) others.push_back(j);
    }
    if (static_cast<Eigen::Index>(others.size()) > max_others) {
      std::vector<Eigen::Index> pick =
          RandomSubset(static_cast<Eigen::Index>(others.size()), max_others, rng);
      for (Eigen::Index& p : pick) p = others[static_cast<size_t>(p)];
      others = std::move(pick);
    }
    GaussianProcess g(fitted.options());
    SONAR_RETURN_IF_ERROR(g.FitWithParams(x(others, Eigen::all), y(others), fitted.log_params()));
    const Prediction p = g.Predict(x.row(eval[i]));
    out.mean(static_cast<Eigen::Index>(i)) = p.mean(0);
    out.variance(static_cast<Eigen::Index>(i)) = p.variance(0);
  }
  return out;
}

}  // namespace sonar
