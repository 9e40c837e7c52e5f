// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Sonar's built-in GPU templates (docs/cuda.md): for a shape, a Task
// whose space is a CUDA schedule space; for a config of it, one complete .cu translation unit in
// the CUDA harness contract (measure/cuda/cuda_harness_main.cu) with every knob a compile-time
// constant. The measurer of measure/cuda/cuda_measurer.h compiles and times them.
//
//   "dense"  {M, N, K}: Y[M,N] = X[M,K] * W[N,K]^T (the CPU dense's semantics), a tiled SGEMM:
//            block tile block_m x block_n staged through shared memory in steps of block_k,
//            thread tile thread_m x thread_n in registers, vector width `vec` of the global
//            loads, `unroll_k`, `shared_pad`. Task op "cuda_dense".
//   "conv2d" {image_width, image_height, filter_width, filter_height}: the 2D convolution of
//            Kernel Tuner's convolution example (a pre-padded single-channel fp32 image, the
//            filter in constant memory), with Kernel Tuner's knob names and meanings:
//            block_size_x, block_size_y, tile_size_x, tile_size_y, read_only, use_padding,
//            use_shmem. Task op "cuda_conv2d". Records of Kernel Tuner's convolution caches share
//            those knob names, so they transfer (`--transfer-from`).
// Constraints reject, before any compile, configs with fewer than 64 or more than 1024 threads
// per block, more than 48 KiB of static shared memory, or a register tile beyond the budget;
// EmitCudaKernelSource refuses such a config naming the constraint.
//
// Thread safety: every function here is stateless and safe to call concurrently.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(Task task, MakeCudaOperatorTask("dense", {4096, 4096, 4096}));
//   SONAR_ASSIGN_OR_RETURN(std::string cu, EmitCudaKernelSource(task, CudaDefaultConfig(task)));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar {

// The GPU templates MakeCudaOperatorTask knows: "dense", "conv2d".
std::vector<std::string> CudaOperatorNames();

// True for a task made by MakeCudaOperatorTask (op "cuda_dense" or "cuda_conv2d").
bool IsCudaOperatorTask(const Task& task);

// The task of GPU template `op` ("dense" or "conv2d"; "cuda_dense"/"cuda_conv2d" also accepted)
// for `shape` (see above). `target` is stored as given ("" = "cuda"). Returns InvalidArgument
// naming the problem for an unknown op, a wrong shape (rank, a dimension < 1, an even or larger
// than 63 filter side, buffers beyond 2^31 floats).
StatusOr<Task> MakeCudaOperatorTask(std::string_view op, const std::vector<int64_t>& shape,
                                    std::string target = "");

// The complete .cu file of `config`: sonar_init (host inputs uniform in [-1, 1) from the seed,
// copied to the device), sonar_run (one kernel launch on the default stream), sonar_check (max
// |y - ref| / (|ref| + 1) over a deterministic sample of at most 4096 outputs against a double
// precision reference on the host; 1e30 for a non-finite output). InvalidArgument for a task
// that is not a GPU template or a config that is malformed or violates a constraint.
StatusOr<std::string> EmitCudaKernelSource(const Task& task, const Config& config);

// The plain config a person writes first (dense: 16 x 16 threads, one output each, block_k 8,
// scalar loads; conv2d: Kernel Tuner's default 16 x 16 block, 1 x 1 tile, shared memory, no
// read-only loads, no padding). The measurer's reference config. requires: IsCudaOperatorTask.
Config CudaDefaultConfig(const Task& task);

// Floating-point operations of one call (dense 2 M N K, conv2d 2 W H fw fh).
// requires: IsCudaOperatorTask(task).
double CudaOperatorFlops(const Task& task);

}  // namespace sonar
