// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/config_space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>
#include <utility>

#include "common/check.h"

namespace sonar {
namespace {

constexpr uint64_t kMaxRawSize = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string ValueToString(const KnobValue& value) {
  std::string out = "ints=" + JoinInts(value.ints);
  if (!value.strings.empty()) {
    out += " strings=[";
    for (size_t i = 0; i < value.strings.size(); ++i) {
      if (i > 0) out += ",";
      out += "\"" + value.strings[i] + "\"";
    }
    out += "]";
  }
  return out;
}

// The candidate as ToString prints it.
std::string CandidateToString(const Knob& knob, int32_t index) {
  const std::vector<int64_t>& c = knob.candidates[index];
  switch (knob.kind) {
    case KnobKind::kSplit:
    case KnobKind::kReorder: return JoinInts(c);
    case KnobKind::kChoice: return knob.labels.empty() ? std::to_string(c[0]) : knob.labels[index];
    case KnobKind::kInt: return std::to_string(c[0]);
    case KnobKind::kBool: return c[0] != 0 ? "true" : "false";
  }
  return "?";
}

// The candidate index of `knob` that `value` denotes, or -1.
int32_t MatchCandidate(const Knob& knob, const KnobValue& value) {
  if (knob.kind == KnobKind::kChoice && !knob.labels.empty()) {
    if (value.strings.size() != 1) return -1;
    for (size_t i = 0; i < knob.labels.size(); ++i) {
      if (knob.labels[i] == value.strings[0]) return static_cast<int32_t>(i);
    }
    return -1;
  }
  const bool rest_outer =
      knob.kind == KnobKind::kSplit && !value.ints.empty() && value.ints[0] == -1;
  for (size_t i = 0; i < knob.candidates.size(); ++i) {
    const std::vector<int64_t>& c = knob.candidates[i];
    if (c.size() != value.ints.size()) continue;
    if (rest_outer ? std::equal(c.begin() + 1, c.end(), value.ints.begin() + 1) : c == value.ints) {
      return static_cast<int32_t>(i);
    }
  }
  return -1;
}

}  // namespace

StatusOr<ConfigSpace> ConfigSpace::MakeImpl(std::vector<Knob> knobs,
                                            std::vector<NamedConstraint> constraints) {
  std::unordered_set<std::string> names;
  uint64_t raw = 1;
  for (size_t k = 0; k < knobs.size(); ++k) {
    SONAR_RETURN_IF_ERROR(knobs[k].Validate());
    if (!names.insert(knobs[k].name).second) {
      return InvalidArgumentError("two knobs are named '" + knobs[k].name +
                                  "'; knob names must be unique");
    }
    const uint64_t n = static_cast<uint64_t>(knobs[k].size());
    if (raw > kMaxRawSize / n) {
      std::string sizes;
      for (const Knob& knob : knobs) {
        sizes += (sizes.empty() ? "" : ", ") + knob.name + "=" + std::to_string(knob.size());
      }
      return InvalidArgumentError(
          "the space has more than 2^63-1 configurations (knob sizes: " + sizes +
          "); drop knobs, coarsen them, or split the task into smaller spaces");
    }
    raw *= n;
  }
  std::unordered_set<std::string> constraint_names;
  for (size_t i = 0; i < constraints.size(); ++i) {
    if (constraints[i].name.empty()) {
      return InvalidArgumentError("constraint " + std::to_string(i) + " has no name");
    }
    if (!constraints[i].ok) {
      return InvalidArgumentError("constraint '" + constraints[i].name + "' has no predicate");
    }
    if (!constraint_names.insert(constraints[i].name).second) {
      return InvalidArgumentError("two constraints are named '" + constraints[i].name + "'");
    }
  }
  ConfigSpace space;
  space.knobs_ = std::move(knobs);
  space.constraints_ = std::move(constraints);
  space.raw_size_ = raw;
  return space;
}

StatusOr<ConfigSpace> ConfigSpace::Make(std::vector<Knob> knobs,
                                        std::vector<NamedConstraint> constraints) {
  return MakeImpl(std::move(knobs), std::move(constraints));
}

StatusOr<ConfigSpace> ConfigSpace::MakeListed(std::vector<Knob> knobs, std::vector<Config> members,
                                              std::vector<NamedConstraint> constraints) {
  SONAR_ASSIGN_OR_RETURN(ConfigSpace space, MakeImpl(std::move(knobs), std::move(constraints)));
  if (members.empty()) {
    return InvalidArgumentError("a listed space needs at least one member");
  }
  space.listed_ = true;
  space.member_index_.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    if (!space.IsWellFormed(members[i])) {
      return InvalidArgumentError("member " + std::to_string(i) + " " +
                                  ConfigIndicesToString(members[i]) + " is malformed: it needs " +
                                  std::to_string(space.num_knobs()) +
                                  " indices, each within its knob's candidates");
    }
    auto [it, inserted] = space.member_index_.emplace(members[i], static_cast<int64_t>(i));
    if (!inserted) {
      return InvalidArgumentError("member " + std::to_string(i) + " (" +
                                  space.ToString(members[i]) + ") duplicates member " +
                                  std::to_string(it->second));
    }
  }
  space.members_ = std::move(members);
  for (size_t i = 0; i < space.members_.size(); ++i) {
    int failed = -1;
    if (space.ConstraintsHold(space.members_[i], &failed)) {
      space.valid_members_.push_back(static_cast<int64_t>(i));
    }
  }
  return space;
}

