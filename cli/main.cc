// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The `sonar` command. Exit codes: 0 success, 1 failure, 2 bad usage. Each group of commands
// registers itself from its own file (cli/*_commands.cc).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? sonar::cli::kExitOk : sonar::cli::kExitUsage;
  }
  return exit_code;
}
