// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/knob.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace sonar {
namespace {

using Candidates = std::vector<std::vector<int64_t>>;

// Expects `knob` to fail validation with a message containing `part`.
void ExpectInvalid(const Knob& knob, const std::string& part) {
  Status s = knob.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

TEST(SplitKnob, FactorsPolicyFollowsAutoTvmOrder) {
  // AutoTVM SplitSpace(product=8, num_outputs=3, policy="factors") yields, in order:
  // [-1,1,1] [-1,2,1] [-1,4,1] [-1,8,1] [-1,1,2] [-1,2,2] [-1,4,2] [-1,1,4] [-1,2,4] [-1,1,8]
  // (the DFS's first stack slot is the innermost factor and varies slowest).
  Knob knob = SplitKnob("tile", 8, 3);
  ASSERT_TRUE(knob.Validate().ok()) << knob.Validate().ToString();
  const Candidates expected = {{8, 1, 1}, {4, 2, 1}, {2, 4, 1}, {1, 8, 1}, {4, 1, 2},
                               {2, 2, 2}, {1, 4, 2}, {2, 1, 4}, {1, 2, 4}, {1, 1, 8}};
  EXPECT_EQ(knob.candidates, expected);
  EXPECT_EQ(knob.kind, KnobKind::kSplit);
  EXPECT_EQ(knob.extent, 8);
  EXPECT_TRUE(knob.is_ordered());
}

TEST(SplitKnob, TwoPartsListsDivisorsAscending) {
  Knob knob = SplitKnob("x", 12, 2);
  const Candidates expected = {{12, 1}, {6, 2}, {4, 3}, {3, 4}, {2, 6}, {1, 12}};
  EXPECT_EQ(knob.candidates, expected);
}

TEST(SplitKnob, CountsMatchAutoTvm) {
  // Counts from AutoTVM's SplitSpace with policy "factors".
  EXPECT_EQ(SplitKnob("a", 512, 3).size(), 55);
  EXPECT_EQ(SplitKnob("b", 1000, 4).size(), 400);
  EXPECT_EQ(SplitKnob("c", 1, 3).size(), 1);
  EXPECT_EQ(SplitKnob("d", 7, 1).candidates, (Candidates{{7}}));
}

TEST(SplitKnob, EveryFactorsCandidateMultipliesToTheExtent) {
  Knob knob = SplitKnob("a", 360, 4);
  ASSERT_TRUE(knob.Validate().ok());
  for (const auto& c : knob.candidates) {
    int64_t prod = 1;
    for (int64_t f : c) prod *= f;
    EXPECT_EQ(prod, 360);
  }
}

TEST(SplitKnob, Power2PolicyAllowsTails) {
  // AutoTVM SplitSpace(product=6, num_outputs=3, policy="power2"):
  // [-1,1,1] [-1,2,1] [-1,4,1] [-1,1,2] [-1,2,2] [-1,1,4]; outer = ceil(6 / inner product).
  SplitOptions options;
  options.policy = SplitPolicy::kPower2;
  Knob knob = SplitKnob("t", 6, 3, options);
  ASSERT_TRUE(knob.Validate().ok()) << knob.Validate().ToString();
  const Candidates expected = {{6, 1, 1}, {3, 2, 1}, {2, 4, 1}, {3, 1, 2}, {2, 2, 2}, {2, 1, 4}};
  EXPECT_EQ(knob.candidates, expected);
}

TEST(SplitKnob, MaxFactorLimitsInnerFactorsOnly) {
  SplitOptions options;
  options.max_factor = 2;
  Knob knob = SplitKnob("t", 8, 3, options);
  const Candidates expected = {{8, 1, 1}, {4, 2, 1}, {4, 1, 2}, {2, 2, 2}};
  EXPECT_EQ(knob.candidates, expected);
}

TEST(SplitKnob, FilterSeesExplicitOuterAndKeepsOrder) {
  SplitOptions options;
  options.filter = [](const std::vector<int64_t>& f) { return f[0] >= 2 && f[2] >= 2; };
  Knob knob = SplitKnob("t", 8, 3, options);
  const Candidates expected = {{4, 1, 2}, {2, 2, 2}, {2, 1, 4}};
  EXPECT_EQ(knob.candidates, expected);

  options.filter = [](const std::vector<int64_t>&) { return false; };
  ExpectInvalid(SplitKnob("t", 8, 3, options), "filter");
}

TEST(SplitKnob, BadArgumentsGiveStatusNotCrash) {
  ExpectInvalid(SplitKnob("t", 0, 2), "extent");
  ExpectInvalid(SplitKnob("t", 8, 0), "num_parts");
  ExpectInvalid(SplitKnob("t", 8, 17), "num_parts");
  SplitOptions options;
  options.max_factor = 0;
  ExpectInvalid(SplitKnob("t", 8, 2, options), "max_factor");
  ExpectInvalid(SplitKnob("", 8, 2), "name");
}

TEST(SplitKnob, HugeEnumerationStopsWithAStatusQuickly) {
  SplitOptions options;
  options.policy = SplitPolicy::kPower2;
  const auto start = std::chrono::steady_clock::now();
  Knob knob = SplitKnob("t", int64_t{1} << 40, 16, options);
  ExpectInvalid(knob, "more than");
  // Generous bound; it finishes in well under a second, but exponential work would not.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(SplitOptions, DefaultsAreValid) { EXPECT_TRUE(SplitOptions().Validate().ok()); }

TEST(ListedSplitKnob, MinusOneOuterBecomesTheRest) {
  Knob knob = ListedSplitKnob("t", 512, {{-1, 8, 4}, {2, 16, 16}, {-1, 3, 5}, {-1, 1, 512}});
  ASSERT_TRUE(knob.Validate().ok()) << knob.Validate().ToString();
  // 512 / (3 * 5) leaves a tail: the outer factor rounds up.
  const Candidates expected = {{16, 8, 4}, {2, 16, 16}, {35, 3, 5}, {1, 1, 512}};
  EXPECT_EQ(knob.candidates, expected);
  EXPECT_EQ(knob.extent, 512);
}

TEST(ListedSplitKnob, RejectsDuplicatesWrongOuterAndRaggedLists) {
  ExpectInvalid(ListedSplitKnob("t", 512, {{-1, 16, 16}, {2, 16, 16}}), "twice");
  ExpectInvalid(ListedSplitKnob("t", 512, {{3, 16, 16}}), "outer factor must be ceil(512/256)");
  ExpectInvalid(ListedSplitKnob("t", 512, {{-1, 16, 16}, {-1, 4}}), "same number");
  ExpectInvalid(ListedSplitKnob("t", 16, {{-1, 32}}), "at most the extent");
  ExpectInvalid(ListedSplitKnob("t", 16, {{-1, 0}}), ">= 1");
  ExpectInvalid(ListedSplitKnob("t", 16, {}), "no candidates");
}

TEST(ReorderKnob, ListsAllPermutationsLexicographically) {
  Knob knob = ReorderKnob("order", 3);
  const Candidates expected = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  EXPECT_EQ(knob.candidates, expected);
  EXPECT_FALSE(knob.is_ordered());
  EXPECT_EQ(ReorderKnob("o", 8).size(), 40320);
}

TEST(ReorderKnob, RefusesMoreThanEightAxes) {
  ExpectInvalid(ReorderKnob("order", 9), "num_axes");
  ExpectInvalid(ReorderKnob("order", 0), "num_axes");
}

TEST(ListedReorderKnob, AcceptsPermutationsOnly) {
  EXPECT_TRUE(ListedReorderKnob("o", {{1, 0, 2}, {2, 1, 0}}).Validate().ok());
  ExpectInvalid(ListedReorderKnob("o", {{1, 1, 2}}), "not a permutation");
  ExpectInvalid(ListedReorderKnob("o", {{0, 1}, {0, 1, 2}}), "not a permutation");
  ExpectInvalid(ListedReorderKnob("o", {{0, 1}, {0, 1}}), "twice");
}

TEST(ChoiceKnob, LabelsMapToIndexCandidates) {
  Knob knob = ChoiceKnob("vec", {"none", "avx2", "avx512"});
  ASSERT_TRUE(knob.Validate().ok());
  EXPECT_EQ(knob.candidates, (Candidates{{0}, {1}, {2}}));
  EXPECT_EQ(knob.labels[2], "avx512");
  ExpectInvalid(ChoiceKnob("vec", {"a", "a"}), "appears twice");
  ExpectInvalid(ChoiceKnob("vec", {}), "no candidates");
}

TEST(IntChoiceKnob, KeepsValuesInOrder) {
  Knob knob = IntChoiceKnob("unroll", {0, 512, 1500});
  ASSERT_TRUE(knob.Validate().ok());
  EXPECT_EQ(knob.candidates, (Candidates{{0}, {512}, {1500}}));
  EXPECT_TRUE(knob.labels.empty());
  ExpectInvalid(IntChoiceKnob("unroll", {4, 4}), "twice");
}

TEST(IntKnob, ListsTheRangeWithStep) {
  Knob knob = IntKnob("n", 2, 11, 3);
  EXPECT_EQ(knob.candidates, (Candidates{{2}, {5}, {8}, {11}}));
  EXPECT_EQ(IntKnob("n", 2, 10, 3).candidates, (Candidates{{2}, {5}, {8}}));
  EXPECT_EQ(IntKnob("n", -2, -2).candidates, (Candidates{{-2}}));
  EXPECT_TRUE(knob.is_ordered());
}

TEST(IntKnob, BadArgumentsGiveStatus) {
  ExpectInvalid(IntKnob("n", 5, 4), "lo must be <= hi");
  ExpectInvalid(IntKnob("n", 0, 4, 0), "step");
  ExpectInvalid(IntKnob("n", 0, 4, 1, /*log_scale=*/true), "lo >= 1");
  ExpectInvalid(IntKnob("n", 0, int64_t{1} << 40), "larger step");
  ExpectInvalid(IntKnob("n", INT64_MIN, INT64_MAX), "larger step");
  EXPECT_TRUE(IntKnob("n", 1, 1024, 1, true).Validate().ok());
}

TEST(BoolKnob, HasZeroAndOne) {
  Knob knob = BoolKnob("fast");
  ASSERT_TRUE(knob.Validate().ok());
  EXPECT_EQ(knob.candidates, (Candidates{{0}, {1}}));
  EXPECT_EQ(knob.kind, KnobKind::kBool);
}

TEST(Knob, ValidateCatchesHandBuiltMistakes) {
  Knob knob;
  knob.name = "bad name";
  knob.candidates = {{1}};
  ExpectInvalid(knob, "whitespace");
  knob.name = "a=b";
  ExpectInvalid(knob, "'='");

  Knob int_knob = IntKnob("n", 1, 3);
  int_knob.candidates = {{3}, {1}};
  ExpectInvalid(int_knob, "increasing");

  Knob bool_knob = BoolKnob("b");
  bool_knob.candidates = {{0}, {2}};
  ExpectInvalid(bool_knob, "bool");

  Knob labels = ChoiceKnob("c", {"x", "y"});
  labels.labels.pop_back();
  ExpectInvalid(labels, "labels");

  Knob split = SplitKnob("s", 8, 2);
  split.extent = 16;
  ExpectInvalid(split, "outer factor");

  Knob with_labels = IntKnob("n", 1, 2);
  with_labels.labels = {"a", "b"};
  ExpectInvalid(with_labels, "labels");
}

}  // namespace
}  // namespace sonar
