// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the state of a LatencyPredictor (LatencyPredictor::Impl) and its
// parts: the ensemble member (HeadMember: shared network, per-source heads and their prior) and
// the fits of the source-based adaptations (AffineFit, SourceMixFit). Shared by
// latency_predictor.cc (training, adaptation, prediction) and latency_predictor_io.cc (the model
// file). Not a public header (not installed).
//
// Example (inside those two files only):
//   LatencyPredictor::Impl& im = *impl_;
//   im.DeriveHeadPriors(options_);
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "surrogate/latency/latency_mlp.h"
#include "surrogate/latency/latency_predictor.h"

namespace sonar {
namespace internal {

// Index of `name` among the descriptor's features, or -1. (HardwareDescriptor::Feature lives
// in measure/hardware.cc; this layer only needs names.)
inline int FeatureIndex(const HardwareDescriptor& hw, const std::string& name) {
  for (size_t i = 0; i < hw.feature_names.size(); ++i) {
    if (hw.feature_names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// ln t = a + b ln s on the rows of `use`, for the source column (of s_log, n x m) that fits
// best (least squared error); b = 1 when the rows cannot determine a slope.
struct AffineFit {
  int source = -1;
  double a = 0, b = 1;
};

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

// What the source-based adaptations fit on: the target's observations (references the model
// knows, then the samples), standardized and in ln ms, and every source's predicted latency
// at them, ln ms and ms.
struct SourceData {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;      // standardized ln ms
  Eigen::VectorXd y_log;  // ln ms
  Eigen::MatrixXd s_log;  // n x sources, ln ms
  Eigen::MatrixXd s_ms;
  Eigen::VectorXd t_ms;
};

}  // namespace internal

struct LatencyPredictor::Impl {
  // ---- trained state (saved)
  std::string space;
  int d = 0;                                  // encoding size
  double y_mean = 0, y_sd = 1;                // standardization of ln(ms)
  std::vector<internal::HeadMember> members;  // the ensemble of shared networks
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
  internal::AffineFit affine;             // kAffineSource, kAuto
  internal::SourceMixFit mix;             // kSourceMix, kAuto
  Eigen::Vector3d auto_weights{1, 0, 0};  // kAuto: map_head, affine_source, source_mix
  std::vector<LatencyPredictor::AutoCandidate> auto_candidates;

  bool trained() const { return !members.empty(); }
  int num_sources() const { return static_cast<int>(source_names.size()); }

  // Standardized descriptor features in z_names order; absent features are 0 (the mean).
  Eigen::VectorXd StandardizedDescriptor(const HardwareDescriptor& hw) const {
    Eigen::VectorXd z = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(z_names.size()));
    for (size_t i = 0; i < z_names.size(); ++i) {
      const int k = internal::FeatureIndex(hw, z_names[i]);
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
    for (internal::HeadMember& mem : members) mem.DeriveHeadPrior(source_z, o);
  }

  // ln ms of every source device as the model predicts it: n x m (ensemble mean).
  Eigen::MatrixXd SourceLogMs(const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows(), num_sources());
    for (const internal::HeadMember& mem : members) out += mem.Features(x) * mem.heads.transpose();
    return (out / static_cast<double>(members.size())).array() * y_sd + y_mean;
  }

  // Mean over the members of the mean-source-head prediction (descriptor-free), standardized.
  Eigen::VectorXd MeanSourcePrediction(const Eigen::MatrixXd& x) const {
    Eigen::VectorXd f = Eigen::VectorXd::Zero(x.rows());
    for (const internal::HeadMember& mem : members)
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
        const int k = internal::FeatureIndex(hw, ref_names[r]);
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

  // Adaptation to `target` from target_x / target_ms (set by LatencyPredictor::Adapt, which
  // validates the inputs and calls the one function of its method; latency_predictor.cc).
  // Training (LatencyPredictor::Train standardizes the targets and calls these in order).
  // z_names, z_mean, z_sd: the descriptor features with a value on at least two sources.
  void ChooseDescriptorFeatures(const std::vector<HardwareDescriptor>& devices);
  // members: the ensemble of shared networks on standardized ln ms y (n x m, NaN absent).
  void TrainMembers(const Eigen::MatrixXf& xf, const Eigen::MatrixXd& y,
                    const LatencyPredictorOptions& options);
  // maple, replay_x, replay_y: MAPLE's network over (architecture, descriptor) rows.
  void TrainMaple(const Eigen::MatrixXd& architectures, const Eigen::MatrixXd& y,
                  const LatencyPredictorOptions& options);

  internal::SourceData MakeSourceData() const;  // for the source-based methods
  void AdaptMapHead(const LatencyPredictorOptions& o);
  void AdaptAffineSource(const LatencyPredictorOptions& o);
  void AdaptSourceMix(const LatencyPredictorOptions& o);
  // kAuto (select = false: stacked weights) and kAutoSelect (select = true: the best one).
  void AdaptAuto(bool select, const LatencyPredictorOptions& o);
  void AdaptCalibrate();
  void AdaptMapleMix(const LatencyPredictorOptions& o);
};

}  // namespace sonar
