// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
// sonar latency ... (placeholder until surrogate/latency_predictor lands; registers nothing yet).
#include "cli/commands.h"

namespace sonar::cli {
void RegisterLatencyCommands(CLI::App& app, int* exit_code) {}
}  // namespace sonar::cli
