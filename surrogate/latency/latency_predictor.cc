// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/latency_predictor.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/enum_names.h"
#include "common/random.h"
#include "surrogate/latency/latency_data.h"
#include "surrogate/latency/latency_mlp.h"

namespace sonar {
namespace {

using Json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kFormat = "sonar-latency-predictor";
constexpr int kFormatVersion = 1;

double LogOrNaN(double ms) { return (std::isfinite(ms) && ms > 0) ? std::log(ms) : kNaN; }

// Index of `name` among the descriptor's features, or -1. (HardwareDescriptor::Feature lives
// in measure/hardware.cc; this layer only needs names.)
int FeatureIndex(const HardwareDescriptor& hw, const std::string& name) {
  for (size_t i = 0; i < hw.feature_names.size(); ++i) {
    if (hw.feature_names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Json MlpToJson(const internal::Mlp& net) {
  Json layers = Json::array();
  for (size_t l = 0; l < net.weights.size(); ++l) {
    const Eigen::MatrixXf& w = net.weights[l];
    std::vector<double> wv(w.size()), bv(net.biases[l].size());
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      for (Eigen::Index j = 0; j < w.cols(); ++j) wv[i * w.cols() + j] = w(i, j);
    }
    for (Eigen::Index i = 0; i < net.biases[l].size(); ++i) bv[i] = net.biases[l](i);
    layers.push_back({{"rows", w.rows()}, {"cols", w.cols()}, {"w", wv}, {"b", bv}});
  }
  return layers;
}

Status MlpFromJson(const Json& j, internal::Mlp* net) {
  if (!j.is_array() || j.empty()) return DataLossError("network layers must be a non-empty array");
  *net = internal::Mlp();
  Eigen::Index prev_rows = -1;
  for (const Json& layer : j) {
    const Eigen::Index rows = layer.at("rows").get<Eigen::Index>();
    const Eigen::Index cols = layer.at("cols").get<Eigen::Index>();
    const std::vector<double> wv = layer.at("w").get<std::vector<double>>();
    const std::vector<double> bv = layer.at("b").get<std::vector<double>>();
    if (rows <= 0 || cols <= 0 || static_cast<Eigen::Index>(wv.size()) != rows * cols ||
        static_cast<Eigen::Index>(bv.size()) != rows || (prev_rows >= 0 && cols != prev_rows)) {
      return DataLossError("a network layer has inconsistent sizes");
    }
    prev_rows = rows;
    Eigen::MatrixXf w(rows, cols);
    Eigen::VectorXf b(rows);
    for (Eigen::Index r = 0; r < rows; ++r) {
      for (Eigen::Index c = 0; c < cols; ++c) w(r, c) = static_cast<float>(wv[r * cols + c]);
      b(r) = static_cast<float>(bv[r]);
    }
    net->weights.push_back(std::move(w));
    net->biases.push_back(std::move(b));
  }
  return OkStatus();
}

// Rows as lists of [index, value] of their non-zero entries (encodings are mostly one-hot).
Json SparseRows(const Eigen::MatrixXd& x) {
  Json rows = Json::array();
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    Json row = Json::array();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (x(i, j) != 0) row.push_back({j, x(i, j)});
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status SparseRowsFromJson(const Json& j, int cols, Eigen::MatrixXd* x) {
  if (!j.is_array()) return DataLossError("encoded rows must be an array");
  x->setZero(static_cast<Eigen::Index>(j.size()), cols);
  for (size_t i = 0; i < j.size(); ++i) {
    for (const Json& e : j[i]) {
      const int c = e.at(0).get<int>();
      if (c < 0 || c >= cols) return DataLossError("an encoded entry is outside the encoding");
      (*x)(static_cast<Eigen::Index>(i), c) = e.at(1).get<double>();
    }
  }
  return OkStatus();
}

Json DescriptorToJson(const HardwareDescriptor& hw) {
  std::vector<double> values(hw.features.data(), hw.features.data() + hw.features.size());
  Json vals = Json::array();
  for (double v : values) vals.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
  return {{"id", hw.id},
          {"device_name", hw.device_name},
          {"source", hw.source},
          {"feature_names", hw.feature_names},
          {"feature_sources", hw.feature_sources},
          {"features", vals}};
}

Status DescriptorFromJson(const Json& j, HardwareDescriptor* hw) {
  *hw = HardwareDescriptor();
  hw->id = j.value("id", "");
  hw->device_name = j.value("device_name", "");
  hw->source = j.value("source", "");
  hw->feature_names = j.at("feature_names").get<std::vector<std::string>>();
  hw->feature_sources = j.value("feature_sources", std::vector<std::string>());
  const Json& f = j.at("features");
  if (!f.is_array() || f.size() != hw->feature_names.size()) {
    return DataLossError("descriptor features and feature_names differ in length");
  }
  hw->features.resize(static_cast<Eigen::Index>(f.size()));
  for (size_t i = 0; i < f.size(); ++i) {
    hw->features(static_cast<Eigen::Index>(i)) = f[i].is_null() ? kNaN : f[i].get<double>();
  }
  return OkStatus();
}

// ln t = a + b ln s on the rows of `use`, for the source column (of s_log, n x m) that fits
// best (least squared error); b = 1 when the rows cannot determine a slope.
struct AffineFit {
  int source = -1;
  double a = 0, b = 1;
};

AffineFit FitBestAffineSource(const Eigen::MatrixXd& s_log, const Eigen::VectorXd& y_log,
                              const std::vector<char>& use) {
  AffineFit best;
  double best_sse = std::numeric_limits<double>::infinity();
  double cnt = 0;
  for (char u : use) cnt += u ? 1 : 0;
  if (cnt == 0) return best;
  for (Eigen::Index s = 0; s < s_log.cols(); ++s) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (Eigen::Index i = 0; i < y_log.size(); ++i) {
      if (!use[i]) continue;
      const double x = s_log(i, s), y = y_log(i);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    const double mx = sx / cnt, my = sy / cnt, vxx = sxx / cnt - mx * mx;
    const double b = (cnt >= 2 && vxx > 1e-12) ? (sxy / cnt - mx * my) / vxx : 1.0;
    const double a = my - b * mx;
    double sse = 0;
    for (Eigen::Index i = 0; i < y_log.size(); ++i) {
      if (!use[i]) continue;
      const double e = y_log(i) - a - b * s_log(i, s);
      sse += e * e;
    }
    if (sse < best_sse) {
      best_sse = sse;
      best = {static_cast<int>(s), a, b};
    }
  }
  return best;
}

// t_ms ~ scale * (c0 + sum_s c_s src_ms_s / src_scale_s + x . v): the target's latency in ms
// as a linear combination of the source devices' (predicted) latencies in ms plus an additive
// term on the raw encoding, fitted on the rows of `use` by ridge regression on relative errors
// (c0 free, prior variance 1 / lambda on c, `encoding_var` on v; 0 turns v off). Solved in the
// dual (n x n, n = observations), which also gives closed-form leave-one-out residuals. Scales
// are the means over the fitted rows; predictions are floored at a fifth of the smallest
// latency fitted.
struct SourceMixFit {
  double scale = 1, c0 = 0, floor_ms = 0;
  Eigen::VectorXd src_scale, c, v;
  double loo_sse = 0;  // closed-form leave-one-out squared relative error of this fit

  Eigen::VectorXd PredictLogMs(const Eigen::MatrixXd& src_ms, const Eigen::MatrixXd& x) const {
    Eigen::VectorXd lin = (src_ms * src_scale.cwiseInverse().asDiagonal()) * c;
    if (v.size() == x.cols()) lin += x * v;
    Eigen::VectorXd out(src_ms.rows());
    for (Eigen::Index i = 0; i < src_ms.rows(); ++i) {
      out(i) = std::log(std::max(scale * (c0 + lin(i)), floor_ms));
    }
    return out;
  }
};

SourceMixFit FitSourceMix(const Eigen::MatrixXd& src_ms, const Eigen::MatrixXd& x,
                          const Eigen::VectorXd& t_ms, const std::vector<char>& use, double lambda,
                          double encoding_var) {
  constexpr double kBiasVar = 100.0;
  const Eigen::Index m = src_ms.cols();
  SourceMixFit f;
  f.src_scale = Eigen::VectorXd::Ones(m);
  f.c = Eigen::VectorXd::Zero(m);
  f.v = Eigen::VectorXd::Zero(x.cols());
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < t_ms.size(); ++i) {
    if (use[i]) rows.push_back(i);
  }
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  if (n == 0) return f;
  double tsum = 0, tmin = std::numeric_limits<double>::infinity();
  Eigen::VectorXd ssum = Eigen::VectorXd::Zero(m);
  for (Eigen::Index i : rows) {
    tsum += t_ms(i);
    tmin = std::min(tmin, t_ms(i));
    ssum += src_ms.row(i).transpose();
  }
  f.scale = tsum / n;
  f.floor_ms = 0.2 * tmin;
  f.src_scale = (ssum / n).cwiseMax(1e-12);
  Eigen::MatrixXd fu(n, m), xu(n, x.cols());
  Eigen::VectorXd inv_tn(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    fu.row(r) = src_ms.row(rows[r]).cwiseQuotient(f.src_scale.transpose());
    xu.row(r) = x.row(rows[r]);
    inv_tn(r) = f.scale / t_ms(rows[r]);
  }
  Eigen::MatrixXd k = fu * fu.transpose() / lambda;
  k.array() += kBiasVar;
  if (encoding_var > 0) k += encoding_var * xu * xu.transpose();
  Eigen::MatrixXd a = inv_tn.asDiagonal() * k * inv_tn.asDiagonal();
  a.diagonal().array() += 1.0;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(a);
  const Eigen::VectorXd alpha = ldlt.solve(Eigen::VectorXd::Ones(n));
  if (!alpha.allFinite()) return f;
  const Eigen::MatrixXd ainv = ldlt.solve(Eigen::MatrixXd::Identity(n, n));
  f.loo_sse = 0;
  for (Eigen::Index r = 0; r < n; ++r) {
    const double e = alpha(r) / ainv(r, r);
    f.loo_sse += e * e;
  }
  const Eigen::VectorXd beta = inv_tn.cwiseProduct(alpha);
  f.c0 = kBiasVar * beta.sum();
  f.c = fu.transpose() * beta / lambda;
  if (encoding_var > 0) f.v = encoding_var * xu.transpose() * beta;
  return f;
}

// The source mix with its ridge strength and encoding variance chosen by (closed-form)
// leave-one-out on the rows of `use`.
SourceMixFit FitSourceMixCv(const Eigen::MatrixXd& src_ms, const Eigen::MatrixXd& x,
                            const Eigen::VectorXd& t_ms, const std::vector<char>& use,
                            const LatencyPredictorOptions& o) {
  SourceMixFit best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (double l : o.source_mix_ridge_grid) {
    for (double ev : o.source_mix_encoding_grid) {
      SourceMixFit f = FitSourceMix(src_ms, x, t_ms, use, l, ev);
      if (f.loo_sse < best_sse) {
        best_sse = f.loo_sse;
        best = std::move(f);
      }
    }
  }
  return best;
}

}  // namespace

namespace {
constexpr EnumNames<LatencyAdaptation, 7> kLatencyAdaptationNames = {{
    {LatencyAdaptation::kMapHead, "map_head"},
    {LatencyAdaptation::kMapleMix, "maple_mix"},
    {LatencyAdaptation::kCalibrate, "calibrate"},
    {LatencyAdaptation::kAffineSource, "affine_source"},
    {LatencyAdaptation::kSourceMix, "source_mix"},
    {LatencyAdaptation::kAuto, "auto"},
    {LatencyAdaptation::kAutoSelect, "auto_select"},
}};
}  // namespace

std::string_view LatencyAdaptationToString(LatencyAdaptation a) {
  return EnumToName(kLatencyAdaptationNames, a);
}
bool StringToLatencyAdaptation(std::string_view name, LatencyAdaptation* a) {
  return NameToEnum(kLatencyAdaptationNames, name, a);
}

Status LatencyPredictorOptions::Validate() const {
  auto bad = [](const std::string& m) {
    return InvalidArgumentError("LatencyPredictorOptions." + m);
  };
  for (int h : hidden) {
    if (h < 1 || h > 4096) return bad("hidden widths must be in [1, 4096]");
  }
  for (int h : maple_hidden) {
    if (h < 1 || h > 4096) return bad("maple_hidden widths must be in [1, 4096]");
  }
  if (feature_size < 1 || feature_size > 1024) return bad("feature_size must be in [1, 1024]");
  if (epochs < 1) return bad("epochs must be >= 1");
  if (ensemble_size < 1 || ensemble_size > 64) return bad("ensemble_size must be in [1, 64]");
  if (batch_size < 1) return bad("batch_size must be >= 1");
  if (!(learning_rate > 0)) return bad("learning_rate must be > 0");
  if (!(weight_decay >= 0)) return bad("weight_decay must be >= 0");
  if (head_prior_jitter_grid.empty()) return bad("head_prior_jitter_grid must not be empty");
  for (double g : head_prior_jitter_grid) {
    if (!(g >= 0)) return bad("head_prior_jitter_grid values must be >= 0");
  }
  if (!(descriptor_ridge > 0)) return bad("descriptor_ridge must be > 0");
  if (linear_kernel_grid.empty()) return bad("linear_kernel_grid must not be empty");
  for (double b : linear_kernel_grid) {
    if (!(b >= 0)) return bad("linear_kernel_grid values must be >= 0");
  }
  if (source_mix_ridge_grid.empty()) return bad("source_mix_ridge_grid must not be empty");
  if (source_mix_encoding_grid.empty()) return bad("source_mix_encoding_grid must not be empty");
  for (double v : source_mix_encoding_grid) {
    if (!(v >= 0)) return bad("source_mix_encoding_grid values must be >= 0");
  }
  for (double l : source_mix_ridge_grid) {
    if (!(l > 0)) return bad("source_mix_ridge_grid values must be > 0");
  }
  if (!(auto_weight_step > 0 && auto_weight_step <= 1)) {
    return bad("auto_weight_step must be in (0, 1]");
  }
  if (maple_steps < 1) return bad("maple_steps must be >= 1");
  if (maple_adapt_steps < 0) return bad("maple_adapt_steps must be >= 0");
  if (!(maple_adapt_learning_rate > 0)) return bad("maple_adapt_learning_rate must be > 0");
  if (!(maple_sample_weight > 0)) return bad("maple_sample_weight must be > 0");
  if (maple_replay_archs < 1) return bad("maple_replay_archs must be >= 1");
  return OkStatus();
}

// One shared network with its per-source heads and their prior (an ensemble member).
struct HeadMember {
  internal::Mlp trunk;      // d -> ... -> F -> m heads (saved)
  double noise_var = 0.01;  // source residual variance, standardized (saved)
  // Derived from the trunk and the source descriptors (not saved).
  Eigen::MatrixXd heads;      // m x (F + 1): [bias, weights]
  Eigen::VectorXd head_mean;  // F + 1
  Eigen::MatrixXd head_cov;   // (F + 1) x (F + 1), sample covariance
  double head_cov_mean_diag = 1;
  Eigen::MatrixXd desc_map;  // p x (F + 1)
  // Adaptation (kMapHead).
  Eigen::VectorXd head;    // on [1, phi]
  Eigen::VectorXd linear;  // on the raw encoding

  // [1, phi(x)] for each row: n x (F + 1).
  Eigen::MatrixXd Features(const Eigen::MatrixXd& x) const {
    Eigen::MatrixXf h;
    trunk.Forward(x.cast<float>(), &h);
    Eigen::MatrixXd out(x.rows(), h.cols() + 1);
    out.col(0).setOnes();
    out.rightCols(h.cols()) = h.cast<double>();
    return out;
  }

  // Heads and their prior from the trunk's output layer and the standardized source
  // descriptors (m x p).
  void DeriveHeadPrior(const Eigen::MatrixXd& source_z, const LatencyPredictorOptions& o) {
    const Eigen::MatrixXf& w = trunk.weights.back();  // m x F
    const Eigen::VectorXf& b = trunk.biases.back();
    const Eigen::Index m = w.rows();
    heads.resize(m, w.cols() + 1);
    heads.col(0) = b.cast<double>();
    heads.rightCols(w.cols()) = w.cast<double>();
    head_mean = heads.colwise().mean().transpose();
    const Eigen::MatrixXd centered = heads.rowwise() - head_mean.transpose();
    head_cov = centered.transpose() * centered / std::max<Eigen::Index>(1, m - 1);
    head_cov_mean_diag = head_cov.diagonal().mean() + 1e-12;
    const Eigen::Index p = source_z.cols();
    if (p == 0) {
      desc_map.setZero(0, heads.cols());
      return;
    }
    // Descriptor -> head mean, ridge over the sources.
    const Eigen::VectorXd zbar = source_z.colwise().mean().transpose();
    const Eigen::MatrixXd zc = source_z.rowwise() - zbar.transpose();
    Eigen::MatrixXd a = zc.transpose() * zc;
    a.diagonal().array() += o.descriptor_ridge * static_cast<double>(m);
    desc_map = a.ldlt().solve(zc.transpose() * centered);
    // Keep the map centered: prior mean = head_mean + (z - zbar) desc_map.
    head_mean -= (desc_map.transpose() * zbar);
  }

  Eigen::VectorXd PriorMean(const Eigen::VectorXd& z) const {
    if (desc_map.rows() == 0) return head_mean;
    return head_mean + desc_map.transpose() * z;
  }

  // Posterior mean given observations: a GP whose kernel is the source-head prior on
  // [1, phi] (scaled by alpha) plus a linear kernel on the raw encodings (beta), the latter
  // letting the target leave what the source devices span. Sets *head (F + 1) and *linear (d).
  void Posterior(const Eigen::VectorXd& z, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                 const LatencyPredictorOptions& o, Eigen::VectorXd* head, Eigen::VectorXd* linear,
                 Eigen::VectorXd* loo = nullptr) const {
    *head = PriorMean(z);
    linear->setZero(x.cols());
    if (loo) loo->resize(x.rows());
    if (x.rows() == 0) return;
    const Eigen::MatrixXd phi = Features(x);
    const Eigen::VectorXd r = y - phi * *head;
    const Eigen::MatrixXd k_head = phi * head_cov * phi.transpose();
    const Eigen::MatrixXd k_iso = head_cov_mean_diag * phi * phi.transpose();
    const Eigen::MatrixXd k_lin = x * x.transpose();
    double best_alpha = 1, best_noise = noise_var, best_beta = o.linear_kernel_grid[0];
    double best_gamma = o.head_prior_jitter_grid[0];
    double best_ll = -std::numeric_limits<double>::infinity();
    if (o.empirical_bayes) {
      for (double alpha : {0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0}) {
        for (double gamma : o.head_prior_jitter_grid) {
          for (double beta : o.linear_kernel_grid) {
            for (double nm : {0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0}) {
              const double noise = noise_var * nm;
              Eigen::MatrixXd c = alpha * (k_head + gamma * k_iso) + beta * k_lin;
              c.diagonal().array() += noise;
              Eigen::LLT<Eigen::MatrixXd> llt(c);
              if (llt.info() != Eigen::Success) continue;
              const Eigen::VectorXd a = llt.solve(r);
              const double logdet = 2 * llt.matrixLLT().diagonal().array().log().sum();
              const double ll = -0.5 * r.dot(a) - 0.5 * logdet;
              if (ll > best_ll) {
                best_ll = ll;
                best_alpha = alpha;
                best_noise = noise;
                best_beta = beta;
                best_gamma = gamma;
              }
            }
          }
        }
      }
    }
    Eigen::MatrixXd c = best_alpha * (k_head + best_gamma * k_iso) + best_beta * k_lin;
    c.diagonal().array() += best_noise;
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(c);
    const Eigen::VectorXd a = ldlt.solve(r);
    if (loo) {
      // Leave-one-out posterior means at the observations (Rasmussen & Williams 5.12), with
      // the hyperparameters chosen on all of them.
      const Eigen::MatrixXd cinv = ldlt.solve(Eigen::MatrixXd::Identity(c.rows(), c.cols()));
      for (Eigen::Index i = 0; i < x.rows(); ++i) (*loo)(i) = y(i) - a(i) / cinv(i, i);
    }
    Eigen::MatrixXd cov = head_cov;
    cov.diagonal().array() += best_gamma * head_cov_mean_diag;
    *head += best_alpha * cov * phi.transpose() * a;
    *linear = best_beta * x.transpose() * a;
  }

  // Standardized ln ms for x with the adapted head.
  Eigen::VectorXd PredictAdapted(const Eigen::MatrixXd& x) const {
    return Features(x) * head + x * linear;
  }
};

struct LatencyPredictor::Impl {
  // ---- trained state (saved)
  std::string space;
  int d = 0;                        // encoding size
  double y_mean = 0, y_sd = 1;      // standardization of ln(ms)
  std::vector<HeadMember> members;  // the ensemble of shared networks
  std::vector<std::string> source_names;
  std::vector<HardwareDescriptor> source_descriptors;
  std::vector<std::string> z_names;    // descriptor features the model uses
  Eigen::VectorXd z_mean, z_sd;        // their standardization over the sources
  std::vector<std::string> ref_names;  // reference architectures the model knows
  Eigen::MatrixXd ref_archs;           // r x d
  bool has_maple = false;
  internal::Mlp maple;       // [x, z] -> standardized ln ms
  Eigen::MatrixXd replay_x;  // replay archs x d
  Eigen::MatrixXd replay_y;  // replay archs x m, standardized ln ms (NaN absent)
  // ---- derived from the trained state (not saved)
  Eigen::MatrixXd source_z;  // m x p standardized descriptors, 0 = absent
  // ---- adaptation (inputs saved; the rest recomputed)
  bool adapted = false;
  LatencyAdaptation method = LatencyAdaptation::kMapHead;
  HardwareDescriptor target;
  Eigen::MatrixXd target_x;
  Eigen::VectorXd target_ms;
  internal::Mlp adapted_maple;            // kMapleMix
  Eigen::VectorXd target_z;               // standardized descriptor of the target
  double cal_a = 0, cal_b = 1;            // kCalibrate
  AffineFit affine;                       // kAffineSource, kAuto
  SourceMixFit mix;                       // kSourceMix, kAuto
  Eigen::Vector3d auto_weights{1, 0, 0};  // kAuto: map_head, affine_source, source_mix
  std::vector<LatencyPredictor::AutoCandidate> auto_candidates;

  bool trained() const { return !members.empty(); }
  int num_sources() const { return static_cast<int>(source_names.size()); }

  // Standardized descriptor features in z_names order; absent features are 0 (the mean).
  Eigen::VectorXd StandardizedDescriptor(const HardwareDescriptor& hw) const {
    Eigen::VectorXd z = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(z_names.size()));
    for (size_t i = 0; i < z_names.size(); ++i) {
      const int k = FeatureIndex(hw, z_names[i]);
      if (k < 0 || k >= hw.features.size()) continue;
      const double v = hw.features(k);
      if (std::isfinite(v)) z(static_cast<Eigen::Index>(i)) = (v - z_mean(i)) / z_sd(i);
    }
    return z;
  }

  void DeriveHeadPriors(const LatencyPredictorOptions& o) {
    const int m = num_sources();
    source_z.resize(m, static_cast<Eigen::Index>(z_names.size()));
    for (int s = 0; s < m; ++s)
      source_z.row(s) = StandardizedDescriptor(source_descriptors[s]).transpose();
    for (HeadMember& mem : members) mem.DeriveHeadPrior(source_z, o);
  }

  // ln ms of every source device as the model predicts it: n x m (ensemble mean).
  Eigen::MatrixXd SourceLogMs(const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows(), num_sources());
    for (const HeadMember& mem : members) out += mem.Features(x) * mem.heads.transpose();
    return (out / static_cast<double>(members.size())).array() * y_sd + y_mean;
  }

