// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The built-in trainer: dlib's CPU networks on the digits. The only file that includes dlib.
//
// dlib fixes a network's layer list in its type, and an architecture of the space has 2 kernel
// sizes x 2 pools per block, up to 3 blocks and 0 or 1 hidden layer: 168 network types, whose
// instantiation would take minutes to compile. Instead, a network here is a chain of small dlib
// networks, one per stage, each with its own type: a convolution block (con -> relu [->
// max_pool], 4 types), a hidden layer (fc -> relu) and the classifier (fc -> loss), 6 types in
// all. The chain is run by hand with dlib's public tensor API: forward(tensor) stage by stage,
// the loss's compute_parameter_gradients on the last, then back_propagate_error(x, gradient)
// from the last stage to the first, passing each stage's get_final_data_gradient() (d loss / d
// its input) down as the gradient of the stage below; then update_parameters with one Adam
// solver per layer. This computes what the one-type network would (the same layers in the same
// order; checked: the same loss and bit-identical gradients for c8k3-c6k5np-h16); channel counts
// and widths are runtime values (set_num_filters / set_num_outputs before the first forward),
// checked by counting the parameters after set-up.
//
// Determinism: dlib initialises parameters from std::rand() (a global, shared by threads), so
// after set-up every con/fc layer is re-initialised here as dlib does it (Glorot uniform,
// Understanding the difficulty of training deep feedforward neural networks, Glorot & Bengio
// 2010; biases 0), from an Rng seeded by options.seed; minibatch order is a Fisher-Yates
// shuffle with that Rng. dlib's CPU code is deterministic, so a seed gives the same numbers on
// a machine.
//
// Threads: dlib 19.24 built without CUDA runs every layer on the calling thread (it starts no
// thread of its own; measured: no thread appears while training). Its convolutions and dense
// layers call BLAS sgemm; Debian's default BLAS (ATLAS's serial libblas, or the reference one)
// is single-threaded. When the process has OpenBLAS instead, its thread count (process-wide) is
// set to options.threads.
#include <dlfcn.h>
#include <dlib/dnn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "measure/training/trainer.h"

