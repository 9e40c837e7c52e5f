// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: sonar._sonar, the pybind11 module behind the Python package `sonar`
// (cli/python/sonar/__init__.py, docs/python.md). The bindings are thin: a Space is a Task (a
// ConfigSpace with a workload identity) plus the Python value of every knob candidate; a Tuner is
// MakeTuner's tuner; minimize() is Tune() with a Measurer that calls the Python objective;
// read_records and import_history are the record log's readers and the history importer.
//
// Threads and the GIL: every call into the library releases the GIL; Python callbacks (the
// constraint, the objective) take it back while they run. Python objects that C++ copies may
// share (the constraint inside a ConfigSpace) are held through PyShared, whose last owner drops
// them under the GIL, so a tuner may copy or destroy its space on any thread.
//
// Errors: a Status becomes ValueError (bad arguments) or OSError (files; FileNotFoundError for a
// missing one); nothing aborts on bad input.
//
// Example (Python):
//   import sonar
//   space = sonar.Space({"block": [16, 32, 64], "unroll": [0, 1]})
//   tuner = sonar.Tuner(space, "bo", seed=0)
//   configs = tuner.propose(4)
//   tuner.observe(configs, [1e-3, float("inf"), 2e-3, 3e-3])
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/random.h"
#include "common/status.h"
#include "common/types.h"
#include "measure/emit/emit.h"
#include "measure/history_io.h"
#include "measure/measurer.h"
#include "measure/record.h"
#include "measure/record_store.h"
#include "measure/user_kernel.h"
#include "space/config_space.h"
#include "space/knob.h"
#include "space/task.h"
#include "tuner/tune.h"
#include "tuner/tuner.h"

namespace py = pybind11;

namespace sonar {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------- errors

// Raises the Python exception for a non-OK status. `file`: the status is about a file (it cannot
// be read or written, or its content is not what it should be): OSError, FileNotFoundError when
// it is missing.
[[noreturn]] void Raise(const Status& status, bool file) {
  PyObject* type = PyExc_ValueError;
  if (status.code() == StatusCode::kInternal) type = PyExc_RuntimeError;
  if (file) {
    type = status.code() == StatusCode::kNotFound ? PyExc_FileNotFoundError : PyExc_OSError;
  }
  PyErr_SetString(type, status.message().c_str());
  throw py::error_already_set();
}

void Check(const Status& status, bool file = false) {
  if (!status.ok()) Raise(status, file);
}

template <typename T>
T Take(StatusOr<T> value, bool file = false) {
  if (!value.ok()) Raise(value.status(), file);
  return std::move(*value);
}

// Runs fn with the GIL released (fn must not touch Python objects) and returns its result.
template <typename F>
auto WithoutGil(F fn) {
  py::gil_scoped_release release;
  return fn();
}

// A Python object that C++ copies share; the last owner drops it under the GIL.
template <typename T>
struct PyHeld {
  explicit PyHeld(T v) : value(std::move(v)) {}
  PyHeld(const PyHeld&) = delete;
  PyHeld& operator=(const PyHeld&) = delete;
  ~PyHeld() {
    if (!Py_IsInitialized()) {
      value.release();  // the interpreter is gone: leak rather than touch it
      return;
    }
    py::gil_scoped_acquire gil;
    value = T();
  }
  T value;
};

// The first exception a Python callback raised inside a library call (the GIL guards it: only
// touched with the GIL held). Rethrown once the call returns.
struct PendingError {
  std::optional<py::error_already_set> error;
  void RethrowIfAny() {
    if (!error) return;
    py::error_already_set e = std::move(*error);
    error.reset();
    throw e;
  }
};

// --------------------------------------------------------------------------------- values

// Python value of one candidate of a knob built from records, SPACE.json or a built-in space.
py::object CandidateValue(const Knob& knob, int64_t index) {
  const std::vector<int64_t>& c = knob.candidates[static_cast<size_t>(index)];
  switch (knob.kind) {
    case KnobKind::kBool: return py::bool_(c[0] != 0);
    case KnobKind::kInt: return py::int_(c[0]);
    case KnobKind::kChoice:
      if (!knob.labels.empty()) return py::str(knob.labels[static_cast<size_t>(index)]);
      return py::int_(c[0]);
    case KnobKind::kSplit:
    case KnobKind::kReorder: return py::cast(c);
  }
  return py::none();
}

// Python value of a knob value read from a record (space independent).
py::object KnobValueToPy(const KnobValue& v) {
  switch (v.kind) {
    case KnobKind::kBool: return py::bool_(!v.ints.empty() && v.ints[0] != 0);
    case KnobKind::kInt: return v.ints.empty() ? py::none() : py::object(py::int_(v.ints[0]));
    case KnobKind::kChoice:
      if (v.strings.size() == 1) return py::str(v.strings[0]);
      if (!v.strings.empty()) return py::cast(v.strings);
      return v.ints.empty() ? py::none() : py::object(py::int_(v.ints[0]));
    case KnobKind::kSplit:
    case KnobKind::kReorder: return py::cast(v.ints);
  }
  return py::none();
}

// Dictionary key of a value: lists become tuples so that they hash.
py::object LookupKey(py::handle v) {
  if (py::isinstance<py::list>(v)) return py::tuple(py::reinterpret_borrow<py::list>(v));
  return py::reinterpret_borrow<py::object>(v);
}

// Every knob candidate's Python value, and the way back.
struct ValueTable {
  std::vector<std::string> names;
  std::vector<std::vector<py::object>> values;  // [knob][candidate]
  std::vector<py::dict> index;                  // [knob]: LookupKey(value) -> candidate
};
using SharedValues = std::shared_ptr<PyHeld<std::unique_ptr<ValueTable>>>;

SharedValues MakeValues(std::unique_ptr<ValueTable> table) {
  for (size_t k = 0; k < table->values.size(); ++k) {
    py::dict d;
    for (size_t i = 0; i < table->values[k].size(); ++i) {
      py::object key = LookupKey(table->values[k][i]);
      if (PyObject_Hash(key.ptr()) == -1) {
        PyErr_Clear();
        continue;  // unhashable: matched by a scan
      }
      if (!d.contains(key)) d[key] = py::int_(i);
    }
    table->index.push_back(std::move(d));
  }
  return std::make_shared<PyHeld<std::unique_ptr<ValueTable>>>(std::move(table));
}

py::dict ConfigToDict(const ValueTable& table, const Config& config) {
  py::dict d;
  for (size_t k = 0; k < table.names.size(); ++k) {
    d[py::str(table.names[k])] = table.values[k][static_cast<size_t>(config.choice[k])];
  }
  return d;
}

// ------------------------------------------------------------------------------------ Space

// A Space: the task tuners search, and the Python value of each knob candidate.
struct PySpace {
  Task task;
  SharedValues values;
  std::shared_ptr<PendingError> pending = std::make_shared<PendingError>();
  bool has_constraint = false;

