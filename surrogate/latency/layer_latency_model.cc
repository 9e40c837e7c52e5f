// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/layer_latency_model.h"

#include <cmath>

#include "common/check.h"
#include "measure/operators.h"
#include "surrogate/gaussian_process.h"

namespace sonar {

Eigen::VectorXd LayerFeatures(const Task& task) {
  const std::vector<int64_t>& s = task.shape;
  double in = 1, out = 1, weights = 1, reduction = 1;
  Eigen::VectorXd f = Eigen::VectorXd::Zero(8);
  if (task.op == "conv2d") {
    SONAR_CHECK(s.size() == 9) << "conv2d shape";
    const double oh = (s[2] + 2 * s[8] - s[5]) / s[7] + 1, ow = (s[3] + 2 * s[8] - s[6]) / s[7] + 1;
    in = double(s[0]) * s[1] * s[2] * s[3];
    out = double(s[0]) * s[4] * oh * ow;
    weights = double(s[4]) * s[1] * s[5] * s[6];
    reduction = double(s[1]) * s[5] * s[6];
    f[0] = 1;
  } else if (task.op == "depthwise_conv2d") {
    SONAR_CHECK(s.size() == 8) << "depthwise_conv2d shape";
    const double oh = (s[2] + 2 * s[7] - s[4]) / s[6] + 1, ow = (s[3] + 2 * s[7] - s[5]) / s[6] + 1;
    in = double(s[0]) * s[1] * s[2] * s[3];
    out = double(s[0]) * s[1] * oh * ow;
    weights = double(s[1]) * s[4] * s[5];
    reduction = double(s[4]) * s[5];
    f[1] = 1;
  } else {
    SONAR_CHECK(task.op == "dense" && s.size() == 3) << "LayerFeatures: not a built-in task";
    in = double(s[0]) * s[2];
    out = double(s[0]) * s[1];
    weights = double(s[1]) * s[2];
    reduction = double(s[2]);
    f[2] = 1;
  }
  f[3] = std::log2(std::max(1.0, OperatorFlops(task)));
  f[4] = std::log2(in);
  f[5] = std::log2(out);
  f[6] = std::log2(weights);
  f[7] = std::log2(reduction);
  return f;
}

struct LayerLatencyModel::Impl {
  GaussianProcess gp;
  double noise_sd = 0;  // residual sd of the fit, log units (a floor for the prediction)
  bool fitted = false;
};

LayerLatencyModel::LayerLatencyModel() : impl_(std::make_unique<Impl>()) {}
LayerLatencyModel::~LayerLatencyModel() = default;
LayerLatencyModel::LayerLatencyModel(LayerLatencyModel&&) noexcept = default;
LayerLatencyModel& LayerLatencyModel::operator=(LayerLatencyModel&&) noexcept = default;

bool LayerLatencyModel::fitted() const { return impl_->fitted; }

Status LayerLatencyModel::Fit(const std::vector<const Task*>& tasks,
                              const std::vector<double>& seconds) {
  if (tasks.size() != seconds.size()) return InvalidArgumentError("tasks and seconds differ");
  if (tasks.size() < 3) return InvalidArgumentError("the layer model needs 3 tuned layers");
  Eigen::MatrixXd x(tasks.size(), 8);
  Eigen::VectorXd y(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!(seconds[i] > 0) || !std::isfinite(seconds[i])) {
      return InvalidArgumentError("a layer latency is not a positive number");
    }
    x.row(i) = LayerFeatures(*tasks[i]).transpose();
    y[i] = std::log(seconds[i]);
  }
  GpOptions options;
  options.restarts = 3;
  impl_->gp = GaussianProcess(options);
  SONAR_RETURN_IF_ERROR(impl_->gp.Fit(x, y));
  // Leave-nothing-out residuals understate the error; the fitted noise is a floor instead.
  Prediction p = impl_->gp.Predict(x);
  double sq = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) sq += (p.mean[i] - y[i]) * (p.mean[i] - y[i]);
  impl_->noise_sd = std::sqrt(sq / y.size());
  impl_->fitted = true;
  return OkStatus();
}

LayerLatencyPrediction LayerLatencyModel::Predict(const Task& task) const {
  SONAR_CHECK(impl_->fitted) << "LayerLatencyModel::Predict before Fit";
  Eigen::MatrixXd x = LayerFeatures(task).transpose();
  Prediction p = impl_->gp.Predict(x);
  LayerLatencyPrediction out;
  out.log_mean = p.mean[0];
  out.log_sd = std::sqrt(std::max(0.0, p.variance[0]) + impl_->noise_sd * impl_->noise_sd);
  return out;
}

}  // namespace sonar
