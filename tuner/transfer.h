// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: transfer learning across tuning tasks, the one header to include for
// it (docs/transfer.md). Where its parts live: the models are in surrogate/ (DeepKernelGp of
// transfer-bo in deep_kernel_gp.h, RgpeModel of rgpe in rgpe.h, both included here); what ties
// records of other workloads to a target task and to those models is here:
//   - TransferEncoder: one feature layout for the target task's configs and for records of other
//     workloads (matched by knob name; split knobs by their inner factors, since other shapes
//     split other extents), followed by task features (log2 of every integer of the task's
//     arguments), so one model learns across layers;
//   - SelectSources: records grouped by workload, the target's own left out, ranked by the
//     distance of their task features to the target's, the closest max_sources kept;
//   - TransferPrior / BuildTransferPrior: what is learned from the sources once per target and
//     shared read-only by every run on it: the pretrained deep-kernel GP (transfer-bo) and one
//     GP per source (rgpe). A tuner reads it through TunerOptions::transfer_prior, or builds
//     and owns one itself from TunerOptions::transfer_records.
//
// Example:
//   TransferOptions options;
//   SONAR_ASSIGN_OR_RETURN(std::unique_ptr<TransferPrior> prior,
//                          BuildTransferPrior(task, records, TunerKind::kTransferBayesOpt,
//                          options, /*seed=*/0));
//   Prediction zero_shot = prior->dkgp.Predict(prior->encoder.EncodeConfigs(configs));
//   TunerOptions tuner_options;
//   tuner_options.kind = TunerKind::kTransferBayesOpt;
//   tuner_options.transfer_prior = prior.get();   // must outlive the tuners made with it
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/task.h"
#include "surrogate/deep_kernel_gp.h"
#include "surrogate/gaussian_process.h"
#include "surrogate/rgpe.h"

namespace sonar {

enum class TunerKind;

struct TransferOptions {
  // Source workloads used (the closest by task features), >= 1, and the ok records a workload
  // needs to be one, >= 2.
  int max_sources = 8;
  int min_source_records = 16;
  // The deep-kernel GP of transfer-bo (its seed is derived from the tuner's).
  DkgpOptions dkgp;
  // transfer-bo: random configs before the model proposes (0: the pretrained model proposes
  // the first batch). >= 0.
  int num_initial = 0;
  // transfer-bo: the model is re-adapted (MAP, prior precision re-chosen) on every new
  // observation while the target has fewer than readapt_all_below ok observations, then when
  // they grew by max(4, readapt_growth * the count at the last adaptation); in between it is
  // conditioned on the new data with the same parameters. >= 0, >= 0.
  int readapt_all_below = 12;
  double readapt_growth = 0.25;
  // rgpe: GP per source on at most this many of its records (random subset), >= 2; samples of
  // the ranking loss, >= 1.
  int rgpe_source_samples = 300;
  int rgpe_loss_samples = 256;
  // Both: the sources' records (ok and failed, at most this many of each) that the feasibility
  // model starts from; its every full fit pays for them (a GP classifier, n^3). >= 0.
  int feasibility_source_samples = 64;
  Status Validate() const;
};

// Features shared by the target's configs and other workloads' records.
// Thread safety: value type; const methods are thread-safe.
class TransferEncoder {
 public:
  // Layout from the target's knobs; missing knobs of a record are imputed with the mean of the
  // column over a seeded sample of the target's valid configs.
  static StatusOr<TransferEncoder> Make(const Task& target, uint64_t seed);

  int dim() const { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  // Rows for configs of the target task.
  Eigen::MatrixXd EncodeConfigs(const std::vector<Config>& configs) const;
  // The row of a record of any workload; false when it shares no knob with the target.
  bool EncodeRecord(const Record& record, Eigen::RowVectorXd* row) const;
  // Task features of an args_json text: log2(max(1, |v|)) of its integers in order, truncated
  // or padded with the target's values to the target's count.
  Eigen::RowVectorXd TaskFeatures(const std::string& args_json) const;
  const Eigen::RowVectorXd& target_task_features() const { return target_task_; }

 private:
  struct Column {
    int knob = 0;  // index into the target's knobs
    int part = 0;  // split factor / reorder axis / one-hot label index
    int kind = 0;  // 0 log2 value, 1 raw value, 2 one-hot label, 3 reorder position
  };
  bool EncodeValues(const std::vector<KnobValue>& values, double* out, int* matched) const;

  std::vector<Knob> knobs_;
  std::vector<Column> columns_;
  std::vector<std::string> names_;
  Eigen::RowVectorXd impute_;       // per config column
  Eigen::RowVectorXd target_task_;  // task columns of the target
};

// One source workload's usable data in the encoder's layout; y = log(cost seconds).
struct TransferSource {
  uint64_t workload_key = 0;
  std::string name;  // task name and target
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  double distance = 0;  // task-feature distance to the target
};

std::vector<TransferSource> SelectSources(const TransferEncoder& encoder,
                                          const std::vector<Record>& records, uint64_t target_key,
                                          const TransferOptions& options);

// What runs on one target share. Build once (BuildTransferPrior), pass to every tuner through
// TunerOptions::transfer_prior.
struct TransferPrior {
  TunerKind kind;
  TransferEncoder encoder;
  std::vector<TransferSource> sources;
  // A sample of the sources' records, failed ones included (encoded; 1 ok, 0 failed): what the
  // feasibility model of both transfer tuners starts from. At most feasibility_source_samples
  // of each label.
  Eigen::MatrixXd feasibility_x;
  Eigen::VectorXd feasibility_y;
  DeepKernelGp dkgp;                        // transfer-bo: pretrained
  std::vector<GaussianProcess> source_gps;  // rgpe: one per source, on standardized y
  double build_seconds = 0;
};

// Selects the sources and learns from them for `kind` (kTransferBayesOpt or kRgpe). Fails with
// FailedPrecondition when no record of another workload is usable.
StatusOr<std::unique_ptr<TransferPrior>> BuildTransferPrior(const Task& target,
                                                            const std::vector<Record>& records,
                                                            TunerKind kind,
                                                            const TransferOptions& options,
                                                            uint64_t seed);

}  // namespace sonar