  const ValueTable& table() const { return *values->value; }

  // The config of a Python mapping knob name -> value; ValueError naming the knob otherwise.
  Config FromPy(py::handle obj) const {
    const ValueTable& t = table();
    if (!py::isinstance<py::dict>(obj)) {
      throw py::value_error("a config is a dict of knob name -> value, got " +
                            std::string(py::str(py::type::of(obj).attr("__name__"))));
    }
    py::dict d = py::reinterpret_borrow<py::dict>(obj);
    Config c;
    c.choice.resize(t.names.size());
    for (size_t k = 0; k < t.names.size(); ++k) {
      py::str name(t.names[k]);
      if (!d.contains(name)) {
        throw py::value_error("config " + std::string(py::repr(d)) + " has no value for knob '" +
                              t.names[k] + "'");
      }
      py::object v = d[name];
      py::object key = LookupKey(v);
      int64_t found = -1;
      if (PyObject_Hash(key.ptr()) != -1) {
        if (t.index[k].contains(key)) found = t.index[k][key].cast<int64_t>();
      } else {
        PyErr_Clear();
      }
      if (found < 0) {
        for (size_t i = 0; i < t.values[k].size() && found < 0; ++i) {
          if (LookupKey(t.values[k][i]).equal(key)) found = static_cast<int64_t>(i);
        }
      }
      if (found < 0) {
        std::string allowed;
        for (size_t i = 0; i < t.values[k].size() && i < 12; ++i)
          allowed += (i ? ", " : "") + std::string(py::repr(t.values[k][i]));
        if (t.values[k].size() > 12) allowed += ", ...";
        throw py::value_error("knob '" + t.names[k] + "' has no value " + std::string(py::repr(v)) +
                              " (its values: " + allowed + ")");
      }
      c.choice[k] = static_cast<int32_t>(found);
    }
    if (d.size() != t.names.size()) {
      for (auto item : d) {
        const std::string key = py::str(item.first);
        if (task.space.FindKnob(key) < 0) {
          throw py::value_error("config " + std::string(py::repr(d)) + " names '" + key +
                                "', which is not a knob of the space");
        }
      }
    }
    if (task.space.is_listed() && task.space.IndexOf(c) < 0) {
      throw py::value_error("config " + std::string(py::repr(d)) + " is not a member of the space");
    }
    return c;
  }
};

std::unique_ptr<ValueTable> TableOfKnobs(const ConfigSpace& space) {
  auto table = std::make_unique<ValueTable>();
  for (const Knob& knob : space.knobs()) {
    table->names.push_back(knob.name);
    std::vector<py::object> vals;
    for (int64_t i = 0; i < knob.size(); ++i) vals.push_back(CandidateValue(knob, i));
    table->values.push_back(std::move(vals));
  }
  return table;
}

// One knob of a dict space: a range (an int knob), or a list whose values decide the kind.
Knob KnobOfPy(const std::string& name, py::handle spec, std::vector<py::object>* values,
              nlohmann::json* describe) {
  if (py::isinstance(spec, py::module_::import("builtins").attr("range"))) {
    const int64_t start = spec.attr("start").cast<int64_t>();
    const int64_t stop = spec.attr("stop").cast<int64_t>();
    const int64_t step = spec.attr("step").cast<int64_t>();
    if (step < 1 || stop <= start) {
      throw py::value_error("knob '" + name + "': " + std::string(py::repr(spec)) +
                            " is empty or descending (expected range(lo, hi[, step > 0]))");
    }
    Knob knob = IntKnob(name, start, stop - 1, step);
    Check(knob.Validate());
    for (const auto& c : knob.candidates) values->push_back(py::int_(c[0]));
    *describe = {{"name", name}, {"range", {start, stop, step}}};
    return knob;
  }
  if (py::isinstance<py::str>(spec) || py::isinstance<py::dict>(spec) ||
      !py::isinstance<py::sequence>(spec)) {
    throw py::value_error("knob '" + name + "': expected a list of values or a range, got " +
                          std::string(py::repr(spec)));
  }
  py::sequence seq = py::reinterpret_borrow<py::sequence>(spec);
  if (seq.size() == 0) throw py::value_error("knob '" + name + "' has no values");
  bool all_bool = true, all_int = true;
  for (py::handle v : seq) {
    values->push_back(py::reinterpret_borrow<py::object>(v));
    const bool is_bool = py::isinstance<py::bool_>(v);
    all_bool = all_bool && is_bool;
    all_int = all_int && !is_bool && py::isinstance<py::int_>(v);
  }
  Knob knob;
  nlohmann::json vals = nlohmann::json::array();
  if (all_bool && values->size() == 2 && (*values)[0].cast<bool>() != (*values)[1].cast<bool>()) {
    knob = BoolKnob(name);  // candidate 0 is False, 1 is True, whatever the order given
    *values = {py::bool_(false), py::bool_(true)};
    vals = {false, true};
  } else if (all_int) {
    std::vector<int64_t> ints;
    for (const py::object& v : *values) {
      try {
        ints.push_back(v.cast<int64_t>());
      } catch (const py::cast_error&) {
        throw py::value_error("knob '" + name + "': " + std::string(py::repr(v)) +
                              " does not fit in 64 bits");
      }
      vals.push_back(ints.back());
    }
    knob = IntChoiceKnob(name, ints);
  } else {
    // Strings, floats, bools or a mix: labels (str of a string, repr of anything else).
    std::vector<std::string> labels;
    for (const py::object& v : *values) {
      labels.push_back(py::isinstance<py::str>(v) ? std::string(py::str(v))
                                                  : std::string(py::repr(v)));
      vals.push_back(labels.back());
    }
    knob = ChoiceKnob(name, labels);
  }
  Check(knob.Validate());
  *describe = {{"name", name}, {"values", vals}};
  return knob;
}

std::shared_ptr<PySpace> SpaceFromDict(const py::dict& knobs, const py::object& constraint,
                                       const std::string& name) {
  if (knobs.size() == 0) throw py::value_error("a space needs at least one knob");
  auto space = std::make_shared<PySpace>();
  auto table = std::make_unique<ValueTable>();
  std::vector<Knob> list;
  nlohmann::json describe = nlohmann::json::array();
  for (auto item : knobs) {
    if (!py::isinstance<py::str>(item.first)) {
      throw py::value_error("knob names are strings, got " + std::string(py::repr(item.first)));
    }
    const std::string knob_name = py::str(item.first);
    std::vector<py::object> values;
    nlohmann::json d;
    list.push_back(KnobOfPy(knob_name, item.second, &values, &d));
    describe.push_back(std::move(d));
    table->names.push_back(knob_name);
    table->values.push_back(std::move(values));
  }
  space->values = MakeValues(std::move(table));
  std::vector<NamedConstraint> constraints;
  if (!constraint.is_none()) {
    if (!PyCallable_Check(constraint.ptr())) {
      throw py::value_error("constraint must be callable (a function of the config dict)");
    }
    auto fn = std::make_shared<PyHeld<py::object>>(constraint);
    SharedValues values = space->values;
    std::shared_ptr<PendingError> pending = space->pending;
    constraints.push_back(
        {"constraint", [fn, values, pending](const ConfigSpace&, const Config& c) -> bool {
           py::gil_scoped_acquire gil;
           if (pending->error) return false;
           try {
             py::object r = fn->value(ConfigToDict(*values->value, c));
             const int truth = PyObject_IsTrue(r.ptr());
             if (truth < 0) throw py::error_already_set();
             return truth == 1;
           } catch (py::error_already_set& e) {
             pending->error = std::move(e);
             return false;
           }
         }});
    space->has_constraint = true;
  }
  StatusOr<ConfigSpace> cs = ConfigSpace::Make(list, std::move(constraints));
  Check(cs.status());
  space->task.name = name;
  space->task.op = "python";
  space->task.target = "python";
  space->task.args_json = nlohmann::json({{"name", name}, {"knobs", describe}}).dump();
  space->task.space = std::move(*cs);
  return space;
}

std::shared_ptr<PySpace> SpaceFromTask(Task task) {
  auto space = std::make_shared<PySpace>();
  space->values = MakeValues(TableOfKnobs(task.space));
  space->task = std::move(task);
  return space;
}

// ---------------------------------------------------------------------------------- records

// Records held in C++ and turned into Python dicts when read.
struct PyRecords {
  std::vector<Record> records;
  RecordLogStats stats;
};

py::dict RecordToDict(const Record& r) {
  py::dict d;
  d["workload"] = WorkloadKeyToHex(r.workload_key);
  d["task"] = r.task.name;
  d["op"] = r.task.op;
  d["args"] = r.task.args_json;
  d["target"] = r.task.target;
  py::dict config;
  for (const KnobValue& v : r.config.values) config[py::str(v.name)] = KnobValueToPy(v);
  d["config"] = config;
  d["status"] = std::string(MeasureStatusToString(r.result.status));
  d["cost"] = RecordCost(r);
  d["run_seconds"] = r.result.run_seconds;
  d["error"] = r.result.error_msg;
  d["trial"] = r.trial;
  d["tuner"] = r.tuner;
  d["timestamp"] = r.timestamp_unix_s;
  d["hardware_id"] = r.hardware_id;
  d["source"] = r.source_version;
  return d;
}

// The workload of `records` named by `workload` (hex key, task name or op); the only one when
// `workload` is empty.
StatusOr<uint64_t> PickWorkload(const std::vector<Record>& records, const std::string& workload,
                                const std::string& where) {
  std::vector<uint64_t> keys;
  std::unordered_set<uint64_t> seen;
  uint64_t hex = 0;
  const bool is_hex = HexToWorkloadKey(workload, &hex);
  for (const Record& r : records) {
    if (!seen.insert(r.workload_key).second) continue;
    if (workload.empty() || (is_hex && r.workload_key == hex) || r.task.name == workload ||
        r.task.op == workload) {
      keys.push_back(r.workload_key);
    }
  }
  if (keys.size() == 1) return keys[0];
  if (keys.empty()) {
    return InvalidArgumentError(where + ": no workload matches '" + workload +
                                "' (give a hex key, a task name or an op)");
  }
  return InvalidArgumentError(where + " holds " + std::to_string(keys.size()) + " workloads" +
                              (workload.empty() ? "" : " matching '" + workload + "'") +
                              "; name one with workload= (a hex key from `sonar records stats`)");
}

StatusOr<std::vector<Record>> LoadFile(const std::string& path) {
  ImportOptions options;
  options.log_skips = false;
  ImportReport report;
  return LoadRecordsOrHistory(path, options, &report);
}

std::vector<std::string> PathList(const py::object& paths, const char* what) {
  std::vector<std::string> out;
  if (paths.is_none()) return out;
  py::object os = py::module_::import("os");
  if (py::isinstance<py::str>(paths) || py::hasattr(paths, "__fspath__")) {
    out.push_back(py::str(os.attr("fspath")(paths)));
    return out;
  }
  for (py::handle p : paths) out.push_back(py::str(os.attr("fspath")(p)));
  if (out.empty()) throw py::value_error(std::string(what) + " is empty");
  return out;
}

std::string OnePath(const py::object& path) {
  return py::str(py::module_::import("os").attr("fspath")(path));
}

// ------------------------------------------------------------------------------------ Tuner

StatusOr<TunerKind> ParseTuner(const std::string& name) {
  TunerKind kind;
  if (StringToTunerKind(name, &kind)) return kind;
  return InvalidArgumentError("unknown tuner '" + name +
                              "' (random, grid, ga, autotvm, bo, transfer-bo, rgpe)");
}

uint64_t SeedOf(int64_t seed) {
  if (seed < 0) throw py::value_error("seed must be >= 0, got " + std::to_string(seed));
  return static_cast<uint64_t>(seed);
}

// Tuner options for `space`, with the transfer records of `transfer_from` (the space's own
// workload left out, as `sonar tune --transfer-from` does).
TunerOptions MakeOptions(const PySpace& space, const std::string& kind, int64_t seed,
                         const std::vector<std::string>& transfer_from) {
  TunerOptions options;
  options.kind = Take(ParseTuner(kind));
  options.seed = SeedOf(seed);
  const uint64_t key = space.task.WorkloadKey();
  for (const std::string& path : transfer_from) {
    StatusOr<std::vector<Record>> records = WithoutGil([&] { return LoadFile(path); });
    for (Record& r : Take(std::move(records), /*file=*/true)) {
      if (r.workload_key != key) options.transfer_records.push_back(std::move(r));
    }
  }
  return options;
}

std::unique_ptr<Tuner> BuildTuner(PySpace& space, const TunerOptions& options) {
  StatusOr<std::unique_ptr<Tuner>> tuner =
      WithoutGil([&] { return MakeTuner(space.task, options); });
  space.pending->RethrowIfAny();
  return Take(std::move(tuner));
}

class PyTuner {
 public:
  PyTuner(std::shared_ptr<PySpace> space, const std::string& kind, int64_t seed,
          const py::object& transfer_from)
      : space_(std::move(space)) {
    TunerOptions options =
        MakeOptions(*space_, kind, seed, PathList(transfer_from, "transfer_from"));
    tuner_ = BuildTuner(*space_, options);
    kind_ = kind;
  }

