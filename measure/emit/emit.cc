// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/emit/emit.h"

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "measure/history_io.h"
#include "measure/operators.h"
#include "measure/record_store.h"
#include "measure/user_kernel.h"
#include "space/task.h"

namespace sonar {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

bool IsIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// C++ keywords and `std` (a namespace a program may not add to).
bool IsReserved(std::string_view s) {
  static const std::set<std::string_view> kReserved = {
      "alignas",       "alignof",     "and",
      "and_eq",        "asm",         "auto",
      "bitand",        "bitor",       "bool",
      "break",         "case",        "catch",
      "char",          "char8_t",     "char16_t",
      "char32_t",      "class",       "compl",
      "concept",       "const",       "consteval",
      "constexpr",     "constinit",   "const_cast",
      "continue",      "co_await",    "co_return",
      "co_yield",      "decltype",    "default",
      "delete",        "do",          "double",
      "dynamic_cast",  "else",        "enum",
      "explicit",      "export",      "extern",
      "false",         "float",       "for",
      "friend",        "goto",        "if",
      "inline",        "int",         "long",
      "mutable",       "namespace",   "new",
      "noexcept",      "not",         "not_eq",
      "nullptr",       "operator",    "or",
      "or_eq",         "private",     "protected",
      "public",        "register",    "reinterpret_cast",
      "requires",      "return",      "short",
      "signed",        "sizeof",      "static",
      "static_assert", "static_cast", "struct",
      "switch",        "template",    "this",
      "thread_local",  "throw",       "true",
      "try",           "typedef",     "typeid",
      "typename",      "union",       "unsigned",
      "using",         "virtual",     "void",
      "volatile",      "wchar_t",     "while",
      "xor",           "xor_eq",      "std",
      "posix"};
  return kReserved.count(s) > 0;
}

// "a::b" with every part an identifier that is not reserved.
bool IsQualifiedName(std::string_view s) {
  size_t start = 0;
  while (true) {
    const size_t end = s.find("::", start);
    const std::string_view part =
        s.substr(start, end == std::string_view::npos ? end : end - start);
    if (!IsIdentifier(part) || IsReserved(part) || part.rfind("__", 0) == 0) {
      return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 2;
  }
}

// Any text made a C++ identifier: other characters become '_', a leading digit gets `prefix`.
std::string ToIdentifier(std::string_view text, std::string_view prefix) {
  std::string id;
  for (char c : text) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = std::string(prefix) + id;
  return id;
}

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// A best record of a built-in operator, rebuilt as the task and config it was measured as.
struct TemplateKernel {
  Task task;
  Config config;
};

// Why `r` cannot be emitted as a built-in kernel; empty and *out set when it can.
std::string RebuildTemplate(const Record& r, TemplateKernel* out) {
  const std::vector<std::string> ops = OperatorNames();
  if (std::find(ops.begin(), ops.end(), r.task.op) == ops.end()) {
    return "op '" + r.task.op + "' is not one of Sonar's templates (dense, conv2d, " +
           "depthwise_conv2d) nor a user kernel";
  }
  Json args = Json::parse(r.task.args_json, nullptr, /*allow_exceptions=*/false);
  std::vector<int64_t> shape;
  if (!args.is_array()) return "its args '" + r.task.args_json + "' are not a shape";
  for (const Json& a : args) {
    if (!a.is_number_integer()) return "its args '" + r.task.args_json + "' are not a shape";
    shape.push_back(a.get<int64_t>());
  }
  // The threads knob's candidates run up to max_threads, which the record does not keep: any
  // max_threads >= the recorded value has it, and the emitted code reads only the value.
  OperatorOptions options;
  for (const KnobValue& v : r.config.values) {
    if (v.name == "threads" && v.ints.size() == 1) {
      options.max_threads = static_cast<int>(std::clamp<int64_t>(v.ints[0], 1, 256));
    }
  }
  StatusOr<Task> task = MakeOperatorTask(r.task.op, shape, r.task.target, options);
  if (!task.ok()) return task.status().message();
  if (r.task.template_version != task->template_version) {
    return "it was measured with version " + std::to_string(r.task.template_version) + " of the " +
           r.task.op + " template and this Sonar has version " +
           std::to_string(task->template_version) + " (tune it again)";
  }
  StatusOr<Config> config = task->space.FromValues(r.config.values);
  if (!config.ok()) return "its config does not fit the template: " + config.status().message();
  if (!task->space.Satisfies(*config)) return "its config violates the template's constraints";
  out->task = std::move(*task);
  out->config = *config;
  return "";
}

// The stem of a user kernel's file ("user:/x/matmul.cc" -> "matmul").
std::string UserKernelStem(const Record& r) {
  std::string path = r.task.name.rfind("user:", 0) == 0 ? r.task.name.substr(5) : r.task.name;
  Json args = Json::parse(r.task.args_json, nullptr, false);
  if (args.is_object() && args.contains("kernel") && args["kernel"].is_string()) {
    path = args["kernel"].get<std::string>();
  }
  return ToIdentifier(fs::path(path).stem().string(), "k_");
}

std::string Describe(const Record& r, double cost) {
  std::string s = "measured " + Num(cost) + " s a call";
  if (!r.result.run_seconds.empty()) {
    s += " (median of " + std::to_string(r.result.run_seconds.size()) + " repeats)";
  }
  if (!r.hardware_id.empty()) s += " on hardware " + r.hardware_id;
  s += ", target '" + r.task.target + "'";
  if (!r.tuner.empty()) s += ", tuner " + r.tuner;
  return s;
}

// Output map (channels, height, width) of a network layer; dense {N, 1, 1}.
void LayerOutput(const LayerSpec& l, long* c, long* h, long* w) {
  const std::vector<int64_t>& s = l.shape;
  *h = *w = 1;
  if (l.op == "conv2d") {
    *c = s[4];
    *h = (s[2] + 2 * s[8] - s[5]) / s[7] + 1;
    *w = (s[3] + 2 * s[8] - s[6]) / s[7] + 1;
  } else if (l.op == "depthwise_conv2d") {
    *c = s[1];
    *h = (s[2] + 2 * s[7] - s[4]) / s[6] + 1;
    *w = (s[3] + 2 * s[7] - s[5]) / s[6] + 1;
  } else {
    *c = s[1];
  }
}

std::string ShapeList(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s;
}

// The fixed part of sonar_tuned.h, after the per-kernel declarations.
constexpr const char* kHeaderApi = R"(
// One tuned kernel: prepare copies or packs the weights (the caller's may be freed after), run
// computes y from x (one run at a time per prepared layer), release frees what prepare made.
struct KernelInfo {
  const char* name;  // e.g. "dense_m512_n512_k512"
  const char* op;    // "dense", "conv2d" or "depthwise_conv2d"
  int rank;
  long shape[9];
  double measured_seconds;  // what Sonar measured for one call (the median of its repeats)
  const char* target;       // the target it was tuned for, e.g. "cpu-x86_64-avx512"
  const char* hardware_id;  // the measuring machine's hardware descriptor id ("" unknown)
  std::size_t (*weight_floats)();
  void* (*prepare)(const float* w);
  void (*run)(void* layer, const float* x, float* y);
  void (*release)(void* layer);
};

// The tuned kernels of this package; *count receives how many.
const KernelInfo* Kernels(std::size_t* count);
// The tuned kernel of `op` and `shape`, or nullptr when that shape was not tuned.
const KernelInfo* FindKernel(const std::string& op, const std::vector<long>& shape);

// Floats of x, w and y for an op and shape. Throw std::invalid_argument for an unknown op or a
// malformed shape (wrong length, a size < 1, pad < 0, a window larger than the padded input).
std::size_t InputFloats(const std::string& op, const std::vector<long>& shape);
std::size_t WeightFloats(const std::string& op, const std::vector<long>& shape);
std::size_t OutputFloats(const std::string& op, const std::vector<long>& shape);

// A layer ready to run: the tuned kernel when (op, shape) was tuned, else a generic kernel
// (plain loops, correct for every shape, not tuned). Movable, not copyable.
class Layer {
 public:
  // Copies or packs `weights` (WeightFloats(op, shape) floats). Throws std::invalid_argument as
  // InputFloats does.
  Layer(const std::string& op, const std::vector<long>& shape, const float* weights);
  ~Layer();
  Layer(Layer&& other) noexcept;
  Layer& operator=(Layer&& other) noexcept;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // y = op(x, weights): x has InputFloats, y OutputFloats floats (64-byte aligned buffers give
  // the speed Sonar measured). One Run at a time per Layer.
  void Run(const float* x, float* y);
  bool tuned() const { return kernel_ != nullptr; }
  const char* kernel_name() const { return kernel_ != nullptr ? kernel_->name : "generic"; }
  const std::string& op() const { return op_; }
  const std::vector<long>& shape() const { return shape_; }

 private:
  std::string op_;
  std::vector<long> shape_;
  const KernelInfo* kernel_ = nullptr;
  void* prepared_ = nullptr;    // tuned: what kernel_->prepare returned
  std::vector<float> weights_;  // generic: a copy of the weights
};
)";

// The fixed part of sonar_tuned.cc: shape checks, generic kernels, Layer.
constexpr const char* kDispatchBody = R"(
namespace {

std::size_t Rank(const std::string& op) {
  if (op == "dense") return 3;
  if (op == "conv2d") return 9;
  if (op == "depthwise_conv2d") return 8;
  throw std::invalid_argument("unknown op '" + op +
                              "': the ops are dense, conv2d and depthwise_conv2d");
}

// Checks the shape; for convolutions sets *oh and *ow.
void Check(const std::string& op, const std::vector<long>& s, long* oh, long* ow) {
  if (s.size() != Rank(op)) {
    throw std::invalid_argument(op + " needs a shape of " + std::to_string(Rank(op)) +
                                " values, got " + std::to_string(s.size()));
  }
  const bool conv = op != "dense";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool pad = conv && i + 1 == s.size();
    if (s[i] < (pad ? 0 : 1)) {
      throw std::invalid_argument(op + ": shape value " + std::to_string(i) + " is " +
                                  std::to_string(s[i]));
    }
  }
  if (!conv) return;
  const bool dw = op == "depthwise_conv2d";
  const long h = s[2], w = s[3], r = s[dw ? 4 : 5], k = s[dw ? 5 : 6], st = s[dw ? 6 : 7],
             pad = s[dw ? 7 : 8];
  if (r > h + 2 * pad || k > w + 2 * pad) {
    throw std::invalid_argument(op + ": the window is larger than the padded input");
  }
  *oh = (h + 2 * pad - r) / st + 1;
  *ow = (w + 2 * pad - k) / st + 1;
}

void GenericDense(const std::vector<long>& s, const float* x, const float* w, float* y) {
  const long m = s[0], n = s[1], kk = s[2];
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) {
      float acc = 0;
      for (long k = 0; k < kk; ++k) acc += x[i * kk + k] * w[j * kk + k];
      y[i * n + j] = acc;
    }
}