namespace sonar {
namespace {

constexpr int kClasses = 10;
constexpr int kMaxBlocks = 3;
constexpr int kMaxHidden = 1;
constexpr long kValidationBatch = 256;  // images per forward pass when validating

// ---- the stages ----

using Input = dlib::input<dlib::matrix<float>>;  // never fed: stages take tensors
template <long K>
using ConvPool = dlib::max_pool<2, 2, 2, 2, dlib::relu<dlib::con<1, K, K, 1, 1, Input>>>;
template <long K>
using ConvNoPool = dlib::relu<dlib::con<1, K, K, 1, 1, Input>>;
using Hidden = dlib::relu<dlib::fc<1, Input>>;
using Classifier = dlib::loss_multiclass_log<dlib::fc<kClasses, Input>>;

// Glorot uniform in [-sqrt(6 / (fan_in + fan_out)), +...], as dlib::randomize_parameters, but
// from Sonar's Rng.
void GlorotUniform(float* values, size_t n, double fan_in_out, Rng& rng) {
  const double scale = std::sqrt(6.0 / fan_in_out);
  for (size_t i = 0; i < n; ++i) {
    values[i] = static_cast<float>((2 * UniformDouble(rng) - 1) * scale);
  }
}

// One dlib network of the chain. Thread safety: thread-compatible.
class Stage {
 public:
  virtual ~Stage() = default;
  // The stage's output for a batch `x` (N x k x rows x cols); valid until the next Forward.
  virtual const dlib::tensor& Forward(const dlib::tensor& x) = 0;
  // requires: Forward(x) was the last call. Back-propagates `gradient` (d loss / d output,
  // the shape of the output) into the parameter gradients and returns d loss / d x.
  virtual const dlib::tensor& Backward(const dlib::tensor& x, const dlib::tensor& gradient) = 0;
  // Re-initialises the parameters (after the first Forward has allocated them).
  virtual void Initialize(Rng& rng) = 0;
  virtual void Update(double learning_rate) = 0;
  virtual int64_t NumParams() = 0;
};

// Sets the con/fc layer of `net` to `outputs` filters / outputs. requires: before set-up.
template <typename Net>
void SetOutputs(Net& net, long outputs) {
  dlib::visit_computational_layers(net, [outputs](auto& layer) {
    if constexpr (requires { layer.set_num_filters(outputs); }) {
      layer.set_num_filters(outputs);
    } else if constexpr (requires { layer.set_num_outputs(outputs); }) {
      layer.set_num_outputs(outputs);
    }
  });
}

template <typename Net>
void InitializeLayers(Net& net, Rng& rng) {
  dlib::visit_computational_layers(net, [&rng](auto& layer) {
    if constexpr (requires { layer.num_filters(); }) {  // con_: filters, then one bias each
      dlib::tensor& p = layer.get_layer_params();
      const size_t outputs = static_cast<size_t>(layer.num_filters());
      const size_t inputs = (p.size() - outputs) / outputs;
      GlorotUniform(p.host(), inputs * outputs, static_cast<double>(inputs + outputs), rng);
      std::fill(p.host() + inputs * outputs, p.host() + p.size(), 0.0f);
    } else if constexpr (requires { layer.get_num_outputs(); }) {  // fc_: (inputs + 1) x outputs
      dlib::tensor& p = layer.get_layer_params();
      const size_t outputs = layer.get_num_outputs();
      const size_t inputs = static_cast<size_t>(p.num_samples()) - 1;
      GlorotUniform(p.host(), inputs * outputs, static_cast<double>(inputs + outputs), rng);
      std::fill(p.host() + inputs * outputs, p.host() + p.size(), 0.0f);
    }
  });
}

template <typename Net>
int64_t CountParams(Net& net) {
  int64_t n = 0;
  dlib::visit_computational_layers(
      net, [&n](auto& layer) { n += static_cast<int64_t>(layer.get_layer_params().size()); });
  return n;
}

// Plain Adam (no weight decay), the usual momenta.
dlib::adam MakeAdam() { return dlib::adam(0.0f, 0.9f, 0.999f); }

// A hidden stage: a convolution block or a hidden dense layer.
template <typename Net>
class LayerStage final : public Stage {
 public:
  explicit LayerStage(long outputs) : solvers_(Net::num_computational_layers, MakeAdam()) {
    SetOutputs(net_, outputs);
    // forward(tensor) requires a to_tensor() call first (it fixes the sample expansion, 1).
    dlib::matrix<float> dummy(1, 1);
    dlib::resizable_tensor unused;
    net_.to_tensor(&dummy, &dummy + 1, unused);
  }
  const dlib::tensor& Forward(const dlib::tensor& x) override { return net_.forward(x); }
  const dlib::tensor& Backward(const dlib::tensor& x, const dlib::tensor& gradient) override {
    net_.back_propagate_error(x, gradient);
    return net_.get_final_data_gradient();
  }
  void Initialize(Rng& rng) override { InitializeLayers(net_, rng); }
  void Update(double learning_rate) override { net_.update_parameters(solvers_, learning_rate); }
  int64_t NumParams() override { return CountParams(net_); }

 private:
  Net net_;
  std::vector<dlib::adam> solvers_;
};

// The classifier and the loss, the last stage.
class ClassifierStage {
 public:
  ClassifierStage() : solvers_(Classifier::num_computational_layers, MakeAdam()) {
    dlib::matrix<float> dummy(1, 1);
    dlib::resizable_tensor unused;
    net_.to_tensor(&dummy, &dummy + 1, unused);
  }
  // The scores (N x 10) for `x`.
  const dlib::tensor& Forward(const dlib::tensor& x) { return net_.forward(x); }
  // Forward, the mean loss over the batch and its gradients; returns the loss.
  double Gradients(const dlib::tensor& x, const std::vector<unsigned long>& labels) {
    return net_.compute_parameter_gradients(x, labels.begin());
  }
  const dlib::tensor& InputGradient() const { return net_.get_final_data_gradient(); }
  void Initialize(Rng& rng) { InitializeLayers(net_, rng); }
  void Update(double learning_rate) { net_.update_parameters(solvers_, learning_rate); }
  int64_t NumParams() { return CountParams(net_); }

