// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/tuner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tests/testing/fakes.h"
#include "tuner/internal.h"

namespace sonar {
namespace {

using testing::SyntheticCost;
using testing::SyntheticTask;

// Every tuner kind. The transfer tuners (transfer-bo, rgpe) get the transfer fixture of
// testing/fakes.h (TestOptions); none may be skipped: a kind this list lacks, or that cannot be
// built, fails EveryKindIsListedAndBuilds.
const std::vector<TunerKind>& AllKinds() {
  static const std::vector<TunerKind> kinds = {TunerKind::kRandom,   TunerKind::kGrid,
                                               TunerKind::kGenetic,  TunerKind::kAutoTvm,
                                               TunerKind::kBayesOpt, TunerKind::kTransferBayesOpt,
                                               TunerKind::kRgpe};
  return kinds;
}

bool IsTransferKind(TunerKind kind) {
  return kind == TunerKind::kTransferBayesOpt || kind == TunerKind::kRgpe;
}

// Two small source workloads (40 records each) for the transfer tuners.
const std::vector<Record>& TransferFixture() {
  static const std::vector<Record> records = [] {
    std::vector<Record> all;
    for (int i = 0; i < 2; ++i) {
      std::vector<Record> r = testing::SourceRecords(i, 40, 300 + static_cast<uint64_t>(i));
      all.insert(all.end(), r.begin(), r.end());
    }
    return all;
  }();
  return records;
}

// Options for `kind` that keep these property tests fast: the model-based tuners get cheap
// model fits (the properties under test do not depend on model quality), the transfer tuners
// the fixture's records and a short pretraining.
TunerOptions TestOptions(TunerKind kind) {
  TunerOptions o;
  o.kind = kind;
  o.bo.gp.restarts = 1;
  o.bo.gp.max_iterations = 30;
  o.bo.feasibility.gp.restarts = 1;
  o.bo.feasibility.gp.max_iterations = 30;
  o.bo.refit_all_below = 12;
  o.bo.refit_every = 200;
  o.bo.max_predict_work = 2e6;
  if (IsTransferKind(kind)) {
    o.transfer_records = TransferFixture();
    o.transfer.dkgp.pretrain_iterations = 40;
    o.transfer.dkgp.adapt_iterations = 10;
    o.transfer.rgpe_source_samples = 40;
    o.transfer.rgpe_loss_samples = 32;
    o.transfer.feasibility_source_samples = 16;
  }
  return o;
}

// Every kind, each checked to build for `task` with TestOptions.
std::vector<TunerKind> EveryKind(const Task& task) {
  for (TunerKind k : AllKinds()) {
    EXPECT_TRUE(MakeTuner(task, TestOptions(k)).ok()) << TunerKindToString(k);
  }
  return AllKinds();
}

// Trials a property test drives `kind` for: fewer for the GP-based tuners, whose proposals
// cost most.
int Trials(TunerKind kind, int trials) {
  return kind == TunerKind::kBayesOpt || IsTransferKind(kind) ? std::min(trials, 150) : trials;
}

// Runs propose/observe for `trials` trials against SyntheticCost, returning the proposals.
std::vector<Config> Drive(const Task& task, TunerOptions options, int trials, int batch = 8) {
  std::unique_ptr<Tuner> tuner = MakeTuner(task, options).value();
  std::vector<Config> proposed;
  while (static_cast<int>(proposed.size()) < trials) {
    std::vector<Config> b =
        tuner->Propose(std::min(batch, trials - static_cast<int>(proposed.size())));
    if (b.empty()) break;
    std::vector<Observation> obs;
    for (const Config& c : b) obs.push_back({c, SyntheticCost(c)});
    tuner->Observe(obs);
    proposed.insert(proposed.end(), b.begin(), b.end());
  }
  return proposed;
}

TEST(TunerOptions, DefaultsAreValid) { EXPECT_TRUE(TunerOptions{}.Validate().ok()); }

TEST(TunerOptions, BadValuesAreRejected) {
  TunerOptions o;
  o.genetic.mutation_prob = 1.5;
  EXPECT_FALSE(o.Validate().ok());
  EXPECT_FALSE(MakeTuner(SyntheticTask(), o).ok());
}

TEST(TunerKind, EveryKindIsListedAndBuilds) {
  // AllKinds() holds each enumerator once (kRgpe is the last), and each builds.
  ASSERT_EQ(AllKinds().size(), static_cast<size_t>(TunerKind::kRgpe) + 1);
  for (size_t i = 0; i < AllKinds().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(AllKinds()[i]), i);
    EXPECT_TRUE(MakeTuner(SyntheticTask(), TestOptions(AllKinds()[i])).ok())
        << TunerKindToString(AllKinds()[i]);
  }
  // Without transfer records the transfer tuners refuse to build, with a clear error.
  for (TunerKind k : {TunerKind::kTransferBayesOpt, TunerKind::kRgpe}) {
    TunerOptions o;
    o.kind = k;
    EXPECT_FALSE(MakeTuner(SyntheticTask(), o).ok()) << TunerKindToString(k);
  }
}

TEST(TunerKind, NamesRoundTrip) {
  for (TunerKind k : AllKinds()) {
    TunerKind back;
    ASSERT_TRUE(StringToTunerKind(TunerKindToString(k), &back));
    EXPECT_EQ(back, k);
  }
  TunerKind k;
  EXPECT_FALSE(StringToTunerKind("annealing", &k));
}

TEST(Tuner, SameSeedGivesSameProposalsForEveryKind) {
  const Task task = SyntheticTask();
  const std::vector<TunerKind> kinds = EveryKind(task);
  ASSERT_GE(kinds.size(), 3u);
  for (TunerKind kind : kinds) {
    TunerOptions o = TestOptions(kind);
    o.seed = 42;
    const int n = Trials(kind, 300);
    const std::vector<Config> a = Drive(task, o, n);
    const std::vector<Config> b = Drive(task, o, n);
    EXPECT_EQ(a, b) << TunerKindToString(kind);
    EXPECT_EQ(a.size(), static_cast<size_t>(n)) << TunerKindToString(kind);
    if (kind != TunerKind::kGrid) {
      o.seed = 43;
      EXPECT_NE(Drive(task, o, n), a) << TunerKindToString(kind) << " ignores its seed";
    }
  }
}

TEST(Tuner, NeverProposesAConfigTwiceNorAnInvalidOne) {
  const Task task = SyntheticTask();
  for (TunerKind kind : EveryKind(task)) {
    TunerOptions o = TestOptions(kind);
    o.seed = 5;
    const std::vector<Config> all = Drive(task, o, Trials(kind, 1500), 16);
    std::set<std::vector<int32_t>> seen;
    for (const Config& c : all) {
      EXPECT_TRUE(seen.insert(c.choice).second) << TunerKindToString(kind) << " repeated a config";
      EXPECT_TRUE(task.space.Satisfies(c)) << TunerKindToString(kind);
    }
  }
}

TEST(Tuner, ExhaustsASmallSpaceExactlyOnce) {
  // 4 x 4 x 3 = 48 configs, of which the constraint removes a == 3 && b == 3 (3 configs).
  std::vector<Knob> knobs = {IntKnob("a", 0, 3), IntKnob("b", 0, 3), IntKnob("c", 0, 2)};
  Task task;
  task.op = "tiny";
  task.space = ConfigSpace::Make(knobs, {{"not_33",
                                          [](const ConfigSpace&, const Config& c) {
                                            return !(c.choice[0] == 3 && c.choice[1] == 3);
                                          }}})
                   .value();
  for (TunerKind kind : EveryKind(task)) {
    TunerOptions o = TestOptions(kind);
    std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
    std::set<std::vector<int32_t>> seen;
    for (int round = 0; round < 100; ++round) {
      std::vector<Config> b = tuner->Propose(7);
      if (b.empty()) break;
      std::vector<Observation> obs;
      for (const Config& c : b) {
        EXPECT_TRUE(seen.insert(c.choice).second);
        MeasureResult r;
        r.status = MeasureStatus::kOk;
        r.run_seconds = {1.0 + c.choice[0]};
        obs.push_back({c, r});
      }
      tuner->Observe(obs);
    }
    EXPECT_EQ(seen.size(), 45u) << TunerKindToString(kind);
    EXPECT_TRUE(tuner->Propose(3).empty()) << TunerKindToString(kind);
  }
}

TEST(Tuner, ObservedConfigsAreNeverProposed) {
  const Task task = SyntheticTask();
  for (TunerKind kind : EveryKind(task)) {
    TunerOptions o = TestOptions(kind);
    std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
    // Replay (as on resume) the first 500 configs of the grid.
    std::vector<Observation> history;
    std::set<std::vector<int32_t>> replayed;
    for (uint64_t i = 0; i < 500; ++i) {
      Config c = task.space.At(i);
      if (!task.space.Satisfies(c)) continue;
      history.push_back({c, SyntheticCost(c)});
      replayed.insert(c.choice);
    }
    tuner->Observe(history);
    for (int round = 0; round < 40; ++round) {
      for (const Config& c : tuner->Propose(8)) {
        EXPECT_FALSE(replayed.count(c.choice)) << TunerKindToString(kind);
      }
    }
  }
}

// P(first good config after more than t draws) without replacement, N configs, K good.
double SurvivalWithoutReplacement(int n, int k, int t) {
  double p = 1;
  for (int i = 0; i < t; ++i) p *= static_cast<double>(n - k - i) / (n - i);
  return p;
}

TEST(RandomTuner, TrialsToFirstGoodConfigMatchTheExactFormula) {
  // A product space of 1000 configs (no listed knob); the 100 with c == 0 are "good".
  std::vector<Knob> knobs = {IntKnob("a", 0, 9), IntKnob("b", 0, 9), IntKnob("c", 0, 9)};
  Task task;
  task.op = "table";
  task.space = ConfigSpace::Make(knobs).value();
  const int n = 1000, k = 100;  // c == 0 holds for 100 configs
  std::vector<int> firsts;
  for (uint64_t seed = 0; seed < 600; ++seed) {
    TunerOptions o;
    o.seed = seed;
    std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
    for (int t = 1;; ++t) {
      std::vector<Config> b = tuner->Propose(1);
      ASSERT_EQ(b.size(), 1u);
      if (b[0].choice[2] == 0) {
        firsts.push_back(t);
        break;
      }
    }
  }
  std::sort(firsts.begin(), firsts.end());
  const double sample_median = firsts[firsts.size() / 2];
  int exact_median = 1;
  while (SurvivalWithoutReplacement(n, k, exact_median) > 0.5) ++exact_median;
  double mean = 0;
  for (int f : firsts) mean += f;
  mean /= firsts.size();
  const double exact_mean = (n + 1.0) / (k + 1.0);
  EXPECT_NEAR(sample_median, exact_median, 2.0);
  EXPECT_NEAR(mean, exact_mean, 1.5);
  // The whole distribution: the empirical survival at the quartiles of the exact one.
  for (int t : {3, 7, 14}) {
    const double empirical = static_cast<double>(std::count_if(firsts.begin(), firsts.end(),
                                                               [&](int f) { return f > t; })) /
                             firsts.size();
    EXPECT_NEAR(empirical, SurvivalWithoutReplacement(n, k, t), 0.06) << "t=" << t;
  }
}

TEST(GridTuner, ProposesInIndexOrder) {
  const Task task = SyntheticTask();
  TunerOptions o;
  o.kind = TunerKind::kGrid;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
  std::vector<Config> b = tuner->Propose(20);
  int64_t last = -1;
  for (const Config& c : b) {
    const int64_t i = task.space.IndexOf(c);
    EXPECT_GT(i, last);
    last = i;
  }
  EXPECT_EQ(task.space.IndexOf(b[0]), 0);
}

TEST(GeneticTuner, BeatsItsFirstGenerationOnASmoothTable) {
  const Task task = SyntheticTask();
  int better = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    TunerOptions o;
    o.kind = TunerKind::kGenetic;
    o.seed = seed;
    const std::vector<Config> all = Drive(task, o, 600, 20);
    auto best_of = [&](size_t from, size_t to) {
      double best = INFINITY;
      for (size_t i = from; i < to; ++i) {
        const MeasureResult r = SyntheticCost(all[i]);
        if (r.ok()) best = std::min(best, r.median_seconds());
      }
      return best;
    };
    if (best_of(300, 600) < best_of(0, 100)) ++better;
  }
  EXPECT_GE(better, 9);
}

}  // namespace
}  // namespace sonar