  // Mean over the members of the mean-source-head prediction (descriptor-free), standardized.
  Eigen::VectorXd MeanSourcePrediction(const Eigen::MatrixXd& x) const {
    Eigen::VectorXd f = Eigen::VectorXd::Zero(x.rows());
    for (const HeadMember& mem : members)
      f += mem.Features(x) * mem.heads.colwise().mean().transpose();
    return f / static_cast<double>(members.size());
  }

  // Target observations: the descriptor's reference latencies the model knows, then the samples.
  // (rows of x, standardized ln ms).
  void Observations(const HardwareDescriptor& hw, const Eigen::MatrixXd& samples_x,
                    const Eigen::VectorXd& samples_ms, bool with_references, Eigen::MatrixXd* x,
                    Eigen::VectorXd* y) const {
    std::vector<int> ref_rows;
    std::vector<double> ref_y;
    if (with_references) {
      for (size_t r = 0; r < ref_names.size(); ++r) {
        const int k = FeatureIndex(hw, ref_names[r]);
        if (k < 0 || k >= hw.features.size() || !std::isfinite(hw.features(k))) continue;
        ref_rows.push_back(static_cast<int>(r));
        ref_y.push_back(hw.features(k));  // already ln(ms)
      }
    }
    const Eigen::Index n = static_cast<Eigen::Index>(ref_rows.size()) + samples_x.rows();
    x->resize(n, d);
    y->resize(n);
    Eigen::Index i = 0;
    for (size_t r = 0; r < ref_rows.size(); ++r, ++i) {
      x->row(i) = ref_archs.row(ref_rows[r]);
      (*y)(i) = (ref_y[r] - y_mean) / y_sd;
    }
    for (Eigen::Index s = 0; s < samples_x.rows(); ++s, ++i) {
      x->row(i) = samples_x.row(s);
      (*y)(i) = (std::log(samples_ms(s)) - y_mean) / y_sd;
    }
  }
};

LatencyPredictor::LatencyPredictor(LatencyPredictorOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}
LatencyPredictor::~LatencyPredictor() = default;
LatencyPredictor::LatencyPredictor(const LatencyPredictor& other)
    : options_(other.options_), impl_(std::make_unique<Impl>(*other.impl_)) {}
LatencyPredictor& LatencyPredictor::operator=(const LatencyPredictor& other) {
  if (this != &other) {
    options_ = other.options_;
    impl_ = std::make_unique<Impl>(*other.impl_);
  }
  return *this;
}
LatencyPredictor::LatencyPredictor(LatencyPredictor&&) noexcept = default;
LatencyPredictor& LatencyPredictor::operator=(LatencyPredictor&&) noexcept = default;

bool LatencyPredictor::IsReferenceArchitecture(const std::string& feature_name) const {
  return std::find(impl_->ref_names.begin(), impl_->ref_names.end(), feature_name) !=
         impl_->ref_names.end();
}
bool LatencyPredictor::trained() const { return impl_->trained(); }
bool LatencyPredictor::adapted() const { return impl_->adapted; }
int LatencyPredictor::encoding_size() const { return impl_->d; }
int LatencyPredictor::num_sources() const { return impl_->num_sources(); }
const std::vector<std::string>& LatencyPredictor::source_names() const {
  return impl_->source_names;
}
const std::string& LatencyPredictor::space() const { return impl_->space; }
const std::string& LatencyPredictor::adapted_device() const {
  static const std::string kEmpty;
  return impl_->adapted ? impl_->target.device_name : kEmpty;
}
LatencyAdaptation LatencyPredictor::adapted_method() const { return impl_->method; }
const std::vector<LatencyPredictor::AutoCandidate>& LatencyPredictor::auto_candidates() const {
  return impl_->auto_candidates;
}

Status LatencyPredictor::Train(const LatencyTrainingSet& set) {
  SONAR_RETURN_IF_ERROR(options_.Validate());
  const Eigen::Index n = set.architectures.rows();
  const int m = static_cast<int>(set.devices.size());
  if (n < 2 || set.architectures.cols() < 1) {
    return InvalidArgumentError("latency training needs at least 2 encoded architectures");
  }
  if (m < 2) return InvalidArgumentError("latency training needs at least 2 source devices");
  if (set.latency_ms.rows() != n || set.latency_ms.cols() != m) {
    return InvalidArgumentError("latency_ms is " + std::to_string(set.latency_ms.rows()) + " x " +
                                std::to_string(set.latency_ms.cols()) + ", expected " +
                                std::to_string(n) + " x " + std::to_string(m));
  }
  if (set.reference_architectures.rows() != static_cast<Eigen::Index>(set.reference_names.size()) ||
      (!set.reference_names.empty() &&
       set.reference_architectures.cols() != set.architectures.cols())) {
    return InvalidArgumentError("reference_architectures must have one encoded row per name");
  }
  Impl impl;
  impl.space = set.space;
  impl.d = static_cast<int>(set.architectures.cols());
  // ln(ms), standardized over every present value.
  Eigen::MatrixXd y(n, m);
  double sum = 0, sum2 = 0;
  int64_t count = 0;
  for (int s = 0; s < m; ++s) {
    int64_t dev_count = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      y(i, s) = LogOrNaN(set.latency_ms(i, s));
      if (std::isfinite(y(i, s))) {
        sum += y(i, s);
        sum2 += y(i, s) * y(i, s);
        ++count;
        ++dev_count;
      }
    }
    if (dev_count == 0) {
      return InvalidArgumentError("source device '" + set.devices[s].device_name +
                                  "' has no positive latency");
    }
  }
  impl.y_mean = sum / count;
  impl.y_sd = std::sqrt(std::max(1e-12, sum2 / count - impl.y_mean * impl.y_mean));
  y = (y.array() - impl.y_mean) / impl.y_sd;
  for (const HardwareDescriptor& hw : set.devices) impl.source_names.push_back(hw.device_name);
  impl.source_descriptors = set.devices;
  // Descriptor features: the union of names, in order of first appearance, with a value on at
  // least two sources (else they cannot be standardized).
  for (const HardwareDescriptor& hw : set.devices) {
    for (size_t i = 0; i < hw.feature_names.size(); ++i) {
      const std::string& name = hw.feature_names[i];
      if (std::find(impl.z_names.begin(), impl.z_names.end(), name) != impl.z_names.end()) continue;
      std::vector<double> vals;
      for (const HardwareDescriptor& other : set.devices) {
        const int k = FeatureIndex(other, name);
        if (k >= 0 && k < other.features.size() && std::isfinite(other.features(k))) {
          vals.push_back(other.features(k));
        }
      }
      if (vals.size() < 2) continue;
      double mu = 0, var = 0;
      for (double v : vals) mu += v;
      mu /= vals.size();
      for (double v : vals) var += (v - mu) * (v - mu);
      var /= vals.size() - 1;
      impl.z_names.push_back(name);
      impl.z_mean.conservativeResize(impl.z_mean.size() + 1);
      impl.z_sd.conservativeResize(impl.z_sd.size() + 1);
      impl.z_mean(impl.z_mean.size() - 1) = mu;
      impl.z_sd(impl.z_sd.size() - 1) = std::sqrt(var) > 1e-9 ? std::sqrt(var) : 1.0;
    }
  }
  impl.ref_names = set.reference_names;
  impl.ref_archs = set.reference_architectures;