  py::list Propose(int n) {
    if (n < 1) throw py::value_error("propose(n): n must be >= 1, got " + std::to_string(n));
    std::vector<Config> batch;
    {
      py::gil_scoped_release release;
      const auto start = Clock::now();
      batch = tuner_->Propose(n);
      seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
    }
    space_->pending->RethrowIfAny();
    py::list out;
    for (const Config& c : batch) out.append(ConfigToDict(space_->table(), c));
    return out;
  }

  void Observe(const py::object& configs, const py::object& costs) {
    std::vector<Observation> obs;
    auto add = [&](py::handle config, py::handle cost_obj) {
      Observation o;
      o.config = space_->FromPy(config);
      double cost = 0;
      if (cost_obj.is_none()) {
        cost = kInf;
      } else {
        try {
          cost = cost_obj.cast<double>();
        } catch (const py::cast_error&) {
          throw py::value_error("a cost is seconds (a float, math.inf when failed), got " +
                                std::string(py::repr(cost_obj)));
        }
      }
      if (std::isinf(cost) && cost > 0) {
        o.result.status = MeasureStatus::kRuntimeError;
        o.result.error_msg = "observed as failed (cost inf)";
      } else if (std::isfinite(cost) && cost > 0) {
        o.result.status = MeasureStatus::kOk;
        o.result.run_seconds = {cost};
      } else {
        throw py::value_error("a cost is seconds > 0, or math.inf for a failed config; got " +
                              std::string(py::repr(cost_obj)));
      }
      obs.push_back(std::move(o));
    };
    if (py::isinstance<py::dict>(configs)) {
      add(configs, costs);
    } else {
      py::sequence cs = configs.cast<py::sequence>();
      py::sequence ys = costs.cast<py::sequence>();
      if (cs.size() != ys.size()) {
        throw py::value_error("observe: " + std::to_string(cs.size()) + " configs but " +
                              std::to_string(ys.size()) + " costs");
      }
      for (size_t i = 0; i < cs.size(); ++i) add(cs[i], ys[i]);
    }
    {
      py::gil_scoped_release release;
      const auto start = Clock::now();
      tuner_->Observe(obs);
      seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
    }
    space_->pending->RethrowIfAny();
  }

