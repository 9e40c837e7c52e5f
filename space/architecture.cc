// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/architecture.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/check.h"

namespace sonar {
namespace {

using Json = nlohmann::json;

Status FieldError(std::string_view source, std::string_view field, std::string_view reason) {
  return InvalidArgumentError(std::string(source) + ": " + std::string(field) + ": " +
                              std::string(reason));
}

// The spatial size after a window of `k` with padding k/2 and `stride`, then a pool.
int64_t ConvOut(int64_t in, int kernel, int stride) {
  return (in + 2 * (kernel / 2) - kernel) / stride + 1;
}

}  // namespace

std::string Architecture::Name() const {
  std::string name;
  for (const ConvBlock& b : blocks) {
    if (!name.empty()) name += "-";
    name += b.op == "separable" ? "s" : "c";
    name += std::to_string(b.channels) + "k" + std::to_string(b.kernel);
    if (b.stride != 1) name += "/" + std::to_string(b.stride);
    if (b.pool == 1) {
      name += "np";
    } else if (b.pool != 2) {
      name += "p" + std::to_string(b.pool);
    }
  }
  for (int w : hidden) {
    if (!name.empty()) name += "-";
    name += "h" + std::to_string(w);
  }
  return name.empty() ? "linear" : name;
}

std::vector<LayerSpec> ArchitectureSpace::Layers(const Architecture& arch) const {
  std::vector<LayerSpec> layers;
  int64_t c = spec_.input_channels, h = spec_.input_height, w = spec_.input_width;
  for (const ConvBlock& b : arch.blocks) {
    const int64_t pad = b.kernel / 2;
    const int64_t oh = ConvOut(h, b.kernel, b.stride), ow = ConvOut(w, b.kernel, b.stride);
    if (b.op == "separable") {
      layers.push_back(
          {"depthwise_conv2d", {1, c, h, w, b.kernel, b.kernel, b.stride, pad}, true, 1});
      layers.push_back({"conv2d", {1, c, oh, ow, b.channels, 1, 1, 1, 0}, true, b.pool});
    } else {
      layers.push_back(
          {"conv2d", {1, c, h, w, b.channels, b.kernel, b.kernel, b.stride, pad}, true, b.pool});
    }
    c = b.channels;
    h = oh / b.pool;
    w = ow / b.pool;
  }
  int64_t features = c * h * w;
  for (int width : arch.hidden) {
    layers.push_back({"dense", {1, width, features}, true, 1});
    features = width;
  }
  layers.push_back({"dense", {1, spec_.classes, features}, false, 1});
  return layers;
}

int64_t ArchitectureSpace::NumParams(const Architecture& arch) const {
  int64_t params = 0;
  for (const LayerSpec& l : Layers(arch)) {
    const std::vector<int64_t>& s = l.shape;
    if (l.op == "conv2d") {
      params += s[1] * s[5] * s[6] * s[4] + s[4];
    } else if (l.op == "depthwise_conv2d") {
      params += s[1] * s[4] * s[5] + s[1];
    } else {
      params += s[1] * s[2] + s[1];
    }
  }
  return params;
}

double ArchitectureSpace::Flops(const Architecture& arch) const {
  double flops = 0;
  for (const LayerSpec& l : Layers(arch)) {
    const std::vector<int64_t>& s = l.shape;
    if (l.op == "conv2d") {
      const double oh = ConvOut(s[2], s[5], s[7]), ow = ConvOut(s[3], s[6], s[7]);
      flops += 2.0 * s[4] * oh * ow * s[1] * s[5] * s[6];
    } else if (l.op == "depthwise_conv2d") {
      const double oh = ConvOut(s[2], s[4], s[6]), ow = ConvOut(s[3], s[5], s[6]);
      flops += 2.0 * s[1] * oh * ow * s[4] * s[5];
    } else {
      flops += 2.0 * s[0] * s[1] * s[2];
    }
  }
  return flops;
}

const Architecture& ArchitectureSpace::at(int64_t index) const {
  SONAR_CHECK(index >= 0 && index < size())
      << "architecture index " << index << " is outside [0, " << size() << ")";
  return archs_[static_cast<size_t>(index)];
}

int64_t ArchitectureSpace::IndexOf(const Architecture& arch) const {
  auto it = std::find(archs_.begin(), archs_.end(), arch);
  return it == archs_.end() ? -1 : static_cast<int64_t>(it - archs_.begin());
}

std::string ArchitectureSpace::ToJson(const Architecture& arch) const {
  Json blocks = Json::array();
  for (const ConvBlock& b : arch.blocks) {
    blocks.push_back({{"op", b.op},
                      {"channels", b.channels},
                      {"kernel", b.kernel},
                      {"stride", b.stride},
                      {"pool", b.pool}});
  }
  Json layers = Json::array();
  for (const LayerSpec& l : Layers(arch)) {
    layers.push_back({{"op", l.op}, {"shape", l.shape}, {"relu", l.relu}, {"pool", l.pool}});
  }
  Json j = {{"name", arch.Name()},
            {"input", {spec_.input_channels, spec_.input_height, spec_.input_width}},
            {"classes", spec_.classes},
            {"blocks", blocks},
            {"hidden", arch.hidden},
            {"layers", layers}};
  return j.dump();
}

StatusOr<int64_t> ArchitectureSpace::IndexOfJson(std::string_view json) const {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("architecture JSON: not a JSON object");
  }
  Architecture arch;
  if (!j.contains("blocks") || !j["blocks"].is_array() || !j.contains("hidden") ||
      !j["hidden"].is_array()) {
    return InvalidArgumentError("architecture JSON: needs the arrays \"blocks\" and \"hidden\"");
  }
  for (const Json& b : j["blocks"]) {
    if (!b.is_object()) return InvalidArgumentError("architecture JSON: blocks: not an object");
    ConvBlock block;
    try {
      block.op = b.at("op").get<std::string>();
      block.channels = b.at("channels").get<int>();
      block.kernel = b.at("kernel").get<int>();
      block.stride = b.at("stride").get<int>();
      block.pool = b.at("pool").get<int>();
    } catch (const Json::exception& e) {
      return InvalidArgumentError(std::string("architecture JSON: blocks: ") + e.what());
    }
    arch.blocks.push_back(block);
  }
  for (const Json& w : j["hidden"]) {
    if (!w.is_number_integer()) {
      return InvalidArgumentError("architecture JSON: hidden: not an integer");
    }
    arch.hidden.push_back(w.get<int>());
  }
  const int64_t index = IndexOf(arch);
  if (index < 0) {
    return InvalidArgumentError("architecture " + arch.Name() + " is not in space " + name());
  }
  return index;
}

