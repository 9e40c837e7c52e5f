// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the acquisition functions of Bayesian optimisation for *minimising* a
// target y (log seconds): log expected improvement (the default; Ament et al., "Unexpected
// Improvements to Expected Improvement", NeurIPS 2023), expected improvement (Jones et al. 1998),
// probability of improvement (Kushner 1964), lower confidence bound (Srinivas et al. 2010, GP-UCB)
// and Thompson sampling over a finite pool (independent marginals); their weighting by the
// probability of feasibility (Gardner et al. 2014, constrained BO); local penalization for
// batches (Gonzalez et al., "Batch Bayesian Optimization via Local Penalization", AISTATS 2016);
// and the numerically safe Gaussian helpers they use (LogExpectedImprovementOfZ, LogNormalCdf).
// Every score is "larger is better".
//
// Example:
//   AcquisitionOptions options;                       // log EI
//   Prediction p = gp.Predict(candidates);            // m means and variances of log seconds
//   Eigen::VectorXd s = ScoreAcquisition(p, best_y, options, &log_p_feasible, rng);
//   Eigen::Index best; s.maxCoeff(&best);
#pragma once

#include <Eigen/Core>
#include <string_view>

#include "common/random.h"
#include "common/status.h"
#include "surrogate/prediction.h"

namespace sonar {

enum class AcquisitionKind {
  kLogExpectedImprovement,    // log EI: EI's ranking, finite where EI underflows to 0
  kExpectedImprovement,       // EI = sigma * (z Phi(z) + phi(z)), z = (best - xi - mu) / sigma
  kProbabilityOfImprovement,  // log PI = log Phi(z)
  kLowerConfidenceBound,      // -(mu - beta * sigma)
  kThompson,                  // one draw per candidate from its marginal N(mu, sigma^2), negated
};
std::string_view AcquisitionKindToString(AcquisitionKind kind);  // "logei", "ei", "pi", "lcb", "ts"
bool StringToAcquisitionKind(std::string_view name, AcquisitionKind* kind);

// Thread safety: value type.
struct AcquisitionOptions {
  AcquisitionKind kind = AcquisitionKind::kLogExpectedImprovement;
  // Exploration margin for EI, log EI and PI, in the units of y (log seconds): an improvement
  // must exceed xi. 0 is standard; 0.01 asks for 1% better. Range [0, inf).
  double xi = 0.0;
  // LCB width in standard deviations. Range (0, inf); larger explores more.
  double lcb_beta = 2.0;
  // Candidates whose predictive standard deviation is below this (units of y) are treated as
  // having this one, so EI stays defined at observed points. Range (0, inf).
  double min_stddev = 1e-9;
  // Candidates whose probability of feasibility is below this rank after every candidate above
  // it (their score drops by 1e6), whatever the acquisition. Range [0, 1]; 0 only weights.
  double min_feasibility = 0.5;
  Status Validate() const;
};

// log(phi(z) + z Phi(z)): the log of EI of a standard normal at z, finite for every finite z
// (about -z^2/2 - 2 log|z| for z -> -inf). Ament et al.'s log_h.
double LogExpectedImprovementOfZ(double z);
// log Phi(z), finite for every finite z.
double LogNormalCdf(double z);
double NormalCdf(double z);
double NormalPdf(double z);

// The acquisition of m candidates with predictive distribution `p` (means and variances of y),
// best_y the lowest observed y, larger is better. When log_p_feasible (m, <= 0) is given, the
// score is weighted by the probability of feasibility: log scores (log EI, PI) add it, EI is
// multiplied by exp of it, LCB and Thompson (scores of either sign) are not weighted; and every
// kind subtracts a large constant (1e6) where the probability is below min_feasibility.
// rng is used by kThompson only.
// requires: p.mean and p.variance have the same size m; log_p_feasible, if given, has size m.
Eigen::VectorXd ScoreAcquisition(const Prediction& p, double best_y,
                                 const AcquisitionOptions& options,
                                 const Eigen::VectorXd* log_p_feasible, Rng& rng);

// Local penalization (Gonzalez et al. 2016), adapted to minimisation: the log of the penalty
// that a pending point with predictive mean mu_j and standard deviation sigma_j puts on
// candidates at distances `distance` (m) from it, with Lipschitz constant `lipschitz` (units of y
// per unit of distance):
//   log Phi((lipschitz * distance - (mu_j - best_y)) / sigma_j),
// i.e. the log probability that a candidate lies outside the ball around x_j that cannot hold
// the minimum. Always <= 0; about log(1/2) or less at the pending point itself; -> 0 far away.
// Added to a log-scale acquisition, it spreads a batch over distinct basins.
Eigen::VectorXd LogLocalPenalty(const Eigen::VectorXd& distance, double mu_j, double sigma_j,
                                double best_y, double lipschitz);

}  // namespace sonar