// conv2d (depthwise: one filter per channel, K = C).
void GenericConv(bool dw, const std::vector<long>& s, const float* x, const float* w,
                 float* y) {
  long oh = 0, ow = 0;
  Check(dw ? "depthwise_conv2d" : "conv2d", s, &oh, &ow);
  const long n_ = s[0], c_ = s[1], h_ = s[2], w_ = s[3], k_ = dw ? s[1] : s[4],
             r_ = s[dw ? 4 : 5], s_ = s[dw ? 5 : 6], st = s[dw ? 6 : 7], pad = s[dw ? 7 : 8];
  for (long n = 0; n < n_; ++n)
    for (long k = 0; k < k_; ++k)
      for (long oy = 0; oy < oh; ++oy)
        for (long ox = 0; ox < ow; ++ox) {
          float acc = 0;
          for (long c = dw ? k : 0; c < (dw ? k + 1 : c_); ++c)
            for (long kh = 0; kh < r_; ++kh)
              for (long kw = 0; kw < s_; ++kw) {
                const long iy = oy * st + kh - pad, ix = ox * st + kw - pad;
                if (iy < 0 || iy >= h_ || ix < 0 || ix >= w_) continue;
                const float wv = dw ? w[(k * r_ + kh) * s_ + kw]
                                    : w[((k * c_ + c) * r_ + kh) * s_ + kw];
                acc += x[((n * c_ + c) * h_ + iy) * w_ + ix] * wv;
              }
          y[((n * k_ + k) * oh + oy) * ow + ox] = acc;
        }
}

}  // namespace