namespace {

// The checks of Make, with errors "source: field: reason".
Status ValidateSpec(const ArchitectureSpaceSpec& spec, std::string_view source) {
  auto positive_list = [&](const std::vector<int>& v, std::string_view field) -> Status {
    if (v.empty()) return FieldError(source, field, "must list at least one value");
    for (int x : v) {
      if (x < 1) return FieldError(source, field, "values must be >= 1, got " + std::to_string(x));
    }
    if (std::set<int>(v.begin(), v.end()).size() != v.size()) {
      return FieldError(source, field, "lists a value twice");
    }
    return OkStatus();
  };
  if (spec.input_channels < 1 || spec.input_height < 1 || spec.input_width < 1) {
    return FieldError(source, "input", "channels, height and width must be >= 1");
  }
  if (spec.classes < 2) return FieldError(source, "classes", "must be >= 2");
  if (spec.min_blocks < 0 || spec.max_blocks < spec.min_blocks || spec.max_blocks > 16) {
    return FieldError(source, "blocks", "needs 0 <= min <= max <= 16");
  }
  if (spec.min_hidden < 0 || spec.max_hidden < spec.min_hidden || spec.max_hidden > 8) {
    return FieldError(source, "dense", "needs 0 <= min <= max <= 8");
  }
  if (spec.max_blocks > 0) {
    if (spec.block_ops.empty()) return FieldError(source, "blocks.op", "must list an op");
    for (const std::string& op : spec.block_ops) {
      if (op != "conv2d" && op != "separable") {
        return FieldError(source, "blocks.op",
                          "unknown op \"" + op + "\" (known: conv2d, separable)");
      }
    }
    if (std::set<std::string>(spec.block_ops.begin(), spec.block_ops.end()).size() !=
        spec.block_ops.size()) {
      return FieldError(source, "blocks.op", "lists a value twice");
    }
    SONAR_RETURN_IF_ERROR(positive_list(spec.channels, "blocks.channels"));
    SONAR_RETURN_IF_ERROR(positive_list(spec.kernels, "blocks.kernel"));
    SONAR_RETURN_IF_ERROR(positive_list(spec.strides, "blocks.stride"));
    SONAR_RETURN_IF_ERROR(positive_list(spec.pools, "blocks.pool"));
  }
  if (spec.max_hidden > 0) SONAR_RETURN_IF_ERROR(positive_list(spec.hidden_widths, "dense.width"));
  if (spec.max_params < 0) return FieldError(source, "max_params", "must be >= 0");
  if (!(spec.max_flops >= 0)) return FieldError(source, "max_flops", "must be >= 0");
  return OkStatus();
}

}  // namespace

