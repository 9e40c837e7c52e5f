// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/operators/codegen.h"

#include <limits>

#include "common/check.h"

namespace sonar::internal {

namespace {

int KnobIndexOrDie(const ConfigSpace& space, std::string_view name) {
  const int k = space.FindKnob(name);
  SONAR_CHECK(k >= 0) << "operator template has no knob named " << name;
  return k;
}

}  // namespace

const std::vector<int64_t>& KnobCandidate(const ConfigSpace& space, const Config& config,
                                          std::string_view name) {
  const int k = KnobIndexOrDie(space, name);
  SONAR_CHECK(static_cast<int>(config.choice.size()) == space.num_knobs())
      << "config " << config << " does not belong to this space";
  const int32_t c = config.choice[k];
  SONAR_CHECK(c >= 0 && c < space.knob(k).size()) << "knob " << name << " index " << c;
  return space.knob(k).candidates[c];
}

int64_t KnobInt(const ConfigSpace& space, const Config& config, std::string_view name) {
  return KnobCandidate(space, config, name)[0];
}

const std::string& KnobLabel(const ConfigSpace& space, const Config& config,
                             std::string_view name) {
  const int k = KnobIndexOrDie(space, name);
  return space.knob(k).labels.at(static_cast<size_t>(KnobInt(space, config, name)));
}

int64_t KnobIntOr(const ConfigSpace& space, const Config& config, std::string_view name,
                  int64_t fallback) {
  if (space.FindKnob(name) < 0) return fallback;
  return KnobInt(space, config, name);
}

Config ConfigWithValues(const ConfigSpace& space,
                        const std::vector<std::pair<std::string, std::vector<int64_t>>>& values) {
  Config config;
  config.choice.assign(static_cast<size_t>(space.num_knobs()), 0);
  for (const auto& [name, value] : values) {
    const int k = KnobIndexOrDie(space, name);
    const Knob& knob = space.knob(k);
    int32_t found = -1;
    for (int64_t i = 0; i < knob.size(); ++i) {
      if (knob.candidates[i] == value) {
        found = static_cast<int32_t>(i);
        break;
      }
    }
    SONAR_CHECK(found >= 0) << "knob " << name << " has no such candidate";
    config.choice[k] = found;
  }
  return config;
}

void AppendThreadsKnob(const OperatorOptions& options, std::vector<Knob>* knobs) {
  if (options.max_threads <= 1) return;
  std::vector<int64_t> values;
  for (int64_t t = 1; t < options.max_threads; t *= 2) values.push_back(t);
  values.push_back(options.max_threads);
  knobs->push_back(IntChoiceKnob("threads", std::move(values)));
}

SplitOptions DivisorSplit(int64_t max_inner_factor) {
  SplitOptions options;
  options.policy = SplitPolicy::kFactors;
  options.max_factor = max_inner_factor;
  return options;
}

std::string EmitCheckAndOutput(std::string_view count) {
  const std::string n(count);
  return "\nextern \"C\" double sonar_check(void* state) {\n"
         "  const State& s = *static_cast<State*>(state);\n"
         "  double err = 0;\n"
         "  for (long i = 0; i < " +
         n +
         "; ++i) {\n"
         "    const double e = ErrorOf(s.y[i], Reference(s, i));\n"
         "    if (e > err) err = e;\n"
         "  }\n"
         "  return err;\n"
         "}\n\n"
         "extern \"C\" const float* sonar_output(void* state, unsigned long long* n) {\n"
         "  *n = " +
         n +
         ";\n"
         "  return static_cast<State*>(state)->y;\n"
         "}\n";
}

std::string UnrollPragma(int n, int indent) {
  if (n <= 0) return "";
  return std::string(static_cast<size_t>(indent), ' ') + "#pragma GCC unroll " + std::to_string(n) +
         "\n";
}

Status CheckConfig(const Task& task, const Config& config) {
  std::string violated;
  if (!task.space.Satisfies(config, &violated)) {
    return InvalidArgumentError("config " + ConfigIndicesToString(config) + " of task " +
                                task.name + " is not valid: " + violated);
  }
  return OkStatus();
}

Status CheckRank(std::string_view op, const std::vector<int64_t>& shape, size_t rank,
                 std::string_view layout) {
  if (shape.size() != rank) {
    return InvalidArgumentError(std::string(op) + " needs a shape of " + std::to_string(rank) +
                                " values " + std::string(layout) + ", got " +
                                std::to_string(shape.size()) + ": " + ShapeToJson(shape));
  }
  return OkStatus();
}

Status CheckConvShape(std::string_view op, int64_t h, int64_t w, int64_t r, int64_t s,
                      int64_t stride, int64_t pad) {
  const std::string o(op);
  if (stride < 1)
    return InvalidArgumentError(o + ": stride must be >= 1, got " + std::to_string(stride));
  if (pad < 0) return InvalidArgumentError(o + ": pad must be >= 0, got " + std::to_string(pad));
  if (pad >= (int64_t{1} << 20)) return InvalidArgumentError(o + ": pad is too large");
  if (r > h + 2 * pad || s > w + 2 * pad) {
    return InvalidArgumentError(o + ": the " + std::to_string(r) + "x" + std::to_string(s) +
                                " window is larger than the padded " + std::to_string(h + 2 * pad) +
                                "x" + std::to_string(w + 2 * pad) + " input");
  }
  return OkStatus();
}

Status CheckBufferSizes(std::string_view op, const std::vector<int64_t>& element_counts) {
  constexpr int64_t kMax = int64_t{1} << 31;
  for (int64_t n : element_counts) {
    if (n >= kMax) {
      return InvalidArgumentError(std::string(op) + ": a buffer of " + std::to_string(n) +
                                  " floats is beyond the 2^31 limit of the templates");
    }
  }
  return OkStatus();
}

std::string EmitPrelude(const PreludeOptions& options) {
  const bool shipped = options.form.shipped();
  std::string s;
  if (shipped) {
    s += "// Generated by Sonar (sonar emit). " + options.title + "\n";
  } else {
    s += "// Generated by Sonar (measure/operators). " + options.title + "\n";
    s += "// Harness contract: measure/harness/harness_main.cc.\n";
  }
  s += "#include <cmath>\n#include <cstddef>\n#include <cstdint>\n#include <cstdlib>\n"
       "#include <cstring>\n#include <stdlib.h>\n";
  if (options.threads > 1) s += "#include <thread>\n#include <vector>\n";
  if (shipped) s += "\nnamespace " + options.form.name_space + " {";
  s += "\nnamespace {\n\n";
  s += "constexpr int V = " + std::to_string(options.vec) + ";  // floats per vector\n";
  s += "[[maybe_unused]] constexpr int THREADS = " + std::to_string(options.threads) + ";\n";
  if (options.vec > 1) {
    s +=
        "typedef float vf __attribute__((vector_size(" + std::to_string(4 * options.vec) + ")));\n";
    // A brace list of V copies is what GCC turns into one vbroadcastss; `vf{} + x` costs an
    // extra add and a lane loop confuses the vectorizer.
    std::string copies = "x";
    for (int l = 1; l < options.vec; ++l) copies += ", x";
    s += "[[maybe_unused]] inline vf Splat(float x) { return vf{" + copies + "}; }\n";
    s += R"([[maybe_unused]] inline vf Load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof(vf));
  return v;
}
[[maybe_unused]] inline void Store(float* p, vf v) { std::memcpy(p, &v, sizeof(vf)); }
[[maybe_unused]] inline float Lane(vf v, int l) { return v[l]; }
[[maybe_unused]] inline float HSum(vf v) {
  float s = 0;
  for (int l = 0; l < V; ++l) s += v[l];
  return s;
}
)";
  } else {
    s += R"(typedef float vf;
[[maybe_unused]] inline vf Load(const float* p) { return *p; }
[[maybe_unused]] inline void Store(float* p, vf v) { *p = v; }
[[maybe_unused]] inline vf Splat(float x) { return x; }
[[maybe_unused]] inline float Lane(vf v, int) { return v; }
[[maybe_unused]] inline float HSum(vf v) { return v; }
)";
  }
  s += R"(
