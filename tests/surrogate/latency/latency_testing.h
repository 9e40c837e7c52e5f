// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: a synthetic NAS-Bench-201-style latency table for the latency tests
// (random cells; ln latency of device d = a sum of per-edge operation costs that mix two latent
// device factors, plus a small interaction), a CSV writer for it, and small predictor options
// that train in well under a second.
//
// Example:
//   LatencyTable t = SyntheticLatencyTable(/*archs=*/400, /*devices=*/6, /*seed=*/1);
//   std::vector<int64_t> refs = SyntheticReferences();  // arch_idx 0..9
#pragma once

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "common/random.h"
#include "surrogate/latency/latency_data.h"
#include "surrogate/latency/latency_predictor.h"

namespace sonar::testing {

inline std::string RandomNasBench201Cell(Rng& rng) {
  static const char* const kOps[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                     "avg_pool_3x3"};
  std::string s;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) s += "+";
    s += "|";
    for (int j = 0; j < node; ++j) {
      s += std::string(kOps[UniformInt(rng, 0, 4)]) + "~" + std::to_string(j) + "|";
    }
  }
  return s;
}

inline LatencyTable SyntheticLatencyTable(int archs, int devices, uint64_t seed) {
  Rng rng = MakeRng(seed, 77);
  LatencyTable t;
  t.space = LatencySpace::kNasBench201;
  t.encodings.resize(archs, 30);
  for (int i = 0; i < archs; ++i) {
    t.arch_idx.push_back(i);
    const std::string cell = RandomNasBench201Cell(rng);
    t.arch_keys.push_back({cell});
    t.encodings.row(i) = EncodeNasBench201(cell).value().transpose();
  }
  Eigen::VectorXd base(30), f1(30), f2(30);
  for (int j = 0; j < 30; ++j) {
    base(j) = 0.4 * UniformDouble(rng);
    f1(j) = 0.3 * (UniformDouble(rng) - 0.5);
    f2(j) = 0.3 * (UniformDouble(rng) - 0.5);
  }
  t.latency_ms.resize(archs, devices);
  for (int d = 0; d < devices; ++d) {
    t.devices.push_back("dev" + std::to_string(d));
    const double u = 2 * UniformDouble(rng) - 1, v = 2 * UniformDouble(rng) - 1;
    const double scale = std::log(1 + 10 * UniformDouble(rng));
    const Eigen::VectorXd w = base + u * f1 + v * f2;
    for (int i = 0; i < archs; ++i) {
      const double convs = t.encodings.row(i)(Eigen::seqN(3, 6, 5)).sum();  // nor_conv_3x3 count
      t.latency_ms(i, d) = std::exp(scale + t.encodings.row(i).dot(w) + 0.05 * u * convs * convs);
    }
  }
  return t;
}

inline std::vector<int64_t> SyntheticReferences() { return {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; }

// HELP's CSV layout: arch_idx, arch_str, one column per device.
inline void WriteLatencyCsv(const LatencyTable& t, const std::string& path) {
  std::ofstream out(path);
  out << "arch_idx,arch_str";
  for (const std::string& d : t.devices) out << "," << d;
  out << "\n";
  out.precision(17);
  for (int i = 0; i < t.num_archs(); ++i) {
    out << t.arch_idx[i] << "," << t.arch_keys[i][0];
    for (int d = 0; d < t.num_devices(); ++d) out << "," << t.latency_ms(i, d);
    out << "\n";
  }
}

// Options that train in a fraction of a second on a few hundred architectures.
inline LatencyPredictorOptions SmallPredictorOptions(uint64_t seed = 0) {
  LatencyPredictorOptions o;
  o.hidden = {32};
  o.feature_size = 8;
  o.epochs = 150;
  o.batch_size = 32;
  o.ensemble_size = 2;
  o.train_maple = true;  // the tests cover maple_mix too
  o.maple_hidden = {32};
  o.maple_steps = 600;
  o.maple_adapt_steps = 30;
  o.maple_replay_archs = 100;
  o.seed = seed;
  return o;
}

}  // namespace sonar::testing
