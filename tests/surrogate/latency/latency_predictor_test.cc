// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of LatencyPredictor on a synthetic table: options, adaptation quality, determinism,
// the save/load round trip and malformed model files.
#include "surrogate/latency/latency_predictor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "surrogate/latency/latency_eval.h"
#include "tests/surrogate/latency/latency_testing.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::ReadFile;
using testing::ScratchDir;
using testing::SmallPredictorOptions;
using testing::SyntheticLatencyTable;
using testing::SyntheticReferences;
using testing::WriteFile;

// Sources: devices 0..4; target: device 5 with samples rows 10..(10+k).
struct Fixture {
  LatencyTable table = SyntheticLatencyTable(300, 6, 3);
  std::vector<int> sources = {0, 1, 2, 3, 4};
  int target = 5;
  LatencyTrainingSet Training() const {
    return MakeLatencyTrainingSet(table, sources, SyntheticReferences());
  }
  HardwareDescriptor TargetDescriptor() const {
    return table.Descriptor(target, SyntheticReferences());
  }
  void Samples(int k, Eigen::MatrixXd* x, Eigen::VectorXd* ms) const {
    *x = table.encodings.middleRows(10, k);
    *ms = table.latency_ms.col(target).segment(10, k);
  }
};

TEST(LatencyPredictorOptions, DefaultsAreValid) {
  EXPECT_TRUE(LatencyPredictorOptions{}.Validate().ok());
  LatencyPredictorOptions o;
  o.feature_size = 0;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  o = LatencyPredictorOptions{};
  o.head_prior_jitter_grid = {};
  EXPECT_FALSE(o.Validate().ok());
  o = LatencyPredictorOptions{};
  o.ensemble_size = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(LatencyAdaptation, NamesRoundTrip) {
  for (LatencyAdaptation a :
       {LatencyAdaptation::kMapHead, LatencyAdaptation::kMapleMix, LatencyAdaptation::kCalibrate,
        LatencyAdaptation::kAffineSource, LatencyAdaptation::kSourceMix, LatencyAdaptation::kAuto,
        LatencyAdaptation::kAutoSelect}) {
    LatencyAdaptation back = LatencyAdaptation::kCalibrate;
    ASSERT_TRUE(StringToLatencyAdaptation(LatencyAdaptationToString(a), &back));
    EXPECT_EQ(back, a);
  }
}

TEST(LatencyPredictor, TrainRejectsBadShapes) {
  Fixture f;
  LatencyTrainingSet set = f.Training();
  set.latency_ms.conservativeResize(set.latency_ms.rows(), 3);
  LatencyPredictor p(SmallPredictorOptions());
  EXPECT_EQ(p.Train(set).code(), StatusCode::kInvalidArgument);
  set = f.Training();
  set.devices.resize(1);
  set.latency_ms.conservativeResize(set.latency_ms.rows(), 1);
  EXPECT_EQ(p.Train(set).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(p.trained());
}

TEST(LatencyPredictor, AdaptsToAnUnseenDeviceFromTenSamples) {
  Fixture f;
  LatencyPredictor p(SmallPredictorOptions());
  ASSERT_TRUE(p.Train(f.Training()).ok());
  EXPECT_EQ(p.num_sources(), 5);
  Eigen::MatrixXd x;
  Eigen::VectorXd ms;
  f.Samples(10, &x, &ms);
  const Eigen::VectorXd truth = f.table.latency_ms.col(f.target).tail(200);
  for (LatencyAdaptation a :
       {LatencyAdaptation::kAuto, LatencyAdaptation::kMapHead, LatencyAdaptation::kMapleMix,
        LatencyAdaptation::kCalibrate, LatencyAdaptation::kAutoSelect,
        LatencyAdaptation::kAffineSource, LatencyAdaptation::kSourceMix}) {
    ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, a).ok());
    EXPECT_TRUE(p.adapted());
    EXPECT_EQ(p.adapted_device(), "dev5");
    const Eigen::VectorXd pred = p.PredictMs(f.table.encodings.bottomRows(200));
    const LatencyMetrics m = ComputeLatencyMetrics(pred, truth);
    // auto (the default) and map_head are what we ship; the others are baselines/candidates.
    const bool shipped = a == LatencyAdaptation::kMapHead || a == LatencyAdaptation::kAuto;
    EXPECT_GT(m.spearman, shipped ? 0.8 : 0.5) << LatencyAdaptationToString(a);
    if (shipped) EXPECT_GT(m.within_10pct, 0.5) << LatencyAdaptationToString(a);
  }
}

