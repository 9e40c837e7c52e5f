// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of the transfer tuners (tuner/transfer.h): the encoder matches other workloads' records
// by knob name (inner split factors, task features from the arguments, imputation), sources are
// ranked by task distance, transfer-bo and rgpe need sources, give the same proposals for the
// same seed, and transfer-bo reaches the optimum of a synthetic target in fewer trials than BO
// when the sources are related (counts, not timings).
#include "tuner/transfer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "measure/operators.h"
#include "tests/testing/fakes.h"
#include "tuner/tuner.h"

namespace sonar {
namespace {

using testing::Bowl;
using testing::SourceRecords;
using testing::SourceTask;
using testing::SyntheticTask;

std::vector<Record> AllSources() {
  std::vector<Record> all;
  for (int i = 0; i < 3; ++i) {
    std::vector<Record> r = SourceRecords(i, 250, 100 + static_cast<uint64_t>(i));
    all.insert(all.end(), r.begin(), r.end());
  }
  return all;
}

TransferOptions FastTransfer() {
  TransferOptions t;
  t.dkgp.pretrain_iterations = 120;
  t.dkgp.max_samples_per_task = 128;
  t.dkgp.adapt_iterations = 30;
  return t;
}

int TrialsToReach(const Task& task, const TunerOptions& options, double goal, int budget,
                  std::vector<Config>* proposals = nullptr) {
  std::unique_ptr<Tuner> tuner = MakeTuner(task, options).value();
  for (int trials = 0; trials < budget;) {
    std::vector<Config> batch = tuner->Propose(1);
    if (batch.empty()) break;
    ++trials;
    if (proposals) proposals->push_back(batch[0]);
    const MeasureResult r = Bowl(batch[0], 0, 0);
    if (r.cost_seconds() <= goal) return trials;
    tuner->Observe({{batch[0], r}});
  }
  return budget + 1;
}

TEST(TransferEncoder, MatchesSplitInnerFactorsAndTaskArguments) {
  const Task target = MakeOperatorTask("dense", {64, 64, 64}).value();
  const Task source = MakeOperatorTask("dense", {128, 64, 256}).value();
  const TransferEncoder e = TransferEncoder::Make(target, 1).value();
  ASSERT_EQ(e.dim(), static_cast<int>(e.names().size()));
  Rng rng = MakeRng(3);
  const Config c = source.space.Sample(rng).value();
  Record r;
  r.task.args_json = source.ArgsJson();
  r.config.values = source.space.ToValues(c);
  Eigen::RowVectorXd row;
  ASSERT_TRUE(e.EncodeRecord(r, &row));
  // Every inner split factor of the record appears as log2 in the column named after it.
  for (const KnobValue& v : r.config.values) {
    if (v.kind != KnobKind::kSplit) continue;
    for (size_t p = 1; p < v.ints.size(); ++p) {
      const std::string name = v.name + ".f" + std::to_string(p) + ".log2";
      const auto it = std::find(e.names().begin(), e.names().end(), name);
      ASSERT_NE(it, e.names().end()) << name;
      EXPECT_DOUBLE_EQ(row(it - e.names().begin()), std::log2(static_cast<double>(v.ints[p])))
          << name;
    }
  }
  // Task features: log2 of the source's arguments, not the target's.
  EXPECT_DOUBLE_EQ(row(e.dim() - 3), 7.0);
  EXPECT_DOUBLE_EQ(row(e.dim() - 1), 8.0);
  EXPECT_DOUBLE_EQ(e.target_task_features()(0), 6.0);
  // A record with no knob of the target is not usable; one missing a knob is imputed.
  Record none = r;
  for (KnobValue& v : none.config.values) v.name = "other_" + v.name;
  EXPECT_FALSE(e.EncodeRecord(none, &row));
  Record partial = r;
  partial.config.values.resize(1);
  EXPECT_TRUE(e.EncodeRecord(partial, &row));
  EXPECT_TRUE(row.allFinite());
  // Configs of the target encode to the same layout.
  const Eigen::MatrixXd x = e.EncodeConfigs({target.space.Sample(rng).value()});
  EXPECT_EQ(x.cols(), e.dim());
  EXPECT_TRUE(x.allFinite());
}

TEST(TransferSources, RankedByTaskDistanceWithoutTheTarget) {
  const Task target = SyntheticTask("target");
  const TransferEncoder e = TransferEncoder::Make(target, 1).value();
  std::vector<Record> records = AllSources();
  // Records of the target's own workload are never sources.
  Record own = records[0];
  own.workload_key = target.WorkloadKey();
  records.push_back(own);
  TransferOptions o;
  o.max_sources = 2;
  const std::vector<TransferSource> s = SelectSources(e, records, target.WorkloadKey(), o);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].workload_key, SourceTask(0).WorkloadKey());  // shape {16,16,16}: distance 0
  EXPECT_EQ(s[1].workload_key, SourceTask(1).WorkloadKey());
  EXPECT_LT(s[0].distance, s[1].distance);
  EXPECT_EQ(s[0].y.size(), 250);
}

