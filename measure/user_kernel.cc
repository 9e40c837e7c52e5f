// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/user_kernel.h"
#include "measure/hardware.h"

#include <sys/utsname.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sonar {
namespace {

using Json = nlohmann::json;

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// ---- constraint expressions -------------------------------------------------------------
// Grammar (C precedence): or: and ('||' and)*; and: cmp ('&&' cmp)*;
// cmp: sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?; sum: prod (('+'|'-') prod)*;
// prod: unary (('*'|'/'|'%') unary)*; unary: ('-'|'!') unary | INT | NAME | '(' or ')'.
// Values are int64; a division by zero makes the whole constraint false.

using Vars = std::vector<int64_t>;
struct EvalError {};
using Expr = std::function<int64_t(const Vars&, bool*)>;  // bool*: set on division by zero

class ExprParser {
 public:
  ExprParser(std::string_view text, const std::map<std::string, int>& names)
      : text_(text), names_(names) {}

  StatusOr<Expr> Parse() {
    Expr e = Or();
    SkipSpace();
    if (error_.empty() && pos_ < text_.size())
      Fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    if (!error_.empty()) return InvalidArgumentError(error_);
    return e;
  }

 private:
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at column " + std::to_string(pos_ + 1);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view op) {
    SkipSpace();
    if (text_.substr(pos_, op.size()) == op) {
      pos_ += op.size();
      return true;
    }
    return false;
  }
  static Expr Const(int64_t v) {
    return [v](const Vars&, bool*) { return v; };
  }
  Expr Or() {
    Expr l = And();
    while (error_.empty() && Eat("||")) {
      Expr r = And();
      l = [l, r](const Vars& v, bool* z) { return int64_t{l(v, z) != 0 || r(v, z) != 0}; };
    }
    return l;
  }
  Expr And() {
    Expr l = Cmp();
    while (error_.empty() && Eat("&&")) {
      Expr r = Cmp();
      l = [l, r](const Vars& v, bool* z) { return int64_t{l(v, z) != 0 && r(v, z) != 0}; };
    }
    return l;
  }
  Expr Cmp() {
    Expr l = Sum();
    if (!error_.empty()) return l;
    static const char* kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (const char* op : kOps) {
      if (Eat(op)) {
        Expr r = Sum();
        const std::string o = op;
        return [l, r, o](const Vars& v, bool* z) -> int64_t {
          const int64_t a = l(v, z), b = r(v, z);
          if (o == "==") return a == b;
          if (o == "!=") return a != b;
          if (o == "<=") return a <= b;
          if (o == ">=") return a >= b;
          if (o == "<") return a < b;
          return a > b;
        };
      }
    }
    return l;
  }
  Expr Sum() {
    Expr l = Prod();
    while (error_.empty()) {
      if (Eat("+")) {
        Expr r = Prod();
        l = [l, r](const Vars& v, bool* z) { return l(v, z) + r(v, z); };
      } else if (Eat("-")) {
        Expr r = Prod();
        l = [l, r](const Vars& v, bool* z) { return l(v, z) - r(v, z); };
      } else {
        break;
      }
    }
    return l;
  }
  Expr Prod() {
    Expr l = Unary();
    while (error_.empty()) {
      char op = 0;
      if (Eat("*"))
        op = '*';
      else if (Eat("/"))
        op = '/';
      else if (Eat("%"))
        op = '%';
      else
        break;
      Expr r = Unary();
      l = [l, r, op](const Vars& v, bool* z) -> int64_t {
        const int64_t a = l(v, z), b = r(v, z);
        if (op == '*') return a * b;
        if (b == 0) {
          *z = true;
          return 0;
        }
        return op == '/' ? a / b : a % b;
      };
    }
    return l;
  }
  Expr Unary() {
    SkipSpace();
    if (pos_ >= text_.size()) {
      Fail("unexpected end");
      return Const(0);
    }
    if (text_[pos_] == '!' && text_.substr(pos_, 2) != "!=") {
      ++pos_;
      Expr e = Unary();
      return [e](const Vars& v, bool* z) { return int64_t{e(v, z) == 0}; };
    }
    if (text_[pos_] == '-') {
      ++pos_;
      Expr e = Unary();
      return [e](const Vars& v, bool* z) { return -e(v, z); };
    }
    if (text_[pos_] == '(') {
      ++pos_;
      Expr e = Or();
      if (!Eat(")")) Fail("missing ')'");
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      int64_t v = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        v = v * 10 + (text_[pos_++] - '0');
      }
      return Const(v);
    }
    if (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      const std::string name(text_.substr(start, pos_ - start));
      if (name == "true") return Const(1);
      if (name == "false") return Const(0);
      auto it = names_.find(name);
      if (it == names_.end()) {
        pos_ = start;
        Fail("unknown name '" + name +
             "' (integer knobs, bool knobs and NAME_i of split and "
             "reorder knobs may be used)");
        return Const(0);
      }
      const int slot = it->second;
      return [slot](const Vars& v, bool*) { return v[slot]; };
    }
    Fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return Const(0);
  }

  std::string_view text_;
  const std::map<std::string, int>& names_;
  size_t pos_ = 0;
  std::string error_;
};