TEST(LatencyPredictor, AutoWeighsCandidatesByCrossValidationOnTheTargetsOwnObservations) {
  // Target dev5 replaced by a device whose latency in ms is the sum of two sources'; auto sees
  // its 10 reference latencies and 5 samples only.
  Fixture f;
  f.table.latency_ms.col(5) = 0.5 * f.table.latency_ms.col(1) + 2.0 * f.table.latency_ms.col(3);
  LatencyPredictor p(SmallPredictorOptions());
  ASSERT_TRUE(p.Train(f.Training()).ok());
  Eigen::MatrixXd x;
  Eigen::VectorXd ms;
  f.Samples(5, &x, &ms);
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kAuto).ok());
  const std::vector<LatencyPredictor::AutoCandidate> cands = p.auto_candidates();
  ASSERT_EQ(cands.size(), 3u);
  EXPECT_EQ(cands[0].name, "map_head");
  EXPECT_EQ(cands[1].name, "affine_source");
  EXPECT_EQ(cands[2].name, "source_mix");
  double sum = 0;
  for (const auto& c : cands) {
    EXPECT_TRUE(std::isfinite(c.loo_rmse) && c.loo_rmse >= 0) << c.name;
    EXPECT_GE(c.weight, 0) << c.name;
    sum += c.weight;
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  // Stacking spreads the weight over more than one candidate here.
  int used = 0;
  for (const auto& c : cands) used += c.weight > 0 ? 1 : 0;
  EXPECT_GE(used, 2);
  const Eigen::VectorXd first = p.PredictLogMs(f.table.encodings);

  // Deterministic: the same inputs give the same weights and predictions.
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kMapHead).ok());
  EXPECT_TRUE(p.auto_candidates().empty());
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kAuto).ok());
  EXPECT_EQ(p.PredictLogMs(f.table.encodings), first);
  for (size_t c = 0; c < 3; ++c) EXPECT_EQ(p.auto_candidates()[c].weight, cands[c].weight);

  // Uses only the samples and the descriptor: a descriptor built from a table whose other
  // target latencies are poisoned gives the same result.
  Fixture poisoned = f;
  for (int i = 10 + 5; i < poisoned.table.num_archs(); ++i) poisoned.table.latency_ms(i, 5) = -1;
  ASSERT_TRUE(p.Adapt(poisoned.TargetDescriptor(), x, ms, LatencyAdaptation::kAuto).ok());
  EXPECT_EQ(p.PredictLogMs(f.table.encodings), first);

  // auto_select puts all the weight on the candidate with the least CV error.
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kAutoSelect).ok());
  const auto& sel = p.auto_candidates();
  size_t best = 0;
  for (size_t c = 1; c < sel.size(); ++c) {
    if (sel[c].loo_rmse < sel[best].loo_rmse) best = c;
  }
  for (size_t c = 0; c < sel.size(); ++c) EXPECT_EQ(sel[c].weight, c == best ? 1.0 : 0.0);

  // On this device the CV-weighted combination is at least as accurate as map_head alone.
  const Eigen::VectorXd truth = f.table.latency_ms.col(5).tail(200);
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kAuto).ok());
  const LatencyMetrics a =
      ComputeLatencyMetrics(p.PredictMs(f.table.encodings.bottomRows(200)), truth);
  ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kMapHead).ok());
  const LatencyMetrics h =
      ComputeLatencyMetrics(p.PredictMs(f.table.encodings.bottomRows(200)), truth);
  EXPECT_GE(a.within_10pct, h.within_10pct);
}

TEST(LatencyPredictor, AdaptRejectsNonPositiveLatencies) {
  Fixture f;
  LatencyPredictor p(SmallPredictorOptions());
  ASSERT_TRUE(p.Train(f.Training()).ok());
  Eigen::MatrixXd x;
  Eigen::VectorXd ms;
  f.Samples(3, &x, &ms);
  ms(1) = -1;
  EXPECT_EQ(p.Adapt(f.TargetDescriptor(), x, ms).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.Adapt(f.TargetDescriptor(), x.topRows(2), ms).code(), StatusCode::kInvalidArgument);
}

