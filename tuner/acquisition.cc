// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/acquisition.h"

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "common/check.h"
#include "common/enum_names.h"

namespace sonar {
namespace {

constexpr double kSqrtHalfPi = 1.2533141373155002512;   // sqrt(pi / 2)
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2 pi))
constexpr double kInfeasiblePenalty = 1e6;

constexpr EnumNames<AcquisitionKind, 5> kNames = {{
    {AcquisitionKind::kLogExpectedImprovement, "logei"},
    {AcquisitionKind::kExpectedImprovement, "ei"},
    {AcquisitionKind::kProbabilityOfImprovement, "pi"},
    {AcquisitionKind::kLowerConfidenceBound, "lcb"},
    {AcquisitionKind::kThompson, "ts"},
}};

// erfcx(x) = exp(x^2) erfc(x) for x >= 0 (callers pass -z / sqrt(2) with z <= -1).
double Erfcx(double x) {
  if (x < 25.0) return std::exp(x * x) * std::erfc(x);
  // Asymptotic series: 1 / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6)).
  const double w = 1.0 / (2.0 * x * x);
  return (1.0 - w + 3.0 * w * w - 15.0 * w * w * w) / (x * 1.7724538509055160273);
}

}  // namespace

std::string_view AcquisitionKindToString(AcquisitionKind kind) { return EnumToName(kNames, kind); }
bool StringToAcquisitionKind(std::string_view name, AcquisitionKind* kind) {
  return NameToEnum(kNames, name, kind);
}

Status AcquisitionOptions::Validate() const {
  if (!(xi >= 0) || !std::isfinite(xi)) {
    return InvalidArgumentError("AcquisitionOptions::xi must be finite and >= 0");
  }
  if (!(lcb_beta > 0) || !std::isfinite(lcb_beta)) {
    return InvalidArgumentError("AcquisitionOptions::lcb_beta must be finite and > 0");
  }
  if (!(min_stddev > 0) || !std::isfinite(min_stddev)) {
    return InvalidArgumentError("AcquisitionOptions::min_stddev must be finite and > 0");
  }
  if (!(min_feasibility >= 0 && min_feasibility <= 1)) {
    return InvalidArgumentError("AcquisitionOptions::min_feasibility must be in [0, 1]");
  }
  return OkStatus();
}

double NormalPdf(double z) { return std::exp(-0.5 * z * z - kLogSqrt2Pi); }

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double LogNormalCdf(double z) {
  if (z > -5.0) return std::log(NormalCdf(z));
  // Phi(z) = 0.5 erfcx(-z / sqrt 2) exp(-z^2 / 2).
  return std::log(0.5 * Erfcx(-z / std::sqrt(2.0))) - 0.5 * z * z;
}

double LogExpectedImprovementOfZ(double z) {
  if (z > -1.0) return std::log(NormalPdf(z) + z * NormalCdf(z));
  const double log_pdf = -0.5 * z * z - kLogSqrt2Pi;
  if (z > -37.0) {
    // h(z) = phi(z) (1 + z sqrt(pi/2) erfcx(-z / sqrt 2)); the bracket is about 1/z^2 here.
    return log_pdf + std::log1p(z * kSqrtHalfPi * Erfcx(-z / std::sqrt(2.0)));
  }
  // Bracket = w - 3w^2 + 15w^3 - 105w^4 with w = 1/z^2 (the erfcx series, cancelled exactly).
  const double w = 1.0 / (z * z);
  return log_pdf + std::log(w * (1.0 - 3.0 * w + 15.0 * w * w - 105.0 * w * w * w));
}

Eigen::VectorXd ScoreAcquisition(const Prediction& p, double best_y,
                                 const AcquisitionOptions& options,
                                 const Eigen::VectorXd* log_p_feasible, Rng& rng) {
  SONAR_CHECK(p.mean.size() == p.variance.size())
      << "Prediction has " << p.mean.size() << " means but " << p.variance.size() << " variances";
  SONAR_CHECK(log_p_feasible == nullptr || log_p_feasible->size() == p.mean.size())
      << "log_p_feasible has " << log_p_feasible->size() << " entries, expected " << p.mean.size();
  const Eigen::Index m = p.mean.size();
  Eigen::VectorXd s(m);
  std::normal_distribution<double> normal;  // Thompson only; same engine, same draws
  const double log_min_feasibility = options.min_feasibility > 0
                                         ? std::log(options.min_feasibility)
                                         : -std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < m; ++i) {
    const double mu = p.mean[i];
    const double sigma = std::max(std::sqrt(std::max(p.variance[i], 0.0)), options.min_stddev);
    const double z = (best_y - options.xi - mu) / sigma;
    const double lpf = log_p_feasible ? (*log_p_feasible)[i] : 0.0;
    double v = 0;
    switch (options.kind) {
      case AcquisitionKind::kLogExpectedImprovement:
        v = std::log(sigma) + LogExpectedImprovementOfZ(z) + lpf;
        break;
      case AcquisitionKind::kExpectedImprovement:
        v = sigma * (NormalPdf(z) + z * NormalCdf(z)) * std::exp(lpf);
        break;
      case AcquisitionKind::kProbabilityOfImprovement: v = LogNormalCdf(z) + lpf; break;
      case AcquisitionKind::kLowerConfidenceBound: v = -(mu - options.lcb_beta * sigma); break;
      case AcquisitionKind::kThompson: v = -(mu + sigma * normal(rng)); break;
    }
    if (log_p_feasible && lpf < log_min_feasibility) v -= kInfeasiblePenalty;
    s[i] = std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  }
  return s;
}

Eigen::VectorXd LogLocalPenalty(const Eigen::VectorXd& distance, double mu_j, double sigma_j,
                                double best_y, double lipschitz) {
  const double sigma = std::max(sigma_j, 1e-9);
  const double gap = std::max(mu_j - best_y, 0.0);
  Eigen::VectorXd out(distance.size());
  for (Eigen::Index i = 0; i < distance.size(); ++i) {
    out[i] = LogNormalCdf((lipschitz * distance[i] - gap) / sigma);
  }
  return out;
}

}  // namespace sonar