  std::string name() const { return std::string(tuner_->name()); }
  double seconds() const { return seconds_; }
  std::shared_ptr<PySpace> space() const { return space_; }

 private:
  std::shared_ptr<PySpace> space_;
  std::unique_ptr<Tuner> tuner_;
  std::string kind_;
  double seconds_ = 0;
};

// --------------------------------------------------------------------------------- minimize

// Measures configs by calling the Python objective (seconds, or math.inf / an exception for a
// failed config). A KeyboardInterrupt or SystemExit from the objective stops the run: Measure
// then returns no results, so Tune() writes nothing of the batch and fails, and minimize raises
// the interrupt (the records of earlier batches are in the log: a rerun resumes).
class PyObjectiveMeasurer final : public Measurer {
 public:
  PyObjectiveMeasurer(py::object objective, std::shared_ptr<PySpace> space, std::string hardware)
      : objective_(std::move(objective)),
        space_(std::move(space)),
        hardware_(std::move(hardware)) {}

  std::vector<MeasureResult> Measure(const Task&, const std::vector<Config>& configs) override {
    py::gil_scoped_acquire gil;
    std::vector<MeasureResult> out;
    for (size_t i = 0; i < configs.size(); ++i) {
      if (PyErr_CheckSignals() != 0) {
        interrupt_ = py::error_already_set();
        return {};
      }
      MeasureResult r;
      const auto start = Clock::now();
      try {
        py::object value = objective_(ConfigToDict(space_->table(), configs[i]));
        r.all_cost_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        double cost = kInf;
        bool number = true;
        if (value.is_none()) {
          number = false;
        } else {
          try {
            cost = value.cast<double>();
          } catch (const py::cast_error&) {
            number = false;
          }
        }
        if (number && std::isfinite(cost) && cost > 0) {
          r.status = MeasureStatus::kOk;
          r.run_seconds = {cost};
        } else if (number && std::isinf(cost) && cost > 0) {
          r.status = MeasureStatus::kRuntimeError;
          r.error_msg = "the objective returned inf";
        } else {
          r.status = MeasureStatus::kUnknownError;
          r.error_msg = "the objective returned " + std::string(py::repr(value)) +
                        ", not seconds > 0 or math.inf";
        }
      } catch (py::error_already_set& e) {
        r.all_cost_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (!e.matches(PyExc_Exception)) {  // KeyboardInterrupt, SystemExit, GeneratorExit
          interrupt_ = std::move(e);
          return {};
        }
        r.status = MeasureStatus::kRuntimeError;
        r.error_msg = "the objective raised " + std::string(py::str(e.type().attr("__name__"))) +
                      ": " + std::string(py::str(e.value()));
      }
      if (on_result_) on_result_(i, r);
      out.push_back(std::move(r));
    }
    return out;
  }
  std::string hardware_id() const override { return hardware_; }
  std::optional<py::error_already_set>& interrupt() { return interrupt_; }

