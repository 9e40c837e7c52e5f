// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The conv2d template: NCHW input, OIHW weights, NCHW output, scheduled as AutoTVM's x86
// conv2d_NCHWc template: an output tile of tile_ow[1] pixels x tile_oc[1] output channels held in
// vector registers (vectors along the output channels), the reduction over input channels
// (blocked by tile_ic), kernel rows and columns inside it, the input either read as (padded) NCHW
// or packed into NCHW[ic]c per call. Weights are packed once, as TVM's alter_op_layout packs
// constant weights at compile time. See docs/operators.md.
#include <string>
#include <vector>

#include "measure/operators/codegen.h"

namespace sonar::internal {

namespace {

enum Conv2dKnob {
  kTileIc,         // split C: [ico, ICB]
  kTileOc,         // split K: [oco, OCB]
  kTileOw,         // split OW: [owo, OWB]
  kVec,            // floats per vector (along output channels)
  kLayout,         // "nchw" or "nchwc" input layout
  kReorderOuter,   // order of (oco, oh, owo)
  kReorderReduce,  // order of (ico, kh, kw, ici)
  kUnrollKw,       // unroll the kw loop fully
  kThreads,        // optional
};

constexpr int64_t kMaxOcBlock = 128;
constexpr int64_t kMaxOwBlock = 64;  // AutoTVM's max_factor for tile_ow
constexpr int64_t kRegisterBudget = 28;

std::string I(int64_t v) { return std::to_string(v); }

struct Conv2dShape {
  int64_t n, c, h, w, k, r, s, stride, pad, oh, ow;
};

Conv2dShape ShapeOf(const std::vector<int64_t>& v) {
  return {v[0],
          v[1],
          v[2],
          v[3],
          v[4],
          v[5],
          v[6],
          v[7],
          v[8],
          ConvOut(v[2], v[5], v[7], v[8]),
          ConvOut(v[3], v[6], v[7], v[8])};
}

}  // namespace

double Conv2dFlops(const std::vector<int64_t>& shape) {
  const Conv2dShape d = ShapeOf(shape);
  return 2.0 * static_cast<double>(d.n) * static_cast<double>(d.k) * static_cast<double>(d.oh) *
         static_cast<double>(d.ow) * static_cast<double>(d.c) * static_cast<double>(d.r) *
         static_cast<double>(d.s);
}

StatusOr<Task> MakeConv2dTask(const std::vector<int64_t>& shape, std::string target,
                              const OperatorOptions& options) {
  SONAR_RETURN_IF_ERROR(CheckRank("conv2d", shape, 9, "{N, C, H, W, K, R, S, stride, pad}"));
  for (int i = 0; i < 8; ++i) {
    if (shape[i] < 1) {
      return InvalidArgumentError("conv2d: N, C, H, W, K, R, S and stride must be >= 1, got " +
                                  ShapeToJson(shape));
    }
  }
  const Conv2dShape d = {shape[0], shape[1], shape[2], shape[3], shape[4], shape[5],
                         shape[6], shape[7], shape[8], 0,        0};
  SONAR_RETURN_IF_ERROR(CheckConvShape("conv2d", d.h, d.w, d.r, d.s, d.stride, d.pad));
  const int64_t oh = ConvOut(d.h, d.r, d.stride, d.pad);
  const int64_t ow = ConvOut(d.w, d.s, d.stride, d.pad);
  const int64_t hp = d.h + 2 * d.pad, wp = d.w + 2 * d.pad;
  SONAR_RETURN_IF_ERROR(CheckBufferSizes(
      "conv2d", {d.n * d.c * hp * wp, d.k * d.c * d.r * d.s, d.n * d.k * oh * ow}));

  std::vector<Knob> knobs;
  knobs.push_back(SplitKnob("tile_ic", d.c, 2));
  knobs.push_back(SplitKnob("tile_oc", d.k, 2, DivisorSplit(kMaxOcBlock)));
  knobs.push_back(SplitKnob("tile_ow", ow, 2, DivisorSplit(kMaxOwBlock)));
  knobs.push_back(IntChoiceKnob("vec", {1, 4, 8, 16}));
  knobs.push_back(ChoiceKnob("layout", {"nchw", "nchwc"}));
  knobs.push_back(ReorderKnob("reorder_outer", 3));
  // (ico, kh, kw, ici): AutoTVM's order first, then the window outside the channels, the
  // channels outside the window, and the kernel row outside the inner channels.
  knobs.push_back(ListedReorderKnob("reorder_reduce",
                                    {{0, 1, 2, 3}, {1, 2, 0, 3}, {0, 3, 1, 2}, {1, 0, 3, 2}}));
  knobs.push_back(BoolKnob("unroll_kw"));
  AppendThreadsKnob(options, &knobs);
  for (const Knob& knob : knobs) SONAR_RETURN_IF_ERROR(knob.Validate());

  std::vector<NamedConstraint> constraints;
  constraints.push_back({"vec_divides_tile", [](const ConfigSpace& s, const Config& c) {
                           const int64_t v = s.knob(kVec).candidates[c.choice[kVec]][0];
                           return s.knob(kTileOc).candidates[c.choice[kTileOc]][1] % v == 0;
                         }});
  constraints.push_back({"register_budget", [](const ConfigSpace& s, const Config& c) {
                           const int64_t v = s.knob(kVec).candidates[c.choice[kVec]][0];
                           const int64_t ocb = s.knob(kTileOc).candidates[c.choice[kTileOc]][1];
                           const int64_t owb = s.knob(kTileOw).candidates[c.choice[kTileOw]][1];
                           return owb * ((ocb + v - 1) / v) <= kRegisterBudget;
                         }});
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ConfigSpace::Make(std::move(knobs), std::move(constraints)));
  Task task;
  task.name = "conv2d_n" + I(d.n) + "_c" + I(d.c) + "_h" + I(d.h) + "_w" + I(d.w) + "_k" + I(d.k) +
              "_r" + I(d.r) + "_s" + I(d.s) + "_st" + I(d.stride) + "_p" + I(d.pad);
  task.op = "conv2d";
  task.shape = shape;
  task.space = std::move(space);
  task.target = std::move(target);
  return task;
}

