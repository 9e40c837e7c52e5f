// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the few-shot evaluation of LatencyPredictor on held-out devices of a
// LatencyTable (issue 7's protocol): for every test device and k in `shots`, `repeats` draws of
// k sample architectures; every method sees only those k latencies and the device's reference
// latencies (its descriptor) and predicts every other architecture; the metrics are the share
// within +-1/5/10 %, Spearman's rho and Kendall's tau-b, as mean and standard deviation over the
// draws. Baselines run on the same draws, and each device gets a ceiling (a model trained on most
// of the device's own data). The metric functions are public too.
//
// Example:
//   LatencyEvalOptions o;
//   o.test_devices = {"titan_rtx_256", "fpga"};
//   o.source_devices = {"1080ti_1", "1080ti_32", ...};   // empty: leave one device out
//   StatusOr<LatencyEvalSummary> s = EvaluateLatencyPredictor(table, reference_idx, o);
//   std::cout << s->FullReport();
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/statistics.h"  // SpearmanRho, KendallTauB
#include "common/status.h"
#include "surrogate/latency/latency_data.h"
#include "surrogate/latency/latency_predictor.h"

namespace sonar {

// Accuracy of predicted latencies against measured ones.
// Thread safety: value type.
struct LatencyMetrics {
  double within_1pct = std::numeric_limits<double>::quiet_NaN();  // share with |p/t - 1| <= 0.01
  double within_5pct = std::numeric_limits<double>::quiet_NaN();
  double within_10pct = std::numeric_limits<double>::quiet_NaN();
  double spearman = std::numeric_limits<double>::quiet_NaN();  // rank correlation, ties averaged
  double kendall = std::numeric_limits<double>::quiet_NaN();   // tau-b (ties corrected)
};

// requires: predicted_ms.size() == true_ms.size() >= 2, true_ms > 0.
LatencyMetrics ComputeLatencyMetrics(const Eigen::VectorXd& predicted_ms,
                                     const Eigen::VectorXd& true_ms);

// The methods compared by the evaluation.
enum class LatencyEvalMethod {
  kAuto,         // "auto": LatencyPredictor default, CV-weighted map_head/affine_source/source_mix
  kMapHead,      // "map_head": LatencyPredictor, Bayesian head
  kMapleMix,     // "maple_mix": LatencyPredictor, MAPLE's mixing recipe
  kCalibrated,   // "calibrated_no_descriptor": mean source model, affine fit on the k samples
  kSamplesOnly,  // "samples_only": ridge regression on the encodings of the k samples alone
  kNearestDevice,     // "nearest_device": the source device nearest by descriptor, shifted by the
                      //   mean log ratio on the reference architectures
  kBestAffineDevice,  // "best_affine_device": the source device whose log latencies best fit the
                      //   target's (k samples + references) by an affine map, with that map
  kAutoSelect,        // "auto_select": LatencyPredictor, the CV-best candidate alone
  kAffineSource,      // "affine_source": LatencyPredictor, best affine map of a predicted source
  kSourceMix,         // "source_mix": LatencyPredictor, ridge mix of predicted sources in ms
};
std::string_view LatencyEvalMethodToString(LatencyEvalMethod m);
bool StringToLatencyEvalMethod(std::string_view name, LatencyEvalMethod* m);
std::vector<LatencyEvalMethod> AllLatencyEvalMethods();

// Thread safety: value type.
struct LatencyEvalOptions {
  // Devices to hold out and adapt to, one at a time. Required, each a table column.
  std::vector<std::string> test_devices;
  // Devices to train on. Empty: every column but the test device (leave one device out). A
  // test device listed here is left out for its own evaluation.
  std::vector<std::string> source_devices;
  // Numbers of target samples k, each >= 0.
  std::vector<int> shots = {3, 5, 10};
  // Draws of the k samples per device and k, >= 1.
  int repeats = 10;
  // Methods to run (all by default).
  std::vector<LatencyEvalMethod> methods = AllLatencyEvalMethods();
  // Also fit a ceiling model per test device.
  bool ceilings = true;
  // Share of a device's non-reference architectures its ceiling model trains on, in (0, 1).
  double ceiling_train_fraction = 0.8;
  // Epochs of the ceiling model (same network shape as the predictor's trunk), >= 1.
  int ceiling_epochs = 150;
  // Worker threads over source sets and test devices, >= 1. Results do not depend on it.
  int threads = 2;
  // Seed of the sample draws, the ceiling splits and (through `predictor.seed`) the models.
  uint64_t seed = 0;
  LatencyPredictorOptions predictor;
  // Progress lines (device done, timings); may be empty.
  std::function<void(const std::string&)> log;

  Status Validate() const;
};

// Thread safety: value type.
struct LatencyEvalRow {
  std::string device;
  int shots = 0;
  LatencyEvalMethod method = LatencyEvalMethod::kMapHead;
  LatencyMetrics mean;  // over the draws
  LatencyMetrics sd;    // sample standard deviation over the draws (0 for one draw)
  int num_test_archs = 0;
};

// Thread safety: value type.
struct LatencyDeviceReport {
  std::string device;
  std::vector<std::string> sources;
  LatencyMetrics ceiling;  // NaN when ceilings were off
  int ceiling_test_archs = 0;
  double seconds = 0;  // wall time of this device's evaluation
};

// Thread safety: value type.
struct LatencyEvalSummary {
  std::vector<LatencyEvalRow> rows;          // device-major, then shots, then method
  std::vector<LatencyDeviceReport> devices;  // in test_devices order
  double seconds = 0;
  std::string space;

  // The row of (device, shots, method), or null.
  const LatencyEvalRow* Find(const std::string& device, int shots, LatencyEvalMethod m) const;
  const LatencyDeviceReport* Device(const std::string& device) const;
  // One line: devices, shots, mean +-10% accuracy of the first method run per k.
  std::string BriefReport() const;
  // Markdown: per device and k, every method with all metrics (mean +- sd), then ceilings.
  std::string FullReport() const;
  // Whether per-device ceilings were fitted (not with LatencyEvalOptions::ceilings = false).
  bool HasCeilings() const;
  // Markdown: one row per device and k, +-10% accuracy and Spearman of each method + ceiling.
  std::string CompactReport() const;
};

// Runs the protocol above. Returns InvalidArgument for invalid options, unknown devices or a
// device without enough latencies.
StatusOr<LatencyEvalSummary> EvaluateLatencyPredictor(
    const LatencyTable& table, const std::vector<int64_t>& reference_arch_idx,
    const LatencyEvalOptions& options);

// The training set of the source columns: every architecture of the table, the descriptors of
// the sources, and the reference architectures' encodings.
LatencyTrainingSet MakeLatencyTrainingSet(const LatencyTable& table,
                                          const std::vector<int>& source_columns,
                                          const std::vector<int64_t>& reference_arch_idx);

// One method's prediction (ln ms, every row of the table) for device column `target`, seeing
// from that column only the rows in `sample_rows` and the reference rows. `trained` is a
// predictor trained on `source_columns` (copied, not changed). Exposed so a test can poison the
// other target latencies and check that nothing changes.
StatusOr<Eigen::VectorXd> PredictTargetLogMs(const LatencyTable& table,
                                             const std::vector<int64_t>& reference_arch_idx,
                                             const LatencyPredictor& trained,
                                             const std::vector<int>& source_columns, int target,
                                             const std::vector<int>& sample_rows,
                                             LatencyEvalMethod method);

}  // namespace sonar