 private:
  py::object objective_;
  std::shared_ptr<PySpace> space_;
  std::string hardware_;
  std::optional<py::error_already_set> interrupt_;
};

// What minimize() returns.
struct PyResult {
  py::object config = py::none();  // the best config, None when nothing succeeded
  double cost = kInf;              // its seconds
  int trials = 0;                  // resumed included
  int failed = 0;
  int resumed = 0;
  std::vector<double> curve;  // best seconds after each trial
  std::string reason;
  std::string report;
  std::string records;  // the log's path, "" when none was kept
};

// A fresh, empty file in the temporary directory for a run without records=.
std::string TemporaryLogPath() {
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string path = dir + "/sonar_minimize_XXXXXX";
  std::vector<char> buf(path.begin(), path.end());
  buf.push_back('\0');
  const int fd = mkstemp(buf.data());
  if (fd < 0)
    Raise(Status(StatusCode::kFailedPrecondition, "cannot create a file in " + dir), true);
  close(fd);
  return std::string(buf.data());
}

PyResult Minimize(const py::object& objective, std::shared_ptr<PySpace> space,
                  const std::string& tuner_kind, int trials, int64_t seed,
                  const py::object& records, int batch_size, const py::object& transfer_from,
                  int early_stopping, double max_wall_seconds, const std::string& hardware_id) {
  if (!PyCallable_Check(objective.ptr()))
    throw py::value_error("objective must be callable (config dict -> seconds)");
  if (trials < 0) throw py::value_error("trials must be >= 0, got " + std::to_string(trials));
  TunerOptions options =
      MakeOptions(*space, tuner_kind, seed, PathList(transfer_from, "transfer_from"));
  std::unique_ptr<Tuner> tuner = BuildTuner(*space, options);
  const bool keep = !records.is_none();
  const std::string path = keep ? OnePath(records) : TemporaryLogPath();
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } cleanup{keep ? "" : path};
  StatusOr<RecordStore> store = WithoutGil([&] { return RecordStore::Open(path, {}); });
  Check(store.status(), /*file=*/true);
  TuneOptions to;
  to.max_trials = trials;
  to.batch_size = batch_size;
  to.early_stopping.no_improvement_trials = early_stopping;
  to.max_wall_seconds = max_wall_seconds;
  to.tuner_name = tuner_kind;
  to.hardware_id = hardware_id;
  Check(to.Validate());
  PyObjectiveMeasurer measurer(objective, space, hardware_id);
  StatusOr<TuneSummary> summary =
      WithoutGil([&] { return Tune(to, space->task, *tuner, measurer, *store); });
  space->pending->RethrowIfAny();
  if (measurer.interrupt()) {
    py::error_already_set e = std::move(*measurer.interrupt());
    measurer.interrupt().reset();
    throw e;
  }
  Check(summary.status(), /*file=*/true);
  PyResult result;
  if (summary->best) {
    StatusOr<Config> best = space->task.space.FromValues(summary->best->config.values);
    if (best.ok()) result.config = ConfigToDict(space->table(), *best);
    result.cost = RecordCost(*summary->best);
  }
  result.trials = summary->num_trials;
  result.failed = summary->num_failed;
  result.resumed = summary->num_resumed;
  result.curve = summary->best_seconds_by_trial;
  result.reason = std::string(TerminationReasonToString(summary->reason));
  result.report = summary->BriefReport();
  result.records = keep ? path : "";
  return result;
}

