// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The dense template: Y[M,N] = X[M,K] * W[N,K]^T, TVM's dense, scheduled as in AutoTVM's
// dense_pack x86 template (tile_y, tile_x, tile_k) plus a loop order, a micro-kernel choice
// with or without a packed W panel, the vector width and the K unroll. See docs/operators.md.
#include <string>
#include <vector>

#include "measure/operators/codegen.h"

namespace sonar::internal {

namespace {

// Knob order (the first varies fastest in a config index).
enum DenseKnob {
  kTileY,         // split M: [yo, ym, MR]
  kTileX,         // split N: [xo, xm, NR]
  kTileK,         // split K: [ko, KC]
  kVec,           // floats per vector
  kPackB,         // "none": dot-product micro-kernel on W; "panel": W packed in NR-wide panels
  kReorderOuter,  // order of the block loops (yo, xo, ko)
  kReorderInner,  // order of the loops inside a block (ym, xm)
  kUnrollK,       // unroll factor of the micro-kernel's k loop
  kThreads,       // optional
};

constexpr int64_t kMaxMr = 32;
constexpr int64_t kMaxNr = 128;
// Accumulators a micro-kernel may keep (the 32 vector registers of AVX-512 / the budget a
// compiler can keep in registers with few spills).
constexpr int64_t kRegisterBudget = 32;

std::string I(int64_t v) { return std::to_string(v); }

}  // namespace

double DenseFlops(const std::vector<int64_t>& shape) {
  return 2.0 * static_cast<double>(shape[0]) * static_cast<double>(shape[1]) *
         static_cast<double>(shape[2]);
}

StatusOr<Task> MakeDenseTask(const std::vector<int64_t>& shape, std::string target,
                             const OperatorOptions& options) {
  SONAR_RETURN_IF_ERROR(CheckRank("dense", shape, 3, "{M, N, K}"));
  const int64_t m = shape[0], n = shape[1], k = shape[2];
  if (m < 1 || n < 1 || k < 1) {
    return InvalidArgumentError("dense: M, N and K must be >= 1, got " + ShapeToJson(shape));
  }
  SONAR_RETURN_IF_ERROR(CheckBufferSizes("dense", {m * k, n * k, m * n}));

  std::vector<Knob> knobs;
  knobs.push_back(SplitKnob("tile_y", m, 3, DivisorSplit(kMaxMr)));
  knobs.push_back(SplitKnob("tile_x", n, 3, DivisorSplit(kMaxNr)));
  knobs.push_back(SplitKnob("tile_k", k, 2));
  knobs.push_back(IntChoiceKnob("vec", {1, 4, 8, 16}));
  knobs.push_back(ChoiceKnob("pack_b", {"none", "panel"}));
  knobs.push_back(ReorderKnob("reorder_outer", 3));
  knobs.push_back(ListedReorderKnob("reorder_inner", {{0, 1}, {1, 0}}));
  knobs.push_back(IntChoiceKnob("unroll_k", {1, 2, 4, 8}));
  AppendThreadsKnob(options, &knobs);
  // Reject the oversized split knobs' own errors up front (they carry the reason).
  for (const Knob& knob : knobs) SONAR_RETURN_IF_ERROR(knob.Validate());

  std::vector<NamedConstraint> constraints;
  // Panel: vectors run along N, so the vector width divides NR. None: vectors run along K, so it
  // divides KC.
  constraints.push_back({"vec_divides_tile", [](const ConfigSpace& s, const Config& c) {
                           const int64_t v = s.knob(kVec).candidates[c.choice[kVec]][0];
                           const bool panel = c.choice[kPackB] == 1;
                           const auto& tx = s.knob(kTileX).candidates[c.choice[kTileX]];
                           const auto& tk = s.knob(kTileK).candidates[c.choice[kTileK]];
                           return panel ? tx[2] % v == 0 : tk[1] % v == 0;
                         }});
  // The MR x NR accumulator block fits the register file.
  constraints.push_back({"register_budget", [](const ConfigSpace& s, const Config& c) {
                           const int64_t v = s.knob(kVec).candidates[c.choice[kVec]][0];
                           const bool panel = c.choice[kPackB] == 1;
                           const int64_t mr = s.knob(kTileY).candidates[c.choice[kTileY]][2];
                           const int64_t nr = s.knob(kTileX).candidates[c.choice[kTileX]][2];
                           const int64_t accumulators = panel ? mr * ((nr + v - 1) / v) : mr * nr;
                           return accumulators <= kRegisterBudget;
                         }});
  if (options.max_threads > 1) {
    // Threads split the outermost block loop; splitting ko would race on Y.
    constraints.push_back({"parallel_outer_loop", [](const ConfigSpace& s, const Config& c) {
                             const int64_t t = s.knob(kThreads).candidates[c.choice[kThreads]][0];
                             const auto& perm =
                                 s.knob(kReorderOuter).candidates[c.choice[kReorderOuter]];
                             return t == 1 || perm[0] != 2;
                           }});
  }
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ConfigSpace::Make(std::move(knobs), std::move(constraints)));
  Task task;
  task.name = "dense_m" + I(m) + "_n" + I(n) + "_k" + I(k);
  task.op = "dense";
  task.shape = shape;
  task.space = std::move(space);
  task.target = std::move(target);
  return task;
}

