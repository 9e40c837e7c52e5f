// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The replay measurer (answers from a record table) and TaskFromRecords.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "measure/measurer.h"

namespace sonar {
namespace {

// Split values compare by their inner factors only: the outer one follows from the extent, and
// AutoTVM writes it as -1.
std::vector<KnobValue> Normalized(std::vector<KnobValue> values) {
  for (KnobValue& v : values) {
    if (v.kind == KnobKind::kSplit && !v.ints.empty()) v.ints[0] = -1;
    v.source_type.clear();
  }
  return values;
}

class ReplayMeasurer final : public Measurer {
 public:
  ReplayMeasurer(std::vector<Record> table, const ReplayTiming& timing)
      : table_(std::move(table)), timing_(timing) {
    for (size_t i = 0; i < table_.size(); ++i) by_key_[table_[i].workload_key].push_back(i);
    if (!table_.empty()) hardware_id_ = table_[0].hardware_id;
  }

  std::vector<MeasureResult> Measure(const Task& task,
                                     const std::vector<Config>& configs) override {
    const Index& index = IndexFor(task);
    std::vector<MeasureResult> out;
    out.reserve(configs.size());
    ++stats_.timed_runs;
    for (const Config& c : configs) {
      ++stats_.configs;
      auto it = index.find(c);
      if (it == index.end()) {
        MeasureResult r;
        r.status = MeasureStatus::kNotInTable;
        r.error_msg = "config " + task.space.ToString(c) + " is not in the replay table";
        out.push_back(std::move(r));
      } else {
        ++stats_.cache_hits;
        out.push_back(table_[it->second].result);
      }
    }
    if (timing_.mode != ReplayTiming::Mode::kInstant) {
      double seconds = 0;
      for (const MeasureResult& r : out) seconds += ReplaySeconds(timing_, r);
      if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    }
    return out;
  }
  std::string hardware_id() const override { return hardware_id_; }
  MeasurerStats stats() const override { return stats_; }

 private:
  using Index = std::unordered_map<Config, size_t, ConfigHash>;

  const Index& IndexFor(const Task& task) {
    uint64_t key = task.WorkloadKey();
    if (!by_key_.count(key) && by_key_.size() == 1) key = by_key_.begin()->first;
    const std::string cache_key = std::to_string(key) + "\x1f" +
                                  task.space.ToString(task.space.At(0)) + "\x1f" +
                                  std::to_string(task.space.size());
    auto found = indexes_.find(cache_key);
    if (found != indexes_.end()) return found->second;
    Index index;
    auto rows = by_key_.find(key);
    if (rows != by_key_.end()) {
      for (size_t i : rows->second) {
        StatusOr<Config> c = task.space.FromValues(Normalized(table_[i].config.values));
        if (!c.ok()) continue;
        auto [it, inserted] = index.emplace(*c, i);
        // The first ok record of a config answers; else its first record.
        if (!inserted && !table_[it->second].result.ok() && table_[i].result.ok()) it->second = i;
      }
    }
    return indexes_.emplace(cache_key, std::move(index)).first->second;
  }

  std::vector<Record> table_;
  ReplayTiming timing_;
  std::unordered_map<uint64_t, std::vector<size_t>> by_key_;
  std::map<std::string, Index> indexes_;
  std::string hardware_id_;
  MeasurerStats stats_;
};

}  // namespace

Status ReplayTiming::Validate() const {
  if (!(fixed_seconds >= 0 && std::isfinite(fixed_seconds))) {
    return InvalidArgumentError("ReplayTiming::fixed_seconds must be a finite number >= 0");
  }
  return OkStatus();
}

StatusOr<ReplayTiming> ParseReplayTiming(const std::string& text) {
  ReplayTiming t;
  if (text.empty()) return t;
  if (text == "recorded") {
    t.mode = ReplayTiming::Mode::kRecorded;
    return t;
  }
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(x >= 0) || !std::isfinite(x)) {
    return InvalidArgumentError("--replay-seconds must be 'recorded' or seconds >= 0, got '" +
                                text + "'");
  }
  if (x > 0) {
    t.mode = ReplayTiming::Mode::kFixed;
    t.fixed_seconds = x;
  }
  return t;
}

double ReplaySeconds(const ReplayTiming& timing, const MeasureResult& result) {
  switch (timing.mode) {
    case ReplayTiming::Mode::kInstant: return 0;
    case ReplayTiming::Mode::kFixed: return timing.fixed_seconds;
    case ReplayTiming::Mode::kRecorded: {
      if (result.status == MeasureStatus::kNotInTable) return 0;
      if (result.all_cost_seconds > 0) return result.all_cost_seconds;
      double s = std::max(0.0, result.compile_seconds);
      for (double r : result.run_seconds) s += std::max(0.0, r);
      return s;
    }
  }
  return 0;
}

std::unique_ptr<Measurer> MakeReplayMeasurer(std::vector<Record> table,
                                             const ReplayTiming& timing) {
  return std::make_unique<ReplayMeasurer>(std::move(table), timing);
}