  // Shared networks with one head per source device, one per ensemble member.
  std::vector<int> hidden = options_.hidden;
  hidden.push_back(options_.feature_size);
  const Eigen::MatrixXf xf = set.architectures.cast<float>();
  const Eigen::MatrixXf yf = y.cast<float>();
  internal::MlpTrainOptions train;
  train.epochs = options_.epochs;
  train.batch_size = options_.batch_size;
  train.learning_rate = options_.learning_rate;
  train.weight_decay = options_.weight_decay;
  for (int e = 0; e < options_.ensemble_size; ++e) {
    Rng rng = MakeRng(options_.seed, 100 + e);
    HeadMember mem;
    mem.trunk = internal::Mlp(impl.d, hidden, m, rng);
    internal::TrainMlp(mem.trunk, xf, yf, Eigen::VectorXf(), train, rng);
    // Residual variance over the sources.
    const Eigen::MatrixXd pred = mem.trunk.Forward(xf).cast<double>();
    double se = 0;
    int64_t c = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      for (int s = 0; s < m; ++s) {
        if (!std::isfinite(y(i, s))) continue;
        se += (pred(i, s) - y(i, s)) * (pred(i, s) - y(i, s));
        ++c;
      }
    }
    mem.noise_var = std::max(1e-6, se / std::max<int64_t>(1, c));
    mem.trunk.m_w.clear();
    mem.trunk.v_w.clear();
    mem.trunk.m_b.clear();
    mem.trunk.v_b.clear();
    impl.members.push_back(std::move(mem));
  }
  impl.DeriveHeadPriors(options_);

  // MAPLE: one network over (architecture, descriptor) rows.
  if (options_.train_maple) {
    Rng mrng = MakeRng(options_.seed, 2);
    const int p = static_cast<int>(impl.z_names.size());
    impl.maple = internal::Mlp(impl.d + p, options_.maple_hidden, 1, mrng);
    std::vector<std::pair<int, int>> rows;  // (arch, device) with a value
    for (Eigen::Index i = 0; i < n; ++i) {
      for (int s = 0; s < m; ++s) {
        if (std::isfinite(y(i, s))) rows.push_back({static_cast<int>(i), s});
      }
    }
    const int b = options_.batch_size * 2;
    Eigen::MatrixXf xb(b, impl.d + p), yb(b, 1);
    const Eigen::MatrixXf zf = impl.source_z.cast<float>();
    for (int step = 0; step < options_.maple_steps; ++step) {
      for (int k = 0; k < b; ++k) {
        const auto [i, s] = rows[UniformInt(mrng, 0, static_cast<int64_t>(rows.size()) - 1)];
        xb.row(k).head(impl.d) = xf.row(i);
        xb.row(k).tail(p) = zf.row(s);
        yb(k, 0) = yf(i, s);
      }
      const double progress =
          options_.maple_steps > 1 ? double(step) / (options_.maple_steps - 1) : 1;
      const double lr =
          options_.learning_rate * (0.02 + 0.98 * 0.5 * (1 + std::cos(M_PI * progress)));
      impl.maple.Step(xb, yb, Eigen::VectorXf(), static_cast<float>(lr),
                      static_cast<float>(options_.weight_decay));
    }
    impl.maple.m_w.clear();  // adaptation restarts Adam
    impl.has_maple = true;
    // Replay buffer for adaptation.
    const std::vector<int> perm = internal::Permutation(static_cast<int>(n), mrng);
    const int r = std::min<int>(options_.maple_replay_archs, static_cast<int>(n));
    impl.replay_x.resize(r, impl.d);
    impl.replay_y.resize(r, m);
    for (int k = 0; k < r; ++k) {
      impl.replay_x.row(k) = set.architectures.row(perm[k]);
      impl.replay_y.row(k) = y.row(perm[k]);
    }
  }
  *impl_ = std::move(impl);
  return OkStatus();
}

