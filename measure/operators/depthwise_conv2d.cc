// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The depthwise conv2d template: NCHW input, C x 1 x R x S weights, NCHW output. Two layouts
// with their own micro-kernels: "nchw" vectorizes along the output row (tile_ow pixels) and
// broadcasts the weight; "nchwc" packs the input into NCHW[c]c per call and vectorizes along a
// block of tile_oc channels, as AutoTVM's depthwise_conv2d_NCHWc x86 schedule does. Rows are
// blocked by tile_oh. See docs/operators.md.
#include <string>
#include <vector>

#include "measure/operators/codegen.h"

namespace sonar::internal {

namespace {

enum DepthwiseKnob {
  kTileOc,        // split C: [oco, CB]
  kTileOh,        // split OH: [oho, OHB]
  kTileOw,        // split OW: [owo, OWB]
  kVec,           // floats per vector
  kLayout,        // "nchw" or "nchwc"
  kReorderOuter,  // order of (oco, oho, owo)
  kUnrollKw,      // unroll the kw loop fully
  kThreads,       // optional
};

constexpr int64_t kMaxCBlock = 128;
constexpr int64_t kMaxOwBlock = 64;
constexpr int64_t kRegisterBudget = 28;

std::string I(int64_t v) { return std::to_string(v); }

struct DepthwiseShape {
  int64_t n, c, h, w, r, s, stride, pad, oh, ow;
};

DepthwiseShape ShapeOf(const std::vector<int64_t>& v) {
  return {v[0],
          v[1],
          v[2],
          v[3],
          v[4],
          v[5],
          v[6],
          v[7],
          ConvOut(v[2], v[4], v[6], v[7]),
          ConvOut(v[3], v[5], v[6], v[7])};
}

}  // namespace

double DepthwiseFlops(const std::vector<int64_t>& shape) {
  const DepthwiseShape d = ShapeOf(shape);
  return 2.0 * static_cast<double>(d.n) * static_cast<double>(d.c) * static_cast<double>(d.oh) *
         static_cast<double>(d.ow) * static_cast<double>(d.r) * static_cast<double>(d.s);
}

StatusOr<Task> MakeDepthwiseTask(const std::vector<int64_t>& shape, std::string target,
                                 const OperatorOptions& options) {
  SONAR_RETURN_IF_ERROR(CheckRank("depthwise_conv2d", shape, 8, "{N, C, H, W, R, S, stride, pad}"));
  for (int i = 0; i < 7; ++i) {
    if (shape[i] < 1) {
      return InvalidArgumentError(
          "depthwise_conv2d: N, C, H, W, R, S and stride must be >= 1, got " + ShapeToJson(shape));
    }
  }
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3], r = shape[4], s = shape[5],
                stride = shape[6], pad = shape[7];
  SONAR_RETURN_IF_ERROR(CheckConvShape("depthwise_conv2d", h, w, r, s, stride, pad));
  const int64_t oh = ConvOut(h, r, stride, pad), ow = ConvOut(w, s, stride, pad);
  SONAR_RETURN_IF_ERROR(CheckBufferSizes(
      "depthwise_conv2d", {n * c * (h + 2 * pad) * (w + 2 * pad), c * r * s, n * c * oh * ow}));

  std::vector<Knob> knobs;
  knobs.push_back(SplitKnob("tile_oc", c, 2, DivisorSplit(kMaxCBlock)));
  knobs.push_back(SplitKnob("tile_oh", oh, 2));
  knobs.push_back(SplitKnob("tile_ow", ow, 2, DivisorSplit(kMaxOwBlock)));
  knobs.push_back(IntChoiceKnob("vec", {1, 4, 8, 16}));
  knobs.push_back(ChoiceKnob("layout", {"nchw", "nchwc"}));
  knobs.push_back(ReorderKnob("reorder_outer", 3));
  knobs.push_back(BoolKnob("unroll_kw"));
  AppendThreadsKnob(options, &knobs);
  for (const Knob& knob : knobs) SONAR_RETURN_IF_ERROR(knob.Validate());

