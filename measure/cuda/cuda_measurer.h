// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the CUDA measurement backend (docs/cuda.md): CudaOptions, the factory
// MakeCudaMeasurer (the local measurer of measure/measurer.h with nvcc as the compiler and a
// CUDA harness main: each config's kernel is built by nvcc through the compile cache, run in an
// isolated child that creates its own CUDA context on the chosen device, checked, and timed with
// CUDA events), and the pure functions that classify what nvcc and the CUDA harness report.
// libsonar never links CUDA: everything GPU-side is a child program built by nvcc at run time.
//
// Failure classes (MeasureStatus, docs/measurement.md):
//   compile_error  nvcc or ptxas failed (e.g. "uses too much shared data")
//   runtime_error  the launch was refused: too many registers, too much shared memory or too
//                  many threads per block for the device (error_msg starts "launch failure:"),
//                  or device memory ran out ("out of device memory:")
//   crashed        the kernel faulted while it ran: illegal address, misaligned access, device
//                  assert ("device fault:"), or the host process died on a signal
//   run_timeout    the child exceeded run_timeout_s (a hung kernel included)
//   wrong_answer   the check failed, as on the CPU
//   unknown_error  no usable device (none, no driver, no kernel image for it)
//
// Example:
//   CudaOptions cuda;
//   cuda.device = 0;
//   SONAR_ASSIGN_OR_RETURN(Task task, MakeCudaOperatorTask("dense", {4096, 4096, 4096}));
//   SONAR_ASSIGN_OR_RETURN(std::unique_ptr<Measurer> m, MakeCudaMeasurer(MeasureOptions{}, cuda));
//   std::vector<MeasureResult> results = m->Measure(task, {CudaDefaultConfig(task)});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "measure/compile_cache.h"
#include "measure/measurer.h"

namespace sonar {

// How the CUDA measurer compiles and where it runs. MeasureOptions supplies the timing protocol,
// timeouts, the check and the cache; its `compiler`, `compiler_flags` and `run_memory_limit_mb`
// are not used (a CUDA context reserves far more address space than any sane RLIMIT_AS).
// Thread safety: value type.
struct CudaOptions {
  // The nvcc program; "" = the one found when Sonar was built (SONAR_WITH_CUDA), else "nvcc"
  // looked up in $PATH.
  std::string nvcc;
  // nvcc's -arch, e.g. "sm_90"; "" = the build's SONAR_CUDA_ARCH when set, else sm_<major><minor>
  // of the device (queried once, by a small nvcc-built program).
  std::string arch;
  // Further nvcc flags of every compile and link, each one argv entry (no shell).
  std::vector<std::string> flags = {"-O3"};
  // The GPU (CUDA device ordinal, >= 0) every kernel runs on.
  int device = 0;
  // Overwrite an L2-sized buffer before every timed call (each call is then timed alone): cold-
  // cache timings, as Kernel Tuner's flush option. Off: back-to-back calls, warm L2.
  bool flush_l2 = false;
  Status Validate() const;
};

// True when Sonar was configured with SONAR_WITH_CUDA (nvcc was found at build time).
bool SonarBuiltWithCuda();

// CudaOptions::nvcc resolved: the option, else the build's nvcc, else "nvcc".
std::string ResolveNvcc(const CudaOptions& cuda);

// The -arch the measurer uses when the device's compute capability is major.minor.
std::string CudaArchFor(const CudaOptions& cuda, int major, int minor);

// The compile-cache options of CUDA kernels: nvcc, `-arch=<arch>` plus cuda.flags, the CUDA
// harness main, ".cu" sources, no -pthread. Compile-only tests build with these.
CompileCacheOptions CudaCompileCacheOptions(const MeasureOptions& options, const CudaOptions& cuda,
                                            const std::string& arch);

// The local measurer for CUDA tasks: built-in GPU templates (measure/cuda/cuda_operators.h) and
// user kernels whose file is a .cu (op "user"). The device is queried once (name, compute
// capability) for the hardware id and the default -arch. Returns FailedPrecondition with a clear
// message when nvcc cannot be run or there is no usable device `cuda.device` (no GPU, no
// driver), InvalidArgument for bad options.
StatusOr<std::unique_ptr<Measurer>> MakeCudaMeasurer(const MeasureOptions& options,
                                                     const CudaOptions& cuda);

// ---- classification (pure; tests feed recorded outputs) ----

// The exit codes of the CUDA harness (measure/cuda/cuda_harness_main.cu).
inline constexpr int kCudaExitLaunch = 20;
inline constexpr int kCudaExitRuntime = 21;
inline constexpr int kCudaExitDevice = 22;
inline constexpr int kCudaExitMemory = 23;

// The harness's error line ({"sonar_cuda_error": 1, "class": ..., ...}), parsed.
// Thread safety: value type.
struct CudaHarnessError {
  std::string error_class;  // "launch", "runtime", "device", "memory"
  std::string phase;        // "setup", "init", "first_run", "check", "warmup", "timed", ...
  int code = 0;             // the cudaError_t value
  std::string name;         // "cudaErrorIllegalAddress"
  std::string message;      // cudaGetErrorString
};

// The last {"sonar_cuda_error": ...} line of `stdout_text`; NotFound when there is none,
// InvalidArgument when it is malformed.
StatusOr<CudaHarnessError> ParseCudaHarnessError(const std::string& stdout_text);

// Classifies a CUDA harness child that exited with `exit_code` != 0 (not by a signal, not timed
// out): the harness's error line when there is one, else its exit code. *status and *error_msg
// receive the result (error_msg ends with the first stderr lines). `device` names the GPU in
// messages.
void ClassifyCudaExit(int exit_code, const std::string& stdout_text, const std::string& stderr_text,
                      int device, MeasureStatus* status, std::string* error_msg);

// nvcc's stderr of a failed compile, shortened to what failed first, with a cause in front
// when it is a known one: "ptxas: too much shared memory: ...", "ptxas: too many registers: ...",
// "nvcc: unsupported GPU architecture: ...", else the first error lines.
std::string SummarizeNvccError(const std::string& stderr_text);

}  // namespace sonar
