// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/architecture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

namespace sonar {
namespace {

using ::testing::HasSubstr;

ArchitectureSpace Digits() {
  StatusOr<ArchitectureSpace> space = BuiltinArchitectureSpace("digits-cnn");
  EXPECT_TRUE(space.ok()) << space.status().ToString();
  return *std::move(space);
}

TEST(ArchitectureSpace, DigitsCnnHasTheDocumentedSizeAndUniqueNames) {
  ArchitectureSpace space = Digits();
  EXPECT_EQ(space.size(), 1752);
  std::set<std::string> names;
  for (int64_t i = 0; i < space.size(); ++i) {
    names.insert(space.at(i).Name());
    EXPECT_EQ(space.IndexOf(space.at(i)), i);
  }
  EXPECT_EQ(names.size(), 1752u);
  EXPECT_EQ(space.at(0).Name(), "c4k3");
  EXPECT_EQ(space.at(1).Name(), "c4k5");
  EXPECT_EQ(space.at(8).Name(), "c4k3-h32");
}

TEST(ArchitectureSpace, LayersFollowTheOperatorShapeConventions) {
  ArchitectureSpace space = Digits();
  Architecture arch;
  arch.blocks = {{"conv2d", 16, 5, 1, 2}, {"conv2d", 32, 3, 1, 2}};
  arch.hidden = {64};
  ASSERT_GE(space.IndexOf(arch), 0);
  EXPECT_EQ(arch.Name(), "c16k5-c32k3-h64");
  std::vector<LayerSpec> layers = space.Layers(arch);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0], (LayerSpec{"conv2d", {1, 1, 16, 16, 16, 5, 5, 1, 2}, true, 2}));
  EXPECT_EQ(layers[1], (LayerSpec{"conv2d", {1, 16, 8, 8, 32, 3, 3, 1, 1}, true, 2}));
  EXPECT_EQ(layers[2], (LayerSpec{"dense", {1, 64, 32 * 4 * 4}, true, 1}));
  EXPECT_EQ(layers[3], (LayerSpec{"dense", {1, 10, 64}, false, 1}));
  EXPECT_EQ(space.NumParams(arch),
            (16 * 25 + 16) + (16 * 9 * 32 + 32) + (512 * 64 + 64) + (64 * 10 + 10));
  EXPECT_DOUBLE_EQ(space.Flops(arch),
                   2.0 * 16 * 256 * 25 + 2.0 * 32 * 64 * 16 * 9 + 2.0 * 64 * 512 + 2.0 * 10 * 64);
}

TEST(ArchitectureSpace, SharedLayerShapesAreFewerThanLayers) {
  ArchitectureSpace space = Digits();
  std::set<std::pair<std::string, std::vector<int64_t>>> distinct;
  int64_t total = 0;
  for (int64_t i = 0; i < space.size(); ++i) {
    for (const LayerSpec& l : space.Layers(space.at(i))) {
      distinct.insert({l.op, l.shape});
      ++total;
    }
  }
  // 8 first-block convs, 8x4 second, 8x4 third, and the dense layers they feed.
  EXPECT_LT(distinct.size(), 200u);
  EXPECT_GT(total, 10 * static_cast<int64_t>(distinct.size()));
}

TEST(ArchitectureSpace, SeparableBlocksBecomeDepthwiseThenPointwise) {
  ArchitectureSpaceSpec spec;
  spec.name = "sep";
  spec.block_ops = {"separable"};
  spec.channels = {8};
  spec.kernels = {3};
  spec.min_blocks = spec.max_blocks = 1;
  spec.min_hidden = spec.max_hidden = 0;
  StatusOr<ArchitectureSpace> space = ArchitectureSpace::Make(spec);
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  ASSERT_EQ(space->size(), 1);
  std::vector<LayerSpec> layers = space->Layers(space->at(0));
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0], (LayerSpec{"depthwise_conv2d", {1, 1, 16, 16, 3, 3, 1, 1}, true, 1}));
  EXPECT_EQ(layers[1], (LayerSpec{"conv2d", {1, 1, 16, 16, 8, 1, 1, 1, 0}, true, 2}));
  EXPECT_EQ(layers[2], (LayerSpec{"dense", {1, 10, 8 * 8 * 8}, false, 1}));
  EXPECT_EQ(space->at(0).Name(), "s8k3");
}