StatusOr<Task> TaskFromRecords(const std::vector<Record>& records, uint64_t workload_key) {
  const Record* first = nullptr;
  for (const Record& r : records) {
    if (r.workload_key == workload_key) {
      first = &r;
      break;
    }
  }
  if (first == nullptr) {
    return NotFoundError("no record has workload key " + WorkloadKeyToHex(workload_key));
  }
  // Knob names and kinds come from the first record.
  std::vector<KnobValue> shape_of = first->config.values;
  if (shape_of.empty())
    return InvalidArgumentError("the first record of the workload has no knob values");
  std::set<std::string> names;
  for (const KnobValue& v : shape_of) {
    if (!names.insert(v.name).second)
      return InvalidArgumentError("knob '" + v.name + "' appears twice in a record");
  }
  auto same_knobs = [&](const Record& r) {
    if (r.config.values.size() != shape_of.size()) return false;
    for (const KnobValue& v : r.config.values) {
      if (!names.count(v.name)) return false;
    }
    return true;
  };
  // Distinct values per knob, in first-seen order.
  std::map<std::string, std::vector<KnobValue>> seen;
  for (const Record& r : records) {
    if (r.workload_key != workload_key || !same_knobs(r)) continue;
    for (const KnobValue& raw : Normalized(r.config.values)) {
      auto& list = seen[raw.name];
      if (std::find(list.begin(), list.end(), raw) == list.end()) list.push_back(raw);
    }
  }
  std::vector<Knob> knobs;
  for (const KnobValue& proto : shape_of) {
    const std::vector<KnobValue>& values = seen[proto.name];
    Knob knob;
    switch (proto.kind) {
      case KnobKind::kSplit: {
        // Extent: the largest product of inner factors (an explicit outer factor times the
        // inner ones when a record has one).
        int64_t extent = 1;
        for (const Record& r : records) {
          if (r.workload_key != workload_key || !same_knobs(r)) continue;
          for (const KnobValue& v : r.config.values) {
            if (v.name != proto.name || v.ints.empty()) continue;
            int64_t p = 1;
            for (size_t i = 1; i < v.ints.size(); ++i) p *= std::max<int64_t>(1, v.ints[i]);
            extent = std::max(extent, v.ints[0] > 0 ? p * v.ints[0] : p);
          }
        }
        std::vector<std::vector<int64_t>> cands;
        for (const KnobValue& v : values) cands.push_back(v.ints);  // outer is -1
        knob = ListedSplitKnob(proto.name, extent, cands);
        break;
      }
      case KnobKind::kReorder: {
        std::vector<std::vector<int64_t>> perms;
        for (const KnobValue& v : values) perms.push_back(v.ints);
        knob = ListedReorderKnob(proto.name, perms);
        break;
      }
      case KnobKind::kChoice: {
        if (!proto.strings.empty()) {
          std::vector<std::string> labels;
          for (const KnobValue& v : values) {
            std::string label;
            for (size_t i = 0; i < v.strings.size(); ++i) label += (i ? "," : "") + v.strings[i];
            labels.push_back(label);
          }
          knob = ChoiceKnob(proto.name, labels);
          if (proto.strings.size() > 1) {
            return InvalidArgumentError("knob '" + proto.name +
                                        "' holds several labels per value; not replayable yet");
          }
        } else {
          std::vector<int64_t> ints;
          for (const KnobValue& v : values) ints.push_back(v.ints.empty() ? 0 : v.ints[0]);
          knob = IntChoiceKnob(proto.name, ints);
        }
        break;
      }
      case KnobKind::kInt: {
        std::vector<int64_t> ints;
        for (const KnobValue& v : values) ints.push_back(v.ints.empty() ? 0 : v.ints[0]);
        std::sort(ints.begin(), ints.end());
        ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
        knob.name = proto.name;
        knob.kind = KnobKind::kInt;
        for (int64_t i : ints) knob.candidates.push_back({i});
        break;
      }
      case KnobKind::kBool: knob = BoolKnob(proto.name); break;
    }
    if (Status s = knob.Validate(); !s.ok())
      return InvalidArgumentError("records of workload " + WorkloadKeyToHex(workload_key) + ": " +
                                  s.message());
    knobs.push_back(std::move(knob));
  }
  SONAR_ASSIGN_OR_RETURN(ConfigSpace product, ConfigSpace::Make(knobs));
  std::vector<Config> members;
  std::unordered_map<Config, bool, ConfigHash> have;
  for (const Record& r : records) {
    if (r.workload_key != workload_key || !same_knobs(r)) continue;
    StatusOr<Config> c = product.FromValues(Normalized(r.config.values));
    if (!c.ok()) continue;
    if (have.emplace(*c, true).second) members.push_back(*c);
  }
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space, ConfigSpace::MakeListed(knobs, members));
  Task task;
  task.name = first->task.name.empty() ? first->task.op : first->task.name;
  task.op = first->task.op;
  task.target = first->task.target;
  task.template_version = first->task.template_version;
  task.space = std::move(space);
  nlohmann::json args = nlohmann::json::parse(first->task.args_json, nullptr, false);
  if (!args.is_discarded() && args.is_array()) {
    std::vector<int64_t> shape;
    bool flat = true;
    for (const auto& a : args) {
      if (!a.is_number_integer()) {
        flat = false;
        break;
      }
      shape.push_back(a.get<int64_t>());
    }
    if (flat && ShapeToJson(shape) == first->task.args_json) task.shape = std::move(shape);
  }
  // The exact arguments, so that task.WorkloadKey() is the table's key.
  if (ShapeToJson(task.shape) != first->task.args_json) task.args_json = first->task.args_json;
  return task;
}

}  // namespace sonar
