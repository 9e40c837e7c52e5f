// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: ArchitectureSpace, the space the joint search (`sonar search`) picks
// networks from: small CNNs and MLPs built from Sonar's operators. A network is a stack of
// convolution blocks (conv2d, or a separable block: depthwise conv2d then a 1x1 conv2d), each
// followed by ReLU and an optional max-pool, then a flatten, zero or more hidden dense layers
// with ReLU, and a dense classifier. An Architecture is one choice of block count, per-block
// operator, channels, kernel size, stride and pool, and hidden widths; it reduces to its layer
// list (LayerSpec: an operator and a MakeOperatorTask shape at batch 1), so a layer shape shared
// by several architectures is one tuning task. The JSON format is in docs/search.md; the
// built-in "digits-cnn" space (1,752 architectures on 16x16 digits) is BuiltinArchitectureSpace.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(ArchitectureSpace space, BuiltinArchitectureSpace("digits-cnn"));
//   const Architecture& arch = space.at(17);
//   for (const LayerSpec& layer : space.Layers(arch)) {
//     SONAR_ASSIGN_OR_RETURN(Task task, MakeOperatorTask(layer.op, layer.shape));
//   }
//   std::string json = space.ToJson(arch);  // what an external trainer reads on stdin
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sonar {

// One convolution block of an architecture.
struct ConvBlock {
  std::string op = "conv2d";  // "conv2d" | "separable" (depthwise KxK, then 1x1 conv2d)
  int channels = 8;           // output channels
  int kernel = 3;             // square kernel size; padding is kernel / 2 ("same" at stride 1)
  int stride = 1;
  int pool = 2;  // max-pool window and stride after the ReLU; 1 = no pool
  friend bool operator==(const ConvBlock&, const ConvBlock&) = default;
};

// One network of a space. Thread safety: value type.
struct Architecture {
  std::vector<ConvBlock> blocks;
  std::vector<int> hidden;  // widths of the hidden dense layers, input to output
  // A short unique name, e.g. "c16k5-c32k3-h64" (conv2d 16 channels 5x5, ...; "s" for
  // separable, "/2" for stride 2, "np" for no pool, when they differ from stride 1 and pool 2).
  std::string Name() const;
  friend bool operator==(const Architecture&, const Architecture&) = default;
};

// One layer of a network at batch 1: an operator that MakeOperatorTask knows and its shape in
// that function's convention (conv2d {1,C,H,W,K,R,S,stride,pad}, depthwise_conv2d
// {1,C,H,W,R,S,stride,pad}, dense {1,N,K}). The ReLU / pool / flatten between layers is glue
// that is not tuned.
struct LayerSpec {
  std::string op;
  std::vector<int64_t> shape;
  bool relu = true;  // a ReLU follows (false for the classifier)
  int pool = 1;      // max-pool window and stride after the ReLU (1 = none)
  friend bool operator==(const LayerSpec&, const LayerSpec&) = default;
};

// What a space file describes (docs/search.md has the JSON). Thread safety: value type.
struct ArchitectureSpaceSpec {
  std::string name;
  int input_channels = 1, input_height = 16, input_width = 16;
  int classes = 10;
  int min_blocks = 1, max_blocks = 3;
  std::vector<std::string> block_ops = {"conv2d"};
  std::vector<int> channels = {4, 8, 16, 32};
  std::vector<int> kernels = {3, 5};
  std::vector<int> strides = {1};
  std::vector<int> pools = {2};
  int min_hidden = 0, max_hidden = 1;
  std::vector<int> hidden_widths = {32, 64};
  // Architectures with more parameters / FLOPs (multiply and add counted apart, batch 1) are
  // left out; 0 = no limit.
  int64_t max_params = 0;
  double max_flops = 0;
};

// The finite, enumerated set of valid architectures of a spec, in a fixed order (by block
// count, then hidden-layer count, then block choices, then hidden widths; each list in the
// order the spec gives it).
// Architectures whose feature map would shrink below 1x1, or beyond max_params / max_flops,
// are not in it. Thread safety: immutable once built; safe to share.
class ArchitectureSpace {
 public:
  // InvalidArgument naming the field for an impossible spec (empty lists, values < 1, an
  // unknown op, min > max, no valid architecture, more than kMaxArchitectures candidates).
  static StatusOr<ArchitectureSpace> Make(ArchitectureSpaceSpec spec);
  static constexpr int64_t kMaxArchitectures = int64_t{1} << 22;

  const ArchitectureSpaceSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  void set_name(std::string name) { spec_.name = std::move(name); }
  int64_t size() const { return static_cast<int64_t>(archs_.size()); }
  // requires: 0 <= index < size().
  const Architecture& at(int64_t index) const;
  // The index of `arch`, or -1 when it is not in the space.
  int64_t IndexOf(const Architecture& arch) const;

  // The layers of `arch` in execution order (convolutions, hidden dense layers, classifier).
  std::vector<LayerSpec> Layers(const Architecture& arch) const;
  // Trainable parameters (weights and biases) and FLOPs of one forward pass at batch 1.
  int64_t NumParams(const Architecture& arch) const;
  double Flops(const Architecture& arch) const;

  // The architecture as minified JSON, what an external trainer reads on stdin:
  // {"name":..,"input":[C,H,W],"classes":..,"blocks":[{"op","channels","kernel","stride",
  //  "pool"}..],"hidden":[..],"layers":[{"op","shape","relu","pool"}..]}.
  std::string ToJson(const Architecture& arch) const;
  // Parses ToJson's output (only "blocks" and "hidden" are read) and returns the index in this
  // space; InvalidArgument when malformed or not in the space.
  StatusOr<int64_t> IndexOfJson(std::string_view json) const;

 private:
  ArchitectureSpaceSpec spec_;
  std::vector<Architecture> archs_;
};

// Parses a space file's text. Errors are InvalidArgument "source: field: reason" (source is
// the file name to show). Unknown fields are errors (a typo must not silently widen a space).
StatusOr<ArchitectureSpaceSpec> ParseArchitectureSpaceSpec(std::string_view json,
                                                           std::string_view source);
// Reads and parses a space file, then builds the space.
StatusOr<ArchitectureSpace> LoadArchitectureSpace(const std::string& path);

// The built-in spaces by name ("digits-cnn"); NotFound lists the names.
std::vector<std::string> BuiltinArchitectureSpaceNames();
StatusOr<ArchitectureSpace> BuiltinArchitectureSpace(std::string_view name);

}  // namespace sonar