// Where each expression variable comes from: knob k, part p of its candidate.
struct Slot {
  int knob;
  int part;
};

std::string LineColumn(std::string_view text, size_t byte) {
  int line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

StatusOr<std::vector<int64_t>> IntArray(const Json& j, const std::string& where) {
  if (!j.is_array() || j.empty())
    return InvalidArgumentError(where + ": expected a non-empty array of integers");
  std::vector<int64_t> out;
  for (const Json& v : j) {
    if (!v.is_number_integer())
      return InvalidArgumentError(where + ": expected integers, got " + v.dump());
    out.push_back(v.get<int64_t>());
  }
  return out;
}

StatusOr<Knob> ParseKnob(const Json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgumentError(where + ": expected an object");
  if (!j.contains("name") || !j["name"].is_string()) {
    return InvalidArgumentError(where + ".name: missing or not a string");
  }
  const std::string name = j["name"].get<std::string>();
  if (!IsIdentifier(name)) {
    return InvalidArgumentError(where + ".name: '" + name +
                                "' is not a C identifier (it becomes a macro name)");
  }
  if (!j.contains("kind") || !j["kind"].is_string()) {
    return InvalidArgumentError(where +
                                ".kind: missing or not a string (int, choice, bool, "
                                "split or reorder)");
  }
  const std::string kind = j["kind"].get<std::string>();
  for (const auto& [key, value] : j.items()) {
    static const char* kKnown[] = {"name",   "kind",  "values", "range",      "step", "log_scale",
                                   "extent", "parts", "policy", "max_factor", "axes"};
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return InvalidArgumentError(where + ": unknown field '" + key + "'");
  }
  Knob knob;
  if (kind == "int") {
    if (j.contains("values")) {
      SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> values, IntArray(j["values"], where + ".values"));
      knob = IntChoiceKnob(name, values);
    } else {
      if (!j.contains("range"))
        return InvalidArgumentError(where +
                                    ": an int knob needs \"range\": [lo, hi] or \"values\"");
      SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> range, IntArray(j["range"], where + ".range"));
      if (range.size() != 2) return InvalidArgumentError(where + ".range: expected [lo, hi]");
      int64_t step = 1;
      if (j.contains("step")) {
        if (!j["step"].is_number_integer())
          return InvalidArgumentError(where + ".step: expected an integer");
        step = j["step"].get<int64_t>();
      }
      bool log_scale = false;
      if (j.contains("log_scale")) {
        if (!j["log_scale"].is_boolean())
          return InvalidArgumentError(where + ".log_scale: expected true or false");
        log_scale = j["log_scale"].get<bool>();
      }
      knob = IntKnob(name, range[0], range[1], step, log_scale);
    }
  } else if (kind == "choice") {
    if (!j.contains("values") || !j["values"].is_array() || j["values"].empty()) {
      return InvalidArgumentError(where + ".values: a choice knob needs a non-empty array");
    }
    if (j["values"][0].is_string()) {
      std::vector<std::string> labels;
      for (const Json& v : j["values"]) {
        if (!v.is_string())
          return InvalidArgumentError(where + ".values: mixes strings and non-strings");
        labels.push_back(v.get<std::string>());
      }
      knob = ChoiceKnob(name, labels);
    } else {
      SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> values, IntArray(j["values"], where + ".values"));
      knob = IntChoiceKnob(name, values);
    }
  } else if (kind == "bool") {
    knob = BoolKnob(name);
  } else if (kind == "split") {
    if (!j.contains("extent") || !j["extent"].is_number_integer()) {
      return InvalidArgumentError(where + ".extent: a split knob needs an integer extent");
    }
    int parts = 2;
    if (j.contains("parts")) {
      if (!j["parts"].is_number_integer())
        return InvalidArgumentError(where + ".parts: expected an integer");
      parts = j["parts"].get<int>();
    }
    SplitOptions so;
    if (j.contains("policy")) {
      const std::string policy = j["policy"].is_string() ? j["policy"].get<std::string>() : "";
      if (policy == "factors")
        so.policy = SplitPolicy::kFactors;
      else if (policy == "power2")
        so.policy = SplitPolicy::kPower2;
      else
        return InvalidArgumentError(where + ".policy: expected \"factors\" or \"power2\"");
    }
    if (j.contains("max_factor")) {
      if (!j["max_factor"].is_number_integer())
        return InvalidArgumentError(where + ".max_factor: expected an integer");
      so.max_factor = j["max_factor"].get<int64_t>();
    }
    knob = SplitKnob(name, j["extent"].get<int64_t>(), parts, so);
  } else if (kind == "reorder") {
    if (!j.contains("axes") || !j["axes"].is_number_integer()) {
      return InvalidArgumentError(where + ".axes: a reorder knob needs the number of axes");
    }
    knob = ReorderKnob(name, j["axes"].get<int>());
  } else {
    return InvalidArgumentError(where + ".kind: unknown kind '" + kind +
                                "' (int, choice, bool, split or reorder)");
  }
  if (Status s = knob.Validate(); !s.ok()) return InvalidArgumentError(where + ": " + s.message());
  return knob;
}