Config Conv2dDefaultConfig(const Task& task) {
  const Conv2dShape d = ShapeOf(task.shape);
  // for k: for oh: for ow: for c: for kh: for kw: scalar, on the NCHW input.
  return ConfigWithValues(task.space, {{"tile_ic", {1, d.c}},
                                       {"tile_oc", {d.k, 1}},
                                       {"tile_ow", {d.ow, 1}},
                                       {"vec", {1}},
                                       {"layout", {0}},
                                       {"reorder_outer", {0, 1, 2}},
                                       {"reorder_reduce", {0, 3, 1, 2}},
                                       {"unroll_kw", {0}}});
}

StatusOr<std::string> EmitConv2dSource(const Task& task, const Config& config,
                                       const KernelForm& form) {
  SONAR_RETURN_IF_ERROR(CheckConfig(task, config));
  const ConfigSpace& sp = task.space;
  const Conv2dShape d = ShapeOf(task.shape);
  const auto& tic = KnobCandidate(sp, config, "tile_ic");
  const auto& toc = KnobCandidate(sp, config, "tile_oc");
  const auto& tow = KnobCandidate(sp, config, "tile_ow");
  const int64_t vec = KnobInt(sp, config, "vec");
  const bool nchwc = KnobLabel(sp, config, "layout") == "nchwc";
  const auto& outer = KnobCandidate(sp, config, "reorder_outer");
  const auto& reduce = KnobCandidate(sp, config, "reorder_reduce");
  const bool unroll_kw = KnobInt(sp, config, "unroll_kw") != 0;
  const int64_t threads = KnobIntOr(sp, config, "threads", 1);

  std::string s =
      EmitPrelude({.title = "conv2d " + ShapeToJson(task.shape) +
                            " (N,C,H,W,K,R,S,stride,pad); config: " + sp.ToString(config),
                   .vec = static_cast<int>(vec),
                   .threads = static_cast<int>(threads),
                   .form = form});
  s += "\nconstexpr long BATCH = " + I(d.n) + ", C = " + I(d.c) + ", H = " + I(d.h) +
       ", W = " + I(d.w) + ", K = " + I(d.k) + ";\n";
  s += "constexpr long R = " + I(d.r) + ", S = " + I(d.s) + ", ST = " + I(d.stride) +
       ", PAD = " + I(d.pad) + ";\n";
  s += "constexpr long OH = " + I(d.oh) + ", OW = " + I(d.ow) +
       ", HP = H + 2 * PAD, WP = W + 2 * PAD;\n";
  s += "constexpr long ICO = " + I(tic[0]) + ", ICB = " + I(tic[1]) + ";\n";
  s += "constexpr long OCO = " + I(toc[0]) + ", OCB = " + I(toc[1]) + ";\n";
  s += "constexpr long OWO = " + I(tow[0]) + ", OWB = " + I(tow[1]) + ";\n";
  s += "constexpr bool NCHWC = " + std::string(nchwc ? "true" : "false") + ";\n";
  s += "constexpr bool COPY_INPUT = NCHWC || PAD > 0;\n";
  s += R"(
struct State {
  float* x;   // BATCH x C x H x W
  float* w;   // K x C x R x S
  float* wp;  // packed weights: OCO x ICO x R x S x ICB x OCB
  // COPY_INPUT: padded input, NCHW (BATCH x C x HP x WP) or NCHWc (BATCH x ICO x HP x WP x ICB)
  float* xp;
  float* y;   // BATCH x K x OH x OW
};

void PackWeights(const float* w, float* wp) {
  for (long oco = 0; oco < OCO; ++oco)
    for (long ico = 0; ico < ICO; ++ico)
      for (long kh = 0; kh < R; ++kh)
        for (long kw = 0; kw < S; ++kw)
          for (long ici = 0; ici < ICB; ++ici)
            for (long ocb = 0; ocb < OCB; ++ocb)
              wp[((((oco * ICO + ico) * R + kh) * S + kw) * ICB + ici) * OCB + ocb] =
                  w[(((oco * OCB + ocb) * C + ico * ICB + ici) * R + kh) * S + kw];
}

// Copies the input into the padded buffer; the zero border was written once by Alloc.
void PackInput(const float* __restrict x, float* __restrict xp) {
  for (long n = 0; n < BATCH; ++n) {
    if constexpr (NCHWC) {
      // Row by row: read ICB input rows, write one contiguous NCHWc row.
      for (long cb = 0; cb < ICO; ++cb)
        for (long h = 0; h < H; ++h) {
          const float* src = x + ((n * C + cb * ICB) * H + h) * W;
          float* dst = xp + (((n * ICO + cb) * HP + h + PAD) * WP + PAD) * ICB;
          for (long w = 0; w < W; ++w)
            for (long ci = 0; ci < ICB; ++ci) dst[w * ICB + ci] = src[ci * H * W + w];
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
  // The input element of channel (ico, ici) at padded row iy, column ix of one image.
  const std::string in_index =
      nchwc ? "((ico * HP + iy) * WP + ix) * ICB + ici" : "((ico * ICB + ici) * HP + iy) * WP + ix";
  s += R"(// Output tile: OWB pixels of row oh x OCB output channels, vectors along the channels.
inline void Tile(const float* __restrict in, const float* __restrict wp, float* __restrict y,
                 long n, long oco, long oh, long owo) {
  constexpr int NV = OCB / V;
  vf acc[OWB][NV];
#pragma GCC unroll 64
  for (int o = 0; o < OWB; ++o)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j) acc[o][j] = Splat(0.0f);
  const float* wt = wp + oco * (ICO * R * S * ICB * OCB);
)";
  const char* red_names[4] = {"ico", "kh", "kw", "ici"};
  const char* red_ext[4] = {"ICO", "R", "S", "ICB"};
  int indent = 2;
  for (int level = 0; level < 4; ++level) {
    const int axis = static_cast<int>(reduce[level]);
    if (axis == 2 && unroll_kw) s += UnrollPragma(static_cast<int>(d.s), 0);
    s += std::string(indent, ' ') + "for (long " + red_names[axis] + " = 0; " + red_names[axis] +
         " < " + red_ext[axis] + "; ++" + red_names[axis] + ")\n";
    indent += 2;
  }
  const std::string pad(indent, ' ');
  s += pad + "{\n";
  s += pad + "  const float* wv = wt + (((ico * R + kh) * S + kw) * ICB + ici) * OCB;\n";
  s += pad + "  vf b[NV];\n";
  s += "#pragma GCC unroll 64\n";
  s += pad + "  for (int j = 0; j < NV; ++j) b[j] = Load(wv + j * V);\n";
  s += pad + "  const long iy = oh * ST + kh;\n";
  s += "#pragma GCC unroll 64\n";
  s += pad + "  for (int o = 0; o < OWB; ++o) {\n";
  s += pad + "    const long ix = (owo * OWB + o) * ST + kw;\n";
  s += pad + "    const vf a = Splat(in[" + in_index + "]);\n";
  s += "#pragma GCC unroll 64\n";
  s += pad + "    for (int j = 0; j < NV; ++j) acc[o][j] += a * b[j];\n";
  s += pad + "  }\n";
  s += pad + "}\n";
  s += R"(#pragma GCC unroll 64
  for (int o = 0; o < OWB; ++o)
#pragma GCC unroll 64
    for (int j = 0; j < NV; ++j)
#pragma GCC unroll 64
      for (int l = 0; l < V; ++l)
        y[((n * K + oco * OCB + j * V + l) * OH + oh) * OW + owo * OWB + o] = Lane(acc[o][j], l);
}

}  // namespace

)";
  if (!form.shipped()) {
    s += R"(extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->x = Alloc(BATCH * C * H * W);
  s->w = Alloc(K * C * R * S);
  s->wp = Alloc(K * C * R * S);
  s->xp = COPY_INPUT ? Alloc(BATCH * C * HP * WP) : nullptr;
  s->y = Alloc(BATCH * K * OH * OW);
  Fill(s->x, BATCH * C * H * W, seed, 0);
  Fill(s->w, K * C * R * S, seed, 1);
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
  const char* out_names[3] = {"oco", "oh", "owo"};
  const char* out_ext[3] = {"OCO", "OH", "OWO"};
  s += EmitOuterTileLoops(out_names, out_ext, outer);
  s += "          Tile(img, s.wp, s.y, n, oco, oh, owo);\n    });\n  }\n}\n";
  if (form.shipped()) {
    s += EmitShippedEntries(form,
                            "  s->wp = Alloc(K * C * R * S);\n"
                            "  PackWeights(w, s->wp);\n"
                            "  s->xp = COPY_INPUT ? Alloc(BATCH * C * HP * WP) : nullptr;\n",
                            "K * C * R * S", {"wp", "xp"});
    return s;
  }
  s += R"(
static double Reference(const State& s, long i) {
  const long ow = i % OW, oh = i / OW % OH, k = i / (OW * OH) % K, n = i / (OW * OH * K);
  double ref = 0;
  for (long c = 0; c < C; ++c)
    for (long kh = 0; kh < R; ++kh)
      for (long kw = 0; kw < S; ++kw) {
        const long ih = oh * ST + kh - PAD, iw = ow * ST + kw - PAD;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        ref += static_cast<double>(s.x[((n * C + c) * H + ih) * W + iw]) *
               s.w[((k * C + c) * R + kh) * S + kw];
      }
  return ref;
}
)";
  s += EmitCheckAndOutput("BATCH * K * OH * OW");
  return s;
}

}  // namespace sonar::internal