const Knob& ConfigSpace::knob(int k) const {
  SONAR_CHECK(k >= 0 && k < num_knobs()) << "knob " << k << " of a space with " << num_knobs();
  return knobs_[k];
}

int ConfigSpace::FindKnob(std::string_view name) const {
  for (size_t k = 0; k < knobs_.size(); ++k) {
    if (knobs_[k].name == name) return static_cast<int>(k);
  }
  return -1;
}

bool ConfigSpace::IsWellFormed(const Config& config) const {
  if (config.choice.size() != knobs_.size()) return false;
  for (size_t k = 0; k < knobs_.size(); ++k) {
    if (config.choice[k] < 0 || config.choice[k] >= knobs_[k].size()) return false;
  }
  return true;
}

bool ConfigSpace::IsMember(const Config& config) const {
  return !listed_ || member_index_.count(config) > 0;
}

bool ConfigSpace::ConstraintsHold(const Config& config, int* failed) const {
  for (size_t i = 0; i < constraints_.size(); ++i) {
    if (!constraints_[i].ok(*this, config)) {
      *failed = static_cast<int>(i);
      return false;
    }
  }
  return true;
}

Config ConfigSpace::At(uint64_t index) const {
  SONAR_CHECK(index < size()) << "index " << index << " is outside a space of size " << size();
  if (listed_) return members_[index];
  Config config;
  config.choice.resize(knobs_.size());
  for (size_t k = 0; k < knobs_.size(); ++k) {
    const uint64_t n = static_cast<uint64_t>(knobs_[k].size());
    config.choice[k] = static_cast<int32_t>(index % n);
    index /= n;
  }
  return config;
}

int64_t ConfigSpace::IndexOf(const Config& config) const {
  if (!IsWellFormed(config)) return -1;
  if (listed_) {
    auto it = member_index_.find(config);
    return it == member_index_.end() ? -1 : it->second;
  }
  uint64_t index = 0;
  for (size_t k = knobs_.size(); k-- > 0;) {
    index =
        index * static_cast<uint64_t>(knobs_[k].size()) + static_cast<uint64_t>(config.choice[k]);
  }
  return static_cast<int64_t>(index);
}

bool ConfigSpace::Satisfies(const Config& config, std::string* violated) const {
  auto report = [&](std::string why) {
    if (violated != nullptr) *violated = std::move(why);
    return false;
  };
  if (!IsWellFormed(config)) return report("malformed");
  if (!IsMember(config)) return report("not a member");
  int failed = -1;
  if (!ConstraintsHold(config, &failed)) return report(constraints_[failed].name);
  return true;
}

