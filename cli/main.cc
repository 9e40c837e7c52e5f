// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The `sonar` command. Exit codes: 0 success, 1 failure, 2 bad usage. Each group of commands
// registers itself from its own file (cli/*_commands.cc).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "tuner/mpi/mpi_work_queue.h"

namespace {

// Under mpirun (tuner/mpi/, docs/mpi.md) tune and compare run on every rank: rank 0 drives,
// the others are workers. Every other command runs on rank 0 only.
bool RunsOnThisRank(int argc, char** argv) {
  if (sonar::MpiRank() == 0) return true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "tune" || arg == "compare") return true;
    if (!arg.empty() && arg[0] != '-') return false;
  }
  return false;
}

int RunSonar(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!launched) launched = std::getenv("PMI_SIZE");
  if (!sonar::MpiBuilt() && launched && std::atoi(launched) > 1) {
    // Every rank would run the whole command and write the same log.
    std::fprintf(stderr,
                 "sonar: started by an MPI launcher with %s ranks, but this sonar was built "
                 "without MPI (SONAR_WITH_MPI=OFF; docs/mpi.md)\n",
                 launched);
    return sonar::cli::kExitUsage;
  }
  sonar::MpiInitIfLaunched(&argc, &argv);
  const int code = RunsOnThisRank(argc, argv) ? RunSonar(argc, argv) : sonar::cli::kExitOk;
  // A rank that failed ends the whole job (the others may be waiting for it).
  if (code != sonar::cli::kExitOk && sonar::MpiSize() > 1) sonar::MpiAbortAll(code);
  sonar::MpiFinalizeIfInitialized();
  return code;
}

namespace {

int RunSonar(int argc, char** argv) {
  CLI::App app{
      "Sonar: tunes how machine-learning kernels run on this machine.\n"
      "Tuning records live in a crash-safe log; histories of AutoTVM, Ansor and Kernel Tuner\n"
      "import into it and export from it."};
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  sonar import ../shared/datasets/autotvm_tophub/llvm_v0.04.log --out tophub.sonar\n"
      "  sonar records stats tophub.sonar\n"
      "Run 'sonar COMMAND --help' for the options of each command.");
  int exit_code = sonar::cli::kExitOk;
  sonar::cli::RegisterRecordCommands(app, &exit_code);
  sonar::cli::RegisterHwCommands(app, &exit_code);
  sonar::cli::RegisterLatencyCommands(app, &exit_code);
  sonar::cli::RegisterMeasureCommands(app, &exit_code);
  sonar::cli::RegisterTuneCommands(app, &exit_code);
  sonar::cli::RegisterSearchCommands(app, &exit_code);
  sonar::cli::RegisterEmitCommands(app, &exit_code);
  app.set_version_flag("--version", std::string("sonar ") + SONAR_VERSION);
  // An unknown command or option where a command is expected is named as such (CLI11 would
  // only say that a subcommand is required).
  const CLI::App* level = &app;
  std::string path = "sonar";
  for (int i = 1; i < argc; ++i) {
    const std::vector<const CLI::App*> subs =
        level->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) break;
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help" || (level == &app && arg == "--version")) break;
    const CLI::App* next = nullptr;
    std::string known;
    for (const CLI::App* sub : subs) {
      if (sub->get_name() == arg) next = sub;
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (next == nullptr) {
      std::fprintf(stderr, "%s: unknown %s '%s'; the commands are %s (%s --help)\n", path.c_str(),
                   arg[0] == '-' ? "option" : "command", arg.c_str(), known.c_str(), path.c_str());
      return sonar::cli::kExitUsage;
    }
    level = next;
    path += " " + arg;
    if (i + 1 == argc && !next->get_subcommands([](const CLI::App*) { return true; }).empty()) {
      std::fprintf(stderr, "%s: which command? (%s --help lists them)\n", path.c_str(),
                   path.c_str());
      return sonar::cli::kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? sonar::cli::kExitOk : sonar::cli::kExitUsage;
  }
  return exit_code;
}

}  // namespace
