// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: nothing of its own; it includes Sonar's common API, so a program that
// uses Sonar as a library (find_package(Sonar), target_link_libraries(app Sonar::sonar)) needs
// one include. Installed as <sonar/sonar.h>; each header is also reachable on its own, e.g.
// <sonar/tuner/tuner.h>. README.md, "Sonar as a library", has a complete program.
//
// Example (ask/tell on your own objective):
//   sonar::ConfigSpace space = sonar::ConfigSpace::Make({sonar::IntChoiceKnob("block", {16, 32,
//                                                        64})}).value();
//   sonar::Task task{.name = "mine", .op = "user", .space = space};
//   auto tuner = sonar::MakeTuner(task, sonar::TunerOptions{.kind = sonar::TunerKind::kBayesOpt})
//                    .value();
//   for (const sonar::Config& c : tuner->Propose(4)) { /* time it, then tuner->Observe(...) */ }
#pragma once

#include "common/status.h"
#include "measure/emit/emit.h"
#include "measure/history_io.h"
#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/record.h"
#include "measure/record_store.h"
#include "space/config.h"
#include "space/config_space.h"
#include "space/knob.h"
#include "space/task.h"
#include "tuner/transfer.h"
#include "tuner/tune.h"
#include "tuner/tuner.h"