TEST(TransferTuners, NeedSources) {
  TunerOptions o;
  o.kind = TunerKind::kTransferBayesOpt;
  EXPECT_EQ(MakeTuner(SyntheticTask(), o).status().code(), StatusCode::kInvalidArgument);
  o.kind = TunerKind::kRgpe;
  EXPECT_EQ(MakeTuner(SyntheticTask(), o).status().code(), StatusCode::kInvalidArgument);
  // Records of other workloads that share no knob name: nothing to learn from.
  std::vector<Record> unrelated = SourceRecords(0, 30, 5);
  for (Record& r : unrelated) {
    for (KnobValue& v : r.config.values) v.name += "_x";
  }
  o.transfer_records = unrelated;
  EXPECT_EQ(MakeTuner(SyntheticTask(), o).status().code(), StatusCode::kFailedPrecondition);
}

TEST(TransferTuners, SameSeedSameProposals) {
  const Task target = SyntheticTask("target");
  const std::vector<Record> sources = AllSources();
  for (TunerKind kind : {TunerKind::kTransferBayesOpt, TunerKind::kRgpe}) {
    auto run = [&](uint64_t seed) {
      TunerOptions o;
      o.kind = kind;
      o.seed = seed;
      o.transfer = FastTransfer();
      o.transfer_records = sources;
      std::vector<Config> proposals;
      TrialsToReach(target, o, 0.0, 12, &proposals);
      return proposals;
    };
    const std::vector<Config> a = run(4), b = run(4);
    ASSERT_EQ(a.size(), 12u);
    EXPECT_EQ(a, b) << TunerKindToString(kind);
    std::set<std::vector<int32_t>> distinct;
    for (const Config& c : a) distinct.insert(c.choice);
    EXPECT_EQ(distinct.size(), a.size()) << TunerKindToString(kind) << " repeated a config";
  }
}

TEST(TransferTuners, RelatedSourcesBeatBoWithoutTransfer) {
  const Task target = SyntheticTask("target");
  const double best = Bowl(Config{{11, 3, 7, 1}}, 0, 0).cost_seconds();
  TunerOptions base;
  base.transfer = FastTransfer();
  base.transfer_records = AllSources();
  std::vector<int> bo, transfer, rgpe;
  for (TunerKind kind : {TunerKind::kTransferBayesOpt, TunerKind::kRgpe}) {
    TunerOptions o = base;
    o.kind = kind;
    const std::unique_ptr<TransferPrior> prior =
        BuildTransferPrior(target, base.transfer_records, kind, base.transfer, 0).value();
    o.transfer_prior = prior.get();
    EXPECT_EQ(prior->sources.size(), 3u);
    for (uint64_t seed = 0; seed < 3; ++seed) {
      o.seed = seed;
      (kind == TunerKind::kRgpe ? rgpe : transfer)
          .push_back(TrialsToReach(target, o, best * 1.0001, 80));
    }
  }
  for (uint64_t seed = 0; seed < 3; ++seed) {
    TunerOptions o;
    o.kind = TunerKind::kBayesOpt;
    o.seed = seed;
    bo.push_back(TrialsToReach(target, o, best * 1.0001, 80));
  }
  std::sort(bo.begin(), bo.end());
  std::sort(transfer.begin(), transfer.end());
  std::sort(rgpe.begin(), rgpe.end());
  std::printf("trials to the optimum (median of 3): bo %d, transfer-bo %d, rgpe %d\n", bo[1],
              transfer[1], rgpe[1]);
  EXPECT_LT(transfer[1], bo[1]);
  EXPECT_LT(rgpe[1], bo[1]);
}

TEST(TransferTuners, MisleadingSourcesCostLittle) {
  // Sources whose optimum is at the far corner of the target's: the ranking weights (transfer-bo's
  // mixture with BO's own GP, rgpe's ensemble) must keep the search close to BO's without transfer.
  const Task target = SyntheticTask("target");
  const double best = Bowl(Config{{11, 3, 7, 1}}, 0, 0).cost_seconds();
  std::vector<Record> misleading;
  for (int i = 0; i < 3; ++i) {
    for (Record r : SourceRecords(i, 250, 200 + static_cast<uint64_t>(i))) {
      StatusOr<Config> c = SourceTask(i).space.FromValues(r.config.values);
      r.result = Bowl(c.value(), -10, 12);  // optimum at a = 1, b = 15
      misleading.push_back(std::move(r));
    }
  }
  std::vector<int> bo, transfer, rgpe;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    TunerOptions o;
    o.seed = seed;
    o.kind = TunerKind::kBayesOpt;
    bo.push_back(TrialsToReach(target, o, best * 1.0001, 120));
    o.transfer = FastTransfer();
    o.transfer_records = misleading;
    o.kind = TunerKind::kTransferBayesOpt;
    transfer.push_back(TrialsToReach(target, o, best * 1.0001, 120));
    o.kind = TunerKind::kRgpe;
    rgpe.push_back(TrialsToReach(target, o, best * 1.0001, 120));
  }
  std::sort(bo.begin(), bo.end());
  std::sort(transfer.begin(), transfer.end());
  std::sort(rgpe.begin(), rgpe.end());
  std::printf(
      "misleading sources, trials to the optimum (median of 3): bo %d, transfer-bo %d, rgpe %d\n",
      bo[1], transfer[1], rgpe[1]);
  EXPECT_LE(transfer[1], 2 * bo[1]);
  EXPECT_LE(rgpe[1], 2 * bo[1]);
  EXPECT_LE(transfer[1], 120);  // found at all
}

}  // namespace
}  // namespace sonar
