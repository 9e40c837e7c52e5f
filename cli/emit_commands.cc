// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// `sonar emit`: the best config of each tuned workload as code a user's program compiles
// (measure/emit/emit.h, docs/emit.md).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "cli/commands.h"
#include "measure/emit/emit.h"
#include "measure/hardware.h"

namespace sonar {
namespace cli {
namespace {

using Json = nlohmann::json;

struct EmitArgs {
  std::string records;
  std::string workload;
  bool all = false;
  std::string out;
  std::string name_space = "sonar_tuned";
  bool force = false;
  bool json = false;
};

int RunEmit(const EmitArgs& a) {
  if (a.all == !a.workload.empty()) {
    return UsageError("emit", "pass either --workload W (one workload) or --all (every one)");
  }
  if (Status s = CheckOutputDirectory("--out", a.out); !s.ok()) {
    return UsageError("emit", s.message());
  }
  EmitOptions options{.out_dir = a.out,
                      .force = a.force,
                      .name_space = a.name_space,
                      .source_log = a.records,
                      .preferred_target = ThisMachineTarget()};
  if (Status s = options.Validate(); !s.ok()) return UsageError("emit", s.message());
  std::vector<std::string> only_failed;
  StatusOr<std::vector<BestConfig>> best = BestConfigs(a.records, a.workload, &only_failed);
  if (!best.ok()) {
    if (best.status().message().rfind("--", 0) == 0) {
      return UsageError("emit", best.status().message());
    }
    return Fail(best.status());
  }
  StatusOr<EmitSummary> summary = EmitTunedKernels(*best, options, /*skip_unusable=*/a.all);
  if (!summary.ok()) {
    if (summary.status().message().rfind("--", 0) == 0) {
      return UsageError("emit", summary.status().message());
    }
    return Fail(summary.status());
  }
  std::vector<std::string> skipped = summary->skipped;
  for (const std::string& s : only_failed) skipped.push_back(s);
  for (const std::string& s : skipped) {
    std::fprintf(stderr, "sonar emit: left out %s\n", s.c_str());
  }
  // Files of an earlier emit into this directory that this one did not write: a build that
  // compiles DIR/*.cc would compile them too.
  std::set<std::string> written(summary->files.begin(), summary->files.end());
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(a.out, ec)) {
    const std::string p = e.path().string();
    if (e.path().extension() == ".cc" && !written.count(p)) {
      std::fprintf(stderr,
                   "sonar emit: note: %s was not written by this emit (an earlier one?); a build "
                   "of %s/*.cc compiles it too\n",
                   p.c_str(), a.out.c_str());
    }
  }
  if (a.json) {
    Json w = Json::array();
    for (const EmittedWorkload& e : summary->workloads) {
      w.push_back(
          {{"name", e.name}, {"kind", e.kind}, {"file", e.file}, {"seconds", e.cost_seconds}});
    }
    std::cout << Json({{"out", a.out},
                       {"workloads", w},
                       {"files", summary->files},
                       {"skipped", skipped},
                       {"compile_flags", kEmittedCompileFlags}})
                     .dump()
              << std::endl;
    return kExitOk;
  }
  for (const EmittedWorkload& e : summary->workloads) {
    std::printf("%-40s %-9s %.6g s  %s/%s\n", e.name.c_str(), e.kind.c_str(), e.cost_seconds,
                a.out.c_str(), e.file.c_str());
  }
  std::printf("wrote %zu files into %s", summary->files.size(), a.out.c_str());
  if (!skipped.empty()) {
    std::printf(" (%zu workload%s left out, listed on stderr)", skipped.size(),
                skipped.size() == 1 ? "" : "s");
  }
  std::printf("\n");
  bool kernels = false;
  for (const EmittedWorkload& e : summary->workloads) kernels = kernels || e.kind == "kernel";
  if (kernels) {
    std::printf(
        "compile with: c++ %s -I%s -c %s/*.cc, then use %s::Layer from %s/sonar_tuned.h "
        "(docs/emit.md)\n",
        kEmittedCompileFlags, a.out.c_str(), a.out.c_str(), a.name_space.c_str(), a.out.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterEmitCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<EmitArgs>();
  CLI::App* emit = app.add_subcommand(
      "emit",
      "Write the best config of tuned workloads as code: built-in operators as C++ kernels with "
      "a dispatch by shape, user kernels as a header of their -D values, all as JSON.");
  emit->add_option("--records", a->records,
                   "Record log (or any history file Sonar reads) with the tuning results")
      ->required();
  emit->add_option("--workload", a->workload,
                   "The workloads to emit: a 16-digit hex key (one workload), a task name or an "
                   "op (every workload of it)");
  emit->add_flag("--all", a->all,
                 "Emit every workload with a successful record; those that cannot be emitted "
                 "(another tool's templates) are listed on stderr");
  emit->add_option("--out", a->out,
                   "Directory to write into (created when missing): sonar_tuned.h, "
                   "sonar_tuned.cc, one NAME.cc per kernel, NAME_config.h per user kernel, "
                   "best_configs.json")
      ->required();
  emit->add_option("--namespace", a->name_space, "C++ namespace of the emitted code")
      ->capture_default_str();
  emit->add_flag("--force", a->force, "Replace files of those names in --out");
  emit->add_flag("--json", a->json, "Print one JSON object on stdout");
  emit->footer(
      "Examples:\n"
      "  sonar tune --op dense --shape 512,512,512 --trials 64 --records dense.sonar\n"
      "  sonar emit --records dense.sonar --all --out tuned\n"
      "  c++ -std=c++17 -O3 -march=native -pthread -Ituned app.cc tuned/*.cc -o app\n"
      "In app.cc: sonar_tuned::Layer layer(\"dense\", {512, 512, 512}, w); layer.Run(x, y);\n"
      "A shape that was not tuned runs a generic kernel. The emitted code needs GCC or Clang\n"
      "and the C++17 standard library; run it on the machine it was tuned on (-march=native).\n"
      "docs/emit.md has the API.");
  emit->callback([=] { *exit_code = RunEmit(*a); });
}

}  // namespace cli
}  // namespace sonar
