// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The GPU conv2d template: the 2D convolution of Kernel Tuner's convolution example (one fp32
// image, pre-padded by filter - 1 in each dimension, a filter_height x filter_width filter in
// constant memory; output[y][x] = sum_ij input[y + i][x + j] * filter[i][j]) with Kernel
// Tuner's knobs, so its convolution caches are transfer sources:
//   block_size_x, block_size_y  threads of a block in x and y
//   tile_size_x, tile_size_y    outputs per thread in x and y (strided by the block size)
//   read_only                   global loads through the read-only data cache (__ldg)
//   use_padding                 pad every shared-memory row by one float (bank conflicts)
//   use_shmem                   stage the block's input in shared memory (0: read global memory)
// Kernel Tuner's restrictions are constraints (64 <= threads per block <= 1024, tile_size_x *
// tile_size_y < 30), plus the 48 KiB static shared-memory limit, which Kernel Tuner's caches
// record as compile failures. See docs/cuda.md.
#include <string>
#include <vector>

#include "measure/cuda/cuda_templates.h"
#include "measure/operators/codegen.h"

namespace sonar::internal {
namespace {

enum CudaConvKnob {
  kBlockX,
  kBlockY,
  kTileX,
  kTileY,
  kReadOnly,
  kUsePadding,
  kUseShmem,
};

constexpr int64_t kMaxStaticShared = 48 * 1024;
constexpr int64_t kMaxFilterFloats = 16384;  // 64 KiB of constant memory

int64_t V(const ConfigSpace& s, const Config& c, int knob) {
  return s.knob(knob).candidates[c.choice[knob]][0];
}

constexpr const char* kKernel = R"(constexpr int image_width = @IW@, image_height = @IH@;
constexpr int filter_width = @FW@, filter_height = @FH@;
constexpr int input_width = image_width + filter_width - 1;
constexpr int input_height = image_height + filter_height - 1;
constexpr int block_size_x = @BX@, block_size_y = @BY@;
constexpr int tile_size_x = @TX@, tile_size_y = @TY@;
constexpr bool read_only = @RO@, use_padding = @PAD@, use_shmem = @SHMEM@;
constexpr int sh_height = block_size_y * tile_size_y + filter_height - 1;
constexpr int sh_width = block_size_x * tile_size_x + filter_width - 1 + (use_padding ? 1 : 0);
// The shared array is 1 x 1 when use_shmem is off (it is then never used).
constexpr int sh_rows = use_shmem ? sh_height : 1, sh_cols = use_shmem ? sh_width : 1;

__constant__ float d_filter[filter_height * filter_width];

__device__ __forceinline__ float Load(const float* p) {
  if constexpr (read_only) {
    return __ldg(p);
  } else {
    return *p;
  }
}

__global__ void __launch_bounds__(block_size_x * block_size_y)
    convolution_kernel(float* __restrict__ output, const float* __restrict__ input) {
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int bx = blockIdx.x * block_size_x * tile_size_x;
  const int by = blockIdx.y * block_size_y * tile_size_y;
  __shared__ float sh_input[sh_rows][sh_cols];
  if constexpr (use_shmem) {
    for (int i = ty; i < sh_height; i += block_size_y) {
      for (int j = tx; j < block_size_x * tile_size_x + filter_width - 1; j += block_size_x) {
        const int gy = by + i, gx = bx + j;
        sh_input[i][j] = gy < input_height && gx < input_width ? Load(&input[gy * input_width + gx])
                                                               : 0.0f;
      }
    }
    __syncthreads();
  }
  float sum[tile_size_y][tile_size_x];
#pragma unroll
  for (int yi = 0; yi < tile_size_y; ++yi)
#pragma unroll
    for (int xj = 0; xj < tile_size_x; ++xj) sum[yi][xj] = 0.0f;
  for (int i = 0; i < filter_height; ++i) {
#pragma unroll
    for (int j = 0; j < filter_width; ++j) {
      const float f = d_filter[i * filter_width + j];
#pragma unroll
      for (int yi = 0; yi < tile_size_y; ++yi) {
#pragma unroll
        for (int xj = 0; xj < tile_size_x; ++xj) {
          const int y = ty + yi * block_size_y + i, x = tx + xj * block_size_x + j;
          if constexpr (use_shmem) {
            sum[yi][xj] += sh_input[y][x] * f;
          } else {
            const int gy = min(by + y, input_height - 1), gx = min(bx + x, input_width - 1);
            sum[yi][xj] += Load(&input[gy * input_width + gx]) * f;
          }
        }
      }
    }
  }
#pragma unroll
  for (int yi = 0; yi < tile_size_y; ++yi) {
#pragma unroll
    for (int xj = 0; xj < tile_size_x; ++xj) {
      const int y = by + ty + yi * block_size_y, x = bx + tx + xj * block_size_x;
      if (y < image_height && x < image_width) output[y * image_width + x] = sum[yi][xj];
    }
  }
}

struct State {
  std::vector<float> input, filter, output;  // host copies (output: filled by sonar_check)
  float *d_input = nullptr, *d_output = nullptr;
};

}  // namespace

extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->input.resize(static_cast<size_t>(input_width) * input_height);
  s->filter.resize(static_cast<size_t>(filter_width) * filter_height);
  s->output.resize(static_cast<size_t>(image_width) * image_height);
  Fill(s->input, seed);
  Fill(s->filter, seed + 1);
  cudaMalloc(&s->d_input, s->input.size() * sizeof(float));
  cudaMalloc(&s->d_output, s->output.size() * sizeof(float));
  cudaMemcpy(s->d_input, s->input.data(), s->input.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpyToSymbol(d_filter, s->filter.data(), s->filter.size() * sizeof(float));
  cudaMemset(s->d_output, 0xff, s->output.size() * sizeof(float));  // NaN until a run writes it
  return s;
}

extern "C" void sonar_run(void* state) {
  State* s = static_cast<State*>(state);
  const dim3 block(block_size_x, block_size_y);
  const dim3 grid((image_width + block_size_x * tile_size_x - 1) / (block_size_x * tile_size_x),
                  (image_height + block_size_y * tile_size_y - 1) / (block_size_y * tile_size_y));
  convolution_kernel<<<grid, block>>>(s->d_output, s->d_input);
}

extern "C" double sonar_check(void* state) {
  State* s = static_cast<State*>(state);
  if (cudaMemcpy(s->output.data(), s->d_output, s->output.size() * sizeof(float),
                 cudaMemcpyDeviceToHost) != cudaSuccess) {
    return 1e30;
  }
  const uint64_t total = static_cast<uint64_t>(image_width) * image_height;
  const uint64_t count = total < 4096 ? total : 4096;
  double worst = 0;
  for (uint64_t c = 0; c < count; ++c) {
    const uint64_t f = SamplePoint(c, count, total);
    const uint64_t y = f / image_width, x = f % image_width;
    double ref = 0;
    for (int i = 0; i < filter_height; ++i) {
      for (int j = 0; j < filter_width; ++j) {
        ref += static_cast<double>(s->input[(y + i) * input_width + x + j]) *
               static_cast<double>(s->filter[i * filter_width + j]);
      }
    }
    const double e = ErrorOf(s->output[f], ref);
    if (e > worst) worst = e;
  }
  return worst;
}
)";

}  // namespace