 private:
  Classifier net_;
  std::vector<dlib::adam> solvers_;
};

std::unique_ptr<Stage> MakeBlock(const ConvBlock& b) {
  const long c = b.channels;
  if (b.kernel == 3) {
    if (b.pool == 2) return std::make_unique<LayerStage<ConvPool<3>>>(c);
    return std::make_unique<LayerStage<ConvNoPool<3>>>(c);
  }
  if (b.pool == 2) return std::make_unique<LayerStage<ConvPool<5>>>(c);
  return std::make_unique<LayerStage<ConvNoPool<5>>>(c);
}

// ---- checks ----

Status CheckArchitecture(const ArchitectureSpaceSpec& spec, const Architecture& arch) {
  const std::string name = "architecture " + arch.Name();
  const std::string remedy =
      "; the built-in trainer trains 1 to 3 conv2d blocks (kernel 3 or 5, stride 1, pool 2 or "
      "1) and at most one hidden dense layer: use --train-command to train any architecture";
  if (arch.blocks.empty() || arch.blocks.size() > kMaxBlocks) {
    return InvalidArgumentError(name + " has " + std::to_string(arch.blocks.size()) +
                                " convolution blocks" + remedy);
  }
  if (arch.hidden.size() > kMaxHidden) {
    return InvalidArgumentError(name + " has " + std::to_string(arch.hidden.size()) +
                                " hidden dense layers" + remedy);
  }
  int64_t h = spec.input_height, w = spec.input_width;
  for (size_t i = 0; i < arch.blocks.size(); ++i) {
    const ConvBlock& b = arch.blocks[i];
    const std::string block = name + ": block " + std::to_string(i + 1) + " ";
    if (b.op != "conv2d") return InvalidArgumentError(block + "is " + b.op + remedy);
    if (b.kernel != 3 && b.kernel != 5) {
      return InvalidArgumentError(block + "has kernel " + std::to_string(b.kernel) + remedy);
    }
    if (b.stride != 1) {
      return InvalidArgumentError(block + "has stride " + std::to_string(b.stride) + remedy);
    }
    if (b.pool != 1 && b.pool != 2) {
      return InvalidArgumentError(block + "has pool " + std::to_string(b.pool) + remedy);
    }
    if (b.channels < 1) {
      return InvalidArgumentError(block + "has " + std::to_string(b.channels) + " channels");
    }
    h /= b.pool;
    w /= b.pool;
    if (h < 1 || w < 1) {
      return InvalidArgumentError(block + "shrinks the feature map below 1x1 on a " +
                                  std::to_string(spec.input_height) + "x" +
                                  std::to_string(spec.input_width) + " input");
    }
  }
  for (int width : arch.hidden) {
    if (width < 1) {
      return InvalidArgumentError(name + " has a hidden layer of width " + std::to_string(width));
    }
  }
  return OkStatus();
}

// Weights and biases of `arch` (as ArchitectureSpace::NumParams counts them).
int64_t ExpectedParams(const ArchitectureSpaceSpec& spec, const Architecture& arch) {
  int64_t params = 0, c = spec.input_channels, h = spec.input_height, w = spec.input_width;
  for (const ConvBlock& b : arch.blocks) {
    params += int64_t{b.kernel} * b.kernel * c * b.channels + b.channels;
    c = b.channels;
    h /= b.pool;
    w /= b.pool;
  }
  int64_t features = c * h * w;
  for (int width : arch.hidden) {
    params += features * width + width;
    features = width;
  }
  return params + features * kClasses + kClasses;
}

Status CheckData(const ArchitectureSpaceSpec& spec, const DigitsData& data) {
  if (spec.input_channels != 1 || spec.classes != kClasses) {
    return InvalidArgumentError(
        "the built-in trainer trains on the digits (1 channel, 10 "
        "classes); space " +
        spec.name + " has " + std::to_string(spec.input_channels) + " input channels and " +
        std::to_string(spec.classes) + " classes: use --train-command");
  }
  if (data.height != spec.input_height || data.width != spec.input_width) {
    return InvalidArgumentError(
        "the digits are " + std::to_string(data.height) + "x" + std::to_string(data.width) +
        " but space " + spec.name + " takes " + std::to_string(spec.input_height) + "x" +
        std::to_string(spec.input_width) + " inputs (set DigitsOptions height and width)");
  }
  if (data.train_images.empty() || data.validation_images.empty()) {
    return InvalidArgumentError("the digits have an empty training or validation set");
  }
  const size_t pixels = static_cast<size_t>(data.height) * static_cast<size_t>(data.width);
  auto check = [&](const std::vector<std::vector<float>>& images, const std::vector<int>& labels,
                   const char* set) -> Status {
    if (images.size() != labels.size()) {
      return InvalidArgumentError(std::string("the digits' ") + set + " set has " +
                                  std::to_string(images.size()) + " images but " +
                                  std::to_string(labels.size()) + " labels");
    }
    for (size_t i = 0; i < images.size(); ++i) {
      if (images[i].size() != pixels || labels[i] < 0 || labels[i] >= kClasses) {
        return InvalidArgumentError(std::string("the digits' ") + set + " image " +
                                    std::to_string(i) + " has " + std::to_string(images[i].size()) +
                                    " pixels (expected " + std::to_string(pixels) +
                                    ") or a label outside 0..9");
      }
    }
    return OkStatus();
  };
  SONAR_RETURN_IF_ERROR(check(data.train_images, data.train_labels, "training"));
  return check(data.validation_images, data.validation_labels, "validation");
}

// OpenBLAS threads are process-wide; other BLAS libraries Debian ships here are serial.
void SetBlasThreads(int threads) {
  using SetThreads = void (*)(int);
  if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
    reinterpret_cast<SetThreads>(f)(threads);
  }
}

// ---- the run ----

class DlibRun final : public TrainingRun {
 public:
  DlibRun(const ArchitectureSpaceSpec& spec, const Architecture& arch, const DigitsData& data,
          const BuiltinTrainerOptions& options)
      : data_(data), options_(options), rng_(MakeRng(options.seed, /*stream=*/0x646c6962)) {
    for (const ConvBlock& b : arch.blocks) stages_.push_back(MakeBlock(b));
    for (int width : arch.hidden) stages_.push_back(std::make_unique<LayerStage<Hidden>>(width));
    // Set up (allocate) every layer with one image, then initialise from the seed.
    dlib::resizable_tensor x;
    Fill(data_.train_images, {0}, 0, 1, x);
    const dlib::tensor* in = &x;
    for (auto& s : stages_) in = &s->Forward(*in);
    classifier_.Forward(*in);
    for (auto& s : stages_) s->Initialize(rng_);
    classifier_.Initialize(rng_);
    num_params_ = classifier_.NumParams();
    for (auto& s : stages_) num_params_ += s->NumParams();
    expected_params_ = ExpectedParams(spec, arch);
  }

