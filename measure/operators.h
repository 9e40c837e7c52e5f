// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Sonar's built-in fp32 operator templates (dense, conv2d, depthwise
// conv2d): for a shape, a Task with a real schedule space; for a config of it, a complete C++
// source file in the measurement-harness contract (see measure/harness.h) with every knob as a
// compile-time constant.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(Task task, MakeOperatorTask("dense", {512, 768, 3072}));
//   SONAR_ASSIGN_OR_RETURN(std::string source, EmitKernelSource(task, task.space.At(17)));
//   double flop = OperatorFlops(task);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar {

// The operators MakeOperatorTask knows: "dense", "conv2d", "depthwise_conv2d".
std::vector<std::string> OperatorNames();

// Shape conventions (all fp32):
//   dense:            {M, N, K}: Y[M,N] = X[M,K] * W[N,K]^T (TVM's dense).
//   conv2d:           {N, C, H, W, K, R, S, stride, pad}: NCHW input, K filters of CxRxS.
//   depthwise_conv2d: {N, C, H, W, R, S, stride, pad}: one RxS filter per channel.
// Returns InvalidArgument naming the problem for an unknown op or a bad shape.
StatusOr<Task> MakeOperatorTask(std::string_view op,
                                const std::vector<int64_t>& shape,
                                std::string target = "");

// Floating-point operations of one call (multiply and add counted separately).
double OperatorFlops(const Task& task);

// The complete C++ translation unit for `config`. requires: task made by MakeOperatorTask.
StatusOr<std::string> EmitKernelSource(const Task& task, const Config& config);

// The config a person would write first (no tiling tricks): the baseline of speed-ups and the
// measurer's reference config.
Config DefaultConfig(const Task& task);

}  // namespace sonar