// One KnobValue for `knob` from a reference entry.
StatusOr<KnobValue> ParseValue(const Knob& knob, const Json& j, const std::string& where) {
  KnobValue v;
  v.name = knob.name;
  v.kind = knob.kind;
  if (knob.kind == KnobKind::kSplit || knob.kind == KnobKind::kReorder) {
    SONAR_ASSIGN_OR_RETURN(v.ints, IntArray(j, where));
  } else if (knob.kind == KnobKind::kChoice && !knob.labels.empty()) {
    if (!j.is_string()) return InvalidArgumentError(where + ": expected one of the labels");
    v.strings = {j.get<std::string>()};
  } else if (knob.kind == KnobKind::kBool && j.is_boolean()) {
    v.ints = {j.get<bool>() ? 1 : 0};
  } else {
    if (!j.is_number_integer()) return InvalidArgumentError(where + ": expected an integer");
    v.ints = {j.get<int64_t>()};
  }
  return v;
}

}  // namespace

StatusOr<ConfigSpace> ParseSpaceJson(std::string_view text, const std::string& file_name,
                                     std::vector<KnobValue>* reference) {
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return InvalidArgumentError(file_name + ":" + LineColumn(text, e.byte > 0 ? e.byte - 1 : 0) +
                                ": malformed JSON: " + e.what());
  }
  if (!root.is_object()) return InvalidArgumentError(file_name + ": expected a JSON object");
  for (const auto& [key, value] : root.items()) {
    if (key != "name" && key != "knobs" && key != "constraints" && key != "reference" &&
        key != "description") {
      return InvalidArgumentError(file_name + ": unknown field '" + key +
                                  "' (name, knobs, constraints, reference, description)");
    }
  }
  if (!root.contains("knobs") || !root["knobs"].is_array() || root["knobs"].empty()) {
    return InvalidArgumentError(file_name + ": knobs: missing or not a non-empty array");
  }
  std::vector<Knob> knobs;
  std::map<std::string, int> names;  // expression name -> slot
  std::vector<Slot> slots;
  for (size_t i = 0; i < root["knobs"].size(); ++i) {
    const std::string where = file_name + ": knobs[" + std::to_string(i) + "]";
    SONAR_ASSIGN_OR_RETURN(Knob knob, ParseKnob(root["knobs"][i], where));
    for (const Knob& k : knobs) {
      if (k.name == knob.name)
        return InvalidArgumentError(where + ".name: '" + knob.name + "' appears twice");
    }
    const int k = static_cast<int>(knobs.size());
    if (knob.kind == KnobKind::kSplit || knob.kind == KnobKind::kReorder) {
      for (size_t p = 0; p < knob.candidates[0].size(); ++p) {
        names[knob.name + "_" + std::to_string(p)] = static_cast<int>(slots.size());
        slots.push_back({k, static_cast<int>(p)});
      }
    } else if (!(knob.kind == KnobKind::kChoice && !knob.labels.empty())) {
      names[knob.name] = static_cast<int>(slots.size());
      slots.push_back({k, 0});
    }
    knobs.push_back(std::move(knob));
  }
  std::vector<NamedConstraint> constraints;
  if (root.contains("constraints")) {
    const Json& cs = root["constraints"];
    if (!cs.is_array())
      return InvalidArgumentError(file_name + ": constraints: expected an array of strings");
    for (size_t i = 0; i < cs.size(); ++i) {
      const std::string where = file_name + ": constraints[" + std::to_string(i) + "]";
      if (!cs[i].is_string()) return InvalidArgumentError(where + ": expected a string expression");
      const std::string text_i = cs[i].get<std::string>();
      ExprParser parser(text_i, names);
      StatusOr<Expr> expr = parser.Parse();
      if (!expr.ok())
        return InvalidArgumentError(where + " \"" + text_i + "\": " + expr.status().message());
      Expr e = *expr;
      std::vector<Slot> s = slots;
      constraints.push_back(
          {text_i, [e, s](const ConfigSpace& space, const Config& c) {
             Vars v(s.size());
             for (size_t i = 0; i < s.size(); ++i) {
               v[i] = space.knob(s[i].knob).candidates[c.choice[s[i].knob]][s[i].part];
             }
             bool div_zero = false;
             const int64_t r = e(v, &div_zero);
             return !div_zero && r != 0;
           }});
    }
  }
  StatusOr<ConfigSpace> space = ConfigSpace::Make(knobs, std::move(constraints));
  if (!space.ok()) return InvalidArgumentError(file_name + ": " + space.status().message());
  if (root.contains("reference")) {
    const Json& ref = root["reference"];
    if (!ref.is_object())
      return InvalidArgumentError(file_name + ": reference: expected an object knob -> value");
    std::vector<KnobValue> values;
    for (const auto& [key, value] : ref.items()) {
      const int k = space->FindKnob(key);
      if (k < 0) return InvalidArgumentError(file_name + ": reference." + key + ": no such knob");
      SONAR_ASSIGN_OR_RETURN(KnobValue v,
                             ParseValue(space->knob(k), value, file_name + ": reference." + key));
      values.push_back(std::move(v));
    }
    StatusOr<Config> c = space->FromValues(values);
    if (!c.ok()) return InvalidArgumentError(file_name + ": reference: " + c.status().message());
    std::string violated;
    if (!space->Satisfies(*c, &violated)) {
      return InvalidArgumentError(file_name + ": reference: violates the constraint " + violated);
    }
    if (reference != nullptr) *reference = std::move(values);
  }
  return space;
}