const KernelInfo* Kernels(std::size_t* count) {
  *count = kNumKernels;
  return kNumKernels == 0 ? nullptr : kKernels;
}

const KernelInfo* FindKernel(const std::string& op, const std::vector<long>& shape) {
  for (std::size_t i = 0; i < kNumKernels; ++i) {
    const KernelInfo& k = kKernels[i];
    if (op != k.op || shape.size() != static_cast<std::size_t>(k.rank)) continue;
    bool same = true;
    for (int d = 0; d < k.rank; ++d) same = same && shape[d] == k.shape[d];
    if (same) return &k;
  }
  return nullptr;
}

std::size_t InputFloats(const std::string& op, const std::vector<long>& s) {
  long oh = 0, ow = 0;
  Check(op, s, &oh, &ow);
  if (op == "dense") return static_cast<std::size_t>(s[0] * s[2]);
  return static_cast<std::size_t>(s[0] * s[1] * s[2] * s[3]);
}

std::size_t WeightFloats(const std::string& op, const std::vector<long>& s) {
  long oh = 0, ow = 0;
  Check(op, s, &oh, &ow);
  if (op == "dense") return static_cast<std::size_t>(s[1] * s[2]);
  if (op == "conv2d") return static_cast<std::size_t>(s[4] * s[1] * s[5] * s[6]);
  return static_cast<std::size_t>(s[1] * s[4] * s[5]);
}

std::size_t OutputFloats(const std::string& op, const std::vector<long>& s) {
  long oh = 0, ow = 0;
  Check(op, s, &oh, &ow);
  if (op == "dense") return static_cast<std::size_t>(s[0] * s[1]);
  const long channels = op == "conv2d" ? s[4] : s[1];
  return static_cast<std::size_t>(s[0] * channels * oh * ow);
}