Config DenseDefaultConfig(const Task& task) {
  const int64_t m = task.shape[0], n = task.shape[1], k = task.shape[2];
  // for i: for j: for k: y[i][j] += x[i][k] * w[j][k], scalar.
  return ConfigWithValues(task.space, {{"tile_y", {m, 1, 1}},
                                       {"tile_x", {n, 1, 1}},
                                       {"tile_k", {1, k}},
                                       {"vec", {1}},
                                       {"pack_b", {0}},
                                       {"reorder_outer", {0, 1, 2}},
                                       {"reorder_inner", {0, 1}},
                                       {"unroll_k", {1}}});
}

StatusOr<std::string> EmitDenseSource(const Task& task, const Config& config,
                                      const KernelForm& form) {
  SONAR_RETURN_IF_ERROR(CheckConfig(task, config));
  const ConfigSpace& sp = task.space;
  const int64_t m = task.shape[0], n = task.shape[1], k = task.shape[2];
  const auto& ty = KnobCandidate(sp, config, "tile_y");
  const auto& tx = KnobCandidate(sp, config, "tile_x");
  const auto& tk = KnobCandidate(sp, config, "tile_k");
  const int64_t vec = KnobInt(sp, config, "vec");
  const bool panel = KnobLabel(sp, config, "pack_b") == "panel";
  const auto& outer = KnobCandidate(sp, config, "reorder_outer");
  const auto& inner = KnobCandidate(sp, config, "reorder_inner");
  const int64_t unroll_k = KnobInt(sp, config, "unroll_k");
  const int64_t threads = KnobIntOr(sp, config, "threads", 1);

  std::string s = EmitPrelude({.title = "dense M=" + I(m) + " N=" + I(n) + " K=" + I(k) +
                                        "; config: " + sp.ToString(config),
                               .vec = static_cast<int>(vec),
                               .threads = static_cast<int>(threads),
                               .form = form});
  s += "\nconstexpr long M = " + I(m) + ", N = " + I(n) + ", K = " + I(k) + ";\n";
  s += "constexpr long YO = " + I(ty[0]) + ", YM = " + I(ty[1]) + ", MR = " + I(ty[2]) +
       ", MB = YM * MR;\n";
  s += "constexpr long XO = " + I(tx[0]) + ", XM = " + I(tx[1]) + ", NR = " + I(tx[2]) +
       ", NB = XM * NR;\n";
  s += "constexpr long KO = " + I(tk[0]) + ", KC = " + I(tk[1]) + ";\n";
  s += "constexpr bool PACK_B = " + std::string(panel ? "true" : "false") + ";\n";
  s += R"(
struct State {
  float* x;   // M x K
  float* w;   // N x K
  float* wp;  // PACK_B: N/NR panels of K x NR
  float* y;   // M x N
};

)";
  if (panel) {
    s += R"(// W panel jb holds W[jb*NR + j][k] at wp[(jb*K + k)*NR + j].
void PackB(const float* __restrict w, float* __restrict wp) {
  for (long jb = 0; jb < N / NR; ++jb)
    for (long k = 0; k < K; ++k)
      for (long j = 0; j < NR; ++j) wp[(jb * K + k) * NR + j] = w[(jb * NR + j) * K + k];
}

// Y[MR x NR] (+)= X[MR x KC] * panel[KC x NR]: broadcast X, vectors along N.
inline void Micro(const float* __restrict xa, const float* __restrict bp, float* __restrict yc,
                  bool first) {
  constexpr int NV = NR / V;
  vf acc[MR][NV];
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) acc[i][j] = first ? Splat(0.0f) : Load(yc + i * N + j * V);
)";
    s += UnrollPragma(static_cast<int>(unroll_k), 0);
    s += R"(  for (long k = 0; k < KC; ++k) {
    vf b[NV];
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) b[j] = Load(bp + k * NR + j * V);
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) {
      const vf a = Splat(xa[i * K + k]);
#pragma GCC unroll 64
      for (int j = 0; j < NV; ++j) acc[i][j] += a * b[j];
    }
  }
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) Store(yc + i * N + j * V, acc[i][j]);
}