int32_t ConfigSpace::SampleKnob(int k, Rng& rng) const {
  const Knob& knob = knobs_[k];
  const int64_t n = knob.size();
  if (n == 1) return 0;
  if (knob.kind == KnobKind::kInt && knob.log_scale) {
    // Log-uniform: draw t uniformly in [log v_0, log v_last], take the value nearest in log.
    const double lo = std::log(static_cast<double>(knob.candidates.front()[0]));
    const double hi = std::log(static_cast<double>(knob.candidates.back()[0]));
    const double t = lo + UniformDouble(rng) * (hi - lo);
    auto log_at = [&](int64_t i) { return std::log(static_cast<double>(knob.candidates[i][0])); };
    int64_t first = 0, count = n;  // first index with log value >= t
    while (count > 0) {
      const int64_t step = count / 2;
      if (log_at(first + step) < t) {
        first += step + 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
    if (first == n) return static_cast<int32_t>(n - 1);
    if (first > 0 && t - log_at(first - 1) < log_at(first) - t) --first;
    return static_cast<int32_t>(first);
  }
  return static_cast<int32_t>(UniformInt(rng, 0, n - 1));
}

StatusOr<Config> ConfigSpace::Sample(Rng& rng, int max_tries) const {
  SONAR_CHECK(max_tries >= 1) << "Sample needs max_tries >= 1, got " << max_tries;
  std::vector<int> violations(constraints_.size(), 0);
  auto most_violated = [&]() -> std::string {
    const auto it = std::max_element(violations.begin(), violations.end());
    return "'" + constraints_[it - violations.begin()].name + "' (violated " + std::to_string(*it) +
           " times)";
  };
  if (listed_) {
    if (valid_members_.empty()) {
      for (const Config& member : members_) {
        int failed = -1;
        if (!ConstraintsHold(member, &failed)) ++violations[failed];
      }
      return NotFoundError("none of the " + std::to_string(members_.size()) +
                           " members of the listed space satisfies the constraints; the most " +
                           "often violated constraint is " + most_violated());
    }
    const int64_t pick = UniformInt(rng, 0, static_cast<int64_t>(valid_members_.size()) - 1);
    return members_[valid_members_[pick]];
  }
  Config config;
  config.choice.resize(knobs_.size());
  for (int t = 0; t < max_tries; ++t) {
    for (int k = 0; k < num_knobs(); ++k) config.choice[k] = SampleKnob(k, rng);
    int failed = -1;
    if (ConstraintsHold(config, &failed)) return config;
    ++violations[failed];
  }
  return NotFoundError("no config satisfying the constraints was found in " +
                       std::to_string(max_tries) + " random tries; the most often violated " +
                       "constraint is " + most_violated() +
                       ". The constraints may be impossible to meet together, or too strict " +
                       "for random sampling: relax them or raise max_tries");
}

std::vector<Config> ConfigSpace::Neighbors(const Config& config, int max_changed_knobs) const {
  SONAR_CHECK(IsWellFormed(config))
      << "Neighbors of malformed config " << ConfigIndicesToString(config);
  SONAR_CHECK(max_changed_knobs >= 1)
      << "max_changed_knobs must be >= 1, got " << max_changed_knobs;
  // Alternatives of each knob, ascending; knobs without any cannot change.
  std::vector<int> movable;
  std::vector<std::vector<int32_t>> alternatives(knobs_.size());
  for (int k = 0; k < num_knobs(); ++k) {
    const int32_t c = config.choice[k];
    const int32_t n = static_cast<int32_t>(knobs_[k].size());
    if (knobs_[k].is_ordered()) {
      if (c > 0) alternatives[k].push_back(c - 1);
      if (c + 1 < n) alternatives[k].push_back(c + 1);
    } else {
      for (int32_t i = 0; i < n; ++i) {
        if (i != c) alternatives[k].push_back(i);
      }
    }
    if (!alternatives[k].empty()) movable.push_back(k);
  }
  std::vector<Config> out;
  const int max_size = std::min<int>(max_changed_knobs, static_cast<int>(movable.size()));
  for (int s = 1; s <= max_size; ++s) {
    // Subsets of `movable` of size s, lexicographically: subset[i] indexes movable.
    std::vector<int> subset(s);
    for (int i = 0; i < s; ++i) subset[i] = i;
    while (true) {
      // Cartesian product of the alternatives, last knob of the subset fastest.
      std::vector<size_t> pick(s, 0);
      while (true) {
        Config candidate = config;
        for (int i = 0; i < s; ++i) {
          const int k = movable[subset[i]];
          candidate.choice[k] = alternatives[k][pick[i]];
        }
        int failed = -1;
        if (IsMember(candidate) && ConstraintsHold(candidate, &failed)) {
          out.push_back(std::move(candidate));
        }
        int i = s - 1;
        while (i >= 0 && ++pick[i] == alternatives[movable[subset[i]]].size()) {
          pick[i] = 0;
          --i;
        }
        if (i < 0) break;
      }
      int i = s - 1;
      while (i >= 0 && subset[i] == static_cast<int>(movable.size()) - s + i) --i;
      if (i < 0) break;
      ++subset[i];
      for (int j = i + 1; j < s; ++j) subset[j] = subset[j - 1] + 1;
    }
  }
  return out;
}

std::optional<Config> ConfigSpace::RandomNeighbor(const Config& config, Rng& rng,
                                                  int max_tries) const {
  SONAR_CHECK(IsWellFormed(config))
      << "RandomNeighbor of malformed config " << ConfigIndicesToString(config);
  SONAR_CHECK(max_tries >= 1) << "max_tries must be >= 1, got " << max_tries;
  std::vector<int> movable;
  for (int k = 0; k < num_knobs(); ++k) {
    if (knobs_[k].size() > 1) movable.push_back(k);
  }
  if (movable.empty()) return std::nullopt;
  for (int t = 0; t < max_tries; ++t) {
    const int k = movable[UniformInt(rng, 0, static_cast<int64_t>(movable.size()) - 1)];
    int32_t other = static_cast<int32_t>(UniformInt(rng, 0, knobs_[k].size() - 2));
    if (other >= config.choice[k]) ++other;
    Config candidate = config;
    candidate.choice[k] = other;
    int failed = -1;
    if (IsMember(candidate) && ConstraintsHold(candidate, &failed)) return candidate;
  }
  return std::nullopt;
}

std::string ConfigSpace::ToString(const Config& config) const {
  if (config.choice.size() != knobs_.size()) {
    return "<malformed " + ConfigIndicesToString(config) + ">";
  }
  std::string out;
  for (size_t k = 0; k < knobs_.size(); ++k) {
    if (k > 0) out += " ";
    out += knobs_[k].name + "=";
    const int32_t c = config.choice[k];
    if (c < 0 || c >= knobs_[k].size()) {
      out += "?" + std::to_string(c);
    } else {
      out += CandidateToString(knobs_[k], c);
    }
  }
  return out;
}

std::vector<KnobValue> ConfigSpace::ToValues(const Config& config) const {
  SONAR_CHECK(IsWellFormed(config))
      << "ToValues of malformed config " << ConfigIndicesToString(config);
  std::vector<KnobValue> values;
  values.reserve(knobs_.size());
  for (size_t k = 0; k < knobs_.size(); ++k) {
    const Knob& knob = knobs_[k];
    const int32_t c = config.choice[k];
    KnobValue value;
    value.name = knob.name;
    value.kind = knob.kind;
    if (knob.kind == KnobKind::kChoice && !knob.labels.empty()) {
      value.strings = {knob.labels[c]};
    } else {
      value.ints = knob.candidates[c];
    }
    values.push_back(std::move(value));
  }
  return values;
}

StatusOr<Config> ConfigSpace::FromValues(const std::vector<KnobValue>& values) const {
  Config config;
  config.choice.assign(knobs_.size(), -1);
  for (const KnobValue& value : values) {
    const int k = FindKnob(value.name);
    if (k < 0) {
      std::string names;
      for (const Knob& knob : knobs_) names += (names.empty() ? "" : ", ") + knob.name;
      return InvalidArgumentError("unknown knob '" + value.name + "'; the space has: " + names);
    }
    const Knob& knob = knobs_[k];
    if (config.choice[k] != -1) {
      return InvalidArgumentError("knob '" + value.name + "' has two values");
    }
    if (value.kind != knob.kind) {
      return InvalidArgumentError(
          "knob '" + value.name + "' is a " + std::string(KnobKindToString(knob.kind)) +
          " knob but the value is of kind " + std::string(KnobKindToString(value.kind)));
    }
    const int32_t c = MatchCandidate(knob, value);
    if (c < 0) {
      return InvalidArgumentError("knob '" + value.name + "' has no candidate matching " +
                                  ValueToString(value));
    }
    config.choice[k] = c;
  }
  for (size_t k = 0; k < knobs_.size(); ++k) {
    if (config.choice[k] == -1) {
      return InvalidArgumentError("no value for knob '" + knobs_[k].name + "'");
    }
  }
  if (!IsMember(config)) {
    return NotFoundError("config " + ToString(config) + " is not a member of the listed space");
  }
  return config;
}

}  // namespace sonar
