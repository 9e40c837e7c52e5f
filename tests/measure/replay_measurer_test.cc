// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include <gtest/gtest.h>

#include "measure/measurer.h"

namespace sonar {
namespace {

Task SmallTask() {
  StatusOr<ConfigSpace> s =
      ConfigSpace::Make({SplitKnob("tile_x", 16, 2), IntChoiceKnob("unroll", {1, 2, 4})});
  SONAR_CHECK(s.ok()) << s.status().ToString();
  Task t;
  t.name = "small";
  t.op = "dense";
  t.shape = {16, 16, 16};
  t.target = "cpu-test";
  t.space = std::move(s).value();
  return t;
}

Record MakeRecord(const Task& task, std::vector<int64_t> split, int64_t unroll, double seconds,
                  MeasureStatus status = MeasureStatus::kOk) {
  Record r;
  r.workload_key = task.WorkloadKey();
  r.task = {.name = task.name,
            .op = task.op,
            .args_json = ShapeToJson(task.shape),
            .target = task.target};
  KnobValue a;
  a.name = "tile_x";
  a.kind = KnobKind::kSplit;
  a.ints = std::move(split);
  a.source_type = "sp";
  KnobValue b;
  b.name = "unroll";
  b.kind = KnobKind::kChoice;
  b.ints = {unroll};
  r.config.values = {a, b};
  r.result.status = status;
  if (status == MeasureStatus::kOk) r.result.run_seconds = {seconds, seconds};
  return r;
}

Config ConfigOf(const Task& t, std::vector<int64_t> split, int64_t unroll) {
  KnobValue a{.name = "tile_x",
              .kind = KnobKind::kSplit,
              .ints = std::move(split),
              .strings = {},
              .source_type = ""};
  KnobValue b{.name = "unroll",
              .kind = KnobKind::kChoice,
              .ints = {unroll},
              .strings = {},
              .source_type = ""};
  StatusOr<Config> c = t.space.FromValues({a, b});
  SONAR_CHECK(c.ok()) << c.status().ToString();
  return *c;
}

TEST(ReplayMeasurer, AnswersHitsAndMarksMissesNotInTable) {
  const Task t = SmallTask();
  auto m = MakeReplayMeasurer({MakeRecord(t, {4, 4}, 2, 1e-3), MakeRecord(t, {2, 8}, 1, 2e-3)});
  std::vector<MeasureResult> r = m->Measure(t, {ConfigOf(t, {4, 4}, 2), ConfigOf(t, {4, 4}, 4)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, MeasureStatus::kOk);
  EXPECT_DOUBLE_EQ(r[0].median_seconds(), 1e-3);
  EXPECT_EQ(r[1].status, MeasureStatus::kNotInTable);
}

TEST(ReplayMeasurer, AutoTvmMinusOneOuterFactorMatches) {
  const Task t = SmallTask();
  auto m = MakeReplayMeasurer({MakeRecord(t, {-1, 8}, 4, 3e-3)});
  std::vector<MeasureResult> r = m->Measure(t, {ConfigOf(t, {2, 8}, 4)});
  ASSERT_EQ(r[0].status, MeasureStatus::kOk);
  EXPECT_DOUBLE_EQ(r[0].median_seconds(), 3e-3);
}

TEST(ReplayMeasurer, PrefersAnOkRecordOverAFailedOne) {
  const Task t = SmallTask();
  auto m = MakeReplayMeasurer(
      {MakeRecord(t, {4, 4}, 1, 0, MeasureStatus::kRunTimeout), MakeRecord(t, {4, 4}, 1, 5e-3)});
  EXPECT_EQ(m->Measure(t, {ConfigOf(t, {4, 4}, 1)})[0].status, MeasureStatus::kOk);
}

TEST(ReplayMeasurer, OtherWorkloadsDoNotAnswer) {
  const Task t = SmallTask();
  Task other = t;
  other.shape = {32, 32, 32};
  Record r1 = MakeRecord(t, {4, 4}, 1, 1e-3);
  Record r2 = MakeRecord(other, {4, 4}, 1, 9e-3);
  r2.workload_key = other.WorkloadKey();
  auto m = MakeReplayMeasurer({r1, r2});
  EXPECT_DOUBLE_EQ(m->Measure(other, {ConfigOf(t, {4, 4}, 1)})[0].median_seconds(), 9e-3);
  EXPECT_DOUBLE_EQ(m->Measure(t, {ConfigOf(t, {4, 4}, 1)})[0].median_seconds(), 1e-3);
}

TEST(TaskFromRecords, ListsTheDistinctConfigsAndReplaysThem) {
  const Task t = SmallTask();
  std::vector<Record> table = {MakeRecord(t, {-1, 4}, 2, 1e-3), MakeRecord(t, {2, 8}, 1, 2e-3),
                               MakeRecord(t, {4, 4}, 2, 1.5e-3), MakeRecord(t, {4, 4}, 1, 3e-3)};
  StatusOr<Task> rt = TaskFromRecords(table, t.WorkloadKey());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_TRUE(rt->space.is_listed());
  EXPECT_EQ(rt->space.size(), 3u);  // {-1,4} and {4,4} with unroll 2 are the same config
  EXPECT_EQ(rt->WorkloadKey(), t.WorkloadKey());
  auto m = MakeReplayMeasurer(table);
  for (uint64_t i = 0; i < rt->space.size(); ++i) {
    EXPECT_EQ(m->Measure(*rt, {rt->space.At(i)})[0].status, MeasureStatus::kOk) << i;
  }
  EXPECT_EQ(TaskFromRecords(table, 12345).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sonar