inline void Tile(const State& s, long i0, long j0, long k0) {
  Micro(s.x + i0 * K + k0, s.wp + ((j0 / NR) * K + k0) * NR, s.y + i0 * N + j0, k0 == 0);
}
)";
  } else {
    s += R"(// Y[MR x NR] (+)= X[MR x KC] * W[NR x KC]^T: dot products, vectors along K.
inline void Micro(const float* __restrict xa, const float* __restrict wb, float* __restrict yc,
                  bool first) {
  vf acc[MR][NR];
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 64
    for (int j = 0; j < NR; ++j) acc[i][j] = Splat(0.0f);
)";
    s += UnrollPragma(static_cast<int>(unroll_k), 0);
    s += R"(  for (long k = 0; k < KC; k += V) {
    vf a[MR], b[NR];
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) a[i] = Load(xa + i * K + k);
#pragma GCC unroll 64
    for (int j = 0; j < NR; ++j) b[j] = Load(wb + j * K + k);
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 64
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  }
#pragma GCC unroll 64
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 64
    for (int j = 0; j < NR; ++j) {
      const float v = HSum(acc[i][j]);
      yc[i * N + j] = first ? v : yc[i * N + j] + v;
    }
}

inline void Tile(const State& s, long i0, long j0, long k0) {
  Micro(s.x + i0 * K + k0, s.w + j0 * K + k0, s.y + i0 * N + j0, k0 == 0);
}
)";
  }
  // One block: the loops ym, xm in the configured order.
  const char* inner_names[2] = {"ym", "xm"};
  const char* inner_ext[2] = {"YM", "XM"};
  s += "\ninline void Block(const State& s, long yo, long xo, long ko) {\n";
  s += "  for (long " + std::string(inner_names[inner[0]]) + " = 0; " + inner_names[inner[0]] +
       " < " + inner_ext[inner[0]] + "; ++" + inner_names[inner[0]] + ")\n";
  s += "    for (long " + std::string(inner_names[inner[1]]) + " = 0; " + inner_names[inner[1]] +
       " < " + inner_ext[inner[1]] + "; ++" + inner_names[inner[1]] + ")\n";
  s += "      Tile(s, yo * MB + ym * MR, xo * NB + xm * NR, ko * KC);\n}\n";

  s += "\n}  // namespace\n\n";
  if (!form.shipped()) {
    s += R"(extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->x = Alloc(M * K);
  s->w = Alloc(N * K);
  s->wp = PACK_B ? Alloc(N * K) : nullptr;
  s->y = Alloc(M * N);
  Fill(s->x, M * K, seed, 0);
  Fill(s->w, N * K, seed, 1);
  return s;
}

)";
  }
  s += EmitRunOpening(form);
  if (panel) s += "  PackB(s.w, s.wp);\n";
  const char* outer_names[3] = {"yo", "xo", "ko"};
  const char* outer_ext[3] = {"YO", "XO", "KO"};
  s += "  ParallelFor(" + std::string(outer_ext[outer[0]]) + ", [&](int " + outer_names[outer[0]] +
       "_) {\n";
  s += "    const long " + std::string(outer_names[outer[0]]) + " = " + outer_names[outer[0]] +
       "_;\n";
  s += "    for (long " + std::string(outer_names[outer[1]]) + " = 0; " + outer_names[outer[1]] +
       " < " + outer_ext[outer[1]] + "; ++" + outer_names[outer[1]] + ")\n";
  s += "      for (long " + std::string(outer_names[outer[2]]) + " = 0; " + outer_names[outer[2]] +
       " < " + outer_ext[outer[2]] + "; ++" + outer_names[outer[2]] + ")\n";
  s += "        Block(s, yo, xo, ko);\n  });\n}\n";
  if (form.shipped()) {
    // W is copied: the layer keeps no pointer to the caller's weights.
    s += EmitShippedEntries(form,
                            "  s->w = Alloc(N * K);\n"
                            "  std::memcpy(s->w, w, N * K * sizeof(float));\n"
                            "  s->wp = PACK_B ? Alloc(N * K) : nullptr;\n",
                            "N * K", {"w", "wp"});
    return s;
  }
  s += R"(
static double Reference(const State& s, long i) {
  const long row = i / N, col = i % N;
  double ref = 0;
  for (long k = 0; k < K; ++k) ref += static_cast<double>(s.x[row * K + k]) * s.w[col * K + k];
  return ref;
}
)";
  s += EmitCheckAndOutput("M * N");
  return s;
}

}  // namespace sonar::internal