// ---------------------------------------------------------------------------------- imports

py::dict ImportHistories(const py::object& paths, const py::object& out_obj,
                         const std::string& format, bool strict) {
  const std::vector<std::string> files = PathList(paths, "paths");
  if (files.empty()) throw py::value_error("import_history: no input file");
  const std::string out = OnePath(out_obj);
  ImportOptions options;
  if (!StringToHistoryFormat(format, &options.format)) {
    throw py::value_error("unknown format '" + format +
                          "' (auto, autotvm, ansor, kernel-tuner, json-lines, sonar-log)");
  }
  options.strict = strict;
  options.log_skips = false;
  for (const std::string& file : files) {  // every input checked before anything is appended
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      Raise(NotFoundError("cannot open " + file + ": no such file (nothing was imported)"), true);
    }
    if (std::filesystem::is_directory(file, ec))
      Raise(InvalidArgumentError(file + " is a directory (nothing was imported)"), true);
    if (std::filesystem::equivalent(file, out, ec) && !ec) {
      throw py::value_error("cannot import " + file + " into itself (out=" + out + ")");
    }
  }
  ImportReport total;
  Status status;
  {
    py::gil_scoped_release release;
    RecordLogWriterOptions wo;
    wo.skip_duplicates = true;
    StatusOr<RecordLogWriter> log = RecordLogWriter::Open(out, wo);
    status = log.status();
    for (size_t i = 0; status.ok() && i < files.size(); ++i) {
      ImportReport report;
      status = ImportHistoryIntoLog(files[i], options, *log, &report);
      total.Merge(report);
    }
  }
  Check(status, /*file=*/true);
  py::dict d;
  d["files"] = files.size();
  d["records"] = total.records;
  d["ok"] = total.ok;
  d["failed"] = total.failed;
  d["appended"] = total.appended;
  d["duplicates"] = total.duplicates;
  d["skipped_lines"] = total.skipped_lines;
  d["skipped"] = total.skip_messages;
  return d;
}

std::shared_ptr<PyRecords> ReadRecords(const py::object& path_obj, const std::string& workload) {
  const std::string path = OnePath(path_obj);
  auto out = std::make_shared<PyRecords>();
  Status status;
  {
    py::gil_scoped_release release;
    StatusOr<std::vector<Record>> loaded = LoadFile(path);
    status = loaded.status();
    if (status.ok()) out->records = std::move(*loaded);
  }
  Check(status, /*file=*/true);
  if (!workload.empty()) {
    const uint64_t key = Take(PickWorkload(out->records, workload, path));
    std::erase_if(out->records, [key](const Record& r) { return r.workload_key != key; });
  }
  return out;
}

