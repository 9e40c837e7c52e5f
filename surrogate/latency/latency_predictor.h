// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: LatencyPredictor, f(architecture encoding, hardware descriptor) -> log
// latency, trained on many source devices at once and adapted to an unseen device from a few
// (3-10) measured architectures, after MAPLE (Abbasi et al.) and HELP (Lee et al.).
//
// The model (docs/latency.md has the derivation):
//   * a shared ReLU network phi(x) maps an architecture encoding to F features; device d's
//     standardized log latency is h_d . [1, phi(x)], one linear head h_d per source device,
//     all learned jointly (multi-output regression);
//   * a device is known through its HardwareDescriptor. Reference-architecture features
//     ("ref_arch_<idx>", HELP's hardware embedding) are measured latencies of architectures whose
//     encodings the model keeps, so they act as observations of the device; every descriptor
//     feature (reference latencies, or probes/counters of `sonar hw describe` when the sources
//     have them) also shifts the prior mean of the head through a ridge map fitted across the
//     source devices;
//   * adaptation kMapHead (the default) is the MAP / posterior-mean head under a Gaussian prior
//     whose mean and covariance come from the source heads, given the reference latencies and
//     the k samples (Bayesian last-layer fine-tuning; scale and noise by marginal likelihood);
//   * adaptation kMapleMix is MAPLE's recipe: a second network g([x, descriptor]) trained on all
//     source rows is fine-tuned on source rows mixed with the k samples (and the reference
//     latencies), the target rows weighted up;
//   * adaptation kCalibrate is the descriptor-free baseline: the mean source head, calibrated by
//     an affine map in log space on the k samples alone;
//   * adaptation kAffineSource maps the source device (as the model predicts it) that best fits
//     the target observations by ln t = a + b ln s; kSourceMix fits the target's latency in ms
//     as a ridge-regularized linear combination of the predicted source latencies in ms (exact
//     when latency is additive over operations, as on accelerators and large-batch GPUs);
//   * adaptation kAuto (the default) runs map_head, affine_source and source_mix, measures each
//     by leave-one-out cross-validation on the target's own observations (reference latencies
//     + k samples) and predicts with their convex combination whose weights minimize the
//     cross-validated squared ln error (kAutoSelect: the single best candidate instead).
//
// Example:
//   LatencyTrainingSet set = ...;           // encodings, source descriptors, latencies (ms)
//   LatencyPredictor p(LatencyPredictorOptions{});
//   if (Status s = p.Train(set); !s.ok()) return s;
//   SONAR_RETURN_IF_ERROR(p.Adapt(target_descriptor, k_archs, k_latency_ms));
//   Eigen::VectorXd ms = p.PredictMs(candidate_archs);  // adapted device
//   SONAR_RETURN_IF_ERROR(p.Save("nb201.latency.json"));
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/hardware.h"

namespace sonar {

// How LatencyPredictor::Adapt uses the target device's data.
enum class LatencyAdaptation {
  kMapHead,    // "map_head": Bayesian head with a source-head prior (stronger method)
  kMapleMix,   // "maple_mix": MAPLE's recipe, fine-tune on sources mixed with the weighted samples
  kCalibrate,  // "calibrate": descriptor-free mean model, affine calibration on the samples only
  kAffineSource,  // "affine_source": best affine map (ln space) of one predicted source device
  kSourceMix,     // "source_mix": ridge combination of the predicted source latencies in ms
  kAuto,          // "auto": CV-weighted combination of map_head, affine_source, source_mix
  kAutoSelect,    // "auto_select": the candidate with the least CV error alone
};
std::string_view LatencyAdaptationToString(LatencyAdaptation a);
// Returns false (and leaves *a alone) for an unknown name.
bool StringToLatencyAdaptation(std::string_view name, LatencyAdaptation* a);

// Thread safety: value type.
struct LatencyPredictorOptions {
  // Hidden layer widths of the shared network before the feature layer. Each in [1, 4096].
  std::vector<int> hidden = {64, 64};
  // Width F of the feature layer phi(x) that the per-device heads read; in [1, 1024]. Larger
  // fits the sources better but makes the head prior weaker for few samples.
  int feature_size = 32;
  // Passes over the architectures when training the shared network, >= 1. Each pass visits
  // every architecture once with all its source-device latencies.
  int epochs = 80;
  // Shared networks trained from different seeds; kMapHead adapts each and averages their
  // ln-latency predictions (a deep ensemble). In [1, 64]; cost grows linearly.
  int ensemble_size = 5;
  // Architectures per Adam step, >= 1.
  int batch_size = 128;
  // Peak Adam step size (cosine decay), > 0.
  double learning_rate = 2e-3;
  // Decoupled weight decay per step (times the step size), >= 0.
  double weight_decay = 1e-4;

