// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: internal helpers shared by the operator templates in
// measure/operators/: reading knob values of a config by name, building a config from values,
// the `threads` knob, and the common text of every generated kernel (includes, the GCC vector
// type, aligned allocation, the deterministic input filler, ParallelFor). Not a public header.
//
// Example:
//   std::string src = EmitPrelude({.title = "dense 512x512x512", .vec = 16, .threads = 1});
//   int64_t mr = SplitFactors(task, config, "tile_y")[2];
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "measure/operators.h"
#include "space/config.h"
#include "space/config_space.h"
#include "space/knob.h"
#include "space/task.h"

namespace sonar::internal {

// The candidate values of knob `name` in `config`. requires: the knob exists and config is
// well-formed.
const std::vector<int64_t>& KnobCandidate(const ConfigSpace& space, const Config& config,
                                          std::string_view name);
// KnobCandidate(...)[0]: an int choice, a bool, a labelled choice's index.
int64_t KnobInt(const ConfigSpace& space, const Config& config, std::string_view name);
// The label of a labelled choice knob.
const std::string& KnobLabel(const ConfigSpace& space, const Config& config, std::string_view name);
// The value of an optional int knob (e.g. `threads`), or `fallback` if the space lacks it.
int64_t KnobIntOr(const ConfigSpace& space, const Config& config, std::string_view name,
                  int64_t fallback);

// The config whose knob `name` takes candidate `value` for each given pair; knobs not listed
// take candidate 0. requires: every name exists and every value is one of its candidates.
Config ConfigWithValues(const ConfigSpace& space,
                        const std::vector<std::pair<std::string, std::vector<int64_t>>>& values);

// The `threads` knob for options.max_threads > 1: 1, 2, 4, ... below max_threads, and
// max_threads. Appends nothing when max_threads == 1.
void AppendThreadsKnob(const OperatorOptions& options, std::vector<Knob>* knobs);

// Factors of a split that have been checked to divide their extent, as AutoTVM's kFactors
// policy makes them.
SplitOptions DivisorSplit(int64_t max_inner_factor);

// Which of the two forms of a kernel a template writes. The kernel code (constants, State, the
// packing and tile functions, the body of the timed call) is the same text in both.
//   - the harness form (name_space empty): the contract of measure/harness/harness_main.cc,
//     sonar_init fills random inputs, sonar_run is the timed call, sonar_check/sonar_output;
//   - the shipped form (EmitShippedKernelSource, `sonar emit`): everything inside
//     `namespace <name_space> {`, no reference, no random inputs, and four entry points:
//       std::size_t WeightFloats();            // floats of the weights Prepare reads
//       void* Prepare(const float* w);         // copies/packs the weights, allocates scratch
//       void Run(void* layer, const float* x, float* y);  // the timed call of the harness
//       void Release(void* layer);
struct KernelForm {
  std::string name_space;  // "" = harness form; else e.g. "sonar_tuned::dense_m512_n512_k512"
  bool shipped() const { return !name_space.empty(); }
};

struct PreludeOptions {
  std::string title;  // one-line description written at the top of the source
  int vec = 1;        // floats per vector (1: vf is plain float)
  int threads = 1;    // > 1: ParallelFor uses std::thread
  KernelForm form;
};

// The first part of every generated kernel: includes, (shipped form: `namespace NAME_SPACE {`),
// `namespace {`, the vector type `vf` and Load/Store/Splat/Lane/HSum, Alloc (64-byte aligned,
// zeroed), ParallelFor, and in the harness form Fill (uniform [-1, 1] from a seed) and ErrorOf
// (relative error, 1e30 when not finite). The caller closes the anonymous namespace.
std::string EmitPrelude(const PreludeOptions& options);

// The opening of the timed function, which reads the kernel's `const State& s`: the harness's
// `extern "C" void sonar_run(void* state)` or the shipped form's `void RunState(const State& s)`.
std::string EmitRunOpening(const KernelForm& form);

// The shipped form's entry points and the closing of its namespace. `prepare` is the body of
// Prepare after `State* s = new State{};` (it reads `const float* w`, ends without a return);
// `weight_floats` the C++ expression of WeightFloats(); `buffers` the State fields Release frees.
std::string EmitShippedEntries(const KernelForm& form, std::string_view prepare,
                               std::string_view weight_floats,
                               const std::vector<std::string>& buffers);

// The last part of every generated kernel: sonar_check (the largest ErrorOf between the output
// s.y[i] and Reference(s, i), the double-precision reference of flat output i, which the
// template defines before it, over the `count` outputs) and sonar_output (s.y, `count` floats).
// `count` is a C++ expression over the kernel's constants, e.g. "M * N".
std::string EmitCheckAndOutput(std::string_view count);
// "#pragma GCC unroll N\n" with the given indent; "" when n <= 0.
std::string UnrollPragma(int n, int indent);

// The three outer tile loops of a convolution kernel in the order `order` (a permutation of
// 0..2 over `names`/`extents`): the first runs through ParallelFor (the threads knob), the other
// two as plain loops. Leaves the body at 10 spaces of indent; the caller closes with "    });".
std::string EmitOuterTileLoops(const char* const names[3], const char* const extents[3],
                               const std::vector<int64_t>& order);

// Returns InvalidArgument naming the violated constraint when `config` is not valid in `task`.
Status CheckConfig(const Task& task, const Config& config);

// Shape validation helpers: InvalidArgument when `shape` has not `rank` entries.
Status CheckRank(std::string_view op, const std::vector<int64_t>& shape, size_t rank,
                 std::string_view layout);

// Per-template entry points (measure/operators/<op>.cc).
StatusOr<Task> MakeDenseTask(const std::vector<int64_t>& shape, std::string target,
                             const OperatorOptions& options);
double DenseFlops(const std::vector<int64_t>& shape);
StatusOr<std::string> EmitDenseSource(const Task& task, const Config& config,
                                      const KernelForm& form);
Config DenseDefaultConfig(const Task& task);

StatusOr<Task> MakeConv2dTask(const std::vector<int64_t>& shape, std::string target,
                              const OperatorOptions& options);
double Conv2dFlops(const std::vector<int64_t>& shape);
StatusOr<std::string> EmitConv2dSource(const Task& task, const Config& config,
                                       const KernelForm& form);
Config Conv2dDefaultConfig(const Task& task);

StatusOr<Task> MakeDepthwiseTask(const std::vector<int64_t>& shape, std::string target,
                                 const OperatorOptions& options);
double DepthwiseFlops(const std::vector<int64_t>& shape);
StatusOr<std::string> EmitDepthwiseSource(const Task& task, const Config& config,
                                          const KernelForm& form);
Config DepthwiseDefaultConfig(const Task& task);

// Output height/width of a convolution window: (in + 2 pad - window) / stride + 1.
inline int64_t ConvOut(int64_t in, int64_t window, int64_t stride, int64_t pad) {
  return (in + 2 * pad - window) / stride + 1;
}

// Validates the spatial part of a conv shape: every dim >= 1, pad >= 0, stride >= 1, window no
// larger than the padded input, and every buffer (elements given) below 2^31 floats.
Status CheckConvShape(std::string_view op, int64_t h, int64_t w, int64_t r, int64_t s,
                      int64_t stride, int64_t pad);
Status CheckBufferSizes(std::string_view op, const std::vector<int64_t>& element_counts);

}  // namespace sonar::internal
