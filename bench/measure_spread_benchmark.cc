// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// How steady are measurements on this noisy machine? Measures one good config of a dense layer
// in `batches` separate Measure() calls (each batch also re-times the reference config, the
// naive default) and prints the spread max/min of its 20 medians, raw and normalized by the
// batch's reference (median / reference_seconds). Issue 3, item 9.
//
// Usage: measure_spread_benchmark [--batches 20] [--shape 256,256,256] [--pause-ms 0]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "measure/measurer.h"
#include "measure/operators.h"

int main(int argc, char** argv) {
  int batches = 20;
  std::vector<int64_t> shape = {256, 256, 256};
  int pause_ms = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--batches") batches = std::atoi(argv[i + 1]);
    if (flag == "--pause-ms") pause_ms = std::atoi(argv[i + 1]);
    if (flag == "--shape") {
      shape.clear();
      std::string s = argv[i + 1];
      size_t p = 0;
      while (p < s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        shape.push_back(std::atoll(s.substr(p, q - p).c_str()));
        p = q + 1;
      }
    }
  }
  auto task = sonar::MakeOperatorTask("dense", shape);
  if (!task.ok()) {
    std::fprintf(stderr, "%s\n", task.status().ToString().c_str());
    return 1;
  }
  auto measurer = sonar::MakeLocalMeasurer(sonar::MeasureOptions{});
  if (!measurer.ok()) return 1;
  // A blocked, vectorized config (the kind a tuner ends with): the best of 12 random samples.
  sonar::Rng rng = sonar::MakeRng(1);
  std::vector<sonar::Config> candidates;
  for (int i = 0; i < 12; ++i) candidates.push_back(task->space.Sample(rng).value());
  std::vector<sonar::MeasureResult> first = (*measurer)->Measure(*task, candidates);
  size_t best = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    if (first[i].ok() &&
        (!first[best].ok() || first[i].median_seconds() < first[best].median_seconds()))
      best = i;
  }
  if (!first[best].ok()) return 1;
  const sonar::Config config = candidates[best];
  std::printf("config: %s\n", task->space.ToString(config).c_str());
  std::vector<double> raw, normalized;
  int remeasured = 0;
  for (int b = 0; b < batches; ++b) {
    sonar::MeasureResult r = (*measurer)->Measure(*task, {config})[0];
    if (!r.ok() || r.reference_seconds <= 0) continue;
    raw.push_back(r.median_seconds());
    normalized.push_back(r.median_seconds() / r.reference_seconds);
    remeasured += r.error_msg.find("re-measured") != std::string::npos;
    std::printf("batch %2d: %.4g s  reference %.4g s  relative %.5f\n", b, raw.back(),
                r.reference_seconds, normalized.back());
    if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  auto spread = [](const std::vector<double>& v) {
    return *std::max_element(v.begin(), v.end()) / *std::min_element(v.begin(), v.end());
  };
  if (raw.size() < 2) return 1;
  std::printf("measurements: %zu (re-measured within a batch: %d)\n", raw.size(), remeasured);
  std::printf("spread max/min, raw:                  %.3f\n", spread(raw));
  std::printf("spread max/min, reference-normalized: %.3f\n", spread(normalized));
  return 0;
}
