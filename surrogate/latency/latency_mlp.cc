// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/latency_mlp.h"

#include <cmath>
#include <numeric>

#include "common/check.h"

namespace sonar::internal {

std::vector<int> Permutation(int n, Rng& rng) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int i = n - 1; i > 0; --i) std::swap(p[i], p[UniformInt(rng, 0, i)]);
  return p;
}

Mlp::Mlp(int inputs, const std::vector<int>& hidden, int outputs, Rng& rng) {
  SONAR_CHECK(inputs > 0 && outputs > 0) << "inputs " << inputs << ", outputs " << outputs;
  std::vector<int> sizes = {inputs};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(outputs);
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    SONAR_CHECK(sizes[l + 1] > 0) << "hidden layer " << l << " has size " << sizes[l + 1];
    Eigen::MatrixXf w(sizes[l + 1], sizes[l]);
    const double scale = std::sqrt(2.0 / sizes[l]);
    for (Eigen::Index i = 0; i < w.size(); ++i)
      w.data()[i] = static_cast<float>(scale * StandardNormal(rng));
    weights.push_back(std::move(w));
    biases.push_back(Eigen::VectorXf::Zero(sizes[l + 1]));
  }
}

Eigen::MatrixXf Mlp::Forward(const Eigen::MatrixXf& x, Eigen::MatrixXf* last_hidden) const {
  SONAR_CHECK(!weights.empty()) << "Mlp::Forward on an empty network";
  SONAR_CHECK(x.cols() == num_inputs())
      << "input has " << x.cols() << " columns, the network " << num_inputs();
  Eigen::MatrixXf a = x;
  for (size_t l = 0; l < weights.size(); ++l) {
    if (l + 1 == weights.size() && last_hidden) *last_hidden = a;
    Eigen::MatrixXf z = a * weights[l].transpose();
    z.rowwise() += biases[l].transpose();
    if (l + 1 < weights.size()) z = z.cwiseMax(0.0f);
    a = std::move(z);
  }
  return a;
}

double Mlp::Step(const Eigen::MatrixXf& x, const Eigen::MatrixXf& y,
                 const Eigen::VectorXf& row_weights, float learning_rate, float weight_decay,
                 bool train_only_last) {
  const size_t num_layers = weights.size();
  const Eigen::Index n = x.rows();
  SONAR_CHECK(y.rows() == n && y.cols() == num_outputs())
      << "targets are " << y.rows() << " x " << y.cols();
  if (m_w.size() != num_layers) {
    m_w.clear();
    v_w.clear();
    m_b.clear();
    v_b.clear();
    for (size_t l = 0; l < num_layers; ++l) {
      m_w.push_back(Eigen::MatrixXf::Zero(weights[l].rows(), weights[l].cols()));
      v_w.push_back(Eigen::MatrixXf::Zero(weights[l].rows(), weights[l].cols()));
      m_b.push_back(Eigen::VectorXf::Zero(biases[l].size()));
      v_b.push_back(Eigen::VectorXf::Zero(biases[l].size()));
    }
    adam_steps = 0;
  }
  // Forward, keeping activations.
  std::vector<Eigen::MatrixXf> acts = {x};
  for (size_t l = 0; l < num_layers; ++l) {
    Eigen::MatrixXf z = acts.back() * weights[l].transpose();
    z.rowwise() += biases[l].transpose();
    if (l + 1 < num_layers) z = z.cwiseMax(0.0f);
    acts.push_back(std::move(z));
  }
  // Weighted, masked squared error.
  Eigen::MatrixXf grad = acts.back() - y;
  double total_weight = 0, loss = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const float w = row_weights.size() ? row_weights(i) : 1.0f;
    for (Eigen::Index j = 0; j < grad.cols(); ++j) {
      float& g = grad(i, j);
      if (std::isnan(g)) {
        g = 0;
        continue;
      }
      loss += w * g * g;
      total_weight += w;
      g *= w;
    }
  }
  if (total_weight <= 0) return 0;
  grad *= static_cast<float>(2.0 / total_weight);
  loss /= total_weight;
  ++adam_steps;
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const float c1 = 1.0f - std::pow(b1, static_cast<float>(adam_steps));
  const float c2 = 1.0f - std::pow(b2, static_cast<float>(adam_steps));
  const size_t first = train_only_last ? num_layers - 1 : 0;
  for (size_t l = num_layers; l-- > first;) {
    const Eigen::MatrixXf gw = grad.transpose() * acts[l];
    const Eigen::VectorXf gb = grad.colwise().sum().transpose();
    if (l > first) {
      Eigen::MatrixXf next = grad * weights[l];
      grad = next.cwiseProduct((acts[l].array() > 0.0f).cast<float>().matrix());
    }
    m_w[l] = b1 * m_w[l] + (1 - b1) * gw;
    v_w[l] = b2 * v_w[l] + (1 - b2) * gw.cwiseAbs2();
    m_b[l] = b1 * m_b[l] + (1 - b1) * gb;
    v_b[l] = b2 * v_b[l] + (1 - b2) * gb.cwiseAbs2();
    weights[l] *= (1.0f - learning_rate * weight_decay);
    weights[l].array() -=
        learning_rate * (m_w[l].array() / c1) / ((v_w[l].array() / c2).sqrt() + eps);
    biases[l].array() -=
        learning_rate * (m_b[l].array() / c1) / ((v_b[l].array() / c2).sqrt() + eps);
  }
  return loss;
}

double TrainMlp(Mlp& net, const Eigen::MatrixXf& x, const Eigen::MatrixXf& y,
                const Eigen::VectorXf& row_weights, const MlpTrainOptions& options, Rng& rng) {
  const int n = static_cast<int>(x.rows());
  const int batch = std::max(1, std::min(options.batch_size, n));
  const int steps_per_epoch = (n + batch - 1) / batch;
  const int64_t total_steps = static_cast<int64_t>(steps_per_epoch) * options.epochs;
  int64_t step = 0;
  double epoch_loss = 0;
  Eigen::MatrixXf xb, yb;
  Eigen::VectorXf wb;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const std::vector<int> perm = Permutation(n, rng);
    epoch_loss = 0;
    for (int s = 0; s < steps_per_epoch; ++s, ++step) {
      const int begin = s * batch, end = std::min(n, begin + batch);
      xb.resize(end - begin, x.cols());
      yb.resize(end - begin, y.cols());
      wb.resize(row_weights.size() ? end - begin : 0);
      for (int i = begin; i < end; ++i) {
        xb.row(i - begin) = x.row(perm[i]);
        yb.row(i - begin) = y.row(perm[i]);
        if (row_weights.size()) wb(i - begin) = row_weights(perm[i]);
      }
      const double progress = total_steps > 1 ? static_cast<double>(step) / (total_steps - 1) : 1;
      const double lr = options.learning_rate *
                        (options.final_lr_fraction +
                         (1 - options.final_lr_fraction) * 0.5 * (1 + std::cos(M_PI * progress)));
      epoch_loss += net.Step(xb, yb, wb, static_cast<float>(lr),
                             static_cast<float>(options.weight_decay), options.train_only_last);
    }
    epoch_loss /= steps_per_epoch;
  }
  return epoch_loss;
}

}  // namespace sonar::internal
