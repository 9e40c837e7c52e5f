// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: internal::Mlp, the small fully connected ReLU network (Eigen, float,
// Adam with decoupled weight decay) behind the latency predictor, and TrainMlp, its seeded
// mini-batch training loop. It regresses several outputs at once; missing targets (NaN) are
// left out of the loss, and rows may carry weights. Not a public API: use LatencyPredictor.
//
// Example:
//   Rng rng = MakeRng(seed);
//   internal::Mlp net(/*inputs=*/30, /*hidden=*/{128, 128}, /*outputs=*/9, rng);
//   internal::TrainMlp(net, x, y, /*row_weights=*/{}, internal::MlpTrainOptions{}, rng);
//   Eigen::MatrixXf y_hat = net.Forward(x);
#pragma once

#include <Eigen/Core>
#include <vector>

#include "common/random.h"

namespace sonar::internal {

// Thread safety: value type; Forward is const and safe to call concurrently.
struct Mlp {
  Mlp() = default;
  // He-initialized weights from `rng`, zero biases.
  // requires: inputs > 0, outputs > 0, every hidden size > 0.
  Mlp(int inputs, const std::vector<int>& hidden, int outputs, Rng& rng);

  int num_inputs() const { return weights.empty() ? 0 : static_cast<int>(weights[0].cols()); }
  int num_outputs() const { return weights.empty() ? 0 : static_cast<int>(weights.back().rows()); }
  int num_last_hidden() const {
    return weights.size() < 2 ? num_inputs() : static_cast<int>(weights.back().cols());
  }

  // x: n x inputs. Returns n x outputs. When `last_hidden` is not null it gets the n x h
  // activations that feed the output layer.
  Eigen::MatrixXf Forward(const Eigen::MatrixXf& x, Eigen::MatrixXf* last_hidden = nullptr) const;

  // One Adam step on a batch. y: n x outputs, NaN entries are left out; row_weights: n, or empty
  // for all ones. Loss: weighted mean squared error over the present entries. When
  // `train_only_last` is true only the output layer moves. Returns the batch loss before the step.
  double Step(const Eigen::MatrixXf& x, const Eigen::MatrixXf& y,
              const Eigen::VectorXf& row_weights, float learning_rate, float weight_decay,
              bool train_only_last = false);

  std::vector<Eigen::MatrixXf> weights;  // layer l: out_l x in_l
  std::vector<Eigen::VectorXf> biases;   // layer l: out_l
  // Adam state (not saved with a model; a loaded model restarts it).
  std::vector<Eigen::MatrixXf> m_w, v_w;
  std::vector<Eigen::VectorXf> m_b, v_b;
  int64_t adam_steps = 0;
};

struct MlpTrainOptions {
  int epochs = 100;             // passes over the rows, >= 1
  int batch_size = 256;         // rows per Adam step, >= 1
  double learning_rate = 2e-3;  // peak Adam step size; cosine-decayed to final_lr_fraction of it
  double final_lr_fraction = 0.02;
  double weight_decay = 1e-4;  // decoupled (AdamW), per step, times learning rate
  bool train_only_last = false;
};

// Trains `net` on rows of x (n x inputs) and y (n x outputs, NaN = missing) with seeded
// shuffling. Returns the mean loss of the last epoch.
double TrainMlp(Mlp& net, const Eigen::MatrixXf& x, const Eigen::MatrixXf& y,
                const Eigen::VectorXf& row_weights, const MlpTrainOptions& options, Rng& rng);

// A seeded Fisher-Yates shuffle of 0..n-1 (UniformInt, identical on every platform).
std::vector<int> Permutation(int n, Rng& rng);

}  // namespace sonar::internal