TEST(LatencyPredictor, SameSeedGivesTheSameModelAndPredictions) {
  Fixture f;
  Eigen::MatrixXd x;
  Eigen::VectorXd ms;
  f.Samples(5, &x, &ms);
  Eigen::VectorXd first[2];
  for (int run = 0; run < 2; ++run) {
    LatencyPredictor p(SmallPredictorOptions(/*seed=*/7));
    ASSERT_TRUE(p.Train(f.Training()).ok());
    ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kMapleMix).ok());
    first[run] = p.PredictLogMs(f.table.encodings);
    ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kMapHead).ok());
    first[run] = first[run] + 3 * p.PredictLogMs(f.table.encodings);
  }
  EXPECT_EQ(first[0], first[1]);
  LatencyPredictor other(SmallPredictorOptions(/*seed=*/8));
  ASSERT_TRUE(other.Train(f.Training()).ok());
  ASSERT_TRUE(other.Adapt(f.TargetDescriptor(), x, ms, LatencyAdaptation::kMapHead).ok());
  EXPECT_NE(other.PredictLogMs(f.table.encodings), first[0]);
}

TEST(LatencyPredictor, SaveLoadRoundTripKeepsPredictions) {
  Fixture f;
  ScratchDir dir;
  LatencyPredictor p(SmallPredictorOptions());
  ASSERT_TRUE(p.Train(f.Training()).ok());
  // Trained but not adapted: zero-shot and source predictions survive.
  ASSERT_TRUE(p.Save(dir.File("m.json")).ok());
  StatusOr<LatencyPredictor> q = LatencyPredictor::Load(dir.File("m.json"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_FALSE(q->adapted());
  EXPECT_EQ(q->source_names(), p.source_names());
  EXPECT_EQ(q->PredictLogMs(f.table.encodings, f.TargetDescriptor()),
            p.PredictLogMs(f.table.encodings, f.TargetDescriptor()));
  EXPECT_EQ(q->PredictSourceLogMs(f.table.encodings, 2),
            p.PredictSourceLogMs(f.table.encodings, 2));
  // Adapted models re-adapt on load to the same predictions.
  Eigen::MatrixXd x;
  Eigen::VectorXd ms;
  f.Samples(5, &x, &ms);
  for (LatencyAdaptation a : {LatencyAdaptation::kMapHead, LatencyAdaptation::kMapleMix,
                              LatencyAdaptation::kCalibrate, LatencyAdaptation::kAuto}) {
    ASSERT_TRUE(p.Adapt(f.TargetDescriptor(), x, ms, a).ok());
    ASSERT_TRUE(p.Save(dir.File("a.json")).ok());
    StatusOr<LatencyPredictor> r = LatencyPredictor::Load(dir.File("a.json"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->adapted());
    EXPECT_EQ(r->adapted_method(), a);
    EXPECT_EQ(r->adapted_device(), "dev5");
    EXPECT_EQ(r->PredictMs(f.table.encodings), p.PredictMs(f.table.encodings))
        << LatencyAdaptationToString(a);
  }
}

TEST(LatencyPredictor, LoadRejectsMalformedFilesWithAClearError) {
  Fixture f;
  ScratchDir dir;
  EXPECT_EQ(LatencyPredictor::Load(dir.File("absent.json")).status().code(), StatusCode::kNotFound);
  WriteFile(dir.File("garbage.json"), "not json at all");
  StatusOr<LatencyPredictor> g = LatencyPredictor::Load(dir.File("garbage.json"));
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(g.status().message().find("not a latency model"), std::string::npos);
  WriteFile(dir.File("other.json"), "{\"format\": \"something-else\"}");
  EXPECT_EQ(LatencyPredictor::Load(dir.File("other.json")).status().code(), StatusCode::kDataLoss);

  LatencyPredictor p(SmallPredictorOptions());
  ASSERT_TRUE(p.Train(f.Training()).ok());
  ASSERT_TRUE(p.Save(dir.File("m.json")).ok());
  const std::string good = ReadFile(dir.File("m.json"));
  WriteFile(dir.File("truncated.json"), good.substr(0, good.size() / 2));
  EXPECT_EQ(LatencyPredictor::Load(dir.File("truncated.json")).status().code(),
            StatusCode::kDataLoss);
  std::string future = good;
  future.replace(future.find("\"version\":1"), 11, "\"version\":99");
  EXPECT_EQ(LatencyPredictor::Load(dir.File("m.json")).status().code(), StatusCode::kOk);
  WriteFile(dir.File("future.json"), future);
  EXPECT_EQ(LatencyPredictor::Load(dir.File("future.json")).status().code(),
            StatusCode::kInvalidArgument);
  std::string wrong = good;
  wrong.replace(wrong.find("\"encoding_size\":30"), 18, "\"encoding_size\":31");
  WriteFile(dir.File("wrong.json"), wrong);
  StatusOr<LatencyPredictor> w = LatencyPredictor::Load(dir.File("wrong.json"));
  EXPECT_EQ(w.status().code(), StatusCode::kDataLoss) << w.status().ToString();
}

}  // namespace
}  // namespace sonar