py::dict Columns(const PyRecords& recs) {
  const size_t n = recs.records.size();
  py::array_t<double> cost(n), timestamp(n);
  py::array_t<int64_t> trial(n);
  py::list workload, task, op, status, tuner, hardware;
  std::vector<std::string> knob_names;
  std::unordered_map<std::string, size_t> knob_at;
  for (const Record& r : recs.records) {
    for (const KnobValue& v : r.config.values) {
      if (knob_at.emplace(v.name, knob_names.size()).second) knob_names.push_back(v.name);
    }
  }
  std::vector<py::list> knobs(knob_names.size());
  auto c = cost.mutable_unchecked<1>();
  auto ts = timestamp.mutable_unchecked<1>();
  auto tr = trial.mutable_unchecked<1>();
  for (size_t i = 0; i < n; ++i) {
    const Record& r = recs.records[i];
    c(static_cast<py::ssize_t>(i)) = RecordCost(r);
    ts(static_cast<py::ssize_t>(i)) = r.timestamp_unix_s;
    tr(static_cast<py::ssize_t>(i)) = r.trial;
    workload.append(WorkloadKeyToHex(r.workload_key));
    task.append(r.task.name);
    op.append(r.task.op);
    status.append(std::string(MeasureStatusToString(r.result.status)));
    tuner.append(r.tuner);
    hardware.append(r.hardware_id);
    std::vector<bool> set(knob_names.size(), false);
    for (const KnobValue& v : r.config.values) {
      const size_t k = knob_at[v.name];
      if (set[k]) continue;
      knobs[k].append(KnobValueToPy(v));
      set[k] = true;
    }
    for (size_t k = 0; k < set.size(); ++k) {
      if (!set[k]) knobs[k].append(py::none());
    }
  }
  py::dict d;
  d["workload"] = workload;
  d["task"] = task;
  d["op"] = op;
  d["status"] = status;
  d["cost"] = cost;
  d["trial"] = trial;
  d["tuner"] = tuner;
  d["timestamp"] = timestamp;
  d["hardware_id"] = hardware;
  for (size_t k = 0; k < knob_names.size(); ++k) d[py::str("config." + knob_names[k])] = knobs[k];
  return d;
}

struct RecordsIterator {
  std::shared_ptr<PyRecords> records;
  size_t next = 0;
};

}  // namespace
}  // namespace sonar

