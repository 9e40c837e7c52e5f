// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the covariance kernels of GaussianProcess (Matern 5/2 and RBF with
// ARD lengthscales) as dense-matrix routines, with the factor their lengthscale gradients need,
// and the blocked triangular routines of the marginal-likelihood gradient (inverse of a
// Cholesky factor and the product of that inverse with its transpose, LAPACK's trtri and
// lauum, n^3/3 flops each). Details of gaussian_process.cc, public for tests and benchmarks.
//
// Example:
//   Eigen::MatrixXd z = ScaleByLengthscales(x, lengthscales);   // n x d, rows x_i / l
//   Eigen::MatrixXd k, g;
//   SquaredDistances(z, z, &k);                                 // r^2, n x n
//   ApplyKernel(GpKernel::kMatern52, signal_variance, &k, &g);  // k(r), and G
//   // dK_ij / dlog l_k = G_ij * (z_ik - z_jk)^2
#pragma once

#include <Eigen/Core>

#include "surrogate/gaussian_process.h"

namespace sonar::internal {

// Rows of x divided elementwise by the lengthscales (size d, or 1 for a shared lengthscale).
Eigen::MatrixXd ScaleByLengthscales(const Eigen::MatrixXd& x, const Eigen::VectorXd& lengthscales);

// (*r2)_ij = ||z1_i - z2_j||^2, n1 x n2, clamped at 0 (computed with one matrix product).
void SquaredDistances(const Eigen::MatrixXd& z1, const Eigen::MatrixXd& z2, Eigen::MatrixXd* r2);

// Replaces squared distances by kernel values signal_variance * k(r). If grad_factor is not
// null it receives G with dk/dlog l_k = G * (z_ik - z_jk)^2 (RBF: G = k; Matern 5/2:
// G = s^2 (5/3) (1 + sqrt(5) r) exp(-sqrt(5) r)).
void ApplyKernel(GpKernel kernel, double signal_variance, Eigen::MatrixXd* r2_to_k,
                 Eigen::MatrixXd* grad_factor);

// In place: the lower triangle of `l` (a lower-triangular factor) becomes that of l^{-1}.
// requires: square, nonzero diagonal. The strict upper triangle is left as is.
void InvertLowerTriangular(Eigen::Ref<Eigen::MatrixXd> l);

// In place: the lower triangle of `m` (a lower-triangular matrix M) becomes that of M^T M.
void LowerTransposeTimesLower(Eigen::Ref<Eigen::MatrixXd> m);

}  // namespace sonar::internal
