// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: timing a whole network with its tuned layers, to check the joint
// search's latency model (a network's latency = the sum of its layers' tuned latencies). One
// C++ translation unit holds every layer's kernel (EmitKernelSource with the layer's config,
// each in its own namespace with its harness symbols renamed) and a driver whose sonar_run
// calls the layers in order with the glue between them: ReLU and max-pool of each layer's
// output into the next layer's input buffer (the flatten is free). It is measured like a user
// kernel (measure/user_kernel.h): compiled with the same flags as the layers, run isolated,
// pinned, timed with the same protocol.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(std::string src, EmitNetworkSource(space, arch, tasks, configs));
//   SONAR_ASSIGN_OR_RETURN(MeasureResult r, TimeNetwork(src, MeasureOptions{}));
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "measure/measurer.h"
#include "space/architecture.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar {

// The network's source in the harness contract. `tasks[i]` / `configs[i]` are the i-th layer
// of space.Layers(arch) (MakeOperatorTask tasks) and the config to emit it with.
// InvalidArgument when the counts differ or a config does not fit its task.
StatusOr<std::string> EmitNetworkSource(const ArchitectureSpace& space, const Architecture& arch,
                                        const std::vector<Task>& tasks,
                                        const std::vector<Config>& configs);

// Writes `source` and a one-knob SPACE.json into a fresh directory under $TMPDIR, measures it
// once with a local measurer of `options` (no correctness check: the layers were checked when
// tuned), and removes the directory.
StatusOr<MeasureResult> TimeNetwork(const std::string& source, MeasureOptions options);

}  // namespace sonar