StatusOr<ArchitectureSpace> ArchitectureSpace::Make(ArchitectureSpaceSpec spec) {
  const std::string source = spec.name.empty() ? "space" : spec.name;
  SONAR_RETURN_IF_ERROR(ValidateSpec(spec, source));
  // Every block choice, in spec order (op, channels, kernel, stride, pool).
  std::vector<ConvBlock> block_choices;
  for (const std::string& op : spec.block_ops) {
    for (int ch : spec.channels) {
      for (int k : spec.kernels) {
        for (int s : spec.strides) {
          for (int p : spec.pools) block_choices.push_back({op, ch, k, s, p});
        }
      }
    }
  }
  double candidates = 0;
  for (int nb = spec.min_blocks; nb <= spec.max_blocks; ++nb) {
    for (int nh = spec.min_hidden; nh <= spec.max_hidden; ++nh) {
      candidates += std::pow(static_cast<double>(block_choices.size()), nb) *
                    std::pow(static_cast<double>(spec.hidden_widths.size()), nh);
    }
  }
  if (candidates > static_cast<double>(kMaxArchitectures)) {
    std::ostringstream msg;
    msg << "the space has " << candidates << " candidate architectures, more than the "
        << kMaxArchitectures << " Sonar enumerates: shorten the lists or lower the maxima";
    return FieldError(source, "blocks", msg.str());
  }

  ArchitectureSpace space;
  space.spec_ = std::move(spec);
  const ArchitectureSpaceSpec& s = space.spec_;
  std::vector<size_t> bi, hi;
  for (int nb = s.min_blocks; nb <= s.max_blocks; ++nb) {
    for (int nh = s.min_hidden; nh <= s.max_hidden; ++nh) {
      bi.assign(nb, 0);
      hi.assign(nh, 0);
      // Mixed-radix count over the block choices (most significant first), then hidden widths.
      while (true) {
        Architecture arch;
        int64_t hh = s.input_height, ww = s.input_width;
        bool fits = true;
        for (size_t b : bi) {
          const ConvBlock& block = block_choices[b];
          hh = ConvOut(hh, block.kernel, block.stride);
          ww = ConvOut(ww, block.kernel, block.stride);
          if (hh < 1 || ww < 1) fits = false;
          hh /= block.pool;
          ww /= block.pool;
          if (hh < 1 || ww < 1) fits = false;
          arch.blocks.push_back(block);
        }
        for (size_t h : hi) arch.hidden.push_back(s.hidden_widths[h]);
        if (fits && s.max_params > 0 && space.NumParams(arch) > s.max_params) fits = false;
        if (fits && s.max_flops > 0 && space.Flops(arch) > s.max_flops) fits = false;
        if (fits) space.archs_.push_back(std::move(arch));
        // Increment: hidden digits least significant.
        int pos = nh - 1;
        while (pos >= 0 && ++hi[pos] == s.hidden_widths.size()) hi[pos--] = 0;
        if (pos >= 0) continue;
        pos = nb - 1;
        while (pos >= 0 && ++bi[pos] == block_choices.size()) bi[pos--] = 0;
        if (pos < 0) break;
      }
    }
  }
  if (space.archs_.empty()) {
    return FieldError(source, "blocks",
                      "no architecture fits (the feature map shrinks below 1x1, or every one "
                      "exceeds max_params / max_flops)");
  }
  return space;
}

