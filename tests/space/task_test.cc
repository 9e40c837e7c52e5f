// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/task.h"

#include <gtest/gtest.h>

#include <string>

namespace sonar {
namespace {

// Reference values computed independently with a Python FNV-1a-64 one-liner:
//   h = 0xcbf29ce484222325; for c in data: h = ((h ^ c) * 0x100000001b3) % 2**64
TEST(Fnv1a64, MatchesReferenceValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64(std::string("dense\x1f[1,64,128]\x1fllvm -mcpu=skylake")),
            0xca43af56fc9d3212ULL);
}

TEST(CanonicalWorkload, JoinsWithUnitSeparator) {
  EXPECT_EQ(CanonicalWorkload("dense", "[1,2]", "llvm"), std::string("dense\x1f[1,2]\x1fllvm"));
  EXPECT_EQ(CanonicalWorkload("", "", ""), std::string("\x1f\x1f"));
}

TEST(WorkloadKeyOf, IsFnvOfTheCanonicalString) {
  EXPECT_EQ(WorkloadKeyOf("dense", "[1,64,128]", "llvm -mcpu=skylake"), 0xca43af56fc9d3212ULL);
  EXPECT_EQ(WorkloadKeyOf("conv2d", "[]", ""), 0x47aca9768ee506ffULL);
  // The separator keeps "ab"+"c" apart from "a"+"bc".
  EXPECT_NE(WorkloadKeyOf("ab", "c", "t"), WorkloadKeyOf("a", "bc", "t"));
}

TEST(ShapeToJson, IsMinified) {
  EXPECT_EQ(ShapeToJson({1, 64, 128}), "[1,64,128]");
  EXPECT_EQ(ShapeToJson({}), "[]");
  EXPECT_EQ(ShapeToJson({-1}), "[-1]");
}

TEST(Task, WorkloadKeyIsStableAndDependsOnOpShapeAndTarget) {
  Task task{.name = "d", .op = "dense", .shape = {1, 64, 128}, .target = "llvm -mcpu=skylake"};
  EXPECT_EQ(task.WorkloadKey(), 0xca43af56fc9d3212ULL);
  EXPECT_EQ(task.WorkloadKey(), WorkloadKeyOf("dense", "[1,64,128]", "llvm -mcpu=skylake"));

  Task other_name = task;
  other_name.name = "renamed";
  other_name.template_version = 2;
  EXPECT_EQ(other_name.WorkloadKey(), task.WorkloadKey());

  Task other_shape = task;
  other_shape.shape = {1, 64, 129};
  EXPECT_NE(other_shape.WorkloadKey(), task.WorkloadKey());
  Task split_shape = task;
  split_shape.shape = {16, 4, 128};  // same digits, different dims
  EXPECT_NE(split_shape.WorkloadKey(), task.WorkloadKey());
  Task other_target = task;
  other_target.target = "llvm -mcpu=znver3";
  EXPECT_NE(other_target.WorkloadKey(), task.WorkloadKey());
  Task other_op = task;
  other_op.op = "conv2d";
  EXPECT_NE(other_op.WorkloadKey(), task.WorkloadKey());
}

TEST(WorkloadKeyToHex, WritesSixteenLowercaseDigits) {
  EXPECT_EQ(WorkloadKeyToHex(0xca43af56fc9d3212ULL), "ca43af56fc9d3212");
  EXPECT_EQ(WorkloadKeyToHex(0xffULL), "00000000000000ff");
  EXPECT_EQ(WorkloadKeyToHex(0), "0000000000000000");
}

TEST(HexToWorkloadKey, ParsesWhatToHexWritesAndRejectsJunk) {
  for (uint64_t key : {0ULL, 1ULL, 0xca43af56fc9d3212ULL, ~0ULL}) {
    uint64_t back = 12345;
    ASSERT_TRUE(HexToWorkloadKey(WorkloadKeyToHex(key), &back));
    EXPECT_EQ(back, key);
  }
  uint64_t key = 7;
  EXPECT_TRUE(HexToWorkloadKey("FF", &key));
  EXPECT_EQ(key, 0xffULL);
  key = 7;
  EXPECT_FALSE(HexToWorkloadKey("", &key));
  EXPECT_FALSE(HexToWorkloadKey("0x12", &key));
  EXPECT_FALSE(HexToWorkloadKey("12345678901234567", &key));  // 17 digits
  EXPECT_FALSE(HexToWorkloadKey("12g4", &key));
  EXPECT_FALSE(HexToWorkloadKey(" 12", &key));
  EXPECT_EQ(key, 7u);
}

}  // namespace
}  // namespace sonar