TEST(ArchitectureSpace, FeatureMapsThatVanishAndLimitsLeaveArchitecturesOut) {
  ArchitectureSpaceSpec spec;
  spec.name = "deep";
  spec.input_height = spec.input_width = 4;
  spec.channels = {4};
  spec.kernels = {3};
  spec.min_blocks = 1;
  spec.max_blocks = 3;  // 4 -> 2 -> 1 -> (0: out)
  spec.min_hidden = spec.max_hidden = 0;
  StatusOr<ArchitectureSpace> space = ArchitectureSpace::Make(spec);
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->size(), 2);

  spec = ArchitectureSpaceSpec{};
  spec.name = "small";
  spec.max_params = 2000;
  space = ArchitectureSpace::Make(spec);
  ASSERT_TRUE(space.ok());
  for (int64_t i = 0; i < space->size(); ++i) EXPECT_LE(space->NumParams(space->at(i)), 2000);
  EXPECT_LT(space->size(), 1752);
}

TEST(ArchitectureSpace, JsonRoundTripsThroughIndexOfJson) {
  ArchitectureSpace space = Digits();
  for (int64_t i : {0, 17, 900, 1751}) {
    StatusOr<int64_t> back = space.IndexOfJson(space.ToJson(space.at(i)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, i);
  }
  EXPECT_THAT(space.ToJson(space.at(0)), HasSubstr("\"layers\":[{\"op\":\"conv2d\""));
  EXPECT_FALSE(space.IndexOfJson("[1,2]").ok());
  EXPECT_FALSE(space.IndexOfJson("{\"blocks\":[],\"hidden\":[]}").ok());  // not in the space
  EXPECT_FALSE(space.IndexOfJson("{\"blocks\":[{\"op\":1}],\"hidden\":[]}").ok());
}

TEST(ArchitectureSpaceSpec, ParsesAFileAndNamesTheFieldOfEachMistake) {
  StatusOr<ArchitectureSpaceSpec> spec = ParseArchitectureSpaceSpec(
      R"({"name": "mlp", "input": [1, 8, 8], "classes": 10, "blocks": {"min": 0, "max": 0},
          "dense": {"min": 1, "max": 2, "width": [16, 32, 64]}})",
      "mlp.json");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  StatusOr<ArchitectureSpace> space = ArchitectureSpace::Make(*spec);
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_EQ(space->size(), 3 + 9);
  EXPECT_EQ(space->Layers(space->at(0)).front(), (LayerSpec{"dense", {1, 16, 64}, true, 1}));

  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"[1]", "f.json: (file): must be a JSON object"},
           {"{", "f.json: (file): not valid JSON"},
           {R"({"blocks": {"chanels": [4]}})", "f.json: blocks.chanels: unknown field"},
           {R"({"depth": 3})", "f.json: depth: unknown field"},
           {R"({"blocks": {"kernel": [3, 0]}})", "f.json: blocks.kernel: values must be"},
           {R"({"blocks": {"kernel": []}})", "f.json: blocks.kernel: must be a non-empty"},
           {R"({"blocks": {"min": "1"}})", "f.json: blocks.min: must be an integer"},
           {R"({"input": [1, 16]})", "f.json: input: must be [channels, height, width]"},
           {R"({"classes": 1})", "f.json: classes: must be an integer in [2,"},
           {R"({"max_flops": -1})", "f.json: max_flops: must be a number >= 0"},
       }) {
    StatusOr<ArchitectureSpaceSpec> bad = ParseArchitectureSpaceSpec(c.json, "f.json");
    ASSERT_FALSE(bad.ok()) << c.json;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(c.message)) << c.json;
  }
}

TEST(ArchitectureSpace, LoadNamesTheFileForImpossibleSpaces) {
  const std::string path = ::testing::TempDir() + "/arch_space_test.json";
  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"blocks": {"min": 3, "max": 1}})", ": blocks: needs 0 <= min <= max"},
           {R"({"blocks": {"op": ["conv3d"]}})", ": blocks.op: unknown op \"conv3d\""},
           {R"({"blocks": {"channels": [4, 4]}})", ": blocks.channels: lists a value twice"},
           {R"({"max_params": 10})", ": blocks: no architecture fits"},
           {R"({"blocks": {"max": 8, "channels": [1,2,3,4,5,6,7,8,9,10]}})",
            ": blocks: the space has 8.08421e+10 candidate"},
       }) {
    std::ofstream(path) << c.json;
    StatusOr<ArchitectureSpace> space = LoadArchitectureSpace(path);
    ASSERT_FALSE(space.ok()) << c.json;
    EXPECT_THAT(std::string(space.status().message()), HasSubstr(path + c.message)) << c.json;
  }
  std::ofstream(path) << R"({"name": "tiny", "blocks": {"channels": [8], "kernel": [3]}})";
  StatusOr<ArchitectureSpace> space = LoadArchitectureSpace(path);
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_EQ(space->name(), "tiny");
  EXPECT_EQ(space->size(), 3 * 3);
  std::remove(path.c_str());
  EXPECT_EQ(LoadArchitectureSpace(path).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(BuiltinArchitectureSpace("cifar").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sonar