StatusOr<ArchitectureSpaceSpec> ParseArchitectureSpaceSpec(std::string_view json,
                                                           std::string_view source) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded()) return FieldError(source, "(file)", "not valid JSON");
  if (!j.is_object()) return FieldError(source, "(file)", "must be a JSON object");
  ArchitectureSpaceSpec spec;
  auto get_int = [&](const Json& obj, const char* key, std::string field, int* out, int lo,
                     int hi) -> Status {
    if (!obj.contains(key)) return OkStatus();
    const Json& v = obj[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      return FieldError(
          source, field,
          "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    *out = v.get<int>();
    return OkStatus();
  };
  auto get_list = [&](const Json& obj, const char* key, std::string field,
                      std::vector<int>* out) -> Status {
    if (!obj.contains(key)) return OkStatus();
    const Json& v = obj[key];
    if (!v.is_array() || v.empty()) return FieldError(source, field, "must be a non-empty array");
    out->clear();
    for (const Json& x : v) {
      if (!x.is_number_integer() || x.get<int64_t>() < 1 || x.get<int64_t>() > 65536) {
        return FieldError(source, field, "values must be integers in [1, 65536]");
      }
      out->push_back(x.get<int>());
    }
    return OkStatus();
  };
  auto check_keys = [&](const Json& obj, std::string_view where,
                        std::initializer_list<const char*> known) -> Status {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (const char* k : known) ok = ok || it.key() == k;
      if (!ok) {
        std::string names;
        for (const char* k : known) names += std::string(names.empty() ? "" : ", ") + k;
        return FieldError(source, std::string(where) + it.key(),
                          "unknown field (known: " + names + ")");
      }
    }
    return OkStatus();
  };
  SONAR_RETURN_IF_ERROR(check_keys(
      j, "", {"name", "input", "classes", "blocks", "dense", "max_params", "max_flops"}));
  if (j.contains("name")) {
    if (!j["name"].is_string()) return FieldError(source, "name", "must be a string");
    spec.name = j["name"].get<std::string>();
  } else {
    spec.name = std::string(source);
  }
  if (j.contains("input")) {
    const Json& in = j["input"];
    if (!in.is_array() || in.size() != 3) {
      return FieldError(source, "input", "must be [channels, height, width]");
    }
    std::vector<int> dims;
    SONAR_RETURN_IF_ERROR(get_list(j, "input", "input", &dims));
    spec.input_channels = dims[0];
    spec.input_height = dims[1];
    spec.input_width = dims[2];
  }
  SONAR_RETURN_IF_ERROR(get_int(j, "classes", "classes", &spec.classes, 2, 100000));
  if (j.contains("blocks")) {
    const Json& b = j["blocks"];
    if (!b.is_object()) return FieldError(source, "blocks", "must be an object");
    SONAR_RETURN_IF_ERROR(
        check_keys(b, "blocks.", {"min", "max", "op", "channels", "kernel", "stride", "pool"}));
    SONAR_RETURN_IF_ERROR(get_int(b, "min", "blocks.min", &spec.min_blocks, 0, 16));
    SONAR_RETURN_IF_ERROR(get_int(b, "max", "blocks.max", &spec.max_blocks, 0, 16));
    if (b.contains("op")) {
      if (!b["op"].is_array() || b["op"].empty()) {
        return FieldError(source, "blocks.op", "must be a non-empty array of strings");
      }
      spec.block_ops.clear();
      for (const Json& op : b["op"]) {
        if (!op.is_string()) return FieldError(source, "blocks.op", "values must be strings");
        spec.block_ops.push_back(op.get<std::string>());
      }
    }
    SONAR_RETURN_IF_ERROR(get_list(b, "channels", "blocks.channels", &spec.channels));
    SONAR_RETURN_IF_ERROR(get_list(b, "kernel", "blocks.kernel", &spec.kernels));
    SONAR_RETURN_IF_ERROR(get_list(b, "stride", "blocks.stride", &spec.strides));
    SONAR_RETURN_IF_ERROR(get_list(b, "pool", "blocks.pool", &spec.pools));
  }
  if (j.contains("dense")) {
    const Json& d = j["dense"];
    if (!d.is_object()) return FieldError(source, "dense", "must be an object");
    SONAR_RETURN_IF_ERROR(check_keys(d, "dense.", {"min", "max", "width"}));
    SONAR_RETURN_IF_ERROR(get_int(d, "min", "dense.min", &spec.min_hidden, 0, 8));
    SONAR_RETURN_IF_ERROR(get_int(d, "max", "dense.max", &spec.max_hidden, 0, 8));
    SONAR_RETURN_IF_ERROR(get_list(d, "width", "dense.width", &spec.hidden_widths));
  }
  if (j.contains("max_params")) {
    if (!j["max_params"].is_number_integer() || j["max_params"].get<int64_t>() < 0) {
      return FieldError(source, "max_params", "must be an integer >= 0");
    }
    spec.max_params = j["max_params"].get<int64_t>();
  }
  if (j.contains("max_flops")) {
    if (!j["max_flops"].is_number() || !(j["max_flops"].get<double>() >= 0)) {
      return FieldError(source, "max_flops", "must be a number >= 0");
    }
    spec.max_flops = j["max_flops"].get<double>();
  }
  return spec;
}

