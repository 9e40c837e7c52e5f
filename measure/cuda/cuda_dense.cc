// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The GPU dense template: Y[M,N] = X[M,K] * W[N,K]^T as a tiled SGEMM. A thread block computes a
// block_m x block_n tile of Y; in steps of block_k it stages the X and W tiles in shared memory
// (loaded with `vec`-wide vector loads, stored k-major, rows padded by `shared_pad` floats), then
// each thread accumulates a thread_m x thread_n register tile; `unroll_k` unrolls the k loop.
// See docs/cuda.md.
#include <string>
#include <vector>

#include "measure/cuda/cuda_templates.h"
#include "measure/operators/codegen.h"

namespace sonar::internal {
namespace {

enum CudaDenseKnob { kBlockM, kBlockN, kBlockK, kThreadM, kThreadN, kVec, kUnrollK, kSharedPad };

constexpr int64_t kMinThreads = 32;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxAccumulators = 64;
constexpr int64_t kMaxStaticShared = 48 * 1024;

int64_t V(const ConfigSpace& s, const Config& c, int knob) {
  return s.knob(knob).candidates[c.choice[knob]][0];
}

constexpr const char* kKernel = R"(constexpr int M = @M@, N = @N@, K = @K@;
constexpr int BM = @BM@, BN = @BN@, BK = @BK@;  // block tile
constexpr int TM = @TM@, TN = @TN@;             // thread tile
constexpr int VEC = @VEC@;                      // floats per global load
constexpr int PAD = @PAD@;                      // floats of padding per shared row
constexpr int TX = BN / TN;
constexpr int THREADS = (BM / TM) * TX;
constexpr bool kGuardM = M % BM != 0, kGuardN = N % BN != 0, kGuardK = K % BK != 0;

template <int W> struct VecOf;
template <> struct VecOf<1> { using T = float; };
template <> struct VecOf<2> { using T = float2; };
template <> struct VecOf<4> { using T = float4; };
using vec_t = VecOf<VEC>::T;

__device__ __forceinline__ void Unpack(float x, float* v) { v[0] = x; }
__device__ __forceinline__ void Unpack(float2 x, float* v) { v[0] = x.x; v[1] = x.y; }
__device__ __forceinline__ void Unpack(float4 x, float* v) {
  v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
}

// Loads the rows x BK tile of `src` (rows of K floats, starting at row r0, column k0) into
// dst[BK][rows + PAD], k-major; zeros outside the matrix.
template <int ROWS, int LIMIT, bool GUARD_ROWS>
__device__ __forceinline__ void StageTile(const float* __restrict__ src, int r0, int k0,
                                          float (*dst)[ROWS + PAD]) {
  constexpr int kVecsPerRow = BK / VEC;
  constexpr int kVecs = ROWS * kVecsPerRow;
#pragma unroll
  for (int l = threadIdx.x; l < kVecs; l += THREADS) {
    const int row = l / kVecsPerRow;
    const int kk = (l % kVecsPerRow) * VEC;
    const int gr = r0 + row, gk = k0 + kk;
    float v[VEC];
    if ((!GUARD_ROWS || gr < LIMIT) && (!kGuardK || gk < K)) {
      Unpack(*reinterpret_cast<const vec_t*>(src + static_cast<size_t>(gr) * K + gk), v);
    } else {
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[e] = 0.0f;
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e) dst[kk + e][row] = v[e];
  }
}

__global__ void __launch_bounds__(THREADS)
    DenseKernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y) {
  __shared__ __align__(16) float xs[BK][BM + PAD];
  __shared__ __align__(16) float ws[BK][BN + PAD];
  const int ty = threadIdx.x / TX, tx = threadIdx.x % TX;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
  for (int k0 = 0; k0 < K; k0 += BK) {
    StageTile<BM, M, kGuardM>(x, m0, k0, xs);
    StageTile<BN, N, kGuardN>(w, n0, k0, ws);
    __syncthreads();
#pragma unroll @UNROLL@
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = xs[k][ty * TM + i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = ws[k][tx * TN + j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int gm = m0 + ty * TM + i;
    if (kGuardM && gm >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int gn = n0 + tx * TN + j;
      if (kGuardN && gn >= N) continue;
      y[static_cast<size_t>(gm) * N + gn] = acc[i][j];
    }
  }
}

struct State {
  std::vector<float> x, w, y;  // host copies (y: filled by sonar_check)
  float *dx = nullptr, *dw = nullptr, *dy = nullptr;
};

}  // namespace

extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->x.resize(static_cast<size_t>(M) * K);
  s->w.resize(static_cast<size_t>(N) * K);
  s->y.resize(static_cast<size_t>(M) * N);
  Fill(s->x, seed);
  Fill(s->w, seed + 1);
  cudaMalloc(&s->dx, s->x.size() * sizeof(float));
  cudaMalloc(&s->dw, s->w.size() * sizeof(float));
  cudaMalloc(&s->dy, s->y.size() * sizeof(float));
  cudaMemcpy(s->dx, s->x.data(), s->x.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(s->dw, s->w.data(), s->w.size() * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemset(s->dy, 0xff, s->y.size() * sizeof(float));  // NaN until a run writes it
  return s;
}

extern "C" void sonar_run(void* state) {
  State* s = static_cast<State*>(state);
  const dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
  DenseKernel<<<grid, THREADS>>>(s->dx, s->dw, s->dy);
}

extern "C" double sonar_check(void* state) {
  State* s = static_cast<State*>(state);
  if (cudaMemcpy(s->y.data(), s->dy, s->y.size() * sizeof(float), cudaMemcpyDeviceToHost) !=
      cudaSuccess) {
    return 1e30;
  }
  const uint64_t total = static_cast<uint64_t>(M) * N;
  const uint64_t count = total < 4096 ? total : 4096;
  double worst = 0;
  for (uint64_t c = 0; c < count; ++c) {
    const uint64_t f = SamplePoint(c, count, total);
    const uint64_t i = f / N, j = f % N;
    double ref = 0;
    for (int k = 0; k < K; ++k) {
      ref += static_cast<double>(s->x[i * K + k]) * static_cast<double>(s->w[j * K + k]);
    }
    const double e = ErrorOf(s->y[f], ref);
    if (e > worst) worst = e;
  }
  return worst;
}
)";

}  // namespace

StatusOr<Task> MakeCudaDenseTask(const std::vector<int64_t>& shape, std::string target) {
  SONAR_RETURN_IF_ERROR(CheckRank("dense (GPU)", shape, 3, "{M, N, K}"));
  const int64_t m = shape[0], n = shape[1], k = shape[2];
  if (m < 1 || n < 1 || k < 1) {
    return InvalidArgumentError("dense (GPU): M, N and K must be >= 1, got " + ShapeToJson(shape));
  }
  SONAR_RETURN_IF_ERROR(CheckBufferSizes("dense (GPU)", {m * k, n * k, m * n}));
  std::vector<Knob> knobs;
  knobs.push_back(IntChoiceKnob("block_m", {16, 32, 64, 128, 256}));
  knobs.push_back(IntChoiceKnob("block_n", {16, 32, 64, 128, 256}));
  knobs.push_back(IntChoiceKnob("block_k", {8, 16, 32}));
  knobs.push_back(IntChoiceKnob("thread_m", {1, 2, 4, 8}));
  knobs.push_back(IntChoiceKnob("thread_n", {1, 2, 4, 8}));
  knobs.push_back(IntChoiceKnob("vec", {1, 2, 4}));
  knobs.push_back(IntChoiceKnob("unroll_k", {1, 2, 4, 8}));
  knobs.push_back(IntChoiceKnob("shared_pad", {0, 4}));
  std::vector<NamedConstraint> constraints;
  constraints.push_back({"threads_per_block", [](const ConfigSpace& s, const Config& c) {
                           const int64_t t = (V(s, c, kBlockM) / V(s, c, kThreadM)) *
                                             (V(s, c, kBlockN) / V(s, c, kThreadN));
                           return t >= kMinThreads && t <= kMaxThreads;
                         }});
  constraints.push_back({"register_budget", [](const ConfigSpace& s, const Config& c) {
                           return V(s, c, kThreadM) * V(s, c, kThreadN) <= kMaxAccumulators;
                         }});
  constraints.push_back({"shared_memory", [](const ConfigSpace& s, const Config& c) {
                           const int64_t pad = V(s, c, kSharedPad);
                           const int64_t floats =
                               V(s, c, kBlockK) * (V(s, c, kBlockM) + V(s, c, kBlockN) + 2 * pad);
                           return floats * 4 <= kMaxStaticShared;
                         }});
  // Vector loads stay aligned: K and block_k are multiples of vec.
  constraints.push_back({"vec_divides_k", [k](const ConfigSpace& s, const Config& c) {
                           return k % V(s, c, kVec) == 0 && V(s, c, kBlockK) % V(s, c, kVec) == 0;
                         }});
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ConfigSpace::Make(std::move(knobs), std::move(constraints)));
  Task task;
  task.name =
      "cuda_dense_m" + std::to_string(m) + "_n" + std::to_string(n) + "_k" + std::to_string(k);
  task.op = "cuda_dense";
  task.shape = shape;
  task.space = std::move(space);
  task.target = std::move(target);
  return task;
}

