// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: internal pieces shared by the GPU templates of measure/cuda/ (not a
// public header): the per-template entry points and the text every generated .cu file shares.
//
// Example:
//   std::string cu = Substitute(kText, {{"@M@", "4096"}});
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar::internal {

// `text` with every occurrence of each key replaced by its value, in order.
std::string Substitute(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& replacements);

// The first part of every generated .cu file: includes and, in an anonymous namespace, Fill
// (uniform [-1, 1) from a seed, xorshift64* as the CPU templates), ErrorOf (relative error, 1e30
// when not finite) and SamplePoint (the i-th of `count` outputs spread over [0, total)).
std::string CudaPrelude(const std::string& title);

StatusOr<Task> MakeCudaDenseTask(const std::vector<int64_t>& shape, std::string target);
StatusOr<std::string> EmitCudaDenseSource(const Task& task, const Config& config);
Config CudaDenseDefaultConfig(const Task& task);

StatusOr<Task> MakeCudaConv2dTask(const std::vector<int64_t>& shape, std::string target);
StatusOr<std::string> EmitCudaConv2dSource(const Task& task, const Config& config);
Config CudaConv2dDefaultConfig(const Task& task);

}  // namespace sonar::internal