Layer::Layer(const std::string& op, const std::vector<long>& shape, const float* weights)
    : op_(op), shape_(shape), kernel_(FindKernel(op, shape)) {
  const std::size_t n = WeightFloats(op, shape);  // checks op and shape
  if (kernel_ != nullptr) {
    prepared_ = kernel_->prepare(weights);
  } else {
    weights_.assign(weights, weights + n);
  }
}

Layer::~Layer() {
  if (kernel_ != nullptr && prepared_ != nullptr) kernel_->release(prepared_);
}

Layer::Layer(Layer&& other) noexcept
    : op_(std::move(other.op_)),
      shape_(std::move(other.shape_)),
      kernel_(other.kernel_),
      prepared_(other.prepared_),
      weights_(std::move(other.weights_)) {
  other.kernel_ = nullptr;
  other.prepared_ = nullptr;
}

Layer& Layer::operator=(Layer&& other) noexcept {
  if (this != &other) {
    if (kernel_ != nullptr && prepared_ != nullptr) kernel_->release(prepared_);
    op_ = std::move(other.op_);
    shape_ = std::move(other.shape_);
    kernel_ = other.kernel_;
    prepared_ = other.prepared_;
    weights_ = std::move(other.weights_);
    other.kernel_ = nullptr;
    other.prepared_ = nullptr;
  }
  return *this;
}

void Layer::Run(const float* x, float* y) {
  if (kernel_ != nullptr) {
    kernel_->run(prepared_, x, y);
  } else if (op_ == "dense") {
    GenericDense(shape_, x, weights_.data(), y);
  } else {
    GenericConv(op_ == "depthwise_conv2d", shape_, x, weights_.data(), y);
  }
}
)";

constexpr const char* kGlue = R"(
namespace {

// ReLU (when relu), then a p x p max-pool of stride p, of a C x H x W map into dst
// (C x H/p x W/p); p = 1 is the ReLU alone.
void Glue(const float* src, long c, long h, long w, long p, bool relu, float* dst) {
  const long oh = h / p, ow = w / p;
  long k = 0;
  for (long ci = 0; ci < c; ++ci)
    for (long y = 0; y < oh; ++y)
      for (long x = 0; x < ow; ++x) {
        float m = -3.0e38f;
        for (long dy = 0; dy < p; ++dy)
          for (long dx = 0; dx < p; ++dx) {
            const float v = src[(ci * h + y * p + dy) * w + x * p + dx];
            m = v > m ? v : m;
          }
        if (relu && m < 0) m = 0;
        dst[k++] = m;
      }
}

}  // namespace
)";

// A file to write: its name under out_dir and its text.
struct OutFile {
  std::string name;
  std::string text;
};

}  // namespace

std::string KnobValuesToJson(const std::vector<KnobValue>& values) {
  // In knob order (ordered_json), as the config was written.
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (const KnobValue& v : values) {
    if (!v.strings.empty()) {
      o[v.name] = v.strings.size() == 1 ? nlohmann::ordered_json(v.strings[0])
                                        : nlohmann::ordered_json(v.strings);
    } else if (v.kind == KnobKind::kSplit || v.kind == KnobKind::kReorder) {
      o[v.name] = v.ints;
    } else if (v.kind == KnobKind::kBool && v.ints.size() == 1) {
      o[v.name] = v.ints[0] != 0;
    } else if (v.ints.size() == 1) {
      o[v.name] = v.ints[0];
    } else {
      o[v.name] = v.ints;
    }
  }
  return o.dump();
}

Status EmitOptions::Validate() const {
  if (out_dir.empty()) return InvalidArgumentError("--out: an output directory is needed");
  if (!IsQualifiedName(name_space)) {
    return InvalidArgumentError("--namespace: '" + name_space +
                                "' is not a C++ namespace of your own (identifiers joined by ::, "
                                "no keyword, not std)");
  }
  return OkStatus();
}

StatusOr<std::vector<BestConfig>> BestConfigs(const std::string& path, const std::string& selector,
                                              std::vector<std::string>* only_failed) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFoundError("cannot read " + path + ": no such file");
  if (!fs::is_regular_file(path, ec)) {
    return NotFoundError("cannot read " + path + ": not a regular file");
  }
  BestRecordKeeper keeper;
  WorkloadSummarizer summarizer;
  int64_t kernels = 0;
  RecordLogStats stats;
  SONAR_RETURN_IF_ERROR(ForEachRecordOrHistory(
      path, selector,
      [&](Record&& r) {
        if (IsTrainingRecord(r)) return;
        ++kernels;
        summarizer.Add(r);
        keeper.Add(r);
      },
      &stats));
  if (only_failed != nullptr) {
    only_failed->clear();
    for (const WorkloadSummary& w : summarizer.summaries()) {
      if (w.ok == 0) {
        only_failed->push_back(WorkloadKeyToHex(w.workload_key) + " (" + w.task.name + "): its " +
                               std::to_string(w.records) + " records all failed");
      }
    }
  }
  std::vector<BestConfig> out;
  for (Record& r : keeper.Best()) {
    const double cost = RecordCost(r);
    out.push_back({std::move(r), cost});
  }
  if (out.empty()) {
    return FailedPreconditionError(
        path + " has no successful record" +
        (selector.empty() ? std::string() : " of workload '" + selector + "'") +
        (kernels == 0 ? " (it holds no kernel measurement)"
                      : " (its " + std::to_string(kernels) + " kernel records all failed)"));
  }
  return out;
}

