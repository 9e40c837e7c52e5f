// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sonar {
namespace {

ConfigSpace MustMake(std::vector<Knob> knobs) {
  StatusOr<ConfigSpace> space = ConfigSpace::Make(std::move(knobs));
  EXPECT_TRUE(space.ok()) << space.status().ToString();
  return std::move(space).value();
}

// tile: extent 512 in 3 parts; order: 3 axes; vec: 3 labels; unroll: {0,512,1500};
// width: {4,8,16}; n: 1..64 log; m: -2..2; fast: bool.
ConfigSpace FeatureSpace() {
  return MustMake({SplitKnob("tile", 512, 3), ReorderKnob("order", 3),
                   ChoiceKnob("vec", {"none", "avx2", "avx512"}),
                   IntChoiceKnob("unroll", {0, 512, 1500}), IntChoiceKnob("width", {4, 8, 16}),
                   IntKnob("n", 1, 64, 1, /*log_scale=*/true), IntKnob("m", -2, 2),
                   BoolKnob("fast")});
}

Config PickConfig(const ConfigSpace& space) {
  Config c;
  c.choice.resize(space.num_knobs());
  // tile = {16, 8, 4}
  const Knob& tile = space.knob(0);
  for (int32_t i = 0; i < tile.size(); ++i) {
    if (tile.candidates[i] == std::vector<int64_t>{16, 8, 4}) c.choice[0] = i;
  }
  c.choice[1] = 3;   // order = {1, 2, 0}
  c.choice[2] = 1;   // vec = avx2
  c.choice[3] = 2;   // unroll = 1500
  c.choice[4] = 1;   // width = 8
  c.choice[5] = 31;  // n = 32
  c.choice[6] = 0;   // m = -2
  c.choice[7] = 1;   // fast = true
  return c;
}

TEST(FeatureOptions, DefaultsAreValid) { EXPECT_TRUE(FeatureOptions().Validate().ok()); }

TEST(EncodeFeatures, DefaultEncodingHasTheDocumentedColumns) {
  ConfigSpace space = FeatureSpace();
  FeatureOptions options;
  const std::vector<std::string> names = FeatureNames(space, options);
  const std::vector<std::string> expected_names = {"tile.f0.log2",
                                                   "tile.f1.log2",
                                                   "tile.f2.log2",
                                                   "order.pos0",
                                                   "order.pos1",
                                                   "order.pos2",
                                                   "vec=none",
                                                   "vec=avx2",
                                                   "vec=avx512",
                                                   "unroll",
                                                   "width.log2",
                                                   "n.log2",
                                                   "m",
                                                   "fast"};
  EXPECT_EQ(names, expected_names);

  const Config c = PickConfig(space);
  const Eigen::MatrixXd x = EncodeFeatures(space, {space.At(0), c}, options);
  ASSERT_EQ(x.rows(), 2);
  ASSERT_EQ(x.cols(), static_cast<Eigen::Index>(names.size()));
  const std::vector<double> expected = {4,    3,
                                        2,  // log2 16, 8, 4
                                        2,    0,
                                        1,  // perm {1,2,0}: axis0 at 2, axis1 at 0
                                        0,    1,
                                        0,     // avx2
                                        1500,  // unroll has a 0: raw values
                                        3,     // log2 8
                                        5,     // log2 32
                                        -2,    // raw
                                        1};
  for (size_t j = 0; j < expected.size(); ++j) {
    EXPECT_DOUBLE_EQ(x(1, static_cast<Eigen::Index>(j)), expected[j]) << names[j];
  }
  // Row 0 is the first candidate of each knob: tile {512,1,1}, identity order, "none", 0, 4,
  // n = 1, m = -2, false.
  const std::vector<double> first = {9, 0, 0, 0, 1, 2, 1, 0, 0, 0, 2, 0, -2, 0};
  for (size_t j = 0; j < first.size(); ++j) {
    EXPECT_DOUBLE_EQ(x(0, static_cast<Eigen::Index>(j)), first[j]) << names[j];
  }
}

TEST(EncodeFeatures, OptionsSwitchEncodings) {
  ConfigSpace space = FeatureSpace();
  FeatureOptions options;
  options.log2_split = false;
  options.one_hot_choice = false;
  options.log_int = true;
  const std::vector<std::string> names = FeatureNames(space, options);
  const std::vector<std::string> expected_names = {
      "tile.f0",    "tile.f1",   "tile.f2", "order.pos0", "order.pos1",
      "order.pos2", "vec.index", "unroll",  "width.log2", "n.log2",
      "m",  // values < 1 stay raw
      "fast"};
  EXPECT_EQ(names, expected_names);
  const Eigen::MatrixXd x = EncodeFeatures(space, {PickConfig(space)}, options);
  ASSERT_EQ(x.cols(), 12);
  EXPECT_DOUBLE_EQ(x(0, 0), 16);
  EXPECT_DOUBLE_EQ(x(0, 1), 8);
  EXPECT_DOUBLE_EQ(x(0, 2), 4);
  EXPECT_DOUBLE_EQ(x(0, 6), 1);  // avx2 is candidate 1
  EXPECT_DOUBLE_EQ(x(0, 10), -2);

  // log_int turns a plain positive int knob into log2.
  ConfigSpace ints = MustMake({IntKnob("k", 1, 8)});
  EXPECT_DOUBLE_EQ(EncodeFeatures(ints, {Config{.choice = {7}}}, options)(0, 0), 3);
  EXPECT_DOUBLE_EQ(EncodeFeatures(ints, {Config{.choice = {7}}}, FeatureOptions())(0, 0), 8);
}

TEST(EncodeFeatures, OneHotHasExactlyOneOnePerChoiceKnob) {
  ConfigSpace space = FeatureSpace();
  Rng rng = MakeRng(3);
  std::vector<Config> configs;
  for (int i = 0; i < 50; ++i) configs.push_back(*space.Sample(rng));
  const Eigen::MatrixXd x = EncodeFeatures(space, configs, FeatureOptions());
  ASSERT_EQ(x.rows(), 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_DOUBLE_EQ(x.row(i).segment(6, 3).sum(), 1.0);
    EXPECT_DOUBLE_EQ(x(i, 6 + configs[i].choice[2]), 1.0);
    // Reorder positions are a permutation of 0, 1, 2.
    EXPECT_DOUBLE_EQ(x.row(i).segment(3, 3).sum(), 3.0);
  }
}

TEST(EncodeFeatures, EmptyInputGivesZeroRows) {
  ConfigSpace space = FeatureSpace();
  const Eigen::MatrixXd x = EncodeFeatures(space, {}, FeatureOptions());
  EXPECT_EQ(x.rows(), 0);
  EXPECT_EQ(x.cols(), 14);
}

TEST(EncodeTaskFeatures, AppendsLog2OfShapeWhenEnabled) {
  Task task{.name = "dense", .op = "dense", .shape = {1, 64, 0, 1000}, .space = FeatureSpace()};
  FeatureOptions options;
  const Config c = PickConfig(task.space);
  EXPECT_EQ(EncodeTaskFeatures(task, {c}, options).cols(), 14);
  EXPECT_EQ(TaskFeatureNames(task, options).size(), 14u);

  options.task_features = true;
  const Eigen::MatrixXd x = EncodeTaskFeatures(task, {c, c}, options);
  const std::vector<std::string> names = TaskFeatureNames(task, options);
  ASSERT_EQ(x.cols(), 18);
  ASSERT_EQ(names.size(), 18u);
  EXPECT_EQ(names[14], "task.dim0");
  EXPECT_EQ(names[17], "task.dim3");
  for (int r = 0; r < 2; ++r) {
    EXPECT_DOUBLE_EQ(x(r, 14), 0);  // log2(1)
    EXPECT_DOUBLE_EQ(x(r, 15), 6);  // log2(64)
    EXPECT_DOUBLE_EQ(x(r, 16), 0);  // log2(max(1, 0))
    EXPECT_DOUBLE_EQ(x(r, 17), std::log2(1000.0));
  }
  // The config columns are those of EncodeFeatures.
  EXPECT_TRUE(x.leftCols(14).isApprox(EncodeFeatures(task.space, {c, c}, options)));
}

}  // namespace
}  // namespace sonar