  // kMapHead: candidate jitters added to the source-head covariance, as fractions of its mean
  // diagonal, so the target may leave the span of the source heads; the marginal likelihood
  // picks one (without empirical_bayes: the first). Each >= 0.
  std::vector<double> head_prior_jitter_grid = {0.01, 0.03, 0.1, 0.3, 1.0};
  // kMapHead: ridge strength of the descriptor -> head-mean map (standardized features), > 0.
  // Large values ignore the descriptor for the prior mean (its reference latencies still
  // count as observations).
  double descriptor_ridge = 10.0;
  // kMapHead: choose the prior scale and noise by marginal likelihood over a small grid. Off:
  // scale 1 and the source residual variance.
  bool empirical_bayes = true;
  // kMapHead: candidate variances (standardized ln-latency units per encoding entry) of a
  // linear kernel on the raw encoding added to the head prior; the marginal likelihood picks
  // one (without empirical_bayes: the first). {0} turns it off. Each >= 0.
  std::vector<double> linear_kernel_grid = {0.0, 0.001, 0.003, 0.01, 0.03, 0.1};

  // Train the MAPLE network too: a second network that only kMapleMix (the MAPLE baseline of
  // `sonar latency eval`) uses; costs about as much as the rest, so it is off unless asked for.
  bool train_maple = false;
  // Hidden widths of the MAPLE network g([x, standardized descriptor]).
  std::vector<int> maple_hidden = {128, 128};
  // Adam steps of `batch_size` random (architecture, source device) rows, >= 1.
  int maple_steps = 6000;
  // Adam steps of fine-tuning in kMapleMix adaptation, >= 0.
  int maple_adapt_steps = 150;
  // Peak step size of the fine-tuning, > 0.
  double maple_adapt_learning_rate = 5e-4;
  // Weight of one target row relative to one source row in a fine-tuning batch, > 0 (MAPLE's
  // "weighted" mixing).
  double maple_sample_weight = 10.0;
  // Source architectures kept in the model to mix into kMapleMix adaptation, >= 1.
  int maple_replay_archs = 2000;

  // kSourceMix (and its kAuto candidate): candidate ridge strengths on the combination
  // weights (features and target scaled to mean 1 over the observations); leave-one-out
  // cross-validation on the observations picks one (closed form, so cheap). Each > 0.
  std::vector<double> source_mix_ridge_grid = {1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  // kSourceMix: candidate prior variances of an additive term on the raw encoding (latency in
  // ms, relative to the target's mean, per encoding entry), chosen with the ridge strength by
  // leave-one-out; 0 leaves the term out. Each >= 0.
  std::vector<double> source_mix_encoding_grid = {0.0, 0.001, 0.01, 0.1};
  // kAuto: step of the grid over the simplex of candidate weights, in (0, 1]; 1 makes kAuto
  // select one candidate like kAutoSelect.
  double auto_weight_step = 0.05;

  // Adaptation used by Adapt when none is given.
  LatencyAdaptation adaptation = LatencyAdaptation::kAuto;
  // Seed of initialization, batching and replay sampling; same seed and data, same model.
  uint64_t seed = 0;

  Status Validate() const;
};

// The source data of Train. Latencies are milliseconds; NaN (or <= 0) marks "not measured".
// Thread safety: value type.
struct LatencyTrainingSet {
  std::string space;                        // free-form tag kept in the model, e.g. "nasbench201"
  Eigen::MatrixXd architectures;            // n x d encodings (surrogate/latency/latency_data.h)
  std::vector<HardwareDescriptor> devices;  // m source devices
  Eigen::MatrixXd latency_ms;               // n x m
  // Encodings of the architectures that descriptor features "ref_arch_<idx>" name; row i is
  // reference_names[i]. May be empty (then reference latencies only shape the prior mean).
  std::vector<std::string> reference_names;
  Eigen::MatrixXd reference_architectures;  // r x d
};

// Thread safety: thread-compatible. Const methods (Predict*) are safe to call concurrently;
// Train, Adapt and Load need exclusive access.
class LatencyPredictor {
 public:
  explicit LatencyPredictor(LatencyPredictorOptions options = {});
  ~LatencyPredictor();
  LatencyPredictor(const LatencyPredictor& other);
  LatencyPredictor& operator=(const LatencyPredictor& other);
  LatencyPredictor(LatencyPredictor&&) noexcept;
  LatencyPredictor& operator=(LatencyPredictor&&) noexcept;