  std::vector<NamedConstraint> constraints;
  // nchw: vectors along the output row; nchwc: vectors along the channel block.
  constraints.push_back({"vec_divides_tile", [](const ConfigSpace& sp, const Config& cf) {
                           const int64_t v = sp.knob(kVec).candidates[cf.choice[kVec]][0];
                           const int64_t cb = sp.knob(kTileOc).candidates[cf.choice[kTileOc]][1];
                           const int64_t owb = sp.knob(kTileOw).candidates[cf.choice[kTileOw]][1];
                           return cf.choice[kLayout] == 1 ? cb % v == 0 : owb % v == 0;
                         }});
  constraints.push_back({"register_budget", [](const ConfigSpace& sp, const Config& cf) {
                           const int64_t v = sp.knob(kVec).candidates[cf.choice[kVec]][0];
                           const int64_t cb = sp.knob(kTileOc).candidates[cf.choice[kTileOc]][1];
                           const int64_t owb = sp.knob(kTileOw).candidates[cf.choice[kTileOw]][1];
                           const int64_t acc = cf.choice[kLayout] == 1 ? owb * ((cb + v - 1) / v)
                                                                       : (owb + v - 1) / v;
                           return acc <= kRegisterBudget;
                         }});
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ConfigSpace::Make(std::move(knobs), std::move(constraints)));
  Task task;
  task.name = "depthwise_conv2d_n" + I(n) + "_c" + I(c) + "_h" + I(h) + "_w" + I(w) + "_r" + I(r) +
              "_s" + I(s) + "_st" + I(stride) + "_p" + I(pad);
  task.op = "depthwise_conv2d";
  task.shape = shape;
  task.space = std::move(space);
  task.target = std::move(target);
  return task;
}

Config DepthwiseDefaultConfig(const Task& task) {
  const DepthwiseShape d = ShapeOf(task.shape);
  // for c: for oh: for ow: for kh: for kw: scalar, on the NCHW input.
  return ConfigWithValues(task.space, {{"tile_oc", {d.c, 1}},
                                       {"tile_oh", {d.oh, 1}},
                                       {"tile_ow", {d.ow, 1}},
                                       {"vec", {1}},
                                       {"layout", {0}},
                                       {"reorder_outer", {0, 1, 2}},
                                       {"unroll_kw", {0}}});
}

