// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar latency train | adapt | predict | eval: the hardware-descriptor latency predictor
// (surrogate/latency/latency_predictor.h) on HELP's latency tables. docs/latency.md has the
// details.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "surrogate/latency/latency_data.h"
#include "surrogate/latency/latency_eval.h"
#include "surrogate/latency/latency_predictor.h"

namespace sonar {
namespace {

using Json = nlohmann::ordered_json;
using cli::CheckOutputDirectory;
using cli::CheckOutputFile;
using cli::Fail;
using cli::InRange;
using cli::kExitOk;
using cli::kExitUsage;

Json FiniteOrNull(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

int Usage(const std::string& cmd, const std::string& message) {
  std::fprintf(stderr, "sonar latency %s: %s\n", cmd.c_str(), message.c_str());
  return kExitUsage;
}

std::vector<std::string> SplitList(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

// <dir of the first CSV>/<space>_hardware_embedding_index.txt unless given.
std::string ReferencePath(const std::string& given, const std::vector<std::string>& data,
                          LatencySpace space) {
  if (!given.empty()) return given;
  const std::filesystem::path dir = std::filesystem::path(data.front()).parent_path();
  return (dir / (std::string(LatencySpaceToString(space)) + "_hardware_embedding_index.txt"))
      .string();
}

struct CommonData {
  std::vector<std::string> data;
  std::string space_name;
  std::string reference;
  LatencySpace space = LatencySpace::kNasBench201;
};

int ParseSpace(const std::string& cmd, CommonData& c) {
  if (!StringToLatencySpace(c.space_name, &c.space)) {
    return Usage(cmd, "unknown --space '" + c.space_name + "' (nasbench201, fbnet or ofa)");
  }
  return kExitOk;
}

// A descriptor JSON: either {"feature_names": [...], "features": [numbers]} or the
// `sonar hw describe --json` form {"features": [{"name": ..., "value": ...}, ...]}.
StatusOr<HardwareDescriptor> ReadDescriptorJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open descriptor " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("features") || !j["features"].is_array()) {
    return InvalidArgumentError(path +
                                " is not a descriptor JSON object with a \"features\" array");
  }
  HardwareDescriptor hw;
  hw.device_name = j.value("device_name", std::string("target"));
  hw.id = j.value("id", std::string());
  hw.source = j.value("source", std::string());
  const nlohmann::json& f = j["features"];
  hw.features.resize(static_cast<Eigen::Index>(f.size()));
  for (size_t i = 0; i < f.size(); ++i) {
    std::string name, source;
    double value = std::nan("");
    if (f[i].is_object()) {
      if (!f[i].contains("name") || !f[i]["name"].is_string()) {
        return InvalidArgumentError(path + ": feature " + std::to_string(i) + " has no name");
      }
      name = f[i]["name"].get<std::string>();
      if (f[i].contains("value") && f[i]["value"].is_number()) value = f[i]["value"].get<double>();
      if (f[i].contains("source") && f[i]["source"].is_string())
        source = f[i]["source"].get<std::string>();
    } else {
      if (!j.contains("feature_names") || !j["feature_names"].is_array() ||
          j["feature_names"].size() != f.size() || !j["feature_names"][i].is_string()) {
        return InvalidArgumentError(
            path + ": \"features\" numbers need \"feature_names\" of the same length");
      }
      name = j["feature_names"][i].get<std::string>();
      if (f[i].is_number()) value = f[i].get<double>();
    }
    hw.feature_names.push_back(name);
    hw.feature_sources.push_back(source);
    hw.features(static_cast<Eigen::Index>(i)) = value;
  }
  return hw;
}

// ---------------------------------------------------------------------------- train
struct TrainArgs {
  CommonData c;
  std::vector<std::string> devices;
  std::string out;
  uint64_t seed = 0;
  int epochs = 0;
  int ensemble = 0;
  int feature_size = 0;
  int maple_steps = 0;
  std::vector<int> hidden;
  bool maple = false;
  bool force = false;
  bool no_maple = false;  // the default since maple became opt-in; kept so old scripts run
  bool json = false;
};

int RunTrain(TrainArgs& a) {
  if (int rc = ParseSpace("train", a.c); rc != kExitOk) return rc;
  if (Status s = CheckOutputFile("--out", a.out, a.force); !s.ok()) {
    return Usage("train", s.message());
  }
  LatencyPredictorOptions o;
  o.seed = a.seed;
  if (a.epochs > 0) o.epochs = a.epochs;
  o.train_maple = a.maple;
  if (a.ensemble > 0) o.ensemble_size = a.ensemble;
  if (a.feature_size > 0) o.feature_size = a.feature_size;
  if (a.maple_steps > 0) o.maple_steps = a.maple_steps;
  if (!a.hidden.empty()) o.hidden = a.hidden;
  if (Status s = o.Validate(); !s.ok()) return Usage("train", s.message());
  StatusOr<LatencyTable> table = LoadLatencyTable(a.c.data, a.c.space);
  if (!table.ok()) return Fail(table.status());
  StatusOr<std::vector<int64_t>> refs =
      ReadReferenceArchIndices(ReferencePath(a.c.reference, a.c.data, a.c.space));
  if (!refs.ok()) return Fail(refs.status());
  std::vector<int> columns;
  const std::vector<std::string> devices = SplitList(a.devices);
  if (devices.empty()) {
    for (int c = 0; c < table->num_devices(); ++c) columns.push_back(c);
  } else {
    for (const std::string& d : devices) {
      const int c = table->DeviceColumn(d);
      if (c < 0) return Usage("train", "--devices: '" + d + "' is not a column of the data");
      columns.push_back(c);
    }
  }
  LatencyPredictor p(o);
  if (Status s = p.Train(MakeLatencyTrainingSet(*table, columns, *refs)); !s.ok()) return Fail(s);
  if (Status s = p.Save(a.out); !s.ok()) return Fail(s);
  // Fit quality on the training data itself (in-sample: how well the model holds its sources;
  // `latency eval` measures what matters, held-out devices).
  int64_t n = 0, within = 0;
  double se = 0;
  for (size_t s = 0; s < columns.size(); ++s) {
    const Eigen::VectorXd pred = p.PredictSourceLogMs(table->encodings, static_cast<int>(s));
    for (int i = 0; i < table->num_archs(); ++i) {
      const double ms = table->latency_ms(i, columns[s]);
      if (!(std::isfinite(ms) && ms > 0)) continue;
      const double e = pred(i) - std::log(ms);
      se += e * e;
      within += std::abs(std::exp(e) - 1) <= 0.10;
      ++n;
    }
  }
  const double within_10 = n > 0 ? static_cast<double>(within) / n : 0;
  const double rmse = n > 0 ? std::sqrt(se / n) : 0;
  if (a.json) {
    std::cout << Json{{"model", a.out},
                      {"space", p.space()},
                      {"sources", p.source_names()},
                      {"architectures", table->num_archs()},
                      {"reference_architectures", refs->size()},
                      {"training_within_10pct", within_10},
                      {"training_rmse_log_ms", rmse}}
                     .dump()
              << std::endl;
  } else {
    std::printf(
        "trained on %d devices x %d architectures; wrote %s\n"
        "training fit (in-sample, every source): %.1f%% within +-10%%, RMSE %.3f in ln ms "
        "(held-out quality: sonar latency eval)\n",
        p.num_sources(), table->num_archs(), a.out.c_str(), 100 * within_10, rmse);
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------- references
struct ReferencesArgs {
  CommonData c;
  std::string device;
};

// CSV of the space's reference architectures (arch_idx, key columns, latency_ms): what to time on
// a new device. Fill in latency_ms, add k more rows, and pass it to `latency adapt --samples`.
int RunReferences(ReferencesArgs& a) {
  if (int rc = ParseSpace("references", a.c); rc != kExitOk) return rc;
  StatusOr<LatencyTable> table = LoadLatencyTable(a.c.data, a.c.space);
  if (!table.ok()) return Fail(table.status());
  StatusOr<std::vector<int64_t>> refs =
      ReadReferenceArchIndices(ReferencePath(a.c.reference, a.c.data, a.c.space));
  if (!refs.ok()) return Fail(refs.status());
  int column = -1;
  if (!a.device.empty()) {
    column = table->DeviceColumn(a.device);
    if (column < 0) return Usage("references", "--device: '" + a.device + "' is not a column");
  }
  auto field = [](const std::string& v) {
    return v.find_first_of(",\"") == std::string::npos ? v : "\"" + v + "\"";
  };
  std::string header = "arch_idx";
  for (const std::string& k : LatencyKeyColumns(a.c.space)) header += "," + k;
  std::printf("%s,latency_ms\n", header.c_str());
  for (int64_t arch : *refs) {
    const int row = table->ArchRow(arch);
    if (row < 0)
      return Fail(
          NotFoundError("reference architecture " + std::to_string(arch) + " is not in the data"));
    std::string line = std::to_string(arch);
    for (const std::string& k : table->arch_keys[static_cast<size_t>(row)]) line += "," + field(k);
    line += ",";
    if (column >= 0 && std::isfinite(table->latency_ms(row, column))) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.6g", table->latency_ms(row, column));
      line += ms;
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------- adapt
struct AdaptArgs {
  std::string model;
  std::string samples;
  std::string descriptor;
  std::string device = "target";
  std::string method;
  std::string out;
  bool force = false;
  bool json = false;
};

int RunAdapt(const AdaptArgs& a) {
  if (Status s = CheckOutputFile("--out", a.out, a.force); !s.ok()) {
    return Usage("adapt", s.message());
  }
  StatusOr<LatencyPredictor> p = LatencyPredictor::Load(a.model);
  if (!p.ok()) return Fail(p.status());
  LatencySpace space;
  if (!StringToLatencySpace(p->space(), &space)) {
    return Fail(InvalidArgumentError(a.model + ": unknown space '" + p->space() + "'"));
  }
  LatencyAdaptation method = p->options().adaptation;
  if (!a.method.empty() && !StringToLatencyAdaptation(a.method, &method)) {
    return Usage(
        "adapt",
        "unknown --method '" + a.method +
            "' (auto, auto_select, map_head, maple_mix, calibrate, affine_source, source_mix)");
  }
  Eigen::MatrixXd x;
  std::vector<int64_t> idx;
  std::vector<double> ms;
  if (Status s = LoadArchitectureCsv(a.samples, space, &x, &idx, &ms, nullptr); !s.ok()) {
    return Fail(s);
  }
  // Samples that are reference architectures (by arch_idx) form the descriptor; the others are
  // the k samples. A --descriptor file adds its features.
  HardwareDescriptor hw;
  hw.device_name = a.device;
  hw.source = "reference_latencies";
  if (!a.descriptor.empty()) {
    StatusOr<HardwareDescriptor> d = ReadDescriptorJson(a.descriptor);
    if (!d.ok()) return Fail(d.status());
    hw = *d;
    if (hw.device_name.empty() || hw.device_name == "target") hw.device_name = a.device;
  }
  std::vector<std::string> names(hw.feature_names);
  std::vector<double> values(hw.features.data(), hw.features.data() + hw.features.size());
  std::vector<std::string> sources(hw.feature_sources);
  sources.resize(names.size());
  for (size_t i = 0; i < ms.size(); ++i) {
    if (!(std::isfinite(ms[i]) && ms[i] > 0)) {
      return Fail(InvalidArgumentError(a.samples + ": row " + std::to_string(i + 1) +
                                       " needs a positive latency_ms"));
    }
  }
  // Reference rows: arch_idx whose feature name the model uses, or (no arch_idx, or one the
  // model does not know) an architecture whose encoding is a reference's.
  std::vector<int> k_rows;
  for (int r = 0; r < static_cast<int>(ms.size()); ++r) {
    std::string ref = idx[r] >= 0 ? ReferenceFeatureName(idx[r]) : "";
    if (ref.empty() || !p->IsReferenceArchitecture(ref)) ref = p->ReferenceNameOf(x.row(r));
    if (!ref.empty() && p->IsReferenceArchitecture(ref) &&
        std::find(names.begin(), names.end(), ref) == names.end()) {
      names.push_back(ref);
      values.push_back(std::log(ms[r]));
      sources.push_back("reference_arch");
    } else {
      k_rows.push_back(r);
    }
  }
  hw.feature_names = names;
  hw.feature_sources = sources;
  hw.features =
      Eigen::Map<Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
  Eigen::MatrixXd kx(static_cast<Eigen::Index>(k_rows.size()), x.cols());
  Eigen::VectorXd kms(static_cast<Eigen::Index>(k_rows.size()));
  for (size_t i = 0; i < k_rows.size(); ++i) {
    kx.row(static_cast<Eigen::Index>(i)) = x.row(k_rows[i]);
    kms(static_cast<Eigen::Index>(i)) = ms[k_rows[i]];
  }
  if (Status s = p->Adapt(hw, kx, kms, method); !s.ok()) return Fail(s);
  if (Status s = p->Save(a.out); !s.ok()) return Fail(s);
  // auto / auto_select: each candidate's leave-one-out RMSE (ln ms) and weight.
  Json candidates = Json::array();
  std::string weights;
  for (const LatencyPredictor::AutoCandidate& c : p->auto_candidates()) {
    candidates.push_back({{"name", c.name}, {"loo_rmse", c.loo_rmse}, {"weight", c.weight}});
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%s%s %.2f (CV rmse %.3f)", weights.empty() ? "" : ", ",
                  c.name.c_str(), c.weight, c.loo_rmse);
    weights += buf;
  }
  if (a.json) {
    Json out{{"model", a.out},
             {"device", hw.device_name},
             {"method", std::string(LatencyAdaptationToString(method))},
             {"samples", k_rows.size()},
             {"descriptor_features", hw.feature_names.size()}};
    if (!candidates.empty()) out["candidates"] = candidates;
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("adapted to %s with %zu samples and %zu descriptor features (%s); wrote %s\n",
                hw.device_name.c_str(), k_rows.size(), hw.feature_names.size(),
                std::string(LatencyAdaptationToString(method)).c_str(), a.out.c_str());
    if (!weights.empty()) std::printf("weights: %s\n", weights.c_str());
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------- predict
struct PredictArgs {
  std::string model;
  std::string archs;
  std::vector<std::string> arch;
  bool json = false;
};

int RunPredict(const PredictArgs& a) {
  if (a.archs.empty() == a.arch.empty()) {
    return Usage("predict", "give exactly one of --archs FILE or --arch ARCH (repeatable)");
  }
  StatusOr<LatencyPredictor> p = LatencyPredictor::Load(a.model);
  if (!p.ok()) return Fail(p.status());
  if (!p->adapted()) {
    return Fail(FailedPreconditionError(a.model + " is not adapted to a device; run "
                                                  "'sonar latency adapt' first"));
  }
  LatencySpace space;
  if (!StringToLatencySpace(p->space(), &space)) {
    return Fail(InvalidArgumentError(a.model + ": unknown space '" + p->space() + "'"));
  }
  Eigen::MatrixXd x;
  std::vector<int64_t> idx;
  std::vector<std::vector<std::string>> keys;
  if (!a.archs.empty()) {
    if (Status s = LoadArchitectureCsv(a.archs, space, &x, &idx, nullptr, &keys); !s.ok()) {
      return Fail(s);
    }
  } else {
    x.resize(static_cast<Eigen::Index>(a.arch.size()), p->encoding_size());
    for (size_t i = 0; i < a.arch.size(); ++i) {
      // OFA: "ks;e;d;r"; the others: the single key string.
      std::vector<std::string> kv;
      std::stringstream ss(a.arch[i]);
      std::string part;
      if (space == LatencySpace::kOfa) {
        while (std::getline(ss, part, ';')) kv.push_back(part);
      } else {
        kv.push_back(a.arch[i]);
      }
      StatusOr<Eigen::VectorXd> e = EncodeArchitecture(space, kv);
      if (!e.ok()) return Usage("predict", "--arch '" + a.arch[i] + "': " + e.status().message());
      x.row(static_cast<Eigen::Index>(i)) = e->transpose();
      keys.push_back(kv);
      idx.push_back(-1);
    }
  }
  if (x.cols() != p->encoding_size()) {
    return Fail(InvalidArgumentError("architectures encode to " + std::to_string(x.cols()) +
                                     " values, the model expects " +
                                     std::to_string(p->encoding_size())));
  }
  const Eigen::VectorXd ms = p->PredictMs(x);
  auto key_string = [&](size_t i) {
    std::string s;
    for (size_t j = 0; j < keys[i].size(); ++j) s += (j ? ";" : "") + keys[i][j];
    return s;
  };
  if (a.json) {
    Json preds = Json::array();
    for (Eigen::Index i = 0; i < ms.size(); ++i) {
      preds.push_back({{"arch_idx", idx[i] >= 0 ? Json(idx[i]) : Json(nullptr)},
                       {"arch", key_string(static_cast<size_t>(i))},
                       {"latency_ms", FiniteOrNull(ms(i))}});
    }
    std::cout << Json{{"device", p->adapted_device()},
                      {"method", std::string(LatencyAdaptationToString(p->adapted_method()))},
                      {"predictions", preds}}
                     .dump()
              << std::endl;
  } else {
    std::printf("arch_idx,arch,predicted_latency_ms\n");
    for (Eigen::Index i = 0; i < ms.size(); ++i) {
      std::printf("%s,%s,%.6g\n", idx[i] >= 0 ? std::to_string(idx[i]).c_str() : "",
                  key_string(static_cast<size_t>(i)).c_str(), ms(i));
    }
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------- eval
struct EvalArgs {
  CommonData c;
  std::vector<std::string> test_devices;
  std::vector<std::string> devices;
  std::vector<std::string> shots = {"3,5,10"};
  std::vector<std::string> methods;
  int repeats = 10;
  uint64_t seed = 0;
  int threads = 0;
  int epochs = 0;
  int maple_steps = 0;
  int feature_size = 0;
  int ensemble = 0;
  int ceiling_epochs = 0;
  std::vector<int> hidden;
  bool no_ceilings = false;
  std::string markdown;
  bool force = false;
  bool json = false;
  bool compact = false;
  bool verbose = false;
};

int RunEval(EvalArgs& a) {
  if (int rc = ParseSpace("eval", a.c); rc != kExitOk) return rc;
  if (!a.markdown.empty()) {
    if (Status s = CheckOutputFile("--markdown", a.markdown, a.force); !s.ok()) {
      return Usage("eval", s.message());
    }
  }
  LatencyEvalOptions o;
  o.test_devices = SplitList(a.test_devices);
  o.source_devices = SplitList(a.devices);
  o.shots.clear();
  for (const std::string& s : SplitList(a.shots)) {
    try {
      size_t pos = 0;
      const int k = std::stoi(s, &pos);
      if (pos != s.size() || k < 0) throw std::invalid_argument(s);
      o.shots.push_back(k);
    } catch (const std::exception&) {
      return Usage("eval", "--shots takes non-negative integers, got '" + s + "'");
    }
  }
  if (o.test_devices.empty()) return Usage("eval", "--test-devices names no device");
  if (o.shots.empty()) return Usage("eval", "--shots lists no k");
  if (!a.methods.empty()) {
    o.methods.clear();
    if (SplitList(a.methods).empty()) return Usage("eval", "--methods names no method");
    for (const std::string& m : SplitList(a.methods)) {
      LatencyEvalMethod method;
      if (!StringToLatencyEvalMethod(m, &method))
        return Usage("eval", "unknown method '" + m + "'");
      o.methods.push_back(method);
    }
  }
  o.repeats = a.repeats;
  o.seed = a.seed;
  o.predictor.seed = a.seed;
  if (a.epochs > 0) o.predictor.epochs = a.epochs;
  if (a.maple_steps > 0) o.predictor.maple_steps = a.maple_steps;
  if (a.feature_size > 0) o.predictor.feature_size = a.feature_size;
  if (a.ensemble > 0) o.predictor.ensemble_size = a.ensemble;
  if (a.ceiling_epochs > 0) o.ceiling_epochs = a.ceiling_epochs;
  if (!a.hidden.empty()) o.predictor.hidden = a.hidden;
  o.ceilings = !a.no_ceilings;
  o.threads = a.threads > 0 ? a.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // --verbose: every progress line; on a terminal otherwise: one status line rewritten in place.
  const bool status_line = !a.verbose && !a.json && isatty(2);
  if (a.verbose) {
    o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  } else if (status_line) {
    o.log = [](const std::string& line) {
      std::fprintf(stderr, "\r\033[K%s", line.substr(0, 110).c_str());
    };
  }
  if (Status s = o.Validate(); !s.ok()) return Usage("eval", s.message());
  StatusOr<LatencyTable> table = LoadLatencyTable(a.c.data, a.c.space);
  if (!table.ok()) return Fail(table.status());
  StatusOr<std::vector<int64_t>> refs =
      ReadReferenceArchIndices(ReferencePath(a.c.reference, a.c.data, a.c.space));
  if (!refs.ok()) return Fail(refs.status());
  for (const auto& [flag, names] :
       {std::pair<const char*, const std::vector<std::string>*>{"--test-devices", &o.test_devices},
        {"--devices", &o.source_devices}}) {
    for (const std::string& d : *names) {
      if (table->DeviceColumn(d) < 0) {
        return Usage("eval", std::string(flag) + ": '" + d + "' is not a device column of --data");
      }
    }
  }
  StatusOr<LatencyEvalSummary> s = EvaluateLatencyPredictor(*table, *refs, o);
  if (status_line) std::fprintf(stderr, "\r\033[K");
  if (!s.ok()) return Fail(s.status());
  if (!a.markdown.empty()) {
    std::ofstream md(a.markdown, std::ios::trunc);
    md << s->FullReport() << "\n" << s->CompactReport() << "\n" << s->BriefReport() << "\n";
    if (!md.flush()) return Fail(NotFoundError("cannot write " + a.markdown));
  }
  if (a.json) {
    auto metrics = [](const LatencyMetrics& m) {
      return Json{{"within_1pct", FiniteOrNull(m.within_1pct)},
                  {"within_5pct", FiniteOrNull(m.within_5pct)},
                  {"within_10pct", FiniteOrNull(m.within_10pct)},
                  {"spearman", FiniteOrNull(m.spearman)},
                  {"kendall", FiniteOrNull(m.kendall)}};
    };
    Json results = Json::array();
    for (const LatencyDeviceReport& d : s->devices) {
      for (int k : o.shots) {
        // The headline method is the first one run (auto by default).
        const LatencyEvalRow* head = nullptr;
        Json methods = Json::object();
        for (LatencyEvalMethod m : o.methods) {
          const LatencyEvalRow* r = s->Find(d.device, k, m);
          if (!r) continue;
          if (!head) head = r;
          Json mj = metrics(r->mean);
          mj["sd"] = metrics(r->sd);
          methods[std::string(LatencyEvalMethodToString(m))] = mj;
        }
        if (!head) continue;
        results.push_back({{"device", d.device},
                           {"shots", k},
                           {"method", std::string(LatencyEvalMethodToString(head->method))},
                           {"within_1pct", FiniteOrNull(head->mean.within_1pct)},
                           {"within_5pct", FiniteOrNull(head->mean.within_5pct)},
                           {"within_10pct", FiniteOrNull(head->mean.within_10pct)},
                           {"spearman", FiniteOrNull(head->mean.spearman)},
                           {"kendall", FiniteOrNull(head->mean.kendall)},
                           {"within_10pct_sd", FiniteOrNull(head->sd.within_10pct)},
                           {"spearman_sd", FiniteOrNull(head->sd.spearman)},
                           {"ceiling_within_10pct", FiniteOrNull(d.ceiling.within_10pct)},
                           {"ceiling_spearman", FiniteOrNull(d.ceiling.spearman)},
                           {"test_archs", head->num_test_archs},
                           {"methods", methods}});
      }
    }
    Json devices = Json::array();
    for (const LatencyDeviceReport& d : s->devices) {
      devices.push_back({{"device", d.device},
                         {"sources", d.sources},
                         {"ceiling", metrics(d.ceiling)},
                         {"ceiling_test_archs", d.ceiling_test_archs},
                         {"seconds", d.seconds}});
    }
    std::cout << Json{{"space", s->space},     {"repeats", o.repeats}, {"seed", o.seed},
                      {"seconds", s->seconds}, {"results", results},   {"devices", devices}}
                     .dump()
              << std::endl;
  } else {
    std::cout << (a.compact ? s->CompactReport() : s->FullReport()) << "\n"
              << s->BriefReport() << std::endl;
  }
  return kExitOk;
}

void AddDataOptions(CLI::App* c, CommonData& d) {
  c->add_option("--data", d.data, "Latency CSV file(s) of one space; several join on arch_idx")
      ->required();
  c->add_option("--space", d.space_name, "nasbench201|fbnet|ofa")->required();
  c->add_option("--reference", d.reference,
                "Reference-architecture index file (default: "
                "<dir of the first --data>/<space>_hardware_embedding_index.txt)");
}

}  // namespace

namespace cli {

void RegisterLatencyCommands(CLI::App& app, int* exit_code) {
  CLI::App* latency = app.add_subcommand(
      "latency",
      "Architecture latency across devices: train, adapt to a new device from a few "
      "samples, predict, evaluate (MAPLE/HELP-style hardware descriptors).");
  latency->require_subcommand(1);
  latency->footer(
      "Examples:\n"
      "  sonar latency train --data ../shared/datasets/help_latency/nasbench201_latency_ms.csv \\\n"
      "      --space nasbench201 --out nb201.latency.json\n"
      "  sonar latency eval --data ../shared/datasets/help_latency/nasbench201_latency_ms.csv \\\n"
      "      --space nasbench201 --test-devices fpga --shots 3,10 --repeats 10\n"
      "See docs/latency.md.");

  auto train_args = std::make_shared<TrainArgs>();
  CLI::App* train =
      latency->add_subcommand("train", "Train a latency predictor on source devices.");
  AddDataOptions(train, train_args->c);
  train->add_option("--devices", train_args->devices,
                    "Source devices (comma-separated; default: every device column)");
  train->add_option("--out", train_args->out, "Model file to write (JSON)")->required();
  train->add_option("--seed", train_args->seed, "Seed")->capture_default_str()->check(AtLeast(0));
  train->add_flag("--force", train_args->force, "Replace --out when it exists");
  train->add_option("--epochs", train_args->epochs, "Training epochs (default 80)")
      ->check(AtLeast(1));
  train
      ->add_option("--ensemble", train_args->ensemble,
                   "Shared networks in the ensemble (default 5)")
      ->check(InRange(1, 64));
  train->add_option("--hidden", train_args->hidden, "Hidden widths (default 64,64)")
      ->delimiter(',')
      ->check(InRange(1, 4096));
  train->add_option("--feature-size", train_args->feature_size, "Feature layer width (default 32)")
      ->check(InRange(1, 1024));
  train
      ->add_option("--maple-steps", train_args->maple_steps,
                   "Training steps of the MAPLE network (default 6000)")
      ->check(AtLeast(0));
  train->add_flag("--maple", train_args->maple,
                  "Also train the MAPLE network (about doubles the time); needed only for "
                  "'latency adapt --method maple_mix'");
  train->add_flag("--no-maple", train_args->no_maple)->group("");  // the default now
  train->add_flag("--json", train_args->json, "Print one JSON summary object on stdout");
  train->footer(
      "Example:\n"
      "  sonar latency train --data ../shared/datasets/help_latency/nasbench201_latency_ms.csv \\\n"
      "      --space nasbench201 --devices 1080ti_1,1080ti_32,1080ti_256,silver_4114 \\\n"
      "      --out nb201.latency.json");
  train->callback([=] { *exit_code = RunTrain(*train_args); });

  auto references_args = std::make_shared<ReferencesArgs>();
  CLI::App* references = latency->add_subcommand(
      "references",
      "List the reference architectures to time on a new device (CSV on stdout: fill in "
      "latency_ms, add a few more rows, and give it to 'latency adapt --samples').");
  AddDataOptions(references, references_args->c);
  references->add_option("--device", references_args->device,
                         "Fill latency_ms from this device column of the data (an example)");
  references->footer(
      "Example:\n"
      "  sonar latency references --data "
      "../shared/datasets/help_latency/nasbench201_latency_ms.csv "
      "\\\n"
      "      --space nasbench201 > fpga_samples.csv   # time these 10 on the device, fill in ms\n"
      "  sonar latency adapt --model nb201.latency.json --samples fpga_samples.csv --out "
      "fpga.json");
  references->callback([=] { *exit_code = RunReferences(*references_args); });

  auto adapt_args = std::make_shared<AdaptArgs>();
  CLI::App* adapt = latency->add_subcommand(
      "adapt", "Adapt a trained model to a new device from a few measured architectures.");
  adapt->add_option("--model", adapt_args->model, "Model file from 'latency train'")->required();
  adapt
      ->add_option("--samples", adapt_args->samples,
                   "CSV: the space's key columns (arch_str | op_idx_list | ks,e,d,r), latency_ms "
                   "and optionally arch_idx; rows that are reference architectures (see 'latency "
                   "references') form the device's descriptor, the others are the k samples")
      ->required();
  adapt->add_option("--descriptor", adapt_args->descriptor,
                    "Descriptor JSON (e.g. from 'sonar hw describe --json') to add");
  adapt->add_option("--device", adapt_args->device, "Name of the device")->capture_default_str();
  adapt->add_option("--method", adapt_args->method,
                    "auto (default) | auto_select | map_head | maple_mix | calibrate | "
                    "affine_source | source_mix");
  adapt->add_option("--out", adapt_args->out, "Adapted model file to write")->required();
  adapt->add_flag("--force", adapt_args->force, "Replace --out when it exists");
  adapt->add_flag("--json", adapt_args->json, "Print one JSON summary object on stdout");
  adapt->footer(
      "Example:\n"
      "  sonar latency adapt --model nb201.latency.json --samples fpga_samples.csv \\\n"
      "      --device fpga --out nb201.fpga.json\n"
      "fpga_samples.csv:\n"
      "  arch_idx,arch_str,latency_ms\n"
      "  3328,|nor_conv_3x3~0|+|...|,4.21");
  adapt->callback([=] { *exit_code = RunAdapt(*adapt_args); });

  auto predict_args = std::make_shared<PredictArgs>();
  CLI::App* predict = latency->add_subcommand(
      "predict", "Predict latencies (ms) on the adapted device of a model.");
  predict->add_option("--model", predict_args->model, "Adapted model file")->required();
  predict->add_option("--archs", predict_args->archs,
                      "CSV with the space's key columns (and optionally arch_idx)");
  predict->add_option("--arch", predict_args->arch,
                      "One architecture: a NAS-Bench-201 cell string, an FBNet op_idx_list, or "
                      "OFA 'ks;e;d;r' (repeatable)");
  predict->add_flag("--json", predict_args->json, "Print one JSON object on stdout");
  predict->footer(
      "Example:\n"
      "  sonar latency predict --model nb201.fpga.json \\\n"
      "      --arch '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
      "nor_conv_3x3~1|skip_connect~2|'");
  predict->callback([=] { *exit_code = RunPredict(*predict_args); });

  auto eval_args = std::make_shared<EvalArgs>();
  CLI::App* eval = latency->add_subcommand(
      "eval", "Few-shot evaluation on held-out devices, with baselines and ceilings.");
  AddDataOptions(eval, eval_args->c);
  eval->add_option("--test-devices", eval_args->test_devices,
                   "Devices to hold out (comma-separated)")
      ->required();
  eval->add_option("--devices", eval_args->devices,
                   "Source devices (default: all other devices, i.e. leave one device out)");
  eval->add_option("--shots", eval_args->shots, "Values of k (comma-separated)")
      ->capture_default_str();
  eval->add_option("--repeats", eval_args->repeats, "Draws of the k samples")
      ->capture_default_str()
      ->check(AtLeast(1));
  eval->add_option(
      "--methods", eval_args->methods,
      "Subset of auto,map_head,maple_mix,calibrated_no_descriptor,samples_only,"
      "nearest_device,best_affine_device,auto_select,affine_source,source_mix (default: all)");
  eval->add_option("--seed", eval_args->seed, "Seed")->capture_default_str()->check(AtLeast(0));
  eval->add_option("--threads", eval_args->threads, "Worker threads (default: all cores)")
      ->check(AtLeast(0));
  eval->add_option("--epochs", eval_args->epochs, "Training epochs of the predictor (default 80)")
      ->check(AtLeast(1));
  eval->add_option("--maple-steps", eval_args->maple_steps,
                   "Training steps of the MAPLE network (default 6000)")
      ->check(AtLeast(0));
  eval->add_option("--feature-size", eval_args->feature_size,
                   "Width of the predictor's feature layer (default 32)")
      ->check(InRange(1, 1024));
  eval->add_option("--ensemble", eval_args->ensemble,
                   "Shared networks in the predictor's ensemble (default 5)")
      ->check(InRange(1, 64));
  eval->add_option("--hidden", eval_args->hidden,
                   "Hidden widths of the predictor's shared network (default 64,64)")
      ->delimiter(',')
      ->check(InRange(1, 4096));
  eval->add_option("--ceiling-epochs", eval_args->ceiling_epochs,
                   "Training epochs of each ceiling model (default 150)")
      ->check(AtLeast(0));
  eval->add_option("--markdown", eval_args->markdown,
                   "Also write the full and compact Markdown tables to this file");
  eval->add_flag("--no-ceilings", eval_args->no_ceilings, "Skip the per-device ceiling models");
  eval->add_flag("--force", eval_args->force, "Replace --markdown when it exists");
  eval->add_flag(
      "--compact", eval_args->compact,
      "One row per device and k (+-10% / Spearman per method) instead of the full table");
  eval->add_flag("--verbose", eval_args->verbose, "Progress on stderr");
  eval->add_flag("--json", eval_args->json, "Print one JSON object on stdout");
  eval->footer(
      "Example (HELP's NAS-Bench-201 split):\n"
      "  sonar latency eval --data ../shared/datasets/help_latency/nasbench201_latency_ms.csv \\\n"
      "      --space nasbench201 --test-devices titan_rtx_256,fpga,raspi4,eyeriss \\\n"
      "      --devices 1080ti_1,1080ti_32,1080ti_256,silver_4114,silver_4210r,samsung_a50,"
      "pixel3,essential_ph_1,samsung_s7 \\\n"
      "      --shots 3,5,10 --repeats 10 --json");
  eval->callback([=] { *exit_code = RunEval(*eval_args); });
}

}  // namespace cli
}  // namespace sonar
