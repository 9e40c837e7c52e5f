// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "common/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/types.h"

namespace sonar {
namespace {

StatusOr<int> ParsePositive(const std::string& s) {
  int n = std::stoi(s);
  if (n <= 0) return InvalidArgumentError("expected a positive number, got " + s);
  return n;
}

Status AddPositive(const std::string& a, const std::string& b, int* sum) {
  SONAR_ASSIGN_OR_RETURN(int x, ParsePositive(a));
  SONAR_ASSIGN_OR_RETURN(int y, ParsePositive(b));
  *sum = x + y;
  return OkStatus();
}

Status FailIfNegative(int n) {
  SONAR_RETURN_IF_ERROR(n < 0 ? InvalidArgumentError("negative") : OkStatus());
  return NotFoundError("reached the end");
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(OkStatus().ok());
}

TEST(Status, ErrorsCarryCodeAndMessage) {
  Status s = DataLossError("torn frame");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "torn frame");
  EXPECT_EQ(s.ToString(), "DATA_LOSS: torn frame");
  EXPECT_EQ(NotFoundError("x").ToString(), "NOT_FOUND: x");
  EXPECT_EQ(ResourceExhaustedError("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DeadlineExceededError("x").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(FailedPreconditionError("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(InternalError("x").code(), StatusCode::kInternal);
}

TEST(Status, WithContextPrefixesErrorsOnly) {
  EXPECT_EQ(InvalidArgumentError("bad").WithContext("file a.json").ToString(),
            "INVALID_ARGUMENT: file a.json: bad");
  EXPECT_TRUE(OkStatus().WithContext("ignored").ok());
}

TEST(StatusOr, HoldsAValueOrAnError) {
  StatusOr<int> good = ParsePositive("12");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 12);
  EXPECT_EQ(good.value(), 12);
  StatusOr<int> bad = ParsePositive("-3");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "expected a positive number, got -3");
}

TEST(StatusOr, MovesOutItsValue) {
  StatusOr<std::vector<int>> v = std::vector<int>{1, 2, 3};
  std::vector<int> taken = std::move(v).value();
  EXPECT_EQ(taken.size(), 3u);
}

TEST(StatusOrDeathTest, ValueOfAnErrorAborts) {
  StatusOr<int> bad = InvalidArgumentError("nope");
  EXPECT_DEATH((void)bad.value(), "nope");
}

TEST(StatusMacros, AssignOrReturnPropagatesTheFirstError) {
  int sum = 0;
  EXPECT_TRUE(AddPositive("2", "3", &sum).ok());
  EXPECT_EQ(sum, 5);
  Status s = AddPositive("2", "-1", &sum);
  EXPECT_EQ(s.message(), "expected a positive number, got -1");
  EXPECT_EQ(sum, 5);
}

TEST(StatusMacros, ReturnIfErrorReturnsEarly) {
  EXPECT_EQ(FailIfNegative(-1).message(), "negative");
  EXPECT_EQ(FailIfNegative(1).code(), StatusCode::kNotFound);
}

TEST(Random, SameSeedAndStreamGiveTheSameSequence) {
  Rng a = MakeRng(42, 3), b = MakeRng(42, 3);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a(), b());
  Rng c = MakeRng(42, 3), d = MakeRng(42, 4), e = MakeRng(43, 3);
  const uint64_t first = c();
  EXPECT_NE(first, d());
  EXPECT_NE(first, e());
}

TEST(Random, UniformIntStaysInRangeAndHitsBothEnds) {
  Rng rng = MakeRng(1);
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = UniformInt(rng, -3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(UniformInt(rng, 5, 5), 5);
  (void)UniformInt(rng, INT64_MIN, INT64_MAX);  // full range does not loop forever
}

TEST(Random, UniformDoubleIsInUnitInterval) {
  Rng rng = MakeRng(2);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = UniformDouble(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(Random, SequenceIsPinnedAcrossPlatforms) {
  // mt19937_64 and MixSeed are fully specified, so this value is the same everywhere. A change
  // here changes every seeded result of Sonar.
  Rng a = MakeRng(0, 0);
  Rng b(MixSeed(0 ^ MixSeed(1)));
  EXPECT_EQ(a(), b());
  EXPECT_EQ(MixSeed(0), 0xe220a8397b1dcdafULL);
}

TEST(Types, KnobKindNamesRoundTrip) {
  for (KnobKind kind :
       {KnobKind::kSplit, KnobKind::kReorder, KnobKind::kChoice, KnobKind::kInt, KnobKind::kBool}) {
    KnobKind back = KnobKind::kBool;
    ASSERT_TRUE(StringToKnobKind(KnobKindToString(kind), &back));
    EXPECT_EQ(back, kind);
  }
  KnobKind untouched = KnobKind::kInt;
  EXPECT_FALSE(StringToKnobKind("float", &untouched));
  EXPECT_EQ(untouched, KnobKind::kInt);
  EXPECT_EQ(KnobKindToString(KnobKind::kSplit), "split");
}

}  // namespace
}  // namespace sonar