StatusOr<std::string> EmitDepthwiseSource(const Task& task, const Config& config,
                                          const KernelForm& form) {
  SONAR_RETURN_IF_ERROR(CheckConfig(task, config));
  const ConfigSpace& sp = task.space;
  const DepthwiseShape d = ShapeOf(task.shape);
  const auto& toc = KnobCandidate(sp, config, "tile_oc");
  const auto& toh = KnobCandidate(sp, config, "tile_oh");
  const auto& tow = KnobCandidate(sp, config, "tile_ow");
  const int64_t vec = KnobInt(sp, config, "vec");
  const bool nchwc = KnobLabel(sp, config, "layout") == "nchwc";
  const auto& outer = KnobCandidate(sp, config, "reorder_outer");
  const bool unroll_kw = KnobInt(sp, config, "unroll_kw") != 0;
  const int64_t threads = KnobIntOr(sp, config, "threads", 1);
  const std::string kw_pragma = unroll_kw ? UnrollPragma(static_cast<int>(d.s), 0) : "";

  std::string s = EmitPrelude({.title = "depthwise_conv2d " + ShapeToJson(task.shape) +
                                        " (N,C,H,W,R,S,stride,pad); config: " + sp.ToString(config),
                               .vec = static_cast<int>(vec),
                               .threads = static_cast<int>(threads),
                               .form = form});
  s += "\nconstexpr long BATCH = " + I(d.n) + ", C = " + I(d.c) + ", H = " + I(d.h) +
       ", W = " + I(d.w) + ";\n";
  s += "constexpr long R = " + I(d.r) + ", S = " + I(d.s) + ", ST = " + I(d.stride) +
       ", PAD = " + I(d.pad) + ";\n";
  s += "constexpr long OH = " + I(d.oh) + ", OW = " + I(d.ow) +
       ", HP = H + 2 * PAD, WP = W + 2 * PAD;\n";
  s += "constexpr long OCO = " + I(toc[0]) + ", CB = " + I(toc[1]) + ";\n";
  s += "constexpr long OHO = " + I(toh[0]) + ", OHB = " + I(toh[1]) + ";\n";
  s += "constexpr long OWO = " + I(tow[0]) + ", OWB = " + I(tow[1]) + ";\n";
  s += "constexpr bool NCHWC = " + std::string(nchwc ? "true" : "false") + ";\n";
  s += "constexpr bool COPY_INPUT = NCHWC || PAD > 0;\n";
  s += R"(
struct State {
  float* x;   // BATCH x C x H x W
  float* w;   // C x R x S
  float* wp;  // NCHWC: OCO x R x S x CB, else a copy of w
  // COPY_INPUT: padded input, NCHW (BATCH x C x HP x WP) or NCHWc (BATCH x OCO x HP x WP x CB)
  float* xp;
  float* y;   // BATCH x C x OH x OW
};

void PackWeights(const float* w, float* wp) {
  if constexpr (!NCHWC) {
    std::memcpy(wp, w, C * R * S * sizeof(float));
  } else {
    for (long oco = 0; oco < OCO; ++oco)
      for (long kh = 0; kh < R; ++kh)
        for (long kw = 0; kw < S; ++kw)
          for (long cb = 0; cb < CB; ++cb)
            wp[((oco * R + kh) * S + kw) * CB + cb] = w[((oco * CB + cb) * R + kh) * S + kw];
  }
}

void PackInput(const float* __restrict x, float* __restrict xp) {
  for (long n = 0; n < BATCH; ++n) {
    if constexpr (NCHWC) {
      // Row by row: read CB input rows, write one contiguous NCHWc row.
      for (long cb = 0; cb < OCO; ++cb)
        for (long h = 0; h < H; ++h) {
          const float* src = x + ((n * C + cb * CB) * H + h) * W;
          float* dst = xp + (((n * OCO + cb) * HP + h + PAD) * WP + PAD) * CB;
          for (long w = 0; w < W; ++w)
            for (long ci = 0; ci < CB; ++ci) dst[w * CB + ci] = src[ci * H * W + w];
        }
    } else {
      for (long c = 0; c < C; ++c)
        for (long h = 0; h < H; ++h)
          std::memcpy(xp + ((n * C + c) * HP + h + PAD) * WP + PAD, x + ((n * C + c) * H + h) * W,
                      W * sizeof(float));
    }
  }
}

)";
  if (nchwc) {
    s += R"(// Output tile: OWB pixels of row oh x CB channels, vectors along the channels.
inline void Tile(const float* __restrict in, const float* __restrict wp, float* __restrict y,
                 long n, long oco, long oh, long owo) {
  constexpr int NV = CB / V;
  vf acc[OWB][NV];
#pragma GCC unroll 64
  for (int o = 0; o < OWB; ++o)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) acc[o][j] = Splat(0.0f);
  const float* blk = in + oco * (HP * WP * CB);
  for (long kh = 0; kh < R; ++kh) {
    const float* row = blk + (oh * ST + kh) * WP * CB;
)";
    s += kw_pragma;
    s += R"(    for (long kw = 0; kw < S; ++kw) {
      vf b[NV];
#pragma GCC unroll 64
      for (int j = 0; j < NV; ++j) b[j] = Load(wp + ((oco * R + kh) * S + kw) * CB + j * V);
#pragma GCC unroll 64
      for (int o = 0; o < OWB; ++o) {
        const float* px = row + ((owo * OWB + o) * ST + kw) * CB;
#pragma GCC unroll 64
        for (int j = 0; j < NV; ++j) acc[o][j] += Load(px + j * V) * b[j];
      }
    }
  }
#pragma GCC unroll 64
  for (int o = 0; o < OWB; ++o)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j)
