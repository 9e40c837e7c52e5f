// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the joint search's two early-stopping rules, as functions of curves.
//   1. Learning curves (accuracy): an optimistic bound on the best validation accuracy a
//      network can reach by the full epoch budget, from its curve so far and the curves of
//      peers trained further in the same search. The bound scales the remaining error:
//        U(e) = B(e) + (1 - B(e)) * Q_q{ g_i(e) } + margin,
//        g_i(e) = (B_i(E) - B_i(e)) / (1 - B_i(e)),
//      where B(e) is the best accuracy up to epoch e (the objective is the best epoch, so B(e)
//      is also a lower bound), E the full budget and Q_q the q-quantile over peers i that
//      reached E. With fewer than min_peers peers the bound is 1 (nothing is dropped on
//      accuracy yet). Successive halving and Hyperband (Li et al.) drop by rank at a fixed
//      epoch without a bound; learning-curve extrapolation (Domhan et al.) fits parametric
//      curves by MCMC; this rule uses, like Chandrashekaran & Lane's extrapolation from earlier
//      builds, the search's own finished curves, and needs no model.
//   2. Tuning curves (latency): the same idea for a layer's best-so-far latency c(t) after t
//      trials: an optimistic (lower) bound on what a full tuning budget T would reach,
//        L(t) = c(t) * Q_{1-q}{ c_i(T) / c_i(t) },
//      over peer layers tuned to T, and a forecast of the gain of more trials,
//        G(t) = c(t) * (1 - median_i{ c_i(T) / c_i(t) }),
//      or, without peers, Ansor's task-scheduler estimate from the curve's own recent slope
//        G(t) = T_left * (c(t - w) - c(t)) / w.
//      A layer's tuning stops when G(t), as a fraction of the latency of the fastest live
//      network that contains it, is below a threshold: no gain worth its trials. AutoTVM and
//      Kernel Tuner stop after a count of trials without improvement instead.
// Both are pure functions of the curves: the search loop (and tests on synthetic curves) call
// them between rounds.
//
// Example:
//   std::vector<double> acc = {0.52, 0.79, 0.86};
//   double u = AccuracyUpperBound(acc, /*full_epochs=*/20, finished_peer_curves, {});
#pragma once

#include <vector>

namespace sonar {

struct CurveBoundOptions {
  // Quantile of the peers' gains used for the optimistic bounds, (0, 1]: 1 = the largest
  // gain any peer showed.
  double quantile = 0.9;
  // Peers needed before a bound is given (below it the bound is the trivial one). >= 1.
  int min_peers = 3;
  // Added to the accuracy bound (absolute accuracy), >= 0.
  double accuracy_margin = 0.0;
};

// The running maximum of `curve` (B(e) above); empty for an empty curve.
std::vector<double> RunningMax(const std::vector<double>& curve);
// The running minimum (a tuning curve's best-so-far; +inf entries stay until a finite one).
std::vector<double> RunningMin(const std::vector<double>& curve);

// Rule 1: optimistic bound on max(curve[0..full_epochs-1]) given the first curve.size()
// epochs. Peers are accuracy curves of other networks; those shorter than full_epochs are
// ignored. Returns B(e) when curve.size() >= full_epochs, 1 when fewer than min_peers peers
// qualify; always in [B(e), 1]. requires: !curve.empty(), full_epochs >= 1.
double AccuracyUpperBound(const std::vector<double>& curve, int full_epochs,
                          const std::vector<std::vector<double>>& peers,
                          const CurveBoundOptions& options);

// Rule 2, bound: optimistic (lowest) best latency after full_trials, given best_so_far (the
// tuning curve, seconds, +inf before the first success) of t = best_so_far.size() trials.
// Peers are tuning curves of other layers; those shorter than full_trials or without a
// success by trial t are ignored. Returns best_so_far.back() when t >= full_trials, 0 when
// fewer than min_peers peers qualify (no bound), +inf when best_so_far.back() is +inf.
double LatencyLowerBound(const std::vector<double>& best_so_far, int full_trials,
                         const std::vector<std::vector<double>>& peers,
                         const CurveBoundOptions& options);

// Rule 2, forecast: expected reduction of the best latency (seconds) from the remaining
// full_trials - t trials: the peers' median ratio when min_peers peers qualify, else the
// recent-slope estimate over the last `window` trials. +inf when nothing is known yet (no
// success, or no peers and t <= window): the caller keeps tuning. 0 when t >= full_trials.
double ExpectedTuningGain(const std::vector<double>& best_so_far, int full_trials,
                          const std::vector<std::vector<double>>& peers, int window,
                          const CurveBoundOptions& options);

}  // namespace sonar
