// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/user_kernel.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "measure/measurer.h"

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

const std::string kKernels = std::string(SONAR_SOURCE_DIR) + "/tests/measure/kernels/";
const std::string kExample = std::string(SONAR_SOURCE_DIR) + "/examples/user_kernel/";

std::string TempCache() { return testing::ProcessScratchDir(); }

MeasureOptions Fast() {
  MeasureOptions o;
  o.warmup = 0;
  o.repeat = 3;
  o.min_repeat_ms = 1;
  o.max_remeasure = 0;
  o.compiler_flags = {"-O2"};
  o.cache_dir = TempCache();
  return o;
}

TEST(UserKernel, SpaceJsonBuildsTheSpaceAndTheReference) {
  std::vector<KnobValue> ref;
  StatusOr<ConfigSpace> s = ParseSpaceJson(R"json({
    "knobs": [{"name": "B", "kind": "int", "range": [1, 8]},
              {"name": "U", "kind": "choice", "values": [1, 2, 4]},
              {"name": "L", "kind": "choice", "values": ["a", "b"]},
              {"name": "F", "kind": "bool"},
              {"name": "T", "kind": "split", "extent": 16, "parts": 2},
              {"name": "O", "kind": "reorder", "axes": 2}],
    "constraints": ["B % U == 0 && T_1 <= 8", "!(F && O_0 == 1)"],
    "reference": {"B": 4, "U": 2, "L": "b", "F": false, "T": [2, 8], "O": [1, 0]}})json",
                                           "t.json", &ref);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_knobs(), 6);
  EXPECT_EQ(ref.size(), 6u);
  StatusOr<Config> c = s->FromValues(ref);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(s->Satisfies(*c));
  std::vector<std::string> d = UserKernelDefines(*s, *c);
  EXPECT_EQ(d, (std::vector<std::string>{"-DB=4", "-DU=2", "-DL=b", "-DF=0", "-DT_0=2", "-DT_1=8",
                                         "-DO_0=1", "-DO_1=0"}));
  // B = 3, U = 2 violates B % U == 0.
  Config bad = *c;
  bad.choice[0] = 2;
  EXPECT_FALSE(s->Satisfies(bad));
}

TEST(UserKernel, MalformedSpaceJsonNamesTheLineOrTheField) {
  auto err = [](const char* text) {
    StatusOr<ConfigSpace> s = ParseSpaceJson(text, "S.json", nullptr);
    return s.ok() ? std::string("ok") : s.status().message();
  };
  EXPECT_NE(err("{\n  \"knobs\": [\n  {,}\n]}").find("S.json:3:"), std::string::npos)
      << err("{\n  \"knobs\": [\n  {,}\n]}");
  EXPECT_NE(err(R"({"knobs": [{"name": "A", "kind": "int"}]})").find("knobs[0]"),
            std::string::npos);
  EXPECT_NE(err(R"({"knobs": [{"name": "A", "kind": "float"}]})").find("knobs[0].kind"),
            std::string::npos);
  EXPECT_NE(err(R"({"knobs": [{"name": "A B", "kind": "bool"}]})").find("knobs[0].name"),
            std::string::npos);
  EXPECT_NE(err(R"({"knobs": [{"name": "A", "kind": "bool"}], "constraints": ["A + "]})")
                .find("constraints[0]"),
            std::string::npos);
  EXPECT_NE(err(R"({"knobs": [{"name": "A", "kind": "bool"}], "constraints": ["Z > 1"]})")
                .find("unknown name 'Z'"),
            std::string::npos);
  EXPECT_NE(err(R"({"knobs": [{"name": "A", "kind": "bool"}], "reference": {"Q": 1}})")
                .find("reference.Q"),
            std::string::npos);
  EXPECT_NE(err(R"({"knob": []})").find("unknown field 'knob'"), std::string::npos);
  EXPECT_EQ(MakeUserKernelTask("/nonexistent.cc", kExample + "SPACE.json").status().code(),
            StatusCode::kNotFound);
}

TEST(UserKernel, TheDocumentedExampleMeasuresOk) {
  StatusOr<UserKernel> k = LoadUserKernel(kExample + "matmul.cc", kExample + "SPACE.json");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->task.op, "user");
  EXPECT_TRUE(k->task.shape.empty());
  EXPECT_EQ(UserKernelPath(k->task), k->kernel_path);
  MeasureOptions o = Fast();
  o.reference_values = k->reference;
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok());
  Rng rng = MakeRng(5);
  StatusOr<Config> c = k->task.space.Sample(rng);
  ASSERT_TRUE(c.ok());
  std::vector<MeasureResult> r = (*m)->Measure(k->task, {*c});
  ASSERT_EQ(r[0].status, MeasureStatus::kOk) << r[0].error_msg;
  EXPECT_GT(r[0].reference_seconds, 0);
}

TEST(UserKernel, WrongOutputIsCheckedAgainstTheFirstConfig) {
  StatusOr<UserKernel> k =
      LoadUserKernel(kKernels + "wrong_output.cc", kKernels + "wrong_output_space.json");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  auto m = MakeLocalMeasurer(Fast());  // reference: the first config (STEP=1, BUG=0)
  ASSERT_TRUE(m.ok());
  const ConfigSpace& s = k->task.space;
  // Knob order: STEP (values 1, 4, 16), BUG (false, true).
  std::vector<MeasureResult> r =
      (*m)->Measure(k->task, {Config{{2, 0}}, Config{{1, 1}}, Config{{0, 0}}});
  EXPECT_EQ(r[0].status, MeasureStatus::kOk) << s.ToString(Config{{2, 0}}) << r[0].error_msg;
  EXPECT_EQ(r[1].status, MeasureStatus::kWrongAnswer) << r[1].error_msg;
  EXPECT_NE(r[1].error_msg.find("first config"), std::string::npos) << r[1].error_msg;
  EXPECT_EQ(r[2].status, MeasureStatus::kOk) << r[2].error_msg;
}

}  // namespace
}  // namespace sonar
