// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Sonar's built-in fp32 operator templates (dense, conv2d, depthwise
// conv2d): for a shape, a Task with a real schedule space; for a config of it, a complete C++
// source file in the measurement-harness contract (measure/harness/harness_main.cc) with every
// knob as a compile-time constant.
//
// The templates, their knobs, schedules and space sizes are described in docs/operators.md. In
// short, every template has split knobs on its loops (AutoTVM's names: dense `tile_y`, `tile_x`,
// `tile_k`; conv2d `tile_ic`, `tile_oc`, `tile_ow`, `unroll_kw`), a loop order, an innermost
// vector width `vec` (floats per GCC vector, 1 = scalar code), an unroll knob, a data
// packing/layout choice and, only when OperatorOptions::max_threads > 1, a `threads` knob.
// Splits use divisors only (no tails), so every valid config is correct for every shape;
// constraints reject configs whose vector width does not divide their tile or whose register
// block would not fit the register file.
//
// Thread safety: every function here is stateless and safe to call concurrently.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(Task task, MakeOperatorTask("dense", {512, 768, 3072}));
//   SONAR_ASSIGN_OR_RETURN(std::string source, EmitKernelSource(task, DefaultConfig(task)));
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

// Options of MakeOperatorTask.
struct OperatorOptions {
  // Largest value of the `threads` knob. 1 (the default) adds no `threads` knob: the local
  // measurer pins every timed run to ONE core, where more threads only add overhead. Set it to
  // the number of cores a deployment will really give the kernel (and measure with a measurer
  // that does not pin) to tune the outer-loop parallelism too; the knob then takes the powers
  // of two below max_threads and max_threads itself. Range: 1..256.
  int max_threads = 1;

  // OK, or InvalidArgument when max_threads is out of range.
  Status Validate() const;
};

// Shape conventions (all fp32):
//   dense:            {M, N, K}: Y[M,N] = X[M,K] * W[N,K]^T (TVM's dense).
//   conv2d:           {N, C, H, W, K, R, S, stride, pad}: NCHW input, K filters of CxRxS,
//                     output N x K x OH x OW with OH = (H + 2 pad - R) / stride + 1.
//   depthwise_conv2d: {N, C, H, W, R, S, stride, pad}: one RxS filter per channel.
// Returns InvalidArgument naming the problem for an unknown op, a shape of the wrong length, a
// dimension < 1 (pad < 0), a window larger than the padded input, or buffers beyond 2^31 floats.
// The task's name spells the shape ("dense_m512_n512_k512"); `target` is stored as given.
StatusOr<Task> MakeOperatorTask(std::string_view op, const std::vector<int64_t>& shape,
                                std::string target = "", const OperatorOptions& options = {});

// Floating-point operations of one call (multiply and add counted separately).
double OperatorFlops(const Task& task);

// The complete C++ translation unit for `config`: the harness contract of
// measure/harness/harness_main.cc (sonar_init fills the inputs uniformly in [-1, 1] from the
// seed, sonar_run is the timed kernel, sonar_check returns the max relative error
// |y - ref| / (|ref| + 1) of the last run against a naive double-precision reference, 1e30 for a
// non-finite output; sonar_output exposes Y). Needs only a C++17 compiler with GCC vector
// extensions (GCC, Clang).
// Returns InvalidArgument for a task whose op is not a template or a config that is malformed
// or violates a constraint (the message names it). requires: task made by MakeOperatorTask.
StatusOr<std::string> EmitKernelSource(const Task& task, const Config& config);

// The same kernel as EmitKernelSource (the same constants, packing, tile functions and timed
// call, byte for byte), in the form `sonar emit` ships: no harness, no reference, no random
// inputs; everything inside `namespace <name_space> {` (a C++ qualified name such as
// "sonar_tuned::dense_m512_n512_k512") with four entry points:
//   std::size_t WeightFloats();                        // floats of the weights Prepare reads
//   void* Prepare(const float* w);                     // copies or packs the weights, allocates
//                                                      // scratch; w may be freed afterwards
//   void Run(void* layer, const float* x, float* y);   // y = op(x, w): the call the harness timed
//   void Release(void* layer);
// One Run at a time per prepared layer (it owns the scratch buffers). Layouts are those of
// MakeOperatorTask's shape conventions. Returns what EmitKernelSource returns, and
// InvalidArgument for a name_space that is not a C++ qualified name.
StatusOr<std::string> EmitShippedKernelSource(const Task& task, const Config& config,
                                              std::string_view name_space);

// The config a person would write first: the naive loop nest (no blocking, scalar code, no
// packing, one thread). The baseline of speed-ups and the measurer's reference config. Always
// valid. requires: task made by MakeOperatorTask.
Config DefaultConfig(const Task& task);

}  // namespace sonar
