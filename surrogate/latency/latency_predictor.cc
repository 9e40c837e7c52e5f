// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/latency_predictor.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/enum_names.h"
#include "common/random.h"
#include "surrogate/latency/latency_data.h"
#include "surrogate/latency/latency_mlp.h"
#include "surrogate/latency/latency_predictor_impl.h"

namespace sonar {
namespace {

using internal::AffineFit;
using internal::FeatureIndex;
using internal::HeadMember;
using internal::SourceMixFit;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double LogOrNaN(double ms) { return (std::isfinite(ms) && ms > 0) ? std::log(ms) : kNaN; }

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
std::string LatencyPredictor::ReferenceNameOf(const Eigen::RowVectorXd& encoding) const {
  const Impl& im = *impl_;
  if (encoding.size() != im.ref_archs.cols()) return "";
  for (Eigen::Index r = 0; r < im.ref_archs.rows(); ++r) {
    if (im.ref_archs.row(r) == encoding) return im.ref_names[static_cast<size_t>(r)];
  }
  return "";
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

namespace {

Status ValidateTrainingSet(const LatencyTrainingSet& set) {
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
  return OkStatus();
}

}  // namespace

Status LatencyPredictor::Train(const LatencyTrainingSet& set) {
  SONAR_RETURN_IF_ERROR(options_.Validate());
  SONAR_RETURN_IF_ERROR(ValidateTrainingSet(set));
  const Eigen::Index n = set.architectures.rows();
  const int m = static_cast<int>(set.devices.size());
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
  impl.ChooseDescriptorFeatures(set.devices);
  impl.ref_names = set.reference_names;
  impl.ref_archs = set.reference_architectures;
  impl.TrainMembers(set.architectures.cast<float>(), y, options_);
  impl.DeriveHeadPriors(options_);
  if (options_.train_maple) impl.TrainMaple(set.architectures, y, options_);
  *impl_ = std::move(impl);
  return OkStatus();
}

void LatencyPredictor::Impl::ChooseDescriptorFeatures(
    const std::vector<HardwareDescriptor>& devices) {
  // Descriptor features: the union of names, in order of first appearance, with a value on at
  // least two sources (else they cannot be standardized).
  for (const HardwareDescriptor& hw : devices) {
    for (size_t i = 0; i < hw.feature_names.size(); ++i) {
      const std::string& name = hw.feature_names[i];
      if (std::find(z_names.begin(), z_names.end(), name) != z_names.end()) continue;
      std::vector<double> vals;
      for (const HardwareDescriptor& other : devices) {
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
      z_names.push_back(name);
      z_mean.conservativeResize(z_mean.size() + 1);
      z_sd.conservativeResize(z_sd.size() + 1);
      z_mean(z_mean.size() - 1) = mu;
      z_sd(z_sd.size() - 1) = std::sqrt(var) > 1e-9 ? std::sqrt(var) : 1.0;
    }
  }
}

void LatencyPredictor::Impl::TrainMembers(const Eigen::MatrixXf& xf, const Eigen::MatrixXd& y,
                                          const LatencyPredictorOptions& options) {
  const Eigen::Index n = y.rows();
  const int m = static_cast<int>(y.cols());
  const Eigen::MatrixXf yf = y.cast<float>();
  // Shared networks with one head per source device, one per ensemble member.
  std::vector<int> hidden = options.hidden;
  hidden.push_back(options.feature_size);
  internal::MlpTrainOptions train;
  train.epochs = options.epochs;
  train.batch_size = options.batch_size;
  train.learning_rate = options.learning_rate;
  train.weight_decay = options.weight_decay;
  for (int e = 0; e < options.ensemble_size; ++e) {
    Rng rng = MakeRng(options.seed, 100 + e);
    HeadMember mem;
    mem.trunk = internal::Mlp(d, hidden, m, rng);
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
    members.push_back(std::move(mem));
  }
}

void LatencyPredictor::Impl::TrainMaple(const Eigen::MatrixXd& architectures,
                                        const Eigen::MatrixXd& y,
                                        const LatencyPredictorOptions& options) {
  const Eigen::Index n = y.rows();
  const int m = static_cast<int>(y.cols());
  const Eigen::MatrixXf xf = architectures.cast<float>();
  const Eigen::MatrixXf yf = y.cast<float>();
  // MAPLE: one network over (architecture, descriptor) rows.
  Rng mrng = MakeRng(options.seed, 2);
  const int p = static_cast<int>(z_names.size());
  maple = internal::Mlp(d + p, options.maple_hidden, 1, mrng);
  std::vector<std::pair<int, int>> rows;  // (arch, device) with a value
  for (Eigen::Index i = 0; i < n; ++i) {
    for (int s = 0; s < m; ++s) {
      if (std::isfinite(y(i, s))) rows.push_back({static_cast<int>(i), s});
    }
  }
  const int b = options.batch_size * 2;
  Eigen::MatrixXf xb(b, d + p), yb(b, 1);
  const Eigen::MatrixXf zf = source_z.cast<float>();
  for (int step = 0; step < options.maple_steps; ++step) {
    for (int k = 0; k < b; ++k) {
      const auto [i, s] = rows[UniformInt(mrng, 0, static_cast<int64_t>(rows.size()) - 1)];
      xb.row(k).head(d) = xf.row(i);
      xb.row(k).tail(p) = zf.row(s);
      yb(k, 0) = yf(i, s);
    }
    const double progress = options.maple_steps > 1 ? double(step) / (options.maple_steps - 1) : 1;
    const double lr = options.learning_rate * (0.02 + 0.98 * 0.5 * (1 + std::cos(M_PI * progress)));
    maple.Step(xb, yb, Eigen::VectorXf(), static_cast<float>(lr),
               static_cast<float>(options.weight_decay));
  }
  maple.m_w.clear();  // adaptation restarts Adam
  has_maple = true;
  // Replay buffer for adaptation.
  const std::vector<int> perm = internal::Permutation(static_cast<int>(n), mrng);
  const int r = std::min<int>(options.maple_replay_archs, static_cast<int>(n));
  replay_x.resize(r, d);
  replay_y.resize(r, m);
  for (int k = 0; k < r; ++k) {
    replay_x.row(k) = architectures.row(perm[k]);
    replay_y.row(k) = y.row(perm[k]);
  }
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
        "maple_mix adaptation needs a model trained with its MAPLE network "
        "(`sonar latency train --maple`)");
  }
  im.adapted = false;
  im.method = method;
  im.target = device;
  im.target_x = architectures.rows() > 0 ? architectures : Eigen::MatrixXd(0, im.d);
  im.target_ms = latency_ms;
  im.target_z = im.StandardizedDescriptor(device);
  im.auto_candidates.clear();
  switch (method) {
    case LatencyAdaptation::kMapHead: im.AdaptMapHead(options_); break;
    case LatencyAdaptation::kAffineSource: im.AdaptAffineSource(options_); break;
    case LatencyAdaptation::kSourceMix: im.AdaptSourceMix(options_); break;
    case LatencyAdaptation::kAuto: im.AdaptAuto(/*select=*/false, options_); break;
    case LatencyAdaptation::kAutoSelect: im.AdaptAuto(/*select=*/true, options_); break;
    case LatencyAdaptation::kCalibrate: im.AdaptCalibrate(); break;
    case LatencyAdaptation::kMapleMix: im.AdaptMapleMix(options_); break;
  }
  im.adapted = true;
  return OkStatus();
}

internal::SourceData LatencyPredictor::Impl::MakeSourceData() const {
  internal::SourceData data;
  Observations(target, target_x, target_ms, /*with_references=*/true, &data.x, &data.y);
  data.y_log = data.y.array() * y_sd + y_mean;
  data.s_log = SourceLogMs(data.x);
  data.s_ms = data.s_log.array().exp();
  data.t_ms = data.y_log.array().exp();
  return data;
}

void LatencyPredictor::Impl::AdaptMapHead(const LatencyPredictorOptions& o) {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  Observations(target, target_x, target_ms, /*with_references=*/true, &x, &y);
  for (HeadMember& mem : members) mem.Posterior(target_z, x, y, o, &mem.head, &mem.linear);
}

// affine_source and source_mix predict with their own fit only (auto_weights), so each fits
// only its own.
void LatencyPredictor::Impl::AdaptAffineSource(const LatencyPredictorOptions&) {
  const internal::SourceData d = MakeSourceData();
  affine = FitBestAffineSource(d.s_log, d.y_log, std::vector<char>(d.x.rows(), 1));
  auto_weights = {0, 1, 0};
}

void LatencyPredictor::Impl::AdaptSourceMix(const LatencyPredictorOptions& o) {
  const internal::SourceData d = MakeSourceData();
  mix = FitSourceMixCv(d.s_ms, d.x, d.t_ms, std::vector<char>(d.x.rows(), 1), o);
  auto_weights = {0, 0, 1};
}

void LatencyPredictor::Impl::AdaptAuto(bool select, const LatencyPredictorOptions& o) {
  const internal::SourceData d = MakeSourceData();
  const Eigen::MatrixXd& x = d.x;
  const Eigen::VectorXd& y = d.y;
  const Eigen::Index n = x.rows();
  const std::vector<char> all(static_cast<size_t>(n), 1);
  affine = FitBestAffineSource(d.s_log, d.y_log, all);
  mix = FitSourceMixCv(d.s_ms, x, d.t_ms, all, o);
  // Candidates' leave-one-out ln-ms predictions at the n observations. map_head is refitted
  // without the held-out point, hyperparameters included, so that its CV error is as honest as
  // the other candidates'.
  Eigen::MatrixXd loo(n, 3);
  loo.col(0).setZero();
  std::vector<char> fold = all;
  Eigen::VectorXd head, linear;
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::MatrixXd xi(n - 1, x.cols());
    Eigen::VectorXd yi(n - 1);
    for (Eigen::Index r = 0, k = 0; r < n; ++r) {
      if (r == i) continue;
      xi.row(k) = x.row(r);
      yi(k++) = y(r);
    }
    for (const HeadMember& mem : members) {
      mem.Posterior(target_z, xi, yi, o, &head, &linear);
      loo(i, 0) += mem.Features(x.row(i)).row(0).dot(head) + x.row(i).dot(linear);
    }
    loo(i, 0) = loo(i, 0) / static_cast<double>(members.size()) * y_sd + y_mean;
    fold[i] = 0;
    const AffineFit af = FitBestAffineSource(d.s_log, d.y_log, fold);
    loo(i, 1) = af.a + af.b * d.s_log(i, af.source);
    const SourceMixFit mf = FitSourceMixCv(d.s_ms, x, d.t_ms, fold, o);
    loo(i, 2) = mf.PredictLogMs(d.s_ms.row(i), x.row(i))(0);
    fold[i] = 1;
  }
  for (HeadMember& mem : members) mem.Posterior(target_z, x, y, o, &mem.head, &mem.linear);
  const char* names[3] = {"map_head", "affine_source", "source_mix"};
  Eigen::Vector3d mse;
  for (int c = 0; c < 3; ++c)
    mse(c) = (loo.col(c) - d.y_log).squaredNorm() / std::max<Eigen::Index>(1, n);
  auto_weights = {1, 0, 0};
  if (n >= 3 && loo.allFinite()) {
    if (select || o.auto_weight_step >= 1) {
      Eigen::Index best = 0;
      mse.minCoeff(&best);
      auto_weights.setZero();
      auto_weights(best) = 1;
    } else {
      // Convex weights on a simplex grid minimizing the CV squared error (stacking).
      const int steps = std::max(1, static_cast<int>(std::lround(1.0 / o.auto_weight_step)));
      double best = std::numeric_limits<double>::infinity();
      for (int i = steps; i >= 0; --i) {
        for (int j = 0; i + j <= steps; ++j) {
          const Eigen::Vector3d w(double(i) / steps, double(j) / steps,
                                  double(steps - i - j) / steps);
          const double e = (loo * w - d.y_log).squaredNorm();
          if (e < best - 1e-12) {
            best = e;
            auto_weights = w;
          }
        }
      }
    }
  }
  for (int c = 0; c < 3; ++c) {
    auto_candidates.push_back({names[c], std::sqrt(mse(c)), auto_weights(c)});
  }
}

void LatencyPredictor::Impl::AdaptCalibrate() {
  // The descriptor-free model is the mean source head; calibrate a + b * f on the samples.
  cal_a = 0;
  cal_b = 1;
  const Eigen::Index k = target_ms.size();
  if (k == 0) return;
  const Eigen::VectorXd f = MeanSourcePrediction(target_x);
  Eigen::VectorXd y(k);
  for (Eigen::Index i = 0; i < k; ++i) y(i) = (std::log(target_ms(i)) - y_mean) / y_sd;
  if (k == 1) {
    cal_a = y(0) - f(0);
    return;
  }
  // Least squares with a light ridge pulling the slope to 1 (k = 2 or 3 is noisy).
  const double lambda = 0.1;
  Eigen::Matrix2d a;
  a << static_cast<double>(k), f.sum(), f.sum(), f.squaredNorm() + lambda;
  Eigen::Vector2d rhs(y.sum(), f.dot(y) + lambda);
  const Eigen::Vector2d sol = a.ldlt().solve(rhs);
  cal_a = sol(0);
  cal_b = sol(1);
}

void LatencyPredictor::Impl::AdaptMapleMix(const LatencyPredictorOptions& o) {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  Observations(target, target_x, target_ms, /*with_references=*/true, &x, &y);
  adapted_maple = maple;
  adapted_maple.m_w.clear();
  const int p = static_cast<int>(z_names.size());
  const int t = static_cast<int>(x.rows());
  const int src = o.batch_size;
  Eigen::MatrixXf xb(src + t, d + p), yb(src + t, 1);
  Eigen::VectorXf wb = Eigen::VectorXf::Ones(src + t);
  for (int i = 0; i < t; ++i) {
    xb.row(src + i).head(d) = x.row(i).cast<float>();
    xb.row(src + i).tail(p) = target_z.transpose().cast<float>();
    yb(src + i, 0) = static_cast<float>(y(i));
    wb(src + i) = static_cast<float>(o.maple_sample_weight);
  }
  Rng rng = MakeRng(o.seed, 3);
  const Eigen::MatrixXf zf = source_z.cast<float>();
  const int r = static_cast<int>(replay_x.rows());
  const int m = num_sources();
  for (int step = 0; step < o.maple_adapt_steps && t > 0; ++step) {
    for (int k = 0; k < src; ++k) {
      int i = 0, s = 0;
      do {  // a replayed row with a value
        i = static_cast<int>(UniformInt(rng, 0, r - 1));
        s = static_cast<int>(UniformInt(rng, 0, m - 1));
      } while (!std::isfinite(replay_y(i, s)));
      xb.row(k).head(d) = replay_x.row(i).cast<float>();
      xb.row(k).tail(p) = zf.row(s);
      yb(k, 0) = static_cast<float>(replay_y(i, s));
    }
    const double progress = o.maple_adapt_steps > 1 ? double(step) / (o.maple_adapt_steps - 1) : 1;
    const double lr =
        o.maple_adapt_learning_rate * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
    adapted_maple.Step(xb, yb, wb, static_cast<float>(lr), static_cast<float>(o.weight_decay));
  }
  adapted_maple.m_w.clear();
  adapted_maple.v_w.clear();
  adapted_maple.m_b.clear();
  adapted_maple.v_b.clear();
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

}  // namespace sonar
