// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// One rule for every command (issue 17): exit 2 when the command line is wrong, the values of
// flags included, with a message that names the user's flag; exit 1 when the work fails; and a
// command that fails before doing work leaves no new file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/cli_runner.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::CliResult;
using testing::RunSonar;
using testing::ScratchDir;
using testing::WriteFile;

struct Case {
  std::vector<std::string> args;  // "@/" is replaced by the scratch directory
  int exit_code;
  std::string says;  // a substring of stderr
};

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != "stdout.txt" && name != "stderr.txt") out.insert(name);
  }
  return out;
}

TEST(CliExitCodes, OneRuleForEveryCommand) {
  ScratchDir dir;
  const std::string kt =
      std::string(SONAR_SHARED_DIR) + "/datasets/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz";
  WriteFile(dir.File("garbage.bin"), std::string("\x01\x02not a log\xff", 13));
  WriteFile(dir.File("tvm.log"),
            "{\"input\": [\"llvm\", \"dense\", [[\"TENSOR\", [1, 8], \"float32\"]], {}], "
            "\"config\": {\"index\": 1, \"code_hash\": null, \"entity\": [[\"tile_x\", \"sp\", "
            "[-1, 2]]]}, \"result\": [[0.001], 0, 0.1, 1600000000.0], \"version\": 0.2, "
            "\"tvm_version\": \"0.8\"}\n");
  const std::vector<Case> cases = {
      // The program itself.
      {{"bogus"}, 2, "unknown command 'bogus'"},
      {{"--bogus-flag"}, 2, "bogus-flag"},
      // tune
      {{"tune", "--op", "dense", "--shape", "1,2", "--records", "@/t.sonar"}, 2, "--shape"},
      {{"tune", "--op", "matmul", "--shape", "1,2,3", "--records", "@/t.sonar"}, 2, "--op"},
      {{"tune", "--op", "dense", "--shape", "8,x,8", "--records", "@/t.sonar"}, 2, "--shape"},
      {{"tune", "--op", "dense", "--shape", "8,8,8", "--tuner", "xgb"}, 2, "--tuner"},
      {{"tune", "--op", "dense", "--shape", "8,8,8", "--trials", "-5", "--records", "@/t.sonar"},
       2,
       "--trials"},
      {{"tune", "--op", "dense", "--shape", "8,8,8", "--batch", "0", "--records", "@/t.sonar"},
       2,
       "--batch"},
      {{"tune", "--op", "dense", "--shape", "8,8,8", "--early-stop", "-3", "--records",
        "@/t.sonar"},
       2,
       "--early-stop"},
      {{"tune", "--replay", kt, "--min-gain", "0.01", "--records", "@/t.sonar"},
       2,
       "--gain-window"},
      {{"tune", "--replay", kt, "--tuner", "random", "--transfer-from", kt, "--records",
        "@/t.sonar"},
       2,
       "--transfer-from"},
      {{"tune", "--replay", kt, "--tuner", "transfer-bo", "--records", "@/t.sonar"},
       2,
       "--transfer-from"},
      {{"tune", "--op", "dense", "--shape", "8,8,8", "--records", "@/no/such/dir/t.sonar"},
       1,
       "directory"},
      {{"tune", "--replay", "@/missing.log", "--records", "@/t.sonar"}, 1, "missing.log"},
      // compare
      {{"compare", "--op", "dense", "--shape", "1,2"}, 2, "--shape"},
      {{"compare", "--replay", kt, "--tuners", "transfer-bo"}, 2, "--transfer-from"},
      {{"compare", "--replay", kt, "--tuners", "random", "--transfer-from", kt},
       2,
       "--transfer-from"},
      {{"compare", "--replay", kt, "--seeds", "0"}, 2, "--seeds"},
      {{"compare", "--replay", kt, "--tuners", "xgb"}, 2, "xgb"},
      // measure
      {{"measure", "--op", "dense", "--shape", "1,2", "--sample", "1"}, 2, "--shape"},
      {{"measure", "--op", "dense", "--shape", "8,8,8", "--sample", "1", "--repeat", "-2"},
       2,
       "--repeat"},
      // import, export, records
      {{"import", "@/garbage.bin", "--out", "@/g.sonar"}, 1, "--format"},
      {{"import", "@/missing.log", "--out", "@/g.sonar"}, 1, "missing.log"},
      {{"import", "@/tvm.log", "--out", "@/g.sonar", "--format", "bogus"}, 2, "--format"},
      {{"export", "@/tvm.log", "--format", "bogus", "--out", "@/e.log"}, 2, "--format"},
      {{"records", "stats", "@/garbage.bin"}, 1, "neither a record log"},
      {{"records", "bogus"}, 2, "bogus"},
      // hw, latency, search
      {{"hw", "describe", "--repeats", "-1"}, 2, "--repeats"},
      {{"latency", "train", "--data", "@/x.csv", "--space", "nasbench201", "--epochs", "-1",
        "--out", "@/m.json"},
       2,
       "--epochs"},
      {{"latency", "eval", "--data", "@/x.csv", "--space", "nasbench201", "--test-devices", "a",
        "--repeats", "0"},
       2,
       "--repeats"},
      {{"latency", "predict", "--model", "@/missing.json", "--arch", "x"}, 1, "missing.json"},
      {{"search", "--architectures", "-1", "--records", "@/s.sonar"}, 2, "--architectures"},
      {{"search", "--space", "no-such-space", "--records", "@/s.sonar"}, 2, "no-such-space"},
      // Found by a review as a new user: outputs, flag values that reached internal names,
      // --workload that matches nothing, inputs checked before any work.
      {{"latency", "train", "--data", "@/x.csv", "--space", "nasbench201", "--out",
        "@/existing.txt"},
       2,
       "--force"},
      {{"latency", "train", "--data", "@/x.csv", "--space", "nasbench201", "--out",
        "@/no/dir/m.json"},
       2,
       "does not exist"},
      {{"latency", "train", "--data", "@/x.csv", "--space", "nasbench201", "--hidden", "0", "--out",
        "@/m.json"},
       2,
       "--hidden"},
      {{"latency", "train", "--data", "@/x.csv", "--space", "nasbench201", "--ensemble", "100",
        "--out", "@/m.json"},
       2,
       "--ensemble"},
      {{"latency", "adapt", "--model", "@/missing.json", "--samples", "@/x.csv", "--out",
        "@/existing.txt"},
       2,
       "--force"},
      {{"latency", "eval", "--data", "@/x.csv", "--space", "nasbench201", "--test-devices", "a",
        "--markdown", "@/existing.txt"},
       2,
       "--force"},
      {{"latency", "eval", "--data", "@/x.csv", "--space", "nasbench201", "--test-devices", ""},
       2,
       "--test-devices"},
      {{"latency", "eval", "--data", "@/x.csv", "--space", "nasbench201", "--test-devices", "a",
        "--shots", ""},
       2,
       "--shots"},
      {{"measure", "--op", "dense", "--shape", "8,8,8", "--sample", "1", "--compiler", ""},
       2,
       "--compiler"},
      {{"compare", "--replay", kt, "--tuners", ""}, 2, "--tuners"},
      {{"compare", "--op", "dense", "--shape", "8,8,8", "--stop-within", "5"}, 2, "--stop-within"},
      {{"compare", "--replay", kt, "--out", "@/existing.txt"}, 2, "--out"},
      {{"tune", "--replay", kt, "--workload", "nope", "--records", "@/t.sonar"}, 2, "--workload"},
      {{"tune", "--replay", kt, "--seed", "-1", "--records", "@/t.sonar"}, 2, "--seed"},
      {{"tune", "--replay", kt, "--min-gain", "1.5", "--gain-window", "5", "--records",
        "@/t.sonar"},
       2,
       "--min-gain"},
      {{"records", "stats", "@/tvm.log", "--workload", "nope"}, 2, "--workload"},
      {{"records", "best", "@/tvm.log", "--workload", "nope"}, 2, "--workload"},
      {{"records", "dump", "@/tvm.log", "--workload", "nope"}, 2, "--workload"},
      {{"export", "@/tvm.log", "--format", "autotvm", "--out", "@/e.log", "--workload", "nope"},
       2,
       "--workload"},
      {{"export", "@/tvm.log", "--format", "autotvm", "--out", ""}, 2, "--out"},
      {{"import", "@/tvm.log", "--out", ""}, 2, "--out"},
      {{"import", "@/tvm.log", "@/missing.log", "--out", "@/g.sonar"}, 1, "nothing was imported"},
      {{"search", "--train-command", "/no/such/trainer", "--records", "@/s.sonar"},
       2,
       "--train-command"},
      {{"search", "--out", "@/existing.txt", "--records", "@/s.sonar"}, 2, "--out"},
      {{"search", "--space", "@/no/such/space.json", "--records", "@/s.sonar"}, 1, "no such file"},
      {{"search", "--layer-tuner", "rgpe", "--records", "@/s.sonar"}, 2, "--transfer-from"},
      {{"search", "--replay", "@/tvm.log", "--train-command", "python3"}, 2, "--train-command"},
      // Flags a run would ignore are refused with the flag that makes them ignored.
      {{"tune", "--replay", kt, "--shape", "8,8,8", "--records", "@/t.sonar"}, 2, "--shape"},
      {{"measure", "--op", "dense", "--shape", "8,8,8", "--space", "@/x.json", "--sample", "1"},
       2,
       "--space"},
      {{"hw", "describe", "--no-probes", "--repeats", "5"}, 2, "--repeats"},
      {{"import", "@/tvm.log", "--format", "ansor", "--out", "@/g.sonar"}, 1, "--format ansor"},
      {{"latency", "predict", "--model", "@/missing.json", "--arch", "x"}, 1, "missing.json"},
      // emit
      {{"emit", "--records", "@/tvm.log", "--out", "@/o"}, 2, "--workload W"},
      {{"emit", "--records", "@/tvm.log", "--all", "--workload", "dense", "--out", "@/o"},
       2,
       "--workload W"},
      {{"emit", "--records", "@/tvm.log", "--workload", "nope", "--out", "@/o"}, 2, "--workload"},
      {{"emit", "--records", "@/tvm.log", "--all", "--out", "@/existing.txt"}, 2, "--out"},
      {{"emit", "--records", "@/tvm.log", "--all", "--out", "@/o", "--namespace", "9x"},
       2,
       "--namespace"},
      {{"emit", "--records", "@/tvm.log", "--all", "--out", "@/o"}, 1, "nothing to emit"},
      {{"emit", "--records", "@/missing.sonar", "--all", "--out", "@/o"}, 1, "cannot read"},
      {{"emit", "--records", "@/tvm.log", "--workload", "dense", "--out", "@/o"},
       1,
       "cannot emit workload"},
      {{"search", "--replay", "@/tvm.log", "--emit", "@/o"}, 2, "--emit"},
  };
  WriteFile(dir.File("existing.txt"), "a file of the user's\n");
  const std::set<std::string> before = Entries(dir.File(""));
  for (const Case& c : cases) {
    std::vector<std::string> args;
    std::string line;
    for (std::string a : c.args) {
      if (a.rfind("@/", 0) == 0) a = dir.File(a.substr(2));
      line += a + " ";
      args.push_back(a);
    }
    const CliResult r = RunSonar(args, dir);
    EXPECT_EQ(r.exit_code, c.exit_code) << "sonar " << line << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << "sonar " << line << "\n" << r.err;
    // No message names an internal struct (TuneOptions::max_trials and the like).
    EXPECT_EQ(r.err.find("Options::"), std::string::npos) << "sonar " << line << "\n" << r.err;
    EXPECT_EQ(r.err.find("Options."), std::string::npos) << "sonar " << line << "\n" << r.err;
    EXPECT_EQ(Entries(dir.File("")), before) << "sonar " << line << " left a file behind";
  }
  EXPECT_EQ(testing::ReadFile(dir.File("existing.txt")), "a file of the user's\n");
}

TEST(CliExitCodes, VersionPrintsTheVersion) {
  ScratchDir dir;
  const CliResult r = RunSonar({"--version"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("sonar ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace sonar