Status LatencyPredictor::Adapt(const HardwareDescriptor& device,
                               const Eigen::MatrixXd& architectures,
                               const Eigen::VectorXd& latency_ms) {
  return Adapt(device, architectures, latency_ms, options_.adaptation);
}

Status LatencyPredictor::Adapt(const HardwareDescriptor& device,
                               const Eigen::MatrixXd& architectures,
                               const Eigen::VectorXd& latency_ms, LatencyAdaptation method) {
  SONAR_CHECK(trained()) << "LatencyPredictor::Adapt before Train or Load";
  Impl& im = *impl_;
  if (architectures.rows() != latency_ms.size() ||
      (architectures.rows() > 0 && architectures.cols() != im.d)) {
    return InvalidArgumentError("adaptation samples: " + std::to_string(architectures.rows()) +
                                " x " + std::to_string(architectures.cols()) + " encodings and " +
                                std::to_string(latency_ms.size()) + " latencies; expected k x " +
                                std::to_string(im.d) + " and k");
  }
  for (Eigen::Index i = 0; i < latency_ms.size(); ++i) {
    if (!(std::isfinite(latency_ms(i)) && latency_ms(i) > 0)) {
      return InvalidArgumentError("adaptation sample " + std::to_string(i) +
                                  " has a non-positive or non-finite latency");
    }
  }
  if (static_cast<Eigen::Index>(device.feature_names.size()) != device.features.size()) {
    return InvalidArgumentError("descriptor of '" + device.device_name +
                                "' has a different number of feature names and values");
  }
  if (method == LatencyAdaptation::kMapleMix && !im.has_maple) {
    return FailedPreconditionError(
        "maple_mix adaptation needs a model trained with train_maple = true");
  }
  im.adapted = false;
  im.method = method;
  im.target = device;
  im.target_x = architectures.rows() > 0 ? architectures : Eigen::MatrixXd(0, im.d);
  im.target_ms = latency_ms;
  im.target_z = im.StandardizedDescriptor(device);
  im.auto_candidates.clear();
  switch (method) {
    case LatencyAdaptation::kMapHead: {
      Eigen::MatrixXd x;
      Eigen::VectorXd y;
      im.Observations(device, im.target_x, latency_ms, /*with_references=*/true, &x, &y);
      for (HeadMember& mem : im.members)
        mem.Posterior(im.target_z, x, y, options_, &mem.head, &mem.linear);
      break;
    }
    case LatencyAdaptation::kAffineSource:
    case LatencyAdaptation::kSourceMix:
    case LatencyAdaptation::kAuto:
    case LatencyAdaptation::kAutoSelect: {
      Eigen::MatrixXd x;
      Eigen::VectorXd y;
      im.Observations(device, im.target_x, latency_ms, /*with_references=*/true, &x, &y);
      const Eigen::Index n = x.rows();
      const Eigen::VectorXd y_log = y.array() * im.y_sd + im.y_mean;
      const Eigen::MatrixXd s_log = im.SourceLogMs(x);
      const Eigen::MatrixXd s_ms = s_log.array().exp();
      const Eigen::VectorXd t_ms = y_log.array().exp();
      const std::vector<char> all(static_cast<size_t>(n), 1);
      im.affine = FitBestAffineSource(s_log, y_log, all);
      im.mix = FitSourceMixCv(s_ms, x, t_ms, all, options_);
      if (method == LatencyAdaptation::kAffineSource) {
        im.auto_weights = {0, 1, 0};
      } else if (method == LatencyAdaptation::kSourceMix) {
        im.auto_weights = {0, 0, 1};
      } else {
        // Candidates' leave-one-out ln-ms predictions at the n observations.
        // map_head is refitted without the held-out point, hyperparameters included, so that
        // its CV error is as honest as the other candidates'.
        Eigen::MatrixXd loo(n, 3);
        loo.col(0).setZero();
        std::vector<char> fold = all;
        Eigen::VectorXd head, linear;
        for (Eigen::Index i = 0; i < n; ++i) {
          Eigen::MatrixXd xi(n - 1, x.cols());
          Eigen::VectorXd yi(n - 1);
          for (Eigen::Index r = 0, o = 0; r < n; ++r) {
            if (r == i) continue;
            xi.row(o) = x.row(r);
            yi(o++) = y(r);
          }
          for (const HeadMember& mem : im.members) {
            mem.Posterior(im.target_z, xi, yi, options_, &head, &linear);
            loo(i, 0) += mem.Features(x.row(i)).row(0).dot(head) + x.row(i).dot(linear);
          }
          loo(i, 0) = loo(i, 0) / static_cast<double>(im.members.size()) * im.y_sd + im.y_mean;
          fold[i] = 0;
          const AffineFit af = FitBestAffineSource(s_log, y_log, fold);
          loo(i, 1) = af.a + af.b * s_log(i, af.source);
          const SourceMixFit mf = FitSourceMixCv(s_ms, x, t_ms, fold, options_);
          loo(i, 2) = mf.PredictLogMs(s_ms.row(i), x.row(i))(0);
          fold[i] = 1;
        }
        for (HeadMember& mem : im.members) {
          mem.Posterior(im.target_z, x, y, options_, &mem.head, &mem.linear);
        }
        const char* names[3] = {"map_head", "affine_source", "source_mix"};
        Eigen::Vector3d mse;
        for (int c = 0; c < 3; ++c)
          mse(c) = (loo.col(c) - y_log).squaredNorm() / std::max<Eigen::Index>(1, n);
        im.auto_weights = {1, 0, 0};
        if (n >= 3 && loo.allFinite()) {
          if (method == LatencyAdaptation::kAutoSelect || options_.auto_weight_step >= 1) {
            Eigen::Index best = 0;
            mse.minCoeff(&best);
            im.auto_weights.setZero();
            im.auto_weights(best) = 1;
          } else {
            // Convex weights on a simplex grid minimizing the CV squared error (stacking).
            const int steps =
                std::max(1, static_cast<int>(std::lround(1.0 / options_.auto_weight_step)));
            double best = std::numeric_limits<double>::infinity();
            for (int i = steps; i >= 0; --i) {
              for (int j = 0; i + j <= steps; ++j) {
                const Eigen::Vector3d w(double(i) / steps, double(j) / steps,
                                        double(steps - i - j) / steps);
                const double e = (loo * w - y_log).squaredNorm();
                if (e < best - 1e-12) {
                  best = e;
                  im.auto_weights = w;
                }
              }
            }
          }
        }
        for (int c = 0; c < 3; ++c) {
          im.auto_candidates.push_back({names[c], std::sqrt(mse(c)), im.auto_weights(c)});
        }
      }
      break;
    }
    case LatencyAdaptation::kCalibrate: {
      // The descriptor-free model is the mean source head; calibrate a + b * f on the samples.
      im.cal_a = 0;
      im.cal_b = 1;
      const Eigen::Index k = latency_ms.size();
      if (k > 0) {
        const Eigen::VectorXd f = im.MeanSourcePrediction(im.target_x);
        Eigen::VectorXd y(k);
        for (Eigen::Index i = 0; i < k; ++i) y(i) = (std::log(latency_ms(i)) - im.y_mean) / im.y_sd;
        if (k == 1) {
          im.cal_a = y(0) - f(0);
        } else {
          // Least squares with a light ridge pulling the slope to 1 (k = 2 or 3 is noisy).
          const double lambda = 0.1;
          Eigen::Matrix2d a;
          a << static_cast<double>(k), f.sum(), f.sum(), f.squaredNorm() + lambda;
          Eigen::Vector2d rhs(y.sum(), f.dot(y) + lambda);
          const Eigen::Vector2d sol = a.ldlt().solve(rhs);
          im.cal_a = sol(0);
          im.cal_b = sol(1);
        }
      }
      break;
    }
    case LatencyAdaptation::kMapleMix: {
      Eigen::MatrixXd x;
      Eigen::VectorXd y;
      im.Observations(device, im.target_x, latency_ms, /*with_references=*/true, &x, &y);
      im.adapted_maple = im.maple;
      im.adapted_maple.m_w.clear();
      const int p = static_cast<int>(im.z_names.size());
      const int t = static_cast<int>(x.rows());
      const int src = options_.batch_size;
      Eigen::MatrixXf xb(src + t, im.d + p), yb(src + t, 1);
      Eigen::VectorXf wb = Eigen::VectorXf::Ones(src + t);
      for (int i = 0; i < t; ++i) {
        xb.row(src + i).head(im.d) = x.row(i).cast<float>();
        xb.row(src + i).tail(p) = im.target_z.transpose().cast<float>();
        yb(src + i, 0) = static_cast<float>(y(i));
        wb(src + i) = static_cast<float>(options_.maple_sample_weight);
      }
      Rng rng = MakeRng(options_.seed, 3);
      const Eigen::MatrixXf zf = im.source_z.cast<float>();
      const int r = static_cast<int>(im.replay_x.rows());
      const int m = im.num_sources();
      for (int step = 0; step < options_.maple_adapt_steps && t > 0; ++step) {
        for (int k = 0; k < src; ++k) {
          int i = 0, s = 0;
          do {  // a replayed row with a value
            i = static_cast<int>(UniformInt(rng, 0, r - 1));
            s = static_cast<int>(UniformInt(rng, 0, m - 1));
          } while (!std::isfinite(im.replay_y(i, s)));
          xb.row(k).head(im.d) = im.replay_x.row(i).cast<float>();
          xb.row(k).tail(p) = zf.row(s);
          yb(k, 0) = static_cast<float>(im.replay_y(i, s));
        }
        const double progress =
            options_.maple_adapt_steps > 1 ? double(step) / (options_.maple_adapt_steps - 1) : 1;
        const double lr = options_.maple_adapt_learning_rate *
                          (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
        im.adapted_maple.Step(xb, yb, wb, static_cast<float>(lr),
                              static_cast<float>(options_.weight_decay));
      }
      im.adapted_maple.m_w.clear();
      im.adapted_maple.v_w.clear();
      im.adapted_maple.m_b.clear();
      im.adapted_maple.v_b.clear();
      break;
    }
  }
  im.adapted = true;
  return OkStatus();
}

Eigen::VectorXd LatencyPredictor::PredictLogMs(const Eigen::MatrixXd& architectures) const {
  SONAR_CHECK(adapted()) << "LatencyPredictor::PredictMs before Adapt";
  const Impl& im = *impl_;
  SONAR_CHECK(architectures.cols() == im.d)
      << "encodings have " << architectures.cols() << " columns, the model " << im.d;
  Eigen::VectorXd y;
  switch (im.method) {
    case LatencyAdaptation::kMapHead:
      y = Eigen::VectorXd::Zero(architectures.rows());
      for (const HeadMember& mem : im.members) y += mem.PredictAdapted(architectures);
      y /= static_cast<double>(im.members.size());
      break;
    case LatencyAdaptation::kAffineSource:
    case LatencyAdaptation::kSourceMix:
    case LatencyAdaptation::kAuto:
    case LatencyAdaptation::kAutoSelect: {
      // Weighted ln-ms combination; candidates with weight 0 are not computed.
      Eigen::VectorXd out = Eigen::VectorXd::Zero(architectures.rows());
      const Eigen::Vector3d& w = im.auto_weights;
      if (w(0) > 0) {
        Eigen::VectorXd head = Eigen::VectorXd::Zero(architectures.rows());
        for (const HeadMember& mem : im.members) head += mem.PredictAdapted(architectures);
        out +=
            w(0) * ((head / static_cast<double>(im.members.size())).array() * im.y_sd + im.y_mean)
                       .matrix();
      }
      if (w(1) > 0 || w(2) > 0) {
        const Eigen::MatrixXd s_log = im.SourceLogMs(architectures);
        if (w(1) > 0 && im.affine.source >= 0) {
          out += w(1) * (im.affine.b * s_log.col(im.affine.source).array() + im.affine.a).matrix();
        }
        if (w(2) > 0)
          out += w(2) * im.mix.PredictLogMs(s_log.array().exp().matrix(), architectures);
      }
      return out;
    }
    case LatencyAdaptation::kCalibrate:
      y = im.MeanSourcePrediction(architectures).array() * im.cal_b + im.cal_a;
      break;
    case LatencyAdaptation::kMapleMix: {
      const int p = static_cast<int>(im.z_names.size());
      Eigen::MatrixXf x(architectures.rows(), im.d + p);
      x.leftCols(im.d) = architectures.cast<float>();
      x.rightCols(p).rowwise() = im.target_z.transpose().cast<float>();
      y = im.adapted_maple.Forward(x).col(0).cast<double>();
      break;
    }
  }
  return y.array() * im.y_sd + im.y_mean;
}

Eigen::VectorXd LatencyPredictor::PredictMs(const Eigen::MatrixXd& architectures) const {
  return PredictLogMs(architectures).array().exp();
}

Eigen::VectorXd LatencyPredictor::PredictLogMs(const Eigen::MatrixXd& architectures,
                                               const HardwareDescriptor& device) const {
  SONAR_CHECK(trained()) << "LatencyPredictor::PredictLogMs before Train or Load";
  const Impl& im = *impl_;
  SONAR_CHECK(architectures.cols() == im.d)
      << "encodings have " << architectures.cols() << " columns, the model " << im.d;
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  im.Observations(device, Eigen::MatrixXd(0, im.d), Eigen::VectorXd(), true, &x, &y);
  Eigen::VectorXd head, linear;
  Eigen::VectorXd out = Eigen::VectorXd::Zero(architectures.rows());
  for (const HeadMember& mem : im.members) {
    mem.Posterior(im.StandardizedDescriptor(device), x, y, options_, &head, &linear);
    out += mem.Features(architectures) * head + architectures * linear;
  }
  return (out / static_cast<double>(im.members.size())).array() * im.y_sd + im.y_mean;
}

Eigen::VectorXd LatencyPredictor::PredictSourceLogMs(const Eigen::MatrixXd& architectures,
                                                     int source) const {
  SONAR_CHECK(trained()) << "LatencyPredictor::PredictSourceLogMs before Train or Load";
  SONAR_CHECK(source >= 0 && source < num_sources()) << "source " << source;
  const Impl& im = *impl_;
  Eigen::VectorXd out = Eigen::VectorXd::Zero(architectures.rows());
  for (const HeadMember& mem : im.members)
    out += mem.Features(architectures) * mem.heads.row(source).transpose();
  return (out / static_cast<double>(im.members.size())).array() * im.y_sd + im.y_mean;
}

Status LatencyPredictor::Save(const std::string& path) const {
  SONAR_CHECK(trained()) << "LatencyPredictor::Save before Train";
  const Impl& im = *impl_;
  const LatencyPredictorOptions& o = options_;
  Json j;
  j["format"] = kFormat;
  j["version"] = kFormatVersion;
  j["space"] = im.space;
  j["options"] = {{"hidden", o.hidden},
                  {"feature_size", o.feature_size},
                  {"epochs", o.epochs},
                  {"ensemble_size", o.ensemble_size},
                  {"batch_size", o.batch_size},
                  {"learning_rate", o.learning_rate},
                  {"weight_decay", o.weight_decay},
                  {"head_prior_jitter_grid", o.head_prior_jitter_grid},
                  {"descriptor_ridge", o.descriptor_ridge},
                  {"empirical_bayes", o.empirical_bayes},
                  {"linear_kernel_grid", o.linear_kernel_grid},
                  {"train_maple", o.train_maple},
                  {"maple_hidden", o.maple_hidden},
                  {"maple_steps", o.maple_steps},
                  {"maple_adapt_steps", o.maple_adapt_steps},
                  {"maple_adapt_learning_rate", o.maple_adapt_learning_rate},
                  {"maple_sample_weight", o.maple_sample_weight},
                  {"maple_replay_archs", o.maple_replay_archs},
                  {"adaptation", std::string(LatencyAdaptationToString(o.adaptation))},
                  {"seed", o.seed}};
  j["encoding_size"] = im.d;
  j["y_mean"] = im.y_mean;
  j["y_sd"] = im.y_sd;
  Json members = Json::array();
  for (const HeadMember& mem : im.members) {
    members.push_back({{"noise_var", mem.noise_var}, {"trunk", MlpToJson(mem.trunk)}});
  }
  j["members"] = members;
  Json sources = Json::array();
  for (const HardwareDescriptor& hw : im.source_descriptors)
    sources.push_back(DescriptorToJson(hw));
  j["sources"] = sources;
  j["descriptor_features"] = {
      {"names", im.z_names},
      {"mean", std::vector<double>(im.z_mean.data(), im.z_mean.data() + im.z_mean.size())},
      {"sd", std::vector<double>(im.z_sd.data(), im.z_sd.data() + im.z_sd.size())}};
  j["references"] = {{"names", im.ref_names}, {"encodings", SparseRows(im.ref_archs)}};
  if (im.has_maple) {
    Json replay_y = Json::array();
    for (Eigen::Index i = 0; i < im.replay_y.rows(); ++i) {
      Json row = Json::array();
      for (Eigen::Index s = 0; s < im.replay_y.cols(); ++s) {
        row.push_back(std::isfinite(im.replay_y(i, s)) ? Json(im.replay_y(i, s)) : Json(nullptr));
      }
      replay_y.push_back(std::move(row));
    }
    j["maple"] = {{"network", MlpToJson(im.maple)},
                  {"replay_encodings", SparseRows(im.replay_x)},
                  {"replay_std_log_ms", replay_y}};
  }
  if (im.adapted) {
    j["adapted"] = {
        {"method", std::string(LatencyAdaptationToString(im.method))},
        {"descriptor", DescriptorToJson(im.target)},
        {"sample_encodings", SparseRows(im.target_x)},
        {"sample_latency_ms",
         std::vector<double>(im.target_ms.data(), im.target_ms.data() + im.target_ms.size())}};
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return NotFoundError("cannot write " + tmp);
    out << j.dump() << '\n';
    if (!out.flush()) return InternalError("writing " + tmp + " failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return InternalError("cannot rename " + tmp + " to " + path);
  }
  return OkStatus();
}

StatusOr<LatencyPredictor> LatencyPredictor::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open latency model " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(path +
                         " is not a latency model: not a JSON object (truncated or corrupt?)");
  }
  if (j.value("format", "") != kFormat) {
    return DataLossError(path + " is not a latency model (its \"format\" is not \"" +
                         std::string(kFormat) + "\")");
  }
  if (j.value("version", 0) != kFormatVersion) {
    return InvalidArgumentError(path + ": unsupported latency model version " +
                                j.value("version", Json(0)).dump() + " (this Sonar reads " +
                                std::to_string(kFormatVersion) + ")");
  }
  // nlohmann throws on missing or ill-typed fields; Sonar does not, so convert here.
  try {
    LatencyPredictorOptions o;
    const Json& jo = j.at("options");
    o.hidden = jo.at("hidden").get<std::vector<int>>();
    o.feature_size = jo.at("feature_size").get<int>();
    o.epochs = jo.at("epochs").get<int>();
    o.ensemble_size = jo.at("ensemble_size").get<int>();
    o.batch_size = jo.at("batch_size").get<int>();
    o.learning_rate = jo.at("learning_rate").get<double>();
    o.weight_decay = jo.at("weight_decay").get<double>();
    o.head_prior_jitter_grid = jo.at("head_prior_jitter_grid").get<std::vector<double>>();
    o.descriptor_ridge = jo.at("descriptor_ridge").get<double>();
    o.empirical_bayes = jo.at("empirical_bayes").get<bool>();
    o.linear_kernel_grid = jo.at("linear_kernel_grid").get<std::vector<double>>();
    o.train_maple = jo.at("train_maple").get<bool>();
    o.maple_hidden = jo.at("maple_hidden").get<std::vector<int>>();
    o.maple_steps = jo.at("maple_steps").get<int>();
    o.maple_adapt_steps = jo.at("maple_adapt_steps").get<int>();
    o.maple_adapt_learning_rate = jo.at("maple_adapt_learning_rate").get<double>();
    o.maple_sample_weight = jo.at("maple_sample_weight").get<double>();
    o.maple_replay_archs = jo.at("maple_replay_archs").get<int>();
    if (!StringToLatencyAdaptation(jo.at("adaptation").get<std::string>(), &o.adaptation)) {
      return DataLossError(path + ": unknown adaptation in options");
    }
    o.seed = jo.at("seed").get<uint64_t>();
    if (Status s = o.Validate(); !s.ok()) return DataLossError(path + ": " + s.message());
    LatencyPredictor p(o);
    Impl& im = *p.impl_;
    im.space = j.at("space").get<std::string>();
    im.d = j.at("encoding_size").get<int>();
    im.y_mean = j.at("y_mean").get<double>();
    im.y_sd = j.at("y_sd").get<double>();
    if (im.d < 1 || !(im.y_sd > 0)) return DataLossError(path + ": invalid encoding_size or y_sd");
    for (const Json& jm : j.at("members")) {
      HeadMember mem;
      mem.noise_var = jm.at("noise_var").get<double>();
      if (!(mem.noise_var > 0)) return DataLossError(path + ": invalid noise_var");
      if (Status s = MlpFromJson(jm.at("trunk"), &mem.trunk); !s.ok()) {
        return DataLossError(path + ": trunk: " + s.message());
      }
      im.members.push_back(std::move(mem));
    }
    if (im.members.empty()) return DataLossError(path + ": the model has no networks");
    for (const Json& sj : j.at("sources")) {
      HardwareDescriptor hw;
      if (Status s = DescriptorFromJson(sj, &hw); !s.ok())
        return DataLossError(path + ": " + s.message());
      im.source_names.push_back(hw.device_name);
      im.source_descriptors.push_back(std::move(hw));
    }
    for (const HeadMember& mem : im.members) {
      if (mem.trunk.num_inputs() != im.d || mem.trunk.num_outputs() != im.num_sources() ||
          im.num_sources() < 2) {
        return DataLossError(path +
                             ": a trunk network does not match the encoding size and sources");
      }
    }
    const Json& jz = j.at("descriptor_features");
    im.z_names = jz.at("names").get<std::vector<std::string>>();
    const std::vector<double> zm = jz.at("mean").get<std::vector<double>>();
    const std::vector<double> zs = jz.at("sd").get<std::vector<double>>();
    if (zm.size() != im.z_names.size() || zs.size() != im.z_names.size()) {
      return DataLossError(path + ": descriptor_features lengths differ");
    }
    im.z_mean = Eigen::Map<const Eigen::VectorXd>(zm.data(), static_cast<Eigen::Index>(zm.size()));
    im.z_sd = Eigen::Map<const Eigen::VectorXd>(zs.data(), static_cast<Eigen::Index>(zs.size()));
    im.ref_names = j.at("references").at("names").get<std::vector<std::string>>();
    if (Status s = SparseRowsFromJson(j.at("references").at("encodings"), im.d, &im.ref_archs);
        !s.ok()) {
      return DataLossError(path + ": references: " + s.message());
    }
    if (im.ref_archs.rows() != static_cast<Eigen::Index>(im.ref_names.size())) {
      return DataLossError(path + ": reference names and encodings differ in number");
    }
    if (j.contains("maple")) {
      const Json& jm = j.at("maple");
      if (Status s = MlpFromJson(jm.at("network"), &im.maple); !s.ok()) {
        return DataLossError(path + ": maple: " + s.message());
      }
      if (im.maple.num_inputs() != im.d + static_cast<int>(im.z_names.size())) {
        return DataLossError(path +
                             ": the maple network does not match the encoding and descriptor");
      }
      if (Status s = SparseRowsFromJson(jm.at("replay_encodings"), im.d, &im.replay_x); !s.ok()) {
        return DataLossError(path + ": maple replay: " + s.message());
      }
      const Json& ry = jm.at("replay_std_log_ms");
      if (ry.size() != static_cast<size_t>(im.replay_x.rows()) || ry.empty()) {
        return DataLossError(path + ": maple replay rows differ");
      }
      im.replay_y.resize(im.replay_x.rows(), im.num_sources());
      for (size_t i = 0; i < ry.size(); ++i) {
        if (ry[i].size() != static_cast<size_t>(im.num_sources())) {
          return DataLossError(path + ": a maple replay row has the wrong number of devices");
        }
        for (int s = 0; s < im.num_sources(); ++s) {
          im.replay_y(static_cast<Eigen::Index>(i), s) =
              ry[i][s].is_null() ? kNaN : ry[i][s].get<double>();
        }
      }
      im.has_maple = true;
    }
    im.DeriveHeadPriors(o);
    if (j.contains("adapted")) {
      const Json& ja = j.at("adapted");
      LatencyAdaptation method;
      if (!StringToLatencyAdaptation(ja.at("method").get<std::string>(), &method)) {
        return DataLossError(path + ": unknown adaptation method");
      }
      HardwareDescriptor hw;
      if (Status s = DescriptorFromJson(ja.at("descriptor"), &hw); !s.ok()) {
        return DataLossError(path + ": adapted descriptor: " + s.message());
      }
      Eigen::MatrixXd x;
      if (Status s = SparseRowsFromJson(ja.at("sample_encodings"), im.d, &x); !s.ok()) {
        return DataLossError(path + ": adapted samples: " + s.message());
      }
      const std::vector<double> ms = ja.at("sample_latency_ms").get<std::vector<double>>();
      if (static_cast<Eigen::Index>(ms.size()) != x.rows()) {
        return DataLossError(path + ": adapted sample encodings and latencies differ in number");
      }
      const Eigen::VectorXd msv =
          Eigen::Map<const Eigen::VectorXd>(ms.data(), static_cast<Eigen::Index>(ms.size()));
      if (Status s = p.Adapt(hw, x, msv, method); !s.ok()) {
        return DataLossError(path + ": re-adapting the stored samples failed: " + s.message());
      }
    }
    return p;
  } catch (const std::exception& e) {
    return DataLossError(path + ": malformed latency model: " + e.what());
  }
}

}  // namespace sonar
