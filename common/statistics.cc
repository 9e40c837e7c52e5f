// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "common/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "common/check.h"

namespace sonar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Average ranks (1-based) with ties sharing the mean rank.
Eigen::VectorXd Ranks(const Eigen::VectorXd& v) {
  const Eigen::Index n = v.size();
  std::vector<Eigen::Index> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return v(a) < v(b); });
  Eigen::VectorXd r(n);
  for (Eigen::Index i = 0; i < n;) {
    Eigen::Index j = i;
    while (j + 1 < n && v(idx[j + 1]) == v(idx[i])) ++j;
    const double rank = 0.5 * (i + j) + 1;
    for (Eigen::Index k = i; k <= j; ++k) r(idx[k]) = rank;
    i = j + 1;
  }
  return r;
}

// Pairs tied within runs of equal values of a sorted sequence.
template <typename Eq>
int64_t TiedPairs(size_t n, Eq equal) {
  int64_t ties = 0, run = 1;
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && equal(i - 1, i)) {
      ++run;
    } else {
      ties += run * (run - 1) / 2;
      run = 1;
    }
  }
  return ties;
}

// Sorts v[lo, hi) by value, returning the number of inversions (swaps).
int64_t MergeCount(std::vector<double>& v, std::vector<double>& buf, size_t lo, size_t hi) {
  if (hi - lo < 2) return 0;
  const size_t mid = (lo + hi) / 2;
  int64_t swaps = MergeCount(v, buf, lo, mid) + MergeCount(v, buf, mid, hi);
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      swaps += static_cast<int64_t>(mid - i);
      buf[k++] = v[j++];
    } else {
      buf[k++] = v[i++];
    }
  }
  while (i < mid) buf[k++] = v[i++];
  while (j < hi) buf[k++] = v[j++];
  std::copy(buf.begin() + lo, buf.begin() + hi, v.begin() + lo);
  return swaps;
}

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  const size_t n = values.size();
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n / 2),
                   values.end());
  const double hi = values[n / 2];
  if (n % 2 == 1) return hi;
  const double lo =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n / 2));
  return 0.5 * (lo + hi);
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  if (!std::isfinite(values[lo]) || !std::isfinite(values[hi])) return values[hi];
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

Eigen::VectorXd Standardize(const Eigen::VectorXd& y, double* mean, double* scale) {
  *mean = y.size() > 0 ? y.mean() : 0.0;
  double var = 0;
  if (y.size() > 1) var = (y.array() - *mean).square().sum() / static_cast<double>(y.size() - 1);
  *scale = var > 1e-24 ? std::sqrt(var) : 1.0;
  return ((y.array() - *mean) / *scale).matrix();
}

double SpearmanRho(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  SONAR_CHECK(a.size() == b.size()) << a.size() << " vs " << b.size();
  if (a.size() < 2) return kNaN;
  const Eigen::VectorXd ra = Ranks(a), rb = Ranks(b);
  const Eigen::VectorXd ca = ra.array() - ra.mean(), cb = rb.array() - rb.mean();
  const double den = std::sqrt(ca.squaredNorm() * cb.squaredNorm());
  return den > 0 ? ca.dot(cb) / den : kNaN;
}

double KendallTauB(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  SONAR_CHECK(a.size() == b.size()) << a.size() << " vs " << b.size();
  const size_t n = static_cast<size_t>(a.size());
  if (n < 2) return kNaN;
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(),
            [&](size_t i, size_t j) { return a(i) < a(j) || (a(i) == a(j) && b(i) < b(j)); });
  const int64_t n0 = static_cast<int64_t>(n) * (static_cast<int64_t>(n) - 1) / 2;
  const int64_t n1 = TiedPairs(n, [&](size_t i, size_t j) { return a(idx[i]) == a(idx[j]); });
  const int64_t n3 = TiedPairs(
      n, [&](size_t i, size_t j) { return a(idx[i]) == a(idx[j]) && b(idx[i]) == b(idx[j]); });
  std::vector<double> bs(n), buf(n);
  for (size_t i = 0; i < n; ++i) bs[i] = b(idx[i]);
  const int64_t swaps = MergeCount(bs, buf, 0, n);
  const int64_t n2 = TiedPairs(n, [&](size_t i, size_t j) { return bs[i] == bs[j]; });
  const double den = std::sqrt(static_cast<double>(n0 - n1) * static_cast<double>(n0 - n2));
  if (!(den > 0)) return kNaN;
  return static_cast<double>(n0 - n1 - n2 + n3 - 2 * swaps) / den;
}

}  // namespace sonar