StatusOr<ArchitectureSpace> LoadArchitectureSpace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open the space file");
  std::ostringstream text;
  text << in.rdbuf();
  SONAR_ASSIGN_OR_RETURN(ArchitectureSpaceSpec spec, ParseArchitectureSpaceSpec(text.str(), path));
  SONAR_RETURN_IF_ERROR(ValidateSpec(spec, path));
  const std::string name = spec.name;
  spec.name = path;  // so that Make's remaining errors name the file
  SONAR_ASSIGN_OR_RETURN(ArchitectureSpace space, ArchitectureSpace::Make(std::move(spec)));
  space.set_name(name);
  return space;
}

std::vector<std::string> BuiltinArchitectureSpaceNames() { return {"digits-cnn"}; }

StatusOr<ArchitectureSpace> BuiltinArchitectureSpace(std::string_view name) {
  if (name == "digits-cnn") {
    // 16x16 digits (8x8 upsampled), 1-3 conv2d blocks of 4-32 channels with 3x3 or 5x5
    // kernels, each followed by ReLU and a 2x2 max-pool, then 0 or 1 hidden dense layer:
    // 8 + 64 + 512 block stacks x 3 heads = 1,752 architectures.
    ArchitectureSpaceSpec spec;
    spec.name = "digits-cnn";
    return ArchitectureSpace::Make(spec);
  }
  std::string names;
  for (const std::string& n : BuiltinArchitectureSpaceNames()) {
    names += (names.empty() ? "" : ", ") + n;
  }
  return NotFoundError("no built-in architecture space \"" + std::string(name) +
                       "\" (built in: " + names + "; or give a space file)");
}

}  // namespace sonar