StatusOr<UserKernel> LoadUserKernel(const std::string& kernel_path,
                                    const std::string& space_json_path, std::string target) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(kernel_path, ec)) {
    return NotFoundError("kernel file not found: " + kernel_path);
  }
  std::ifstream in(space_json_path, std::ios::binary);
  if (!in) return NotFoundError("cannot read the space file " + space_json_path);
  std::stringstream ss;
  ss << in.rdbuf();
  UserKernel k;
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space,
                         ParseSpaceJson(ss.str(), space_json_path, &k.reference));
  k.kernel_path = std::filesystem::absolute(kernel_path, ec).lexically_normal().string();
  k.space_path = space_json_path;
  k.task.name = "user:" + k.kernel_path;
  k.task.op = "user";
  k.task.shape = {};
  // The kernel's path is part of the workload's identity: two kernels never share records.
  k.task.args_json = nlohmann::json({{"kernel", k.kernel_path}}).dump();
  k.task.space = std::move(space);
  k.task.target = target.empty() ? ThisMachineTarget() : std::move(target);
  return k;
}

StatusOr<Task> MakeUserKernelTask(const std::string& kernel_path,
                                  const std::string& space_json_path, std::string target) {
  SONAR_ASSIGN_OR_RETURN(UserKernel k,
                         LoadUserKernel(kernel_path, space_json_path, std::move(target)));
  return std::move(k.task);
}

std::string UserKernelPath(const Task& task) {
  if (task.op != "user" || task.name.rfind("user:", 0) != 0) return "";
  return task.name.substr(5);
}

std::vector<std::string> UserKernelDefines(const ConfigSpace& space, const Config& config) {
  return UserKernelDefinesOfValues(space.ToValues(config));
}

std::vector<std::string> UserKernelDefinesOfValues(const std::vector<KnobValue>& values) {
  std::vector<std::string> out;
  for (const KnobValue& v : values) {
    if (v.kind == KnobKind::kSplit || v.kind == KnobKind::kReorder) {
      for (size_t p = 0; p < v.ints.size(); ++p) {
        out.push_back("-D" + v.name + "_" + std::to_string(p) + "=" + std::to_string(v.ints[p]));
      }
    } else if (!v.strings.empty()) {
      out.push_back("-D" + v.name + "=" + v.strings[0]);
    } else if (!v.ints.empty()) {
      out.push_back("-D" + v.name + "=" + std::to_string(v.ints[0]));
    }
  }
  return out;
}

}  // namespace sonar