  // Internal when dlib did not build the layers asked for (it would ignore a runtime width).
  Status CheckParams() const {
    if (num_params_ == expected_params_) return OkStatus();
    return InternalError("dlib built " + std::to_string(num_params_) + " parameters, expected " +
                         std::to_string(expected_params_));
  }

  StatusOr<EpochResult> NextEpoch() override {
    if (!failed_.ok()) return failed_;
    try {
      return TrainEpoch();
    } catch (const std::bad_alloc&) {
      failed_ = ResourceExhaustedError("dlib training ran out of memory");
    } catch (const std::exception& e) {
      failed_ = InternalError(std::string("dlib training failed: ") + e.what());
    } catch (...) {
      failed_ = InternalError("dlib training failed with an unknown exception");
    }
    return failed_;
  }

  int epochs_done() const override { return epochs_done_; }

 private:
  // Images order[begin, end) of `images` into `x` (n x 1 x height x width).
  void Fill(const std::vector<std::vector<float>>& images, const std::vector<size_t>& order,
            size_t begin, size_t end, dlib::resizable_tensor& x) const {
    const size_t pixels = static_cast<size_t>(data_.height) * static_cast<size_t>(data_.width);
    x.set_size(static_cast<long long>(end - begin), 1, data_.height, data_.width);
    float* p = x.host();
    for (size_t i = begin; i < end; ++i, p += pixels) {
      std::copy(images[order[i]].begin(), images[order[i]].end(), p);
    }
  }

