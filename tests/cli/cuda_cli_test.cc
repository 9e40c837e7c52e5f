// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The GPU flags of sonar measure, tune, compare and hw describe (docs/cuda.md): usage errors are
// exit 2 naming the flag; no GPU is exit 1 with a clear message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/cli_runner.h"
#include "tests/testing/cuda.h"

namespace sonar {
namespace {

using testing::CliResult;
using testing::RunSonar;
using testing::ScratchDir;

TEST(CudaCli, BadGpuFlagsAreUsageErrors) {
  ScratchDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"measure", "--op", "dense", "--shape", "64,64,64", "--sample", "1", "--backend", "opencl"},
       "--backend"},
      {{"measure", "--op", "dense", "--shape", "64,64,64", "--sample", "1", "--device", "-1"},
       "--device"},
      {{"measure", "--op", "dense", "--shape", "64,64,64", "--sample", "1", "--backend", "cpu",
        "--device", "0"},
       "--backend cpu contradicts"},
      {{"measure", "--op", "depthwise_conv2d", "--shape", "1,8,8,8,3,3,1,1", "--sample", "1",
        "--backend", "cuda"},
       "--op: unknown GPU operator"},
      {{"measure", "--op", "conv2d", "--shape", "64,64", "--sample", "1", "--device", "0"},
       "--shape"},
      {{"measure", "--op", "dense", "--shape", "64,64,64", "--sample", "1", "--arch", "sm 90"},
       "arch"},
      {{"tune", "--replay", "x.sonar", "--device", "0"}, "--replay"},
      {{"compare", "--replay", "x.sonar", "--device", "0"}, "need --op"},
      {{"hw", "describe", "--device", "-2"}, "--device"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunSonar(c.args, dir);
    std::string line;
    for (const std::string& a : c.args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << line << "\n" << r.err;
  }
}

TEST(CudaCli, WithoutAGpuTheCommandsFailClearly) {
  if (testing::GpuUnavailableReason().empty()) GTEST_SKIP() << "this machine has a GPU";
  ScratchDir dir;
  const std::vector<std::vector<std::string>> commands = {
      {"hw", "describe", "--device", "0"},
      {"measure", "--op", "dense", "--shape", "64,64,64", "--sample", "1", "--backend", "cuda"},
      {"tune", "--op", "conv2d", "--shape", "64,64,3,3", "--device", "0", "--trials", "2",
       "--records", dir.File("t.sonar")},
      {"compare", "--op", "dense", "--shape", "64,64,64", "--device", "0", "--seeds", "1"},
  };
  for (const auto& args : commands) {
    const CliResult r = RunSonar(args, dir);
    EXPECT_EQ(r.exit_code, 1) << args[0] << "\n" << r.err;
    EXPECT_TRUE(r.err.find("no usable CUDA device 0") != std::string::npos ||
                r.err.find("nvcc") != std::string::npos)
        << args[0] << "\n"
        << r.err;
  }
}

TEST(CudaCli, HwDescribeDeviceDescribesTheGpu) {
  SONAR_REQUIRE_GPU();
  ScratchDir dir;
  const CliResult r = RunSonar({"hw", "describe", "--device", "0", "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cuda_sm_count"), std::string::npos);
  EXPECT_NE(r.out.find("probe_gpu_bandwidth_gbs"), std::string::npos);
}

}  // namespace
}  // namespace sonar