StatusOr<Task> MakeCudaConv2dTask(const std::vector<int64_t>& shape, std::string target) {
  SONAR_RETURN_IF_ERROR(CheckRank("conv2d (GPU)", shape, 4,
                                  "{image_width, image_height, filter_width, filter_height}"));
  const int64_t iw = shape[0], ih = shape[1], fw = shape[2], fh = shape[3];
  if (iw < 1 || ih < 1 || fw < 1 || fh < 1) {
    return InvalidArgumentError("conv2d (GPU): every dimension must be >= 1, got " +
                                ShapeToJson(shape));
  }
  if (fw * fh > kMaxFilterFloats) {
    return InvalidArgumentError("conv2d (GPU): the filter (" + std::to_string(fw) + " x " +
                                std::to_string(fh) +
                                ") exceeds the 64 KiB of constant memory (16384 floats)");
  }
  SONAR_RETURN_IF_ERROR(CheckBufferSizes("conv2d (GPU)", {(iw + fw - 1) * (ih + fh - 1), iw * ih}));
  std::vector<Knob> knobs;
  // The union of the values in Kernel Tuner's convolution caches (old and "milo").
  knobs.push_back(IntChoiceKnob(
      "block_size_x",
      {1, 2, 4, 8, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256}));
  knobs.push_back(IntChoiceKnob("block_size_y", {1, 2, 4, 8, 16, 32}));
  knobs.push_back(IntChoiceKnob("tile_size_x", {1, 2, 3, 4, 5, 6, 7, 8}));
  knobs.push_back(IntChoiceKnob("tile_size_y", {1, 2, 3, 4, 5, 6, 7, 8}));
  knobs.push_back(IntChoiceKnob("read_only", {0, 1}));
  knobs.push_back(IntChoiceKnob("use_padding", {0, 1}));
  knobs.push_back(IntChoiceKnob("use_shmem", {0, 1}));
  std::vector<NamedConstraint> constraints;
  constraints.push_back({"threads_per_block", [](const ConfigSpace& s, const Config& c) {
                           const int64_t t = V(s, c, kBlockX) * V(s, c, kBlockY);
                           return t >= 64 && t <= 1024;
                         }});
  constraints.push_back({"tile_size", [](const ConfigSpace& s, const Config& c) {
                           return V(s, c, kTileX) * V(s, c, kTileY) < 30;
                         }});
  constraints.push_back({"shared_memory", [fw, fh](const ConfigSpace& s, const Config& c) {
                           if (V(s, c, kUseShmem) == 0) return true;
                           const int64_t rows = V(s, c, kBlockY) * V(s, c, kTileY) + fh - 1;
                           const int64_t cols =
                               V(s, c, kBlockX) * V(s, c, kTileX) + fw - 1 + V(s, c, kUsePadding);
                           return rows * cols * 4 <= kMaxStaticShared;
                         }});
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ConfigSpace::Make(std::move(knobs), std::move(constraints)));
  Task task;
  task.name = "cuda_conv2d_w" + std::to_string(iw) + "_h" + std::to_string(ih) + "_fw" +
              std::to_string(fw) + "_fh" + std::to_string(fh);
  task.op = "cuda_conv2d";
  task.shape = shape;
  task.space = std::move(space);
  task.target = std::move(target);
  return task;
}