PYBIND11_MODULE(_sonar, m) {
  using namespace sonar;
  m.doc() = "Sonar's C++ library (the Python package `sonar` wraps it; see docs/python.md).";
  m.attr("TUNERS") = py::make_tuple("random", "grid", "ga", "autotvm", "bo", "transfer-bo", "rgpe");

  py::class_<PySpace, std::shared_ptr<PySpace>>(m, "Space")
      .def(py::init([](const py::dict& knobs, const py::object& constraint,
                       const std::string& name) { return SpaceFromDict(knobs, constraint, name); }),
           py::arg("knobs"), py::arg("constraint") = py::none(), py::arg("name") = "python")
      .def_static(
          "from_records",
          [](const py::object& source, const std::string& workload) {
            std::shared_ptr<PyRecords> recs;
            if (py::isinstance<PyRecords>(source)) {
              recs = source.cast<std::shared_ptr<PyRecords>>();
            } else {
              recs = ReadRecords(source, "");
            }
            const uint64_t key = Take(PickWorkload(recs->records, workload, "the records"));
            StatusOr<Task> task = WithoutGil([&] { return TaskFromRecords(recs->records, key); });
            return SpaceFromTask(Take(std::move(task)));
          },
          py::arg("records"), py::arg("workload") = "")
      .def_static(
          "from_json",
          [](const py::object& path_obj, const std::string& name) {
            const std::string path = OnePath(path_obj);
            std::FILE* f = std::fopen(path.c_str(), "rb");
            if (f == nullptr) Raise(NotFoundError("cannot open " + path), true);
            std::string text;
            char buf[65536];
            for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
            std::fclose(f);
            ConfigSpace cs = Take(ParseSpaceJson(text, path, nullptr));
            Task task;
            task.name = name.empty() ? path : name;
            task.op = "python";
            task.target = "python";
            task.args_json = nlohmann::json({{"name", task.name}, {"space_json", text}}).dump();
            task.space = std::move(cs);
            return SpaceFromTask(std::move(task));
          },
          py::arg("path"), py::arg("name") = "")
      .def_property_readonly("knobs", [](const PySpace& s) { return s.table().names; })
      .def_property_readonly("values",
                             [](const PySpace& s) {
                               py::dict d;
                               const ValueTable& t = s.table();
                               for (size_t k = 0; k < t.names.size(); ++k)
                                 d[py::str(t.names[k])] = py::cast(t.values[k]);
                               return d;
                             })
      .def_property_readonly("name", [](const PySpace& s) { return s.task.name; })
      .def_property_readonly(
          "workload", [](const PySpace& s) { return WorkloadKeyToHex(s.task.WorkloadKey()); })
      .def_property_readonly("is_listed", [](const PySpace& s) { return s.task.space.is_listed(); })
      .def("__len__", [](const PySpace& s) { return s.task.space.size(); })
      .def("__contains__",
           [](PySpace& s, const py::object& config) {
             Config c;
             try {
               c = s.FromPy(config);
             } catch (const py::value_error&) {
               return false;
             }
             bool ok;
             {
               py::gil_scoped_release release;
               ok = s.task.space.Satisfies(c);
             }
             s.pending->RethrowIfAny();
             return ok;
           })
      .def(
          "sample",
          [](PySpace& s, int n, int64_t seed) {
            if (n < 0) throw py::value_error("sample(n): n must be >= 0");
            Rng rng = MakeRng(SeedOf(seed));
            std::vector<Config> configs;
            Status status;
            {
              py::gil_scoped_release release;
              for (int i = 0; i < n && status.ok(); ++i) {
                StatusOr<Config> c = s.task.space.Sample(rng);
                status = c.status();
                if (c.ok()) configs.push_back(std::move(*c));
              }
            }
            s.pending->RethrowIfAny();
            Check(status);
            py::list out;
            for (const Config& c : configs) out.append(ConfigToDict(s.table(), c));
            return out;
          },
          py::arg("n") = 1, py::arg("seed") = 0)
      .def("__repr__", [](const PySpace& s) {
        std::string out = "sonar.Space(";
        const ValueTable& t = s.table();
        for (size_t k = 0; k < t.names.size(); ++k) {
          out += (k ? ", " : "") + t.names[k] + ": " + std::to_string(t.values[k].size());
        }
        return out + " values" + (s.has_constraint ? ", constrained" : "") + ")";
      });

  py::class_<PyTuner>(m, "Tuner")
      .def(py::init<std::shared_ptr<PySpace>, const std::string&, int64_t, const py::object&>(),
           py::arg("space"), py::arg("tuner") = "bo", py::arg("seed") = 0,
           py::arg("transfer_from") = py::none())
      .def("propose", &PyTuner::Propose, py::arg("n") = 1)
      .def("observe", &PyTuner::Observe, py::arg("configs"), py::arg("costs"))
      .def_property_readonly("name", &PyTuner::name)
      .def_property_readonly("space", &PyTuner::space)
      .def_property_readonly("seconds", &PyTuner::seconds,
                             "Seconds spent inside the C++ tuner's propose and observe.");

  py::class_<PyResult>(m, "Result")
      .def_readonly("config", &PyResult::config)
      .def_readonly("cost", &PyResult::cost)
      .def_readonly("trials", &PyResult::trials)
      .def_readonly("failed", &PyResult::failed)
      .def_readonly("resumed", &PyResult::resumed)
      .def_readonly("curve", &PyResult::curve)
      .def_readonly("reason", &PyResult::reason)
      .def_readonly("report", &PyResult::report)
      .def_readonly("records", &PyResult::records)
      .def("__repr__", [](const PyResult& r) {
        return "sonar.Result(config=" + std::string(py::repr(r.config)) +
               ", cost=" + std::string(py::repr(py::float_(r.cost))) +
               ", trials=" + std::to_string(r.trials) + ")";
      });

  m.def("minimize", &Minimize, py::arg("objective"), py::arg("space"), py::arg("tuner") = "bo",
        py::arg("trials") = 100, py::arg("seed") = 0, py::arg("records") = py::none(),
        py::arg("batch_size") = 1, py::arg("transfer_from") = py::none(),
        py::arg("early_stopping") = 0, py::arg("max_wall_seconds") = 0.0,
        py::arg("hardware_id") = "python");

  py::class_<RecordsIterator>(m, "_RecordsIterator")
      .def("__iter__", [](RecordsIterator& it) -> RecordsIterator& { return it; })
      .def("__next__", [](RecordsIterator& it) {
        if (it.next >= it.records->records.size()) throw py::stop_iteration();
        return RecordToDict(it.records->records[it.next++]);
      });

  py::class_<PyRecords, std::shared_ptr<PyRecords>>(m, "Records")
      .def("__len__", [](const PyRecords& r) { return r.records.size(); })
      .def("__getitem__",
           [](const PyRecords& r, int64_t i) {
             const int64_t n = static_cast<int64_t>(r.records.size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw py::index_error("record index out of range");
             return RecordToDict(r.records[static_cast<size_t>(i)]);
           })
      .def("__iter__",
           [](std::shared_ptr<PyRecords> r) {
             return RecordsIterator{std::move(r), 0};
           })
      .def("columns", &Columns)
      .def("workloads", [](const PyRecords& r) {
        py::dict d;  // hex key -> task name, in order of first appearance
        for (const Record& rec : r.records) {
          py::str key(WorkloadKeyToHex(rec.workload_key));
          if (!d.contains(key)) d[key] = rec.task.name;
        }
        return d;
      });

  m.def("read_records", &ReadRecords, py::arg("path"), py::arg("workload") = "");
  // The lookup `sonar emit` and an application at start-up use (measure/emit/emit.h).
  m.def(
      "best_configs",
      [](const py::object& path_obj, const std::string& workload) {
        const std::string path = OnePath(path_obj);
        std::vector<BestConfig> best = Take(WithoutGil([&] { return BestConfigs(path, workload); }),
                                            /*file=*/!std::filesystem::exists(path));
        py::dict out;
        for (const BestConfig& b : best) {
          py::dict d = RecordToDict(b.record);
          out[py::str(b.record.task.name)] = d;
        }
        return out;
      },
      py::arg("path"), py::arg("workload") = "",
      "The best successful record of each workload of a record log or history file, as a dict "
      "task name -> record dict (config, cost, target, ...); ValueError when no workload matches "
      "or none succeeded, OSError for a file that cannot be read.");
  m.def("import_history", &ImportHistories, py::arg("paths"), py::arg("out"),
        py::arg("format") = "auto", py::arg("strict") = false);
}