Config CudaDenseDefaultConfig(const Task& task) {
  return ConfigWithValues(task.space, {{"block_m", {16}},
                                       {"block_n", {16}},
                                       {"block_k", {8}},
                                       {"thread_m", {1}},
                                       {"thread_n", {1}},
                                       {"vec", {1}},
                                       {"unroll_k", {1}},
                                       {"shared_pad", {0}}});
}

StatusOr<std::string> EmitCudaDenseSource(const Task& task, const Config& config) {
  SONAR_RETURN_IF_ERROR(CheckConfig(task, config));
  const ConfigSpace& s = task.space;
  auto I = [](int64_t v) { return std::to_string(v); };
  const std::string title = task.name + " " + s.ToString(config);
  return CudaPrelude(title) + Substitute(kKernel, {{"@M@", I(task.shape[0])},
                                                   {"@N@", I(task.shape[1])},
                                                   {"@K@", I(task.shape[2])},
                                                   {"@BM@", I(V(s, config, kBlockM))},
                                                   {"@BN@", I(V(s, config, kBlockN))},
                                                   {"@BK@", I(V(s, config, kBlockK))},
                                                   {"@TM@", I(V(s, config, kThreadM))},
                                                   {"@TN@", I(V(s, config, kThreadN))},
                                                   {"@VEC@", I(V(s, config, kVec))},
                                                   {"@PAD@", I(V(s, config, kSharedPad))},
                                                   {"@UNROLL@", I(V(s, config, kUnrollK))}});
}

}  // namespace sonar::internal