Config CudaConv2dDefaultConfig(const Task& task) {
  return ConfigWithValues(task.space, {{"block_size_x", {16}},
                                       {"block_size_y", {16}},
                                       {"tile_size_x", {1}},
                                       {"tile_size_y", {1}},
                                       {"read_only", {0}},
                                       {"use_padding", {0}},
                                       {"use_shmem", {1}}});
}

StatusOr<std::string> EmitCudaConv2dSource(const Task& task, const Config& config) {
  SONAR_RETURN_IF_ERROR(CheckConfig(task, config));
  const ConfigSpace& s = task.space;
  auto I = [](int64_t v) { return std::to_string(v); };
  auto B = [&](int knob) { return V(s, config, knob) != 0 ? "true" : "false"; };
  return CudaPrelude(task.name + " " + s.ToString(config)) +
         Substitute(kKernel, {{"@IW@", I(task.shape[0])},
                              {"@IH@", I(task.shape[1])},
                              {"@FW@", I(task.shape[2])},
                              {"@FH@", I(task.shape[3])},
                              {"@BX@", I(V(s, config, kBlockX))},
                              {"@BY@", I(V(s, config, kBlockY))},
                              {"@TX@", I(V(s, config, kTileX))},
                              {"@TY@", I(V(s, config, kTileY))},
                              {"@RO@", B(kReadOnly)},
                              {"@PAD@", B(kUsePadding)},
                              {"@SHMEM@", B(kUseShmem)}});
}

}  // namespace sonar::internal
