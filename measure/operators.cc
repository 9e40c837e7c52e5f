// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/operators.h"
#include "measure/hardware.h"

#include <cctype>

#include "common/check.h"
#include "measure/operators/codegen.h"

namespace sonar {

Status OperatorOptions::Validate() const {
  if (max_threads < 1 || max_threads > 256) {
    return InvalidArgumentError("OperatorOptions::max_threads must be in 1..256, got " +
                                std::to_string(max_threads));
  }
  return OkStatus();
}

std::vector<std::string> OperatorNames() { return {"dense", "conv2d", "depthwise_conv2d"}; }

StatusOr<Task> MakeOperatorTask(std::string_view op, const std::vector<int64_t>& shape,
                                std::string target, const OperatorOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  if (target.empty()) target = ThisMachineTarget();
  if (op == "dense") return internal::MakeDenseTask(shape, std::move(target), options);
  if (op == "conv2d") return internal::MakeConv2dTask(shape, std::move(target), options);
  if (op == "depthwise_conv2d") {
    return internal::MakeDepthwiseTask(shape, std::move(target), options);
  }
  return InvalidArgumentError("unknown operator '" + std::string(op) +
                              "'; the templates are dense, conv2d and depthwise_conv2d");
}

double OperatorFlops(const Task& task) {
  if (task.op == "dense" && task.shape.size() == 3) return internal::DenseFlops(task.shape);
  if (task.op == "conv2d" && task.shape.size() == 9) return internal::Conv2dFlops(task.shape);
  if (task.op == "depthwise_conv2d" && task.shape.size() == 8) {
    return internal::DepthwiseFlops(task.shape);
  }
  SONAR_CHECK(false) << "OperatorFlops needs a task made by MakeOperatorTask, got op '" << task.op
                     << "' with shape " << ShapeToJson(task.shape);
  return 0;
}

StatusOr<std::string> EmitKernelSource(const Task& task, const Config& config) {
  if (task.op == "dense" && task.shape.size() == 3)
    return internal::EmitDenseSource(task, config, {});
  if (task.op == "conv2d" && task.shape.size() == 9) {
    return internal::EmitConv2dSource(task, config, {});
  }
  if (task.op == "depthwise_conv2d" && task.shape.size() == 8) {
    return internal::EmitDepthwiseSource(task, config, {});
  }
  return InvalidArgumentError("EmitKernelSource: task '" + task.name + "' (op '" + task.op +
                              "') was not made by MakeOperatorTask");
}

StatusOr<std::string> EmitShippedKernelSource(const Task& task, const Config& config,
                                              std::string_view name_space) {
  // Identifiers separated by "::".
  bool ok = !name_space.empty();
  bool start = true;
  for (size_t i = 0; ok && i < name_space.size(); ++i) {
    const char c = name_space[i];
    if (c == ':') {
      ok = !start && i + 1 < name_space.size() && name_space[i + 1] == ':';
      ++i;
      start = true;
    } else {
      const bool alpha = std::isalpha(static_cast<unsigned char>(c)) || c == '_';
      ok = alpha || (!start && std::isdigit(static_cast<unsigned char>(c)));
      start = false;
    }
  }
  if (!ok || start) {
    return InvalidArgumentError("EmitShippedKernelSource: '" + std::string(name_space) +
                                "' is not a C++ namespace name");
  }
  const internal::KernelForm form{.name_space = std::string(name_space)};
  if (task.op == "dense" && task.shape.size() == 3) {
    return internal::EmitDenseSource(task, config, form);
  }
  if (task.op == "conv2d" && task.shape.size() == 9) {
    return internal::EmitConv2dSource(task, config, form);
  }
  if (task.op == "depthwise_conv2d" && task.shape.size() == 8) {
    return internal::EmitDepthwiseSource(task, config, form);
  }
  return InvalidArgumentError("EmitShippedKernelSource: task '" + task.name + "' (op '" + task.op +
                              "') was not made by MakeOperatorTask");
}

Config DefaultConfig(const Task& task) {
  if (task.op == "dense") return internal::DenseDefaultConfig(task);
  if (task.op == "conv2d") return internal::Conv2dDefaultConfig(task);
  if (task.op == "depthwise_conv2d") return internal::DepthwiseDefaultConfig(task);
  SONAR_CHECK(false) << "DefaultConfig needs a task made by MakeOperatorTask, got op '" << task.op
                     << "'";
  return Config{};
}

}  // namespace sonar
