// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/config_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <unordered_set>
#include <vector>

#include "common/random.h"

namespace sonar {
namespace {

ConfigSpace MustMake(std::vector<Knob> knobs, std::vector<NamedConstraint> constraints = {}) {
  StatusOr<ConfigSpace> space = ConfigSpace::Make(std::move(knobs), std::move(constraints));
  EXPECT_TRUE(space.ok()) << space.status().ToString();
  return std::move(space).value();
}

// One knob of every kind: 10 * 6 * 3 * 4 * 2 = 1440 configs.
ConfigSpace EveryKindSpace(std::vector<NamedConstraint> constraints = {}) {
  return MustMake(
      {SplitKnob("tile", 8, 3), ReorderKnob("order", 3),
       ChoiceKnob("vec", {"none", "avx2", "avx512"}), IntKnob("unroll", 0, 3), BoolKnob("fast")},
      std::move(constraints));
}

int NumDifferent(const Config& a, const Config& b) {
  int n = 0;
  for (size_t k = 0; k < a.choice.size(); ++k) n += a.choice[k] != b.choice[k];
  return n;
}

TEST(ConfigSpace, IndexRoundTripsForEveryKnobKind) {
  ConfigSpace space = EveryKindSpace();
  ASSERT_EQ(space.raw_size(), 1440u);
  EXPECT_EQ(space.size(), 1440u);
  EXPECT_FALSE(space.is_listed());
  std::unordered_set<Config, ConfigHash> seen;
  for (uint64_t i = 0; i < space.size(); ++i) {
    const Config c = space.At(i);
    ASSERT_EQ(space.IndexOf(c), static_cast<int64_t>(i));
    EXPECT_TRUE(space.Satisfies(c));
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 1440u);
}

TEST(ConfigSpace, FirstKnobVariesFastestAsInAutoTvm) {
  ConfigSpace space = EveryKindSpace();
  EXPECT_EQ(space.At(0).choice, (std::vector<int32_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(space.At(1).choice, (std::vector<int32_t>{1, 0, 0, 0, 0}));
  EXPECT_EQ(space.At(10).choice, (std::vector<int32_t>{0, 1, 0, 0, 0}));
  // index = c0 + 10 * (c1 + 6 * (c2 + 3 * (c3 + 4 * c4)))
  const Config c{.choice = {7, 5, 2, 1, 1}};
  EXPECT_EQ(space.IndexOf(c), 7 + 10 * (5 + 6 * (2 + 3 * (1 + 4 * 1))));
  EXPECT_EQ(space.At(space.size() - 1).choice, (std::vector<int32_t>{9, 5, 2, 3, 1}));
}

TEST(ConfigSpace, IndexOfRejectsMalformedConfigs) {
  ConfigSpace space = EveryKindSpace();
  EXPECT_EQ(space.IndexOf(Config{.choice = {0, 0, 0, 0}}), -1);
  EXPECT_EQ(space.IndexOf(Config{.choice = {10, 0, 0, 0, 0}}), -1);
  EXPECT_EQ(space.IndexOf(Config{.choice = {0, 0, -1, 0, 0}}), -1);
  std::string why;
  EXPECT_FALSE(space.Satisfies(Config{.choice = {0}}, &why));
  EXPECT_EQ(why, "malformed");
}

TEST(ConfigSpace, RandomSpacesRoundTripIndices) {
  Rng rng = MakeRng(/*seed=*/42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<Knob> knobs;
    const int num_knobs = static_cast<int>(UniformInt(rng, 1, 6));
    for (int k = 0; k < num_knobs; ++k) {
      const std::string name = "k" + std::to_string(k);
      switch (UniformInt(rng, 0, 4)) {
        case 0: {
          // Two statements: argument evaluation order is unspecified, the draws' order is not.
          const int64_t extent = UniformInt(rng, 1, 256);
          const int parts = static_cast<int>(UniformInt(rng, 1, 4));
          knobs.push_back(SplitKnob(name, extent, parts));
          break;
        }
        case 1: knobs.push_back(ReorderKnob(name, static_cast<int>(UniformInt(rng, 1, 4)))); break;
        case 2: knobs.push_back(IntChoiceKnob(name, {3, 1, 4, 10})); break;
        case 3: knobs.push_back(IntKnob(name, -5, UniformInt(rng, -5, 50))); break;
        default: knobs.push_back(BoolKnob(name));
      }
    }
    ConfigSpace space = MustMake(knobs);
    uint64_t expected = 1;
    for (const Knob& knob : knobs) expected *= static_cast<uint64_t>(knob.size());
    ASSERT_EQ(space.raw_size(), expected);
    for (int i = 0; i < 200; ++i) {
      const uint64_t index =
          static_cast<uint64_t>(UniformInt(rng, 0, static_cast<int64_t>(space.raw_size()) - 1));
      const Config c = space.At(index);
      ASSERT_EQ(space.IndexOf(c), static_cast<int64_t>(index));
      StatusOr<Config> s = space.Sample(rng);
      ASSERT_TRUE(s.ok());
      ASSERT_EQ(space.At(static_cast<uint64_t>(space.IndexOf(*s))), *s);
    }
  }
}

// 31 knobs of 4 candidates: 2^62 configs. Anything that enumerated would never finish.
TEST(ConfigSpace, HugeSpaceSamplesAndRoundTripsWithoutEnumerating) {
  std::vector<Knob> knobs;
  for (int k = 0; k < 31; ++k) {
    knobs.push_back(k % 2 == 0 ? IntKnob("i" + std::to_string(k), 1, 4)
                               : ChoiceKnob("c" + std::to_string(k), {"a", "b", "c", "d"}));
  }
  ConfigSpace space = MustMake(
      knobs, {{"first_two_differ",
               [](const ConfigSpace&, const Config& c) { return c.choice[0] != c.choice[1]; }}});
  EXPECT_EQ(space.raw_size(), uint64_t{1} << 62);
  Rng rng = MakeRng(7);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t index = static_cast<uint64_t>(rng() >> 2);  // < 2^62
    ASSERT_EQ(space.IndexOf(space.At(index)), static_cast<int64_t>(index));
  }
  EXPECT_EQ(space.IndexOf(space.At(space.raw_size() - 1)),
            static_cast<int64_t>(space.raw_size() - 1));
  for (int i = 0; i < 100; ++i) {
    StatusOr<Config> c = space.Sample(rng);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_NE(c->choice[0], c->choice[1]);
    EXPECT_GE(space.IndexOf(*c), 0);
  }
  const Config c = *space.Sample(rng);
  const std::vector<Config> neighbors = space.Neighbors(c, 1);
  EXPECT_FALSE(neighbors.empty());
  for (const Config& n : neighbors) EXPECT_EQ(NumDifferent(c, n), 1);
}

TEST(ConfigSpace, RawSizeAboveTwoToTheSixtyThreeIsAnError) {
  std::vector<Knob> knobs;
  for (int k = 0; k < 63; ++k) knobs.push_back(BoolKnob("b" + std::to_string(k)));
  // 2^63 exceeds 2^63 - 1.
  StatusOr<ConfigSpace> space = ConfigSpace::Make(knobs);
  ASSERT_FALSE(space.ok());
  EXPECT_EQ(space.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(space.status().message().find("2^63-1"), std::string::npos);
  // 2^62 * 1.5 fits.
  knobs.pop_back();
  knobs.pop_back();
  knobs.push_back(IntKnob("three", 0, 2));
  ASSERT_TRUE(ConfigSpace::Make(knobs).ok());
  // 2^64 (and beyond) too.
  for (int k = 0; k < 5; ++k) knobs.push_back(IntKnob("w" + std::to_string(k), 0, 1000));
  EXPECT_FALSE(ConfigSpace::Make(knobs).ok());
}

TEST(ConfigSpace, MakeRejectsBadKnobsNamesAndConstraints) {
  StatusOr<ConfigSpace> bad_knob = ConfigSpace::Make({SplitKnob("tile", 0, 2)});
  ASSERT_FALSE(bad_knob.ok());
  EXPECT_NE(bad_knob.status().message().find("knob 'tile'"), std::string::npos);

  StatusOr<ConfigSpace> dup = ConfigSpace::Make({BoolKnob("a"), BoolKnob("a")});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("'a'"), std::string::npos);

  StatusOr<ConfigSpace> no_fn = ConfigSpace::Make({BoolKnob("a")}, {{"c", nullptr}});
  ASSERT_FALSE(no_fn.ok());
  EXPECT_NE(no_fn.status().message().find("no predicate"), std::string::npos);

  auto always = [](const ConfigSpace&, const Config&) { return true; };
  EXPECT_FALSE(ConfigSpace::Make({BoolKnob("a")}, {{"", always}}).ok());
  EXPECT_FALSE(ConfigSpace::Make({BoolKnob("a")}, {{"c", always}, {"c", always}}).ok());
}

TEST(ConfigSpace, EmptySpaceHasOneEmptyConfig) {
  ConfigSpace space;
  EXPECT_EQ(space.size(), 1u);
  EXPECT_EQ(space.At(0), Config{});
  EXPECT_EQ(space.IndexOf(Config{}), 0);
  Rng rng = MakeRng(1);
  ASSERT_TRUE(space.Sample(rng).ok());
  EXPECT_TRUE(space.Neighbors(Config{}, 2).empty());
  EXPECT_FALSE(space.RandomNeighbor(Config{}, rng).has_value());
}

TEST(ConfigSpace, SampleRespectsConstraints) {
  ConfigSpace space = EveryKindSpace(
      {{"inner_at_least_4",
        [](const ConfigSpace& s, const Config& c) {
          return s.knob(0).candidates[c.choice[0]][2] >= 4;
        }},
       {"fast", [](const ConfigSpace&, const Config& c) { return c.choice[4] == 1; }}});
  Rng rng = MakeRng(3);
  for (int i = 0; i < 300; ++i) {
    StatusOr<Config> c = space.Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_GE(space.knob(0).candidates[c->choice[0]][2], 4);
    EXPECT_EQ(c->choice[4], 1);
  }
  std::string why;
  EXPECT_FALSE(space.Satisfies(Config{.choice = {0, 0, 0, 0, 1}}, &why));
  EXPECT_EQ(why, "inner_at_least_4");
  EXPECT_FALSE(space.Satisfies(Config{.choice = {9, 0, 0, 0, 0}}, &why));
  EXPECT_EQ(why, "fast");
}

TEST(ConfigSpace, ImpossibleConstraintGivesAClearError) {
  ConfigSpace space =
      EveryKindSpace({{"never", [](const ConfigSpace&, const Config&) { return false; }}});
  Rng rng = MakeRng(5);
  StatusOr<Config> c = space.Sample(rng, /*max_tries=*/50);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("'never' (violated 50 times)"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("50 random tries"), std::string::npos);
}

TEST(ConfigSpace, SameSeedGivesSameSamples) {
  ConfigSpace space = EveryKindSpace();
  Rng a = MakeRng(11), b = MakeRng(11), c = MakeRng(12);
  std::vector<Config> sa, sb, sc;
  for (int i = 0; i < 50; ++i) {
    sa.push_back(*space.Sample(a));
    sb.push_back(*space.Sample(b));
    sc.push_back(*space.Sample(c));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(ConfigSpace, SampleIsRoughlyUniformPerKnob) {
  ConfigSpace space = MustMake({IntKnob("n", 1, 4)});
  Rng rng = MakeRng(2);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 4000; ++i) ++counts[space.Sample(rng)->choice[0]];
  for (int n : counts) EXPECT_NEAR(n, 1000, 150);
}

TEST(ConfigSpace, LogIntKnobSamplesLogUniformly) {
  ConfigSpace space = MustMake({IntKnob("n", 1, 1024, 1, /*log_scale=*/true)});
  Rng rng = MakeRng(4);
  int small = 0;
  for (int i = 0; i < 4000; ++i) {
    const int64_t v = space.knob(0).candidates[space.Sample(rng)->choice[0]][0];
    ASSERT_GE(v, 1);
    ASSERT_LE(v, 1024);
    small += v <= 32;
  }
  // log2 is uniform on [0, 10]: about half the values are <= 32 (uniform sampling: ~3%).
  EXPECT_NEAR(small, 2000, 200);
}

TEST(ConfigSpace, NeighborsMoveOrderedKnobsByOneAndOthersAnywhere) {
  ConfigSpace space = MustMake({IntKnob("n", 0, 9), ChoiceKnob("v", {"a", "b", "c"})});
  const Config c{.choice = {5, 1}};
  const std::vector<Config> one = space.Neighbors(c, 1);
  const std::vector<Config> expected_one = {
      {.choice = {4, 1}}, {.choice = {6, 1}}, {.choice = {5, 0}}, {.choice = {5, 2}}};
  EXPECT_EQ(one, expected_one);
  const std::vector<Config> two = space.Neighbors(c, 2);
  std::vector<Config> expected_two = expected_one;
  for (int32_t n : {4, 6}) {
    for (int32_t v : {0, 2}) expected_two.push_back({.choice = {n, v}});
  }
  EXPECT_EQ(two, expected_two);
  // At the edge an ordered knob has one neighbor.
  EXPECT_EQ(space.Neighbors(Config{.choice = {0, 0}}, 1).size(), 3u);
}

TEST(ConfigSpace, NeighborsAreValidDistinctAndExcludeTheInput) {
  ConfigSpace space = EveryKindSpace(
      {{"no_avx512", [](const ConfigSpace&, const Config& c) { return c.choice[2] != 2; }}});
  Rng rng = MakeRng(9);
  for (int trial = 0; trial < 20; ++trial) {
    const Config c = *space.Sample(rng);
    for (int k = 1; k <= 3; ++k) {
      const std::vector<Config> neighbors = space.Neighbors(c, k);
      std::set<std::vector<int32_t>> distinct;
      for (const Config& n : neighbors) {
        EXPECT_TRUE(space.Satisfies(n));
        EXPECT_NE(n, c);
        const int changed = NumDifferent(c, n);
        EXPECT_GE(changed, 1);
        EXPECT_LE(changed, k);
        for (int knob = 0; knob < space.num_knobs(); ++knob) {
          if (space.knob(knob).is_ordered()) {
            EXPECT_LE(std::abs(n.choice[knob] - c.choice[knob]), 1);
          }
        }
        distinct.insert(n.choice);
      }
      EXPECT_EQ(distinct.size(), neighbors.size());
      EXPECT_EQ(space.Neighbors(c, k), neighbors);  // deterministic
    }
  }
}

TEST(ConfigSpace, RandomNeighborChangesExactlyOneKnob) {
  ConfigSpace space = EveryKindSpace(
      {{"no_avx512", [](const ConfigSpace&, const Config& c) { return c.choice[2] != 2; }}});
  Rng rng = MakeRng(10);
  Config c = *space.Sample(rng);
  for (int i = 0; i < 200; ++i) {
    std::optional<Config> n = space.RandomNeighbor(c, rng);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(NumDifferent(c, *n), 1);
    EXPECT_TRUE(space.Satisfies(*n));
    c = *n;
  }
  ConfigSpace single =
      MustMake({IntKnob("n", 3, 3), BoolKnob("b")},
               {{"b_false", [](const ConfigSpace&, const Config& c) { return c.choice[1] == 0; }}});
  // The only move (b -> true) breaks the constraint.
  EXPECT_FALSE(single.RandomNeighbor(Config{.choice = {0, 0}}, rng).has_value());
}

TEST(ConfigSpace, ToStringNamesEveryKnob) {
  ConfigSpace space = EveryKindSpace();
  const Config c{.choice = {4, 1, 1, 3, 1}};
  EXPECT_EQ(space.ToString(c), "tile=[4,1,2] order=[0,2,1] vec=avx2 unroll=3 fast=true");
  EXPECT_EQ(space.ToString(Config{.choice = {0, 0, 0, 0, 9}}),
            "tile=[8,1,1] order=[0,1,2] vec=none unroll=0 fast=?9");
  EXPECT_EQ(space.ToString(Config{.choice = {1}}), "<malformed (1)>");
}

TEST(ConfigSpace, FindKnobByName) {
  ConfigSpace space = EveryKindSpace();
  EXPECT_EQ(space.FindKnob("tile"), 0);
  EXPECT_EQ(space.FindKnob("fast"), 4);
  EXPECT_EQ(space.FindKnob("nope"), -1);
  EXPECT_EQ(space.num_knobs(), 5);
  EXPECT_EQ(space.knobs().size(), 5u);
  EXPECT_EQ(space.knob(2).name, "vec");
}

TEST(ConfigSpace, ValuesRoundTripForEveryConfig) {
  ConfigSpace space =
      MustMake({SplitKnob("tile", 8, 3), ReorderKnob("order", 3),
                ChoiceKnob("vec", {"none", "avx2", "avx512"}),
                IntChoiceKnob("unroll", {0, 512, 1500}), IntKnob("n", 0, 3), BoolKnob("fast")});
  for (uint64_t i = 0; i < space.size(); ++i) {
    const Config c = space.At(i);
    std::vector<KnobValue> values = space.ToValues(c);
    ASSERT_EQ(values.size(), 6u);
    std::reverse(values.begin(), values.end());  // any order works
    StatusOr<Config> back = space.FromValues(values);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(*back, c);
  }
}

TEST(ConfigSpace, ToValuesWritesKnobValues) {
  ConfigSpace space = EveryKindSpace();
  const std::vector<KnobValue> values = space.ToValues(Config{.choice = {4, 1, 1, 3, 1}});
  EXPECT_EQ(values[0], (KnobValue{.name = "tile", .kind = KnobKind::kSplit, .ints = {4, 1, 2}}));
  EXPECT_EQ(values[1], (KnobValue{.name = "order", .kind = KnobKind::kReorder, .ints = {0, 2, 1}}));
  EXPECT_EQ(values[2], (KnobValue{.name = "vec", .kind = KnobKind::kChoice, .strings = {"avx2"}}));
  EXPECT_EQ(values[3], (KnobValue{.name = "unroll", .kind = KnobKind::kInt, .ints = {3}}));
  EXPECT_EQ(values[4], (KnobValue{.name = "fast", .kind = KnobKind::kBool, .ints = {1}}));
}

TEST(ConfigSpace, FromValuesAcceptsMinusOneOuterFactor) {
  ConfigSpace space = MustMake(
      {SplitKnob("tile", 512, 3), SplitKnob("tail", 6, 2, {.policy = SplitPolicy::kPower2})});
  StatusOr<Config> c =
      space.FromValues({{.name = "tile", .kind = KnobKind::kSplit, .ints = {-1, 8, 4}},
                        {.name = "tail", .kind = KnobKind::kSplit, .ints = {-1, 4}}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(space.knob(0).candidates[c->choice[0]], (std::vector<int64_t>{16, 8, 4}));
  EXPECT_EQ(space.knob(1).candidates[c->choice[1]], (std::vector<int64_t>{2, 4}));
  // The explicit outer works too, and ToValues writes it.
  StatusOr<Config> same =
      space.FromValues({{.name = "tile", .kind = KnobKind::kSplit, .ints = {16, 8, 4}},
                        {.name = "tail", .kind = KnobKind::kSplit, .ints = {2, 4}}});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *c);
  EXPECT_EQ(space.ToValues(*c)[0].ints, (std::vector<int64_t>{16, 8, 4}));
  // A wrong explicit outer does not match.
  EXPECT_FALSE(space
                   .FromValues({{.name = "tile", .kind = KnobKind::kSplit, .ints = {15, 8, 4}},
                                {.name = "tail", .kind = KnobKind::kSplit, .ints = {2, 4}}})
                   .ok());
}

TEST(ConfigSpace, FromValuesErrorsNameTheKnobAndValue) {
  ConfigSpace space = EveryKindSpace();
  std::vector<KnobValue> good = space.ToValues(space.At(0));
  auto expect_error = [&](std::vector<KnobValue> values, const std::string& part) {
    StatusOr<Config> c = space.FromValues(values);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(part), std::string::npos) << c.status().message();
  };
  {
    auto v = good;
    v[0].ints = {-1, 3, 3};
    expect_error(v, "knob 'tile' has no candidate matching ints=[-1,3,3]");
  }
  {
    auto v = good;
    v[2].strings = {"sse"};
    expect_error(v, "knob 'vec' has no candidate matching ints=[] strings=[\"sse\"]");
  }
  {
    auto v = good;
    v[3].kind = KnobKind::kChoice;
    expect_error(v, "knob 'unroll' is a int knob but the value is of kind choice");
  }
  {
    auto v = good;
    v[1].name = "ordr";
    expect_error(v, "unknown knob 'ordr'");
  }
  {
    auto v = good;
    v.pop_back();
    expect_error(v, "no value for knob 'fast'");
  }
  {
    auto v = good;
    v.push_back(good[0]);
    expect_error(v, "knob 'tile' has two values");
  }
}

TEST(ConfigSpace, ListedSpaceIndexIsABijectionOverMembers) {
  const std::vector<Knob> knobs = {SplitKnob("tile", 8, 2), BoolKnob("fast")};
  const std::vector<Config> members = {
      {.choice = {3, 1}}, {.choice = {0, 0}}, {.choice = {2, 1}}, {.choice = {1, 0}}};
  StatusOr<ConfigSpace> space = ConfigSpace::MakeListed(knobs, members);
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_TRUE(space->is_listed());
  EXPECT_EQ(space->size(), 4u);
  EXPECT_EQ(space->raw_size(), 8u);
  for (uint64_t i = 0; i < space->size(); ++i) {
    EXPECT_EQ(space->At(i), members[i]);
    EXPECT_EQ(space->IndexOf(members[i]), static_cast<int64_t>(i));
  }
  EXPECT_EQ(space->IndexOf(Config{.choice = {3, 0}}), -1);
  std::string why;
  EXPECT_FALSE(space->Satisfies(Config{.choice = {3, 0}}, &why));
  EXPECT_EQ(why, "not a member");
}

TEST(ConfigSpace, ListedSpaceRejectsDuplicatesAndMalformedMembers) {
  const std::vector<Knob> knobs = {SplitKnob("tile", 8, 2), BoolKnob("fast")};
  StatusOr<ConfigSpace> dup =
      ConfigSpace::MakeListed(knobs, {{.choice = {3, 1}}, {.choice = {0, 0}}, {.choice = {3, 1}}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("member 2 (tile=[1,8] fast=true) duplicates member 0"),
            std::string::npos)
      << dup.status().message();
  EXPECT_FALSE(ConfigSpace::MakeListed(knobs, {{.choice = {4, 0}}}).ok());
  EXPECT_FALSE(ConfigSpace::MakeListed(knobs, {{.choice = {0}}}).ok());
  EXPECT_FALSE(ConfigSpace::MakeListed(knobs, {}).ok());
}

TEST(ConfigSpace, ListedSpaceSamplesAndNeighborsStayInside) {
  const std::vector<Knob> knobs = {IntKnob("n", 0, 9), ChoiceKnob("v", {"a", "b", "c"})};
  std::vector<Config> members;
  for (int32_t n = 0; n < 10; n += 2) {
    for (int32_t v = 0; v < 3; ++v) members.push_back({.choice = {n, v}});
  }
  members.push_back({.choice = {5, 1}});
  StatusOr<ConfigSpace> space = ConfigSpace::MakeListed(
      knobs, members,
      {{"not_c", [](const ConfigSpace&, const Config& c) { return c.choice[1] != 2; }}});
  ASSERT_TRUE(space.ok());
  std::unordered_set<Config, ConfigHash> member_set(members.begin(), members.end());
  Rng rng = MakeRng(6);
  std::set<std::vector<int32_t>> sampled;
  for (int i = 0; i < 500; ++i) {
    StatusOr<Config> c = space->Sample(rng);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(member_set.count(*c));
    EXPECT_NE(c->choice[1], 2);
    sampled.insert(c->choice);
  }
  EXPECT_EQ(sampled.size(), 11u);  // every valid member (5 * 2 + 1) shows up

  // {5,1}: n moves to 4 or 6 (members); v may not move alone ({5,0} and {5,2} are not
  // members); with two changes v = 2 breaks "not_c".
  const Config c{.choice = {5, 1}};
  EXPECT_EQ(space->Neighbors(c, 1), (std::vector<Config>{{.choice = {4, 1}}, {.choice = {6, 1}}}));
  EXPECT_EQ(space->Neighbors(c, 2),
            (std::vector<Config>{
                {.choice = {4, 1}}, {.choice = {6, 1}}, {.choice = {4, 0}}, {.choice = {6, 0}}}));
  for (const Config& n : space->Neighbors(Config{.choice = {4, 0}}, 2)) {
    EXPECT_TRUE(member_set.count(n));
    EXPECT_TRUE(space->Satisfies(n));
  }
  for (int i = 0; i < 50; ++i) {
    std::optional<Config> n = space->RandomNeighbor(Config{.choice = {4, 0}}, rng);
    ASSERT_TRUE(n.has_value());
    EXPECT_TRUE(member_set.count(*n));
  }
  // FromValues refuses a well-formed non-member.
  StatusOr<Config> outside =
      space->FromValues({{.name = "n", .kind = KnobKind::kInt, .ints = {3}},
                         {.name = "v", .kind = KnobKind::kChoice, .strings = {"a"}}});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.status().code(), StatusCode::kNotFound);
}

TEST(ConfigSpace, ListedSpaceWithNoValidMemberFailsSampleClearly) {
  StatusOr<ConfigSpace> space =
      ConfigSpace::MakeListed({BoolKnob("b")}, {{.choice = {0}}, {.choice = {1}}},
                              {{"never", [](const ConfigSpace&, const Config&) { return false; }}});
  ASSERT_TRUE(space.ok());
  Rng rng = MakeRng(1);
  StatusOr<Config> c = space->Sample(rng);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("none of the 2 members"), std::string::npos);
  EXPECT_NE(c.status().message().find("'never'"), std::string::npos);
}

TEST(ConfigSpace, CopiesShareNothingAndKeepConstraints) {
  ConfigSpace space = EveryKindSpace(
      {{"fast", [](const ConfigSpace&, const Config& c) { return c.choice[4] == 1; }}});
  ConfigSpace copy = space;
  EXPECT_FALSE(copy.Satisfies(Config{.choice = {0, 0, 0, 0, 0}}));
  EXPECT_TRUE(copy.Satisfies(Config{.choice = {0, 0, 0, 0, 1}}));
  EXPECT_EQ(copy.raw_size(), space.raw_size());
}

}  // namespace
}  // namespace sonar