  // Trains on all source devices at once. Forgets any adaptation.
  // Returns InvalidArgument for invalid options, mismatched shapes, fewer than 2 devices or a
  // device without any latency.
  Status Train(const LatencyTrainingSet& sources);

  // Adapts to one target device from its descriptor and k measured architectures (k may be 0:
  // descriptor only). `architectures`: k x d encodings, `latency_ms`: k. These and the
  // descriptor are the only target data the model sees. Replaces any earlier adaptation.
  // requires: trained(). Returns InvalidArgument for mismatched shapes or non-positive
  // latencies, FailedPrecondition for kMapleMix on a model trained without train_maple.
  Status Adapt(const HardwareDescriptor& device, const Eigen::MatrixXd& architectures,
               const Eigen::VectorXd& latency_ms);
  Status Adapt(const HardwareDescriptor& device, const Eigen::MatrixXd& architectures,
               const Eigen::VectorXd& latency_ms, LatencyAdaptation method);

  // Predicted latency (ms) of each row of `architectures` (n x d) on the adapted device.
  // requires: adapted().
  Eigen::VectorXd PredictMs(const Eigen::MatrixXd& architectures) const;
  // The same in ln(ms).
  Eigen::VectorXd PredictLogMs(const Eigen::MatrixXd& architectures) const;
  // Zero-shot prediction (ln ms) for any device from its descriptor alone (kMapHead with k = 0),
  // without changing the adaptation. requires: trained().
  Eigen::VectorXd PredictLogMs(const Eigen::MatrixXd& architectures,
                               const HardwareDescriptor& device) const;
  // Predicted ln(ms) of source device `source` (0 <= source < num_sources()). requires: trained().
  Eigen::VectorXd PredictSourceLogMs(const Eigen::MatrixXd& architectures, int source) const;

  // True when `feature_name` ("ref_arch_<idx>") names a reference architecture whose encoding
  // the model keeps, so that its latency in a descriptor counts as an observation.
  bool IsReferenceArchitecture(const std::string& feature_name) const;
  // The feature name of the reference architecture whose encoding equals `encoding` (1 x d),
  // or "" when none does: how a sample given without its arch_idx is recognised as one.
  std::string ReferenceNameOf(const Eigen::RowVectorXd& encoding) const;
  bool trained() const;
  bool adapted() const;
  int encoding_size() const;
  int num_sources() const;
  const std::vector<std::string>& source_names() const;
  const std::string& space() const;
  // The adapted device's name ("" when not adapted) and the method used.
  const std::string& adapted_device() const;
  LatencyAdaptation adapted_method() const;
  const LatencyPredictorOptions& options() const { return options_; }
  // kAuto / kAutoSelect: the candidates (map_head, affine_source, source_mix), their
  // leave-one-out RMSE in ln(ms) on the target observations and their weights in the
  // prediction (summing to 1). Empty for other methods.
  struct AutoCandidate {
    std::string name;
    double loo_rmse = 0;
    double weight = 0;
  };
  const std::vector<AutoCandidate>& auto_candidates() const;

  // Writes the model, and its adaptation if any, as one JSON object (docs/latency.md,
  // "Model file"). Returns NotFound/Internal when the file cannot be written.
  Status Save(const std::string& path) const;
  // Reads a file written by Save; an adapted model is re-adapted from its stored samples, which
  // gives the same predictions. Returns NotFound for a missing file, DataLoss for a malformed
  // or truncated one, InvalidArgument for an unsupported format version.
  static StatusOr<LatencyPredictor> Load(const std::string& path);

 private:
  struct Impl;
  LatencyPredictorOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sonar
