// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// How well the joint search's learning-curve rule (tuner/search/stopping.h, rule 1) holds on
// real training curves: for every network of a ground-truth table trained to the full budget,
// leave it out, take `--peers` other finished networks (seeded draw) as peers, and bound its
// final best accuracy from its first e epochs. Prints, per e, the fraction of networks whose
// bound covers their final best accuracy (the rule's safety), the fraction it covers within
// the goal's 1% accuracy tolerance, and the median bound - final gap (its tightness), for the
// quantiles 0.5, 0.9 and 1.0.
//
//   build/bench/search_stopping_benchmark datasets/digits_cnn_search/table.sonar [full_epochs]
//       [peers]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "common/statistics.h"
#include "measure/record_store.h"
#include "space/architecture.h"
#include "tuner/search/search_problem.h"
#include "tuner/search/stopping.h"

int main(int argc, char** argv) {
  using namespace sonar;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TABLE.sonar [full_epochs=20] [peers=10]\n", argv[0]);
    return 2;
  }
  const int full = argc > 2 ? std::atoi(argv[2]) : 20;
  const int num_peers = argc > 3 ? std::atoi(argv[3]) : 10;
  RecordLogStats stats;
  StatusOr<std::vector<Record>> records = ReadRecordLog(argv[1], &stats);
  if (!records.ok()) {
    std::fprintf(stderr, "%s\n", records.status().ToString().c_str());
    return 1;
  }
  StatusOr<ArchitectureSpace> space = BuiltinArchitectureSpace("digits-cnn");
  std::string trainer;
  for (const Record& r : *records) {
    if (IsTrainingRecord(r)) {
      trainer = r.task.target;
      break;
    }
  }
  std::vector<std::vector<double>> curves;
  for (auto& [index, curve] : TrainingCurves(*space, trainer, *records)) {
    if (!curve.failed && static_cast<int>(curve.accuracy.size()) >= full) {
      curves.push_back(curve.accuracy);
    }
  }
  std::printf("table %s: %zu networks trained to %d epochs (trainer %s)\n", argv[1], curves.size(),
              full, trainer.c_str());
  if (static_cast<int>(curves.size()) <= num_peers) return 1;
  std::printf("%6s %8s %10s %12s %14s %14s\n", "epochs", "quantile", "covered", "covered_1pct",
              "median_gap", "median_best_e");
  for (int e : {1, 2, 3, 5, 7, 10}) {
    for (double q : {0.5, 0.9, 1.0}) {
      CurveBoundOptions options;
      options.quantile = q;
      int covered = 0, covered_1pct = 0;
      std::vector<double> gaps, best_e;
      for (size_t i = 0; i < curves.size(); ++i) {
        std::mt19937_64 rng(i);
        std::vector<size_t> others;
        for (size_t j = 0; j < curves.size(); ++j) {
          if (j != i) others.push_back(j);
        }
        std::shuffle(others.begin(), others.end(), rng);
        std::vector<std::vector<double>> peers;
        for (int p = 0; p < num_peers; ++p) peers.push_back(curves[others[p]]);
        std::vector<double> seen(curves[i].begin(), curves[i].begin() + e);
        const double u = AccuracyUpperBound(seen, full, peers, options);
        const double final_best = RunningMax(curves[i])[full - 1];
        covered += u >= final_best;
        covered_1pct += u + 0.01 >= final_best;
        gaps.push_back(u - final_best);
        best_e.push_back(RunningMax(seen).back());
      }
      std::printf("%6d %8.2f %10.3f %12.3f %14.4f %14.4f\n", e, q,
                  static_cast<double>(covered) / curves.size(),
                  static_cast<double>(covered_1pct) / curves.size(), Median(gaps), Median(best_e));
    }
  }
  return 0;
}