// 64-byte aligned, zeroed.
float* Alloc(std::size_t n) {
  std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  void* p = nullptr;
  if (posix_memalign(&p, 64, bytes) != 0) std::abort();
  std::memset(p, 0, bytes);
  return static_cast<float*>(p);
}

)";
  if (!shipped) {
    s += R"(// Uniform in [-1, 1) from xorshift64*, deterministic for a seed and a stream.
void Fill(float* p, std::size_t n, unsigned long long seed, unsigned long long stream) {
  unsigned long long s = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (stream + 1) * 0xD1B54A32D192ED03ULL;
  if (s == 0) s = 1;
  for (std::size_t i = 0; i < n; ++i) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    const unsigned long long r = s * 0x2545F4914F6CDD1DULL;
    p[i] = static_cast<float>(static_cast<double>(r >> 40) * (2.0 / 16777216.0) - 1.0);
  }
}

// |y - ref| / (|ref| + 1), or 1e30 when y is not finite.
inline double ErrorOf(float y, double ref) {
  if (!std::isfinite(y)) return 1e30;
  return std::fabs(static_cast<double>(y) - ref) / (std::fabs(ref) + 1.0);
}

)";
  }
  if (options.threads > 1) {
    s += R"(// Runs f(0..n-1), split into THREADS contiguous chunks, one per thread.
template <typename F>
inline void ParallelFor(int n, const F& f) {
  const int t = n < THREADS ? n : THREADS;
  if (t <= 1) {
    for (int i = 0; i < n; ++i) f(i);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int w = 1; w < t; ++w) {
    pool.emplace_back([&f, n, t, w] {
      for (int i = n * w / t; i < n * (w + 1) / t; ++i) f(i);
    });
  }
  for (int i = 0; i < n / t; ++i) f(i);
  for (std::thread& th : pool) th.join();
}
)";
  } else {
    s += R"(template <typename F>
inline void ParallelFor(int n, const F& f) {
  for (int i = 0; i < n; ++i) f(i);
}
)";
  }
  return s;
}

