// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/kernels.h"

#include <algorithm>

#include <Eigen/Dense>
#include <cmath>

namespace sonar::internal {
namespace {
constexpr Eigen::Index kBaseBlock = 96;
constexpr double kSqrt5 = 2.23606797749978969640;
}  // namespace

Eigen::MatrixXd ScaleByLengthscales(const Eigen::MatrixXd& x, const Eigen::VectorXd& lengthscales) {
  if (lengthscales.size() == 1) return x / lengthscales(0);
  return x * lengthscales.cwiseInverse().asDiagonal();
}

void SquaredDistances(const Eigen::MatrixXd& z1, const Eigen::MatrixXd& z2, Eigen::MatrixXd* r2) {
  r2->resize(z1.rows(), z2.rows());
  r2->noalias() = -2.0 * z1 * z2.transpose();
  r2->colwise() += z1.rowwise().squaredNorm();
  r2->rowwise() += z2.rowwise().squaredNorm().transpose();
  *r2 = r2->cwiseMax(0.0);
}

void ApplyKernel(GpKernel kernel, double signal_variance, Eigen::MatrixXd* r2_to_k,
                 Eigen::MatrixXd* grad_factor) {
  const Eigen::Index size = r2_to_k->size();
  double* k = r2_to_k->data();
  double* g = nullptr;
  if (grad_factor != nullptr) {
    grad_factor->resize(r2_to_k->rows(), r2_to_k->cols());
    g = grad_factor->data();
  }
  const double s2 = signal_variance;
  // Blocks of Eigen array expressions: exp and sqrt vectorize (AVX2/AVX-512 with SONAR_NATIVE),
  // which a scalar std::exp loop does not; the block bounds the temporaries.
  constexpr Eigen::Index kBlock = 4096;
  for (Eigen::Index at = 0; at < size; at += kBlock) {
    const Eigen::Index len = std::min(kBlock, size - at);
    Eigen::Map<Eigen::ArrayXd> kk(k + at, len);
    if (kernel == GpKernel::kRbf) {
      kk = s2 * (-0.5 * kk).exp();
      if (g != nullptr) Eigen::Map<Eigen::ArrayXd>(g + at, len) = kk;
      continue;
    }
    const Eigen::ArrayXd sr = kSqrt5 * kk.sqrt();
    const Eigen::ArrayXd e = s2 * (-sr).exp();
    if (g != nullptr) Eigen::Map<Eigen::ArrayXd>(g + at, len) = (5.0 / 3.0) * (1.0 + sr) * e;
    kk = (1.0 + sr + sr.square() / 3.0) * e;
  }
}

void InvertLowerTriangular(Eigen::Ref<Eigen::MatrixXd> l) {
  const Eigen::Index n = l.rows();
  if (n <= kBaseBlock) {
    Eigen::MatrixXd inv = Eigen::MatrixXd::Identity(n, n);
    l.triangularView<Eigen::Lower>().solveInPlace(inv);
    l.triangularView<Eigen::Lower>() = inv;
    return;
  }
  const Eigen::Index n1 = n / 2, n2 = n - n1;
  InvertLowerTriangular(l.topLeftCorner(n1, n1));
  InvertLowerTriangular(l.bottomRightCorner(n2, n2));
  // [[A, 0], [B, C]]^-1 = [[A^-1, 0], [-C^-1 B A^-1, C^-1]].
  Eigen::MatrixXd t =
      l.bottomLeftCorner(n2, n1) * l.topLeftCorner(n1, n1).triangularView<Eigen::Lower>();
  l.bottomLeftCorner(n2, n1).noalias() =
      l.bottomRightCorner(n2, n2).triangularView<Eigen::Lower>() * t;
  l.bottomLeftCorner(n2, n1) *= -1.0;
}

void LowerTransposeTimesLower(Eigen::Ref<Eigen::MatrixXd> m) {
  const Eigen::Index n = m.rows();
  if (n <= kBaseBlock) {
    Eigen::MatrixXd low = m.triangularView<Eigen::Lower>();
    Eigen::MatrixXd p = low.transpose() * low;
    m.triangularView<Eigen::Lower>() = p;
    return;
  }
  // [[P, 0], [Q, R]]^T [[P, 0], [Q, R]] = [[P^T P + Q^T Q, .], [R^T Q, R^T R]].
  const Eigen::Index n1 = n / 2, n2 = n - n1;
  LowerTransposeTimesLower(m.topLeftCorner(n1, n1));
  m.topLeftCorner(n1, n1).selfadjointView<Eigen::Lower>().rankUpdate(
      m.bottomLeftCorner(n2, n1).transpose());
  Eigen::MatrixXd t = m.bottomRightCorner(n2, n2).triangularView<Eigen::Lower>().transpose() *
                      m.bottomLeftCorner(n2, n1);
  m.bottomLeftCorner(n2, n1) = t;
  LowerTransposeTimesLower(m.bottomRightCorner(n2, n2));
}

}  // namespace sonar::internal