  StatusOr<EpochResult> TrainEpoch() {
    SetBlasThreads(options_.threads);
    const auto start = std::chrono::steady_clock::now();
    const size_t n = data_.train_images.size();
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    for (size_t i = n; i > 1; --i) {  // Fisher-Yates (std::shuffle differs across libraries)
      std::swap(order[i - 1],
                order[static_cast<size_t>(UniformInt(rng_, 0, static_cast<int64_t>(i) - 1))]);
    }
    const size_t batch = static_cast<size_t>(options_.batch_size);
    dlib::resizable_tensor x;
    std::vector<const dlib::tensor*> inputs(stages_.size() + 1);
    std::vector<unsigned long> labels;
    double loss_sum = 0;
    for (size_t begin = 0; begin < n; begin += batch) {
      const size_t end = std::min(n, begin + batch);
      Fill(data_.train_images, order, begin, end, x);
      labels.clear();
      for (size_t i = begin; i < end; ++i) {
        labels.push_back(static_cast<unsigned long>(data_.train_labels[order[i]]));
      }
      inputs[0] = &x;
      for (size_t s = 0; s < stages_.size(); ++s) inputs[s + 1] = &stages_[s]->Forward(*inputs[s]);
      loss_sum += classifier_.Gradients(*inputs.back(), labels) * static_cast<double>(end - begin);
      const dlib::tensor* gradient = &classifier_.InputGradient();
      for (size_t s = stages_.size(); s-- > 0;) {
        gradient = &stages_[s]->Backward(*inputs[s], *gradient);
      }
      classifier_.Update(options_.learning_rate);
      for (auto& s : stages_) s->Update(options_.learning_rate);
    }
    const double train_loss = loss_sum / static_cast<double>(n);
    if (!std::isfinite(train_loss)) {
      failed_ = InternalError("the training loss diverged (" + std::to_string(train_loss) +
                              "); try a smaller learning rate");
      return failed_;
    }

    const size_t nv = data_.validation_images.size();
    std::vector<size_t> identity(nv);
    for (size_t i = 0; i < nv; ++i) identity[i] = i;
    size_t right = 0;
    for (size_t begin = 0; begin < nv; begin += kValidationBatch) {
      const size_t end = std::min(nv, begin + kValidationBatch);
      Fill(data_.validation_images, identity, begin, end, x);
      const dlib::tensor* in = &x;
      for (auto& s : stages_) in = &s->Forward(*in);
      const dlib::tensor& scores = classifier_.Forward(*in);  // (end - begin) x 10
      const float* p = scores.host();
      for (size_t i = begin; i < end; ++i, p += kClasses) {
        const int predicted = static_cast<int>(std::max_element(p, p + kClasses) - p);
        if (predicted == data_.validation_labels[i]) ++right;
      }
    }

    EpochResult r;
    r.epoch = ++epochs_done_;
    r.validation_accuracy = static_cast<double>(right) / static_cast<double>(nv);
    r.train_loss = train_loss;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  }

  const DigitsData data_;  // a copy (under 2 MB at 16x16): the caller's may go away
  BuiltinTrainerOptions options_;
  Rng rng_;
  std::vector<std::unique_ptr<Stage>> stages_;
  ClassifierStage classifier_;
  int64_t num_params_ = 0, expected_params_ = 0;
  int epochs_done_ = 0;
  Status failed_;
};

}  // namespace

Status BuiltinTrainerOptions::Validate() const {
  if (batch_size < 1) {
    return InvalidArgumentError("BuiltinTrainerOptions: batch_size must be >= 1, got " +
                                std::to_string(batch_size));
  }
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    return InvalidArgumentError(
        "BuiltinTrainerOptions: learning_rate must be finite and > 0, got " +
        std::to_string(learning_rate));
  }
  if (threads < 1) {
    return InvalidArgumentError("BuiltinTrainerOptions: threads must be >= 1, got " +
                                std::to_string(threads));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<TrainingRun>> StartBuiltinTraining(const ArchitectureSpace& space,
                                                            const Architecture& arch,
                                                            const DigitsData& data,
                                                            const BuiltinTrainerOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  SONAR_RETURN_IF_ERROR(CheckData(space.spec(), data));
  SONAR_RETURN_IF_ERROR(CheckArchitecture(space.spec(), arch));
  try {
    SetBlasThreads(options.threads);
    auto run = std::make_unique<DlibRun>(space.spec(), arch, data, options);
    SONAR_RETURN_IF_ERROR(run->CheckParams());
    return std::unique_ptr<TrainingRun>(std::move(run));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("dlib ran out of memory building " + arch.Name());
  } catch (const std::exception& e) {
    return InternalError("dlib could not build " + arch.Name() + ": " + e.what());
  } catch (...) {
    return InternalError("dlib could not build " + arch.Name() + " (unknown exception)");
  }
}

}  // namespace sonar