std::string EmitRunOpening(const KernelForm& form) {
  if (form.shipped()) return "void RunState(const State& s) {\n";
  return "extern \"C\" void sonar_run(void* state) {\n"
         "  const State& s = *static_cast<State*>(state);\n";
}

std::string EmitShippedEntries(const KernelForm& form, std::string_view prepare,
                               std::string_view weight_floats,
                               const std::vector<std::string>& buffers) {
  std::string s = "\nstd::size_t WeightFloats() { return " + std::string(weight_floats) + "; }\n";
  s += "\nvoid* Prepare(const float* w) {\n  State* s = new State{};\n";
  s += prepare;
  s += "  return s;\n}\n";
  s += R"(
void Run(void* layer, const float* x, float* y) {
  State s = *static_cast<const State*>(layer);
  s.x = const_cast<float*>(x);  // read only
  s.y = y;
  RunState(s);
}

void Release(void* layer) {
  State* s = static_cast<State*>(layer);
  if (s == nullptr) return;
)";
  for (const std::string& b : buffers) s += "  std::free(s->" + b + ");\n";
  s += "  delete s;\n}\n\n}  // namespace " + form.name_space + "\n";
  return s;
}

std::string EmitOuterTileLoops(const char* const names[3], const char* const extents[3],
                               const std::vector<int64_t>& order) {
  const std::string first = names[order[0]];
  std::string s =
      "    ParallelFor(" + std::string(extents[order[0]]) + ", [&](int " + first + "_) {\n";
  s += "      const long " + first + " = " + first + "_;\n";
  s += "      for (long " + std::string(names[order[1]]) + " = 0; " + names[order[1]] + " < " +
       extents[order[1]] + "; ++" + names[order[1]] + ")\n";
  s += "        for (long " + std::string(names[order[2]]) + " = 0; " + names[order[2]] + " < " +
       extents[order[2]] + "; ++" + names[order[2]] + ")\n";
  return s;
}

}  // namespace sonar::internal