StatusOr<EmitSummary> EmitTunedKernels(const std::vector<BestConfig>& best,
                                       const EmitOptions& options, bool skip_unusable,
                                       const std::vector<EmitNetworkSpec>& networks) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const std::string& ns = options.name_space;
  EmitSummary summary;
  std::vector<OutFile> files;
  Json workloads_json = Json::array();

  // Built-in kernels, and user kernels' constants.
  struct Kernel {
    const BestConfig* best;
    TemplateKernel tk;
  };
  std::vector<Kernel> kernels;
  // Workloads of one op and shape for several targets: the dispatch picks by shape, so one of
  // them goes in, the one of options.preferred_target when exactly one is of it.
  std::map<std::string, std::vector<const BestConfig*>> by_shape;
  for (const BestConfig& b : best) {
    if (b.record.task.op != "user") {
      by_shape[b.record.task.op + " " + b.record.task.args_json].push_back(&b);
    }
  }
  std::set<const BestConfig*> shadowed;  // left out for another target's workload
  for (const auto& [shape, group] : by_shape) {
    if (group.size() < 2) continue;
    const BestConfig* keep = nullptr;
    int preferred = 0;
    for (const BestConfig* b : group) {
      if (!options.preferred_target.empty() && b->record.task.target == options.preferred_target) {
        keep = b;
        ++preferred;
      }
    }
    std::string keys;
    for (const BestConfig* b : group) {
      keys += (keys.empty() ? "" : ", ") + WorkloadKeyToHex(b->record.workload_key) + " (target '" +
              b->record.task.target + "')";
    }
    if (preferred != 1) {
      return FailedPreconditionError(
          std::to_string(group.size()) + " workloads are " + shape + " for different targets: " +
          keys + "; the dispatch picks kernels by shape, so emit one of them with --workload KEY");
    }
    for (const BestConfig* b : group) {
      if (b != keep) shadowed.insert(b);
    }
  }
  std::set<std::string> used_names = {"sonar_tuned", "best_configs"};
  for (const BestConfig& b : best) {
    if (shadowed.count(&b)) {
      summary.skipped.push_back(WorkloadKeyToHex(b.record.workload_key) + " (" +
                                b.record.task.name + "): the same shape for target '" +
                                b.record.task.target +
                                "'; this machine's workload of that shape is emitted instead");
      continue;
    }
    const Record& r = b.record;
    if (r.task.op == "user") {
      std::string stem = UserKernelStem(r) + "_config";
      for (int i = 2; used_names.count(stem); ++i) {
        stem = UserKernelStem(r) + "_" + std::to_string(i) + "_config";
      }
      used_names.insert(stem);
      const std::vector<std::string> defines = UserKernelDefinesOfValues(r.config.values);
      std::string h = "// Generated by Sonar (sonar emit)" +
                      (options.source_log.empty() ? "" : " from " + options.source_log) +
                      ": the best config of user kernel " + r.task.name + ",\n// " +
                      Describe(r, b.cost_seconds) + ".\n";
      h += "// These are the values Sonar passed when it compiled the kernel:";
      for (const std::string& d : defines) h += " " + d;
      h += "\n// Include this header before the kernel's code (a macro already defined, e.g. by "
           "-D, wins).\n#pragma once\n";
      for (const std::string& d : defines) {
        const size_t eq = d.find('=');
        const std::string name = d.substr(2, eq - 2), value = d.substr(eq + 1);
        h += "#ifndef " + name + "\n#define " + name + " " + value + "\n#endif\n";
      }
      files.push_back({stem + ".h", h});
      summary.workloads.push_back({stem, "constants", stem + ".h", b.cost_seconds});
      Json j = {{"workload", WorkloadKeyToHex(r.workload_key)},
                {"name", r.task.name},
                {"op", r.task.op},
                {"args", r.task.args_json},
                {"target", r.task.target},
                {"kind", "constants"},
                {"file", stem + ".h"},
                {"defines", defines}};
      workloads_json.push_back(j);
      continue;
    }
    Kernel k{&b, {}};
    std::string why = RebuildTemplate(r, &k.tk);
    if (why.empty() && used_names.count(k.tk.task.name)) {
      why = "its name " + k.tk.task.name + " is taken";
    }
    if (!why.empty()) {
      const std::string line = WorkloadKeyToHex(r.workload_key) + " (" + r.task.name + "): " + why;
      if (!skip_unusable) return FailedPreconditionError("cannot emit workload " + line);
      summary.skipped.push_back(line);
      continue;
    }
    used_names.insert(k.tk.task.name);
    kernels.push_back(std::move(k));
  }

  // Networks: their layers must be template ops with well-formed shapes.
  std::vector<std::string> net_names;
  for (const EmitNetworkSpec& net : networks) {
    std::string id = ToIdentifier(net.name, "net_");
    if (id.rfind("net_", 0) != 0) id = "net_" + id;
    for (int i = 2; used_names.count(id); ++i)
      id = ToIdentifier(net.name, "net_") + "_" + std::to_string(i);
    used_names.insert(id);
    if (net.layers.empty()) return InvalidArgumentError("network " + net.name + " has no layers");
    for (const LayerSpec& l : net.layers) {
      StatusOr<Task> t = MakeOperatorTask(l.op, l.shape, "emit");
      if (!t.ok()) {
        return InvalidArgumentError("network " + net.name + ": " + t.status().message());
      }
      if (l.pool < 1) return InvalidArgumentError("network " + net.name + ": pool < 1");
    }
    net_names.push_back(id);
  }
  if (kernels.empty() && summary.workloads.empty() && networks.empty()) {
    std::string why;
    for (const std::string& s : summary.skipped) why += "\n  " + s;
    return FailedPreconditionError("nothing to emit: no workload's best record can be emitted:" +
                                   why);
  }

  const std::string from = options.source_log.empty() ? "" : " from " + options.source_log;
  // One file per tuned kernel.
  for (const Kernel& k : kernels) {
    const Record& r = k.best->record;
    const std::string name = k.tk.task.name;
    SONAR_ASSIGN_OR_RETURN(std::string src,
                           EmitShippedKernelSource(k.tk.task, k.tk.config, ns + "::" + name));
    std::string head = "// Tuned by Sonar" + from + ": " + name + ", " +
                       Describe(r, k.best->cost_seconds) + ".\n// Compile: c++ " +
                       kEmittedCompileFlags + " -c " + name +
                       ".cc (the flags it was measured with).\n";
    files.push_back({name + ".cc", head + src});
    summary.workloads.push_back({name, "kernel", name + ".cc", k.best->cost_seconds});
    Json j = {{"workload", WorkloadKeyToHex(r.workload_key)},
              {"name", name},
              {"op", r.task.op},
              {"shape", k.tk.task.shape},
              {"args", r.task.args_json},
              {"target", r.task.target},
              {"kind", "kernel"},
              {"file", name + ".cc"},
              {"config", Json::parse(KnobValuesToJson(r.config.values))},
              {"seconds", k.best->cost_seconds},
              {"run_seconds", r.result.run_seconds},
              {"hardware_id", r.hardware_id},
              {"tuner", r.tuner},
              {"timestamp_unix_s", r.timestamp_unix_s}};
    workloads_json.push_back(j);
  }
  // User kernels' JSON entries get the common fields too.
  for (Json& j : workloads_json) {
    if (j["kind"] != "constants") continue;
    for (const BestConfig& b : best) {
      if (WorkloadKeyToHex(b.record.workload_key) != j["workload"]) continue;
      j["config"] = Json::parse(KnobValuesToJson(b.record.config.values));
      j["seconds"] = b.cost_seconds;
      j["run_seconds"] = b.record.result.run_seconds;
      j["hardware_id"] = b.record.hardware_id;
      j["tuner"] = b.record.tuner;
      j["timestamp_unix_s"] = b.record.timestamp_unix_s;
    }
  }

  // The header and the dispatch unit, when there is a kernel or a network.
  if (!kernels.empty() || !networks.empty()) {
    std::string h = "// Generated by Sonar (sonar emit)" + from + ": " +
                    std::to_string(kernels.size()) + " tuned kernels" +
                    (networks.empty() ? "" : ", " + std::to_string(networks.size()) + " networks") +
                    ".\n";
    h += "// Files: sonar_tuned.h (this API), sonar_tuned.cc (dispatch, generic kernels";
    h += networks.empty() ? "" : ", networks";
    h += "),\n// and one .cc per tuned kernel. Compile them all with:\n//   c++ " +
         std::string(kEmittedCompileFlags) +
         "\n// (the flags the kernels were measured with; other flags work, at a speed not "
         "measured).\n";
    h += R"(// Layouts (fp32, row-major, contiguous):
//   dense            {M, N, K}: x M x K, w N x K, y M x N (y = x w^T)
//   conv2d           {N, C, H, W, K, R, S, stride, pad}: x N x C x H x W, w K x C x R x S,
//                    y N x K x OH x OW with OH = (H + 2 pad - R) / stride + 1, OW likewise
//   depthwise_conv2d {N, C, H, W, R, S, stride, pad}: x N x C x H x W, w C x R x S,
//                    y N x C x OH x OW
#pragma once

#include <cstddef>
#include <string>
#include <vector>

)";
    h += "namespace " + ns + " {\n" + kHeaderApi;
    for (size_t n = 0; n < networks.size(); ++n) {
      const EmitNetworkSpec& net = networks[n];
      const std::string& id = net_names[n];
      h += "\n// Network " + net.name + " (" + std::to_string(net.layers.size()) +
           " layers, from the joint search), layer by layer:\n";
      for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerSpec& l = net.layers[i];
        h += "//   " + std::to_string(i) + ": " + l.op + " {" + ShapeList(l.shape) + "}" +
             (l.relu ? ", ReLU" : "") +
             (l.pool > 1 ? ", max-pool " + std::to_string(l.pool) : std::string()) + "\n";
      }
      h += "// No biases: add them in your own glue if your model has them.\n";
      h += "class " + id +
           " {\n public:\n  static constexpr int kLayers = " + std::to_string(net.layers.size()) +
           ";\n";
      h += "  // weights[i]: layer i's weights in its op's layout. Throws std::invalid_argument "
           "when\n  // there are not kLayers of them.\n";
      h += "  explicit " + id + "(const std::vector<const float*>& weights);\n";
      h += "  // Runs every layer and its glue: x has InputFloats(), y OutputFloats() floats.\n";
      h += "  void Run(const float* x, float* y);\n";
      h += "  static std::size_t InputFloats();\n  static std::size_t OutputFloats();\n";
      h += "  const Layer& layer(int i) const { return layers_[i]; }\n\n private:\n";
      h += "  std::vector<Layer> layers_;\n  std::vector<std::vector<float>> out_, in_;\n};\n";
    }
    h += "\n// The tuned kernels, one namespace each (what Layer dispatches to).\n";
    for (const Kernel& k : kernels) {
      h += "namespace " + k.tk.task.name +
           " {\nstd::size_t WeightFloats();\nvoid* Prepare(const float* w);\n"
           "void Run(void* layer, const float* x, float* y);\nvoid Release(void* layer);\n}  "
           "// namespace " +
           k.tk.task.name + "\n";
    }
    h += "\n}  // namespace " + ns + "\n";
    files.push_back({"sonar_tuned.h", h});

    std::string c = "// Generated by Sonar (sonar emit)" + from +
                    ": dispatch by op and shape, generic kernels" +
                    (networks.empty() ? std::string() : ", networks") + ".\n";
    c += "#include \"sonar_tuned.h\"\n\n#include <stdexcept>\n#include <string>\n#include "
         "<vector>\n\n";
    c += "namespace " + ns + " {\nnamespace {\n\n";
    c += "constexpr std::size_t kNumKernels = " + std::to_string(kernels.size()) + ";\n";
    c += "const KernelInfo kKernels[" + std::to_string(std::max<size_t>(kernels.size(), 1)) +
         "] = {\n";
    for (const Kernel& k : kernels) {
      const std::string& n = k.tk.task.name;
      c += "    {\"" + n + "\", \"" + k.tk.task.op + "\", " +
           std::to_string(k.tk.task.shape.size()) + ", {" + ShapeList(k.tk.task.shape) + "}, " +
           Num(k.best->cost_seconds) + ", " + Json(k.tk.task.target).dump() + ", " +
           Json(k.best->record.hardware_id).dump() + ", &" + n + "::WeightFloats, &" + n +
           "::Prepare, &" + n + "::Run, &" + n + "::Release},\n";
    }
    if (kernels.empty())
      c += "    {\"\", \"\", 0, {}, 0, \"\", \"\", nullptr, nullptr, nullptr, nullptr},\n";
    c += "};\n\n}  // namespace\n";
    c += kDispatchBody;
    if (!networks.empty()) c += kGlue;
    for (size_t n = 0; n < networks.size(); ++n) {
      const EmitNetworkSpec& net = networks[n];
      const std::string& id = net_names[n];
      const std::vector<LayerSpec>& ls = net.layers;
      c += "\nnamespace {\n// Layers of " + net.name + ": op, shape, ReLU, pool.\n";
      c += "struct " + id +
           "_Spec {\n  const char* op;\n  std::vector<long> shape;\n  bool relu;\n"
           "  long pool;\n};\nconst std::vector<" +
           id + "_Spec>& " + id + "_Specs() {\n";
      c += "  static const std::vector<" + id + "_Spec> specs = {\n";
      for (const LayerSpec& l : ls) {
        c += "      {\"" + l.op + "\", {" + ShapeList(l.shape) + "}, " +
             (l.relu ? "true" : "false") + ", " + std::to_string(l.pool) + "},\n";
      }
      c += "  };\n  return specs;\n}\n}  // namespace\n\n";
      c += id + "::" + id + "(const std::vector<const float*>& weights) {\n";
      c += "  const auto& specs = " + id + "_Specs();\n";
      c += "  if (weights.size() != specs.size()) {\n    throw std::invalid_argument(\"" + id +
           ": needs \" + std::to_string(specs.size()) + \" weight arrays, got \" + "
           "std::to_string(weights.size()));\n  }\n";
      c += "  for (std::size_t i = 0; i < specs.size(); ++i) {\n"
           "    layers_.emplace_back(specs[i].op, specs[i].shape, weights[i]);\n"
           "    out_.emplace_back(" +
           ns +
           "::OutputFloats(specs[i].op, specs[i].shape));\n"
           "    if (i > 0) in_.emplace_back(" +
           ns +
           "::InputFloats(specs[i].op, specs[i].shape));\n"
           "  }\n}\n\n";
      c += "std::size_t " + id + "::InputFloats() {\n  const auto& s = " + id +
           "_Specs()[0];\n  return " + ns + "::InputFloats(s.op, s.shape);\n}\n\n";
      // Output of the last layer after its glue.
      long lc = 0, lh = 0, lw = 0;
      LayerOutput(ls.back(), &lc, &lh, &lw);
      c += "std::size_t " + id + "::OutputFloats() { return " +
           std::to_string(lc * (lh / ls.back().pool) * (lw / ls.back().pool)) + "; }\n\n";
      c += "void " + id + "::Run(const float* x, float* y) {\n";
      for (size_t i = 0; i < ls.size(); ++i) {
        long ch = 0, hh = 0, ww = 0;
        LayerOutput(ls[i], &ch, &hh, &ww);
        const std::string in = i == 0 ? "x" : "in_[" + std::to_string(i - 1) + "].data()";
        const std::string dst = i + 1 == ls.size() ? "y" : "in_[" + std::to_string(i) + "].data()";
        c += "  layers_[" + std::to_string(i) + "].Run(" + in + ", out_[" + std::to_string(i) +
             "].data());\n";
        c += "  Glue(out_[" + std::to_string(i) + "].data(), " + std::to_string(ch) + ", " +
             std::to_string(hh) + ", " + std::to_string(ww) + ", " + std::to_string(ls[i].pool) +
             ", " + (ls[i].relu ? "true" : "false") + ", " + dst + ");\n";
      }
      c += "}\n";
    }
    c += "\n}  // namespace " + ns + "\n";
    files.push_back({"sonar_tuned.cc", c});
    for (size_t n = 0; n < networks.size(); ++n) summary.networks.push_back(net_names[n]);
  }

  Json nets = Json::array();
  for (size_t n = 0; n < networks.size(); ++n) {
    Json layers = Json::array();
    for (const LayerSpec& l : networks[n].layers) {
      std::string kernel = "generic";
      for (const Kernel& k : kernels) {
        if (k.tk.task.op == l.op && k.tk.task.shape == l.shape) kernel = k.tk.task.name;
      }
      layers.push_back({{"op", l.op},
                        {"shape", l.shape},
                        {"relu", l.relu},
                        {"pool", l.pool},
                        {"kernel", kernel}});
    }
    nets.push_back({{"name", networks[n].name}, {"class", net_names[n]}, {"layers", layers}});
  }
  Json doc = {{"sonar_emit", 1},
              {"source_log", options.source_log},
              {"namespace", ns},
              {"compile_flags", kEmittedCompileFlags},
              {"workloads", workloads_json},
              {"networks", nets},
              {"skipped", summary.skipped}};
  files.push_back({"best_configs.json", doc.dump(2) + "\n"});

  // Check every target before writing anything.
  std::error_code ec;
  const fs::path dir(options.out_dir);
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return InvalidArgumentError("--out: " + options.out_dir + " exists and is not a directory");
  }
  for (const OutFile& f : files) {
    const fs::path p = dir / f.name;
    if (fs::exists(p, ec)) {
      if (!options.force) {
        return InvalidArgumentError("--out: " + p.string() +
                                    " exists; pass --force to replace the files sonar emit writes");
      }
      if (!fs::is_regular_file(p, ec)) {
        return InvalidArgumentError(p.string() + " exists and is not a regular file");
      }
    }
  }
  const bool made_dir = !fs::exists(dir, ec);
  if (made_dir && !fs::create_directory(dir, ec)) {
    return InternalError("cannot create " + options.out_dir + ": " + ec.message());
  }
  std::vector<std::string> written;
  auto undo = [&] {
    for (const std::string& w : written) std::remove(w.c_str());
    if (made_dir) fs::remove(dir, ec);
  };
  const std::string suffix = ".tmp-" + std::to_string(getpid());
  for (const OutFile& f : files) {
    const std::string p = (dir / f.name).string(), tmp = p + suffix;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << f.text;
    out.close();
    if (!out || std::rename(tmp.c_str(), p.c_str()) != 0) {
      std::remove(tmp.c_str());
      undo();
      return InternalError("cannot write " + p);
    }
    written.push_back(p);
    summary.files.push_back(p);
  }
  return summary;
}

}  // namespace sonar
