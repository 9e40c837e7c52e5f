// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The model file of LatencyPredictor (Save, Load): one JSON document, format
// "sonar-latency-predictor" version 1 (docs/latency.md).
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "surrogate/latency/latency_predictor.h"
#include "surrogate/latency/latency_predictor_impl.h"

namespace sonar {
namespace {

using Json = nlohmann::json;
using internal::HeadMember;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kFormat = "sonar-latency-predictor";
constexpr int kFormatVersion = 1;

Json MlpToJson(const internal::Mlp& net) {
  Json layers = Json::array();
  for (size_t l = 0; l < net.weights.size(); ++l) {
    const Eigen::MatrixXf& w = net.weights[l];
    std::vector<double> wv(w.size()), bv(net.biases[l].size());
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      for (Eigen::Index j = 0; j < w.cols(); ++j) wv[i * w.cols() + j] = w(i, j);
    }
    for (Eigen::Index i = 0; i < net.biases[l].size(); ++i) bv[i] = net.biases[l](i);
    layers.push_back({{"rows", w.rows()}, {"cols", w.cols()}, {"w", wv}, {"b", bv}});
  }
  return layers;
}

Status MlpFromJson(const Json& j, internal::Mlp* net) {
  if (!j.is_array() || j.empty()) return DataLossError("network layers must be a non-empty array");
  *net = internal::Mlp();
  Eigen::Index prev_rows = -1;
  for (const Json& layer : j) {
    const Eigen::Index rows = layer.at("rows").get<Eigen::Index>();
    const Eigen::Index cols = layer.at("cols").get<Eigen::Index>();
    const std::vector<double> wv = layer.at("w").get<std::vector<double>>();
    const std::vector<double> bv = layer.at("b").get<std::vector<double>>();
    if (rows <= 0 || cols <= 0 || static_cast<Eigen::Index>(wv.size()) != rows * cols ||
        static_cast<Eigen::Index>(bv.size()) != rows || (prev_rows >= 0 && cols != prev_rows)) {
      return DataLossError("a network layer has inconsistent sizes");
    }
    prev_rows = rows;
    Eigen::MatrixXf w(rows, cols);
    Eigen::VectorXf b(rows);
    for (Eigen::Index r = 0; r < rows; ++r) {
      for (Eigen::Index c = 0; c < cols; ++c) w(r, c) = static_cast<float>(wv[r * cols + c]);
      b(r) = static_cast<float>(bv[r]);
    }
    net->weights.push_back(std::move(w));
    net->biases.push_back(std::move(b));
  }
  return OkStatus();
}

// Rows as lists of [index, value] of their non-zero entries (encodings are mostly one-hot).
Json SparseRows(const Eigen::MatrixXd& x) {
  Json rows = Json::array();
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    Json row = Json::array();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (x(i, j) != 0) row.push_back({j, x(i, j)});
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status SparseRowsFromJson(const Json& j, int cols, Eigen::MatrixXd* x) {
  if (!j.is_array()) return DataLossError("encoded rows must be an array");
  x->setZero(static_cast<Eigen::Index>(j.size()), cols);
  for (size_t i = 0; i < j.size(); ++i) {
    for (const Json& e : j[i]) {
      const int c = e.at(0).get<int>();
      if (c < 0 || c >= cols) return DataLossError("an encoded entry is outside the encoding");
      (*x)(static_cast<Eigen::Index>(i), c) = e.at(1).get<double>();
    }
  }
  return OkStatus();
}

Json DescriptorToJson(const HardwareDescriptor& hw) {
  std::vector<double> values(hw.features.data(), hw.features.data() + hw.features.size());
  Json vals = Json::array();
  for (double v : values) vals.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
  return {{"id", hw.id},
          {"device_name", hw.device_name},
          {"source", hw.source},
          {"feature_names", hw.feature_names},
          {"feature_sources", hw.feature_sources},
          {"features", vals}};
}

Status DescriptorFromJson(const Json& j, HardwareDescriptor* hw) {
  *hw = HardwareDescriptor();
  hw->id = j.value("id", "");
  hw->device_name = j.value("device_name", "");
  hw->source = j.value("source", "");
  hw->feature_names = j.at("feature_names").get<std::vector<std::string>>();
  hw->feature_sources = j.value("feature_sources", std::vector<std::string>());
  const Json& f = j.at("features");
  if (!f.is_array() || f.size() != hw->feature_names.size()) {
    return DataLossError("descriptor features and feature_names differ in length");
  }
  hw->features.resize(static_cast<Eigen::Index>(f.size()));
  for (size_t i = 0; i < f.size(); ++i) {
    hw->features(static_cast<Eigen::Index>(i)) = f[i].is_null() ? kNaN : f[i].get<double>();
  }
  return OkStatus();
}

// The options a model was trained with (the "options" object of the file). Throws
// nlohmann::json exceptions on missing or ill-typed fields, as Load expects.
Status OptionsFromJson(const Json& jo, LatencyPredictorOptions* o) {
  o->hidden = jo.at("hidden").get<std::vector<int>>();
  o->feature_size = jo.at("feature_size").get<int>();
  o->epochs = jo.at("epochs").get<int>();
  o->ensemble_size = jo.at("ensemble_size").get<int>();
  o->batch_size = jo.at("batch_size").get<int>();
  o->learning_rate = jo.at("learning_rate").get<double>();
  o->weight_decay = jo.at("weight_decay").get<double>();
  o->head_prior_jitter_grid = jo.at("head_prior_jitter_grid").get<std::vector<double>>();
  o->descriptor_ridge = jo.at("descriptor_ridge").get<double>();
  o->empirical_bayes = jo.at("empirical_bayes").get<bool>();
  o->linear_kernel_grid = jo.at("linear_kernel_grid").get<std::vector<double>>();
  o->train_maple = jo.at("train_maple").get<bool>();
  o->maple_hidden = jo.at("maple_hidden").get<std::vector<int>>();
  o->maple_steps = jo.at("maple_steps").get<int>();
  o->maple_adapt_steps = jo.at("maple_adapt_steps").get<int>();
  o->maple_adapt_learning_rate = jo.at("maple_adapt_learning_rate").get<double>();
  o->maple_sample_weight = jo.at("maple_sample_weight").get<double>();
  o->maple_replay_archs = jo.at("maple_replay_archs").get<int>();
  if (!StringToLatencyAdaptation(jo.at("adaptation").get<std::string>(), &o->adaptation)) {
    return DataLossError("unknown adaptation in options");
  }
  o->seed = jo.at("seed").get<uint64_t>();
  return OkStatus();
}

// MAPLE's network and replay buffer (the "maple" object of the file) for a model with
// encoding size d, num_z descriptor features and num_sources sources. Throws as OptionsFromJson.
Status MapleFromJson(const Json& jm, int d, int num_z, int num_sources, internal::Mlp* maple,
                     Eigen::MatrixXd* replay_x, Eigen::MatrixXd* replay_y) {
  if (Status s = MlpFromJson(jm.at("network"), maple); !s.ok()) return s;
  if (maple->num_inputs() != d + num_z) {
    return DataLossError("the maple network does not match the encoding and descriptor");
  }
  if (Status s = SparseRowsFromJson(jm.at("replay_encodings"), d, replay_x); !s.ok()) {
    return DataLossError(std::string("replay: ") + std::string(s.message()));
  }
  const Json& ry = jm.at("replay_std_log_ms");
  if (ry.size() != static_cast<size_t>(replay_x->rows()) || ry.empty()) {
    return DataLossError("replay rows differ");
  }
  replay_y->resize(replay_x->rows(), num_sources);
  for (size_t i = 0; i < ry.size(); ++i) {
    if (ry[i].size() != static_cast<size_t>(num_sources)) {
      return DataLossError("a replay row has the wrong number of devices");
    }
    for (int s = 0; s < num_sources; ++s) {
      (*replay_y)(static_cast<Eigen::Index>(i), s) =
          ry[i][s].is_null() ? kNaN : ry[i][s].get<double>();
    }
  }
  return OkStatus();
}

}  // namespace

Status LatencyPredictor::Save(const std::string& path) const {
  SONAR_CHECK(trained()) << "LatencyPredictor::Save before Train";
  const Impl& im = *impl_;
  const LatencyPredictorOptions& o = options_;
  Json j;
  j["format"] = kFormat;
  j["version"] = kFormatVersion;
  j["space"] = im.space;
  j["options"] = {{"hidden", o.hidden},
                  {"feature_size", o.feature_size},
                  {"epochs", o.epochs},
                  {"ensemble_size", o.ensemble_size},
                  {"batch_size", o.batch_size},
                  {"learning_rate", o.learning_rate},
                  {"weight_decay", o.weight_decay},
                  {"head_prior_jitter_grid", o.head_prior_jitter_grid},
                  {"descriptor_ridge", o.descriptor_ridge},
                  {"empirical_bayes", o.empirical_bayes},
                  {"linear_kernel_grid", o.linear_kernel_grid},
                  {"train_maple", o.train_maple},
                  {"maple_hidden", o.maple_hidden},
                  {"maple_steps", o.maple_steps},
                  {"maple_adapt_steps", o.maple_adapt_steps},
                  {"maple_adapt_learning_rate", o.maple_adapt_learning_rate},
                  {"maple_sample_weight", o.maple_sample_weight},
                  {"maple_replay_archs", o.maple_replay_archs},
                  {"adaptation", std::string(LatencyAdaptationToString(o.adaptation))},
                  {"seed", o.seed}};
  j["encoding_size"] = im.d;
  j["y_mean"] = im.y_mean;
  j["y_sd"] = im.y_sd;
  Json members = Json::array();
  for (const HeadMember& mem : im.members) {
    members.push_back({{"noise_var", mem.noise_var}, {"trunk", MlpToJson(mem.trunk)}});
  }
  j["members"] = members;
  Json sources = Json::array();
  for (const HardwareDescriptor& hw : im.source_descriptors)
    sources.push_back(DescriptorToJson(hw));
  j["sources"] = sources;
  j["descriptor_features"] = {
      {"names", im.z_names},
      {"mean", std::vector<double>(im.z_mean.data(), im.z_mean.data() + im.z_mean.size())},
      {"sd", std::vector<double>(im.z_sd.data(), im.z_sd.data() + im.z_sd.size())}};
  j["references"] = {{"names", im.ref_names}, {"encodings", SparseRows(im.ref_archs)}};
  if (im.has_maple) {
    Json replay_y = Json::array();
    for (Eigen::Index i = 0; i < im.replay_y.rows(); ++i) {
      Json row = Json::array();
      for (Eigen::Index s = 0; s < im.replay_y.cols(); ++s) {
        row.push_back(std::isfinite(im.replay_y(i, s)) ? Json(im.replay_y(i, s)) : Json(nullptr));
      }
      replay_y.push_back(std::move(row));
    }
    j["maple"] = {{"network", MlpToJson(im.maple)},
                  {"replay_encodings", SparseRows(im.replay_x)},
                  {"replay_std_log_ms", replay_y}};
  }
  if (im.adapted) {
    j["adapted"] = {
        {"method", std::string(LatencyAdaptationToString(im.method))},
        {"descriptor", DescriptorToJson(im.target)},
        {"sample_encodings", SparseRows(im.target_x)},
        {"sample_latency_ms",
         std::vector<double>(im.target_ms.data(), im.target_ms.data() + im.target_ms.size())}};
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return NotFoundError("cannot write " + tmp);
    out << j.dump() << '\n';
    if (!out.flush()) return InternalError("writing " + tmp + " failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return InternalError("cannot rename " + tmp + " to " + path);
  }
  return OkStatus();
}

StatusOr<LatencyPredictor> LatencyPredictor::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open latency model " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError(path +
                         " is not a latency model: not a JSON object (truncated or corrupt?)");
  }
  if (j.value("format", "") != kFormat) {
    return DataLossError(path + " is not a latency model (its \"format\" is not \"" +
                         std::string(kFormat) + "\")");
  }
  if (j.value("version", 0) != kFormatVersion) {
    return InvalidArgumentError(path + ": unsupported latency model version " +
                                j.value("version", Json(0)).dump() + " (this Sonar reads " +
                                std::to_string(kFormatVersion) + ")");
  }
  // nlohmann throws on missing or ill-typed fields; Sonar does not, so convert here.
  try {
    LatencyPredictorOptions o;
    if (Status s = OptionsFromJson(j.at("options"), &o); !s.ok()) {
      return DataLossError(path + ": " + s.message());
    }
    if (Status s = o.Validate(); !s.ok()) return DataLossError(path + ": " + s.message());
    LatencyPredictor p(o);
    Impl& im = *p.impl_;
    im.space = j.at("space").get<std::string>();
    im.d = j.at("encoding_size").get<int>();
    im.y_mean = j.at("y_mean").get<double>();
    im.y_sd = j.at("y_sd").get<double>();
    if (im.d < 1 || !(im.y_sd > 0)) return DataLossError(path + ": invalid encoding_size or y_sd");
    for (const Json& jm : j.at("members")) {
      HeadMember mem;
      mem.noise_var = jm.at("noise_var").get<double>();
      if (!(mem.noise_var > 0)) return DataLossError(path + ": invalid noise_var");
      if (Status s = MlpFromJson(jm.at("trunk"), &mem.trunk); !s.ok()) {
        return DataLossError(path + ": trunk: " + s.message());
      }
      im.members.push_back(std::move(mem));
    }
    if (im.members.empty()) return DataLossError(path + ": the model has no networks");
    for (const Json& sj : j.at("sources")) {
      HardwareDescriptor hw;
      if (Status s = DescriptorFromJson(sj, &hw); !s.ok())
        return DataLossError(path + ": " + s.message());
      im.source_names.push_back(hw.device_name);
      im.source_descriptors.push_back(std::move(hw));
    }
    for (const HeadMember& mem : im.members) {
      if (mem.trunk.num_inputs() != im.d || mem.trunk.num_outputs() != im.num_sources() ||
          im.num_sources() < 2) {
        return DataLossError(path +
                             ": a trunk network does not match the encoding size and sources");
      }
    }
    const Json& jz = j.at("descriptor_features");
    im.z_names = jz.at("names").get<std::vector<std::string>>();
    const std::vector<double> zm = jz.at("mean").get<std::vector<double>>();
    const std::vector<double> zs = jz.at("sd").get<std::vector<double>>();
    if (zm.size() != im.z_names.size() || zs.size() != im.z_names.size()) {
      return DataLossError(path + ": descriptor_features lengths differ");
    }
    im.z_mean = Eigen::Map<const Eigen::VectorXd>(zm.data(), static_cast<Eigen::Index>(zm.size()));
    im.z_sd = Eigen::Map<const Eigen::VectorXd>(zs.data(), static_cast<Eigen::Index>(zs.size()));
    im.ref_names = j.at("references").at("names").get<std::vector<std::string>>();
    if (Status s = SparseRowsFromJson(j.at("references").at("encodings"), im.d, &im.ref_archs);
        !s.ok()) {
      return DataLossError(path + ": references: " + s.message());
    }
    if (im.ref_archs.rows() != static_cast<Eigen::Index>(im.ref_names.size())) {
      return DataLossError(path + ": reference names and encodings differ in number");
    }
    if (j.contains("maple")) {
      if (Status s = MapleFromJson(j.at("maple"), im.d, static_cast<int>(im.z_names.size()),
                                   im.num_sources(), &im.maple, &im.replay_x, &im.replay_y);
          !s.ok()) {
        return DataLossError(path + ": maple: " + s.message());
      }
      im.has_maple = true;
    }
    im.DeriveHeadPriors(o);
    if (j.contains("adapted")) {
      const Json& ja = j.at("adapted");
      LatencyAdaptation method;
      if (!StringToLatencyAdaptation(ja.at("method").get<std::string>(), &method)) {
        return DataLossError(path + ": unknown adaptation method");
      }
      HardwareDescriptor hw;
      if (Status s = DescriptorFromJson(ja.at("descriptor"), &hw); !s.ok()) {
        return DataLossError(path + ": adapted descriptor: " + s.message());
      }
      Eigen::MatrixXd x;
      if (Status s = SparseRowsFromJson(ja.at("sample_encodings"), im.d, &x); !s.ok()) {
        return DataLossError(path + ": adapted samples: " + s.message());
      }
      const std::vector<double> ms = ja.at("sample_latency_ms").get<std::vector<double>>();
      if (static_cast<Eigen::Index>(ms.size()) != x.rows()) {
        return DataLossError(path + ": adapted sample encodings and latencies differ in number");
      }
      const Eigen::VectorXd msv =
          Eigen::Map<const Eigen::VectorXd>(ms.data(), static_cast<Eigen::Index>(ms.size()));
      if (Status s = p.Adapt(hw, x, msv, method); !s.ok()) {
        return DataLossError(path + ": re-adapting the stored samples failed: " + s.message());
      }
    }
    return p;
  } catch (const std::exception& e) {
    return DataLossError(path + ": malformed latency model: " + e.what());
  }
}

}  // namespace sonar
