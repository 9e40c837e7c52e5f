// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
// sonar hw describe (placeholder until measure/hardware lands; registers nothing yet).
#include "cli/commands.h"

namespace sonar::cli {
void RegisterHwCommands(CLI::App& app, int* exit_code) {}
}  // namespace sonar::cli
