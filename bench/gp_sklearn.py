# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# The scikit-learn side of bench/gp_benchmark.cc: fits GaussianProcessRegressor with the kernel
# Sonar's GaussianProcess uses (ConstantKernel * Matern(nu=2.5, ARD) + WhiteKernel,
# normalize_y=True) on the training CSV, predicts the test CSV, and prints one JSON line:
#   {"fit_seconds": .., "predict_seconds": .., "nlpd": .., "rmse": .., "lml": ..}
# The benchmark starts it with /usr/bin/python3 and an argv (never a shell):
#   gp_sklearn.py TRAIN_CSV TEST_CSV RESTARTS SEED MAX_ITERATIONS
# CSV rows: x_1, ..., x_d, y (no header). Only fit() and predict() are timed. The optimizer is
# sklearn's own (scipy L-BFGS-B on the same bounds) with the iteration cap Sonar uses per restart.
import json
import math
import sys
import time

import numpy as np
import scipy.optimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel


def main():
    if len(sys.argv) != 6:
        sys.stderr.write("usage: gp_sklearn.py TRAIN_CSV TEST_CSV RESTARTS SEED MAX_ITERATIONS\n")
        return 2
    train = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    test = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
    restarts = int(sys.argv[3])
    seed = int(sys.argv[4])
    max_iterations = int(sys.argv[5])

    def optimizer(obj_func, initial_theta, bounds):
        # sklearn's default "fmin_l_bfgs_b" with an iteration cap.
        res = scipy.optimize.minimize(obj_func, initial_theta, method="L-BFGS-B", jac=True,
                                      bounds=bounds, options={"maxiter": max_iterations})
        return res.x, res.fun
    x, y = train[:, :-1], train[:, -1]
    xt, yt = test[:, :-1], test[:, -1]
    d = x.shape[1]
    kernel = (ConstantKernel(1.0, (1e-5, 1e5)) * Matern(length_scale=np.ones(d), nu=2.5,
                                                        length_scale_bounds=(1e-5, 1e5))
              + WhiteKernel(1e-2, (1e-8, 1e5)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, optimizer=optimizer,
                                  n_restarts_optimizer=max(restarts - 1, 0), random_state=seed)
    t0 = time.perf_counter()
    gp.fit(x, y)
    t1 = time.perf_counter()
    # Prediction: the median of 7 timed calls, as gp_benchmark times Sonar's.
    predict_s = []
    for _ in range(7):
        p0 = time.perf_counter()
        mean, std = gp.predict(xt, return_std=True)  # std includes the WhiteKernel noise
        predict_s.append(time.perf_counter() - p0)
    predict_seconds = sorted(predict_s)[3]
    var = np.maximum(std ** 2, 1e-300)
    nlpd = float(np.mean(0.5 * np.log(2 * math.pi * var) + 0.5 * (yt - mean) ** 2 / var))
    rmse = float(np.sqrt(np.mean((yt - mean) ** 2)))
    print(json.dumps({"fit_seconds": t1 - t0, "predict_seconds": predict_seconds, "nlpd": nlpd,
                      "rmse": rmse, "lml": float(gp.log_marginal_likelihood_value_),
                      "kernel": str(gp.kernel_)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