#pragma GCC unroll 64
      for (int l = 0; l < V; ++l)
        y[((n * C + oco * CB + j * V + l) * OH + oh) * OW + owo * OWB + o] = Lane(acc[o][j], l);
}
)";
  } else {
    s += R"(// Output tile: for each of the CB channels, OWB pixels of row oh, vectors along it.
inline void Tile(const float* __restrict in, const float* __restrict wp, float* __restrict y,
                 long n, long oco, long oh, long owo) {
  constexpr int NV = OWB / V;
  for (long cb = 0; cb < CB; ++cb) {
    const long c = oco * CB + cb;
    vf acc[NV];
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) acc[j] = Splat(0.0f);
    for (long kh = 0; kh < R; ++kh) {
      const float* row = in + (c * HP + oh * ST + kh) * WP + owo * OWB * ST;
)";
    s += kw_pragma;
    s += R"(      for (long kw = 0; kw < S; ++kw) {
        const vf b = Splat(wp[(c * R + kh) * S + kw]);
#pragma GCC unroll 64
        for (int j = 0; j < NV; ++j) {
          vf a;
          if constexpr (ST == 1) {
            a = Load(row + j * V + kw);
          } else {
            float t[V];
#pragma GCC unroll 64
            for (int l = 0; l < V; ++l) t[l] = row[(j * V + l) * ST + kw];
            a = Load(t);
          }
          acc[j] += a * b;
        }
      }
    }
    float* out = y + ((n * C + c) * OH + oh) * OW + owo * OWB;
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) Store(out + j * V, acc[j]);
  }
}
)";
  }
  s += R"(
}  // namespace

)";
  if (!form.shipped()) {
    s += R"(extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->x = Alloc(BATCH * C * H * W);
  s->w = Alloc(C * R * S);
  s->wp = Alloc(C * R * S);
  s->xp = COPY_INPUT ? Alloc(BATCH * C * HP * WP) : nullptr;
  s->y = Alloc(BATCH * C * OH * OW);
  Fill(s->x, BATCH * C * H * W, seed, 0);
  Fill(s->w, C * R * S, seed, 1);
  PackWeights(s->w, s->wp);
  return s;
}

)";
  }
  s += EmitRunOpening(form);
  s += R"(  if constexpr (COPY_INPUT) PackInput(s.x, s.xp);
  const float* in = COPY_INPUT ? s.xp : s.x;
  for (long n = 0; n < BATCH; ++n) {
    const float* img = in + n * (C * HP * WP);
)";
  const char* out_names[3] = {"oco", "oho", "owo"};
  const char* out_ext[3] = {"OCO", "OHO", "OWO"};
  s += EmitOuterTileLoops(out_names, out_ext, outer);
  s += "          for (long ohi = 0; ohi < OHB; ++ohi)\n";
  s += "            Tile(img, s.wp, s.y, n, oco, oho * OHB + ohi, owo);\n    });\n  }\n}\n";
  if (form.shipped()) {
    s += EmitShippedEntries(form,
                            "  s->wp = Alloc(C * R * S);\n"
                            "  PackWeights(w, s->wp);\n"
                            "  s->xp = COPY_INPUT ? Alloc(BATCH * C * HP * WP) : nullptr;\n",
                            "C * R * S", {"wp", "xp"});
    return s;
  }
  s += R"(
static double Reference(const State& s, long i) {
  const long ow = i % OW, oh = i / OW % OH, c = i / (OW * OH) % C, n = i / (OW * OH * C);
  double ref = 0;
  for (long kh = 0; kh < R; ++kh)
    for (long kw = 0; kw < S; ++kw) {
      const long ih = oh * ST + kh - PAD, iw = ow * ST + kw - PAD;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      ref += static_cast<double>(s.x[((n * C + c) * H + ih) * W + iw]) * s.w[(c * R + kh) * S + kw];
    }
  return ref;
}
)";
  s += EmitCheckAndOutput("BATCH * C * OH * OW");
  return s;
}

}  // namespace sonar::internal
