// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: ConfigSpace, the set of configurations a tuner searches, and
// NamedConstraint, a named predicate that valid configs satisfy. A space is either a product
// space (every combination of knob candidates, AutoTVM's ConfigSpace) or a listed space (a
// finite set of member configs, e.g. those of a recorded history or a brute-force cache).
// Indices are AutoTVM's mixed radix: the FIRST knob varies FASTEST,
//   index = c0 + n0 * (c1 + n1 * (c2 + ...)),
// so index i of a Sonar product space is config index i of the equivalent AutoTVM template.
// Nothing here enumerates a product space: sizes up to 2^63 - 1 work.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(
//       ConfigSpace space,
//       ConfigSpace::Make({SplitKnob("tile_x", 512, 3), ChoiceKnob("vec", {"none", "avx2"})},
//                         {{"small_inner", [](const ConfigSpace& s, const Config& c) {
//                             return s.knob(0).candidates[c.choice[0]][2] <= 64;
//                           }}}));
//   Rng rng = MakeRng(/*seed=*/1);
//   SONAR_ASSIGN_OR_RETURN(Config c, space.Sample(rng));
//   std::string text = space.ToString(c);  // "tile_x=[8,4,16] vec=avx2"
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/random.h"
#include "common/status.h"
#include "space/config.h"
#include "space/knob.h"

namespace sonar {

class ConfigSpace;

// A predicate valid configs satisfy. `ok` receives the space and a well-formed config (every
// index in range); it must be deterministic, must not throw, and must not keep the space
// reference beyond the call. `name` appears in error messages and in Satisfies's `violated`.
// Thread safety: `ok` is called concurrently if the space is used from several threads.
struct NamedConstraint {
  std::string name;
  std::function<bool(const ConfigSpace&, const Config&)> ok;
};

// A finite set of configurations over an ordered list of knobs, with optional constraints.
// A config is *valid* when it is well-formed (one in-range index per knob), a member (listed
// spaces only) and satisfies every constraint.
// Thread safety: immutable once built by Make or MakeListed; every method is const and safe to
// call concurrently (Sample needs a distinct Rng per thread).
class ConfigSpace {
 public:
  // The space with no knobs: one config, the empty one. Exists so Task is default
  // constructible; real spaces come from Make or MakeListed.
  ConfigSpace() = default;

  // A product space over `knobs`. Fails with InvalidArgument when a knob fails Validate(), two
  // knobs share a name, a constraint has no name or no predicate, or the product of knob sizes
  // exceeds 2^63 - 1. Never enumerates the space.
  static StatusOr<ConfigSpace> Make(std::vector<Knob> knobs,
                                    std::vector<NamedConstraint> constraints = {});

  // A listed space: exactly `members`, in that order (index i is members[i]). Fails like Make,
  // and also when `members` is empty, a member is malformed, or a member appears twice.
  // Members need not satisfy the constraints; Sample and Neighbors skip those that do not.
  // Cost: evaluates every constraint on every member once.
  static StatusOr<ConfigSpace> MakeListed(std::vector<Knob> knobs, std::vector<Config> members,
                                          std::vector<NamedConstraint> constraints = {});

  int num_knobs() const { return static_cast<int>(knobs_.size()); }
  // requires: 0 <= k < num_knobs().
  const Knob& knob(int k) const;
  const std::vector<Knob>& knobs() const { return knobs_; }
  const std::vector<NamedConstraint>& constraints() const { return constraints_; }
  // The knob index of `name`, or -1 if no knob has that name.
  int FindKnob(std::string_view name) const;

  // Product of the knob sizes, before constraints and membership; <= 2^63 - 1.
  uint64_t raw_size() const { return raw_size_; }
  // raw_size() for a product space, the number of members for a listed space. Constraints are
  // not applied (counting valid configs would need enumeration).
  uint64_t size() const { return listed_ ? members_.size() : raw_size_; }
  bool is_listed() const { return listed_; }
  // The members of a listed space, in index order; empty for a product space.
  const std::vector<Config>& members() const { return members_; }

  // The config at `index`: the mixed-radix decode for a product space, the index-th member for
  // a listed space. requires: index < size().
  Config At(uint64_t index) const;
  // Inverse of At: the mixed-radix index (product space) or the member position (listed
  // space); -1 when `config` is malformed or not a member. Constraints are not checked.
  int64_t IndexOf(const Config& config) const;

  // True iff `config` is valid (see the class comment). On false, *violated (if not null) is set
  // to the name of the first failed constraint, or to "malformed" / "not a member".
  bool Satisfies(const Config& config, std::string* violated = nullptr) const;

  // A random valid config. Product space: each knob's index is drawn uniformly (log-uniformly
  // over the values for log-scale int knobs), retrying up to max_tries times until the
  // constraints hold. Listed space: uniform over the members that satisfy the constraints.
  // Returns NotFound, naming the most often violated constraint, when no valid config was found
  // (an impossible or very sparse space). requires: max_tries >= 1.
  StatusOr<Config> Sample(Rng& rng, int max_tries = 1000) const;

  // All valid configs that differ from `config` in 1..max_changed_knobs knobs, where a changed
  // ordered knob (split, int) moves to an adjacent candidate index (+-1) and a changed unordered
  // knob (choice, reorder, bool) takes any other candidate. Never contains `config`; no
  // duplicates; deterministic order (by the set of changed knobs, smaller sets first and then
  // lexicographically, then by candidate index). Listed spaces return members only. Cost grows
  // as (num_knobs choose k) times the product of the alternatives: keep max_changed_knobs small.
  // requires: config is well-formed; max_changed_knobs >= 1.
  std::vector<Config> Neighbors(const Config& config, int max_changed_knobs) const;

  // A random valid config differing from `config` in exactly one knob, which takes a random
  // other candidate (AutoTVM's simulated-annealing step). Tries up to max_tries random moves;
  // std::nullopt when none of them was valid. requires: config is well-formed; max_tries >= 1.
  std::optional<Config> RandomNeighbor(const Config& config, Rng& rng, int max_tries = 100) const;

  // "tile_x=[4,8,16] vec=avx2 order=[0,2,1] unroll=16 fast=true", knobs in order, separated by
  // one space. An out-of-range index prints as "name=?<index>"; a config of the wrong length
  // prints as "<malformed (2,1)>".
  std::string ToString(const Config& config) const;

  // The config's values by knob name (KnobValue comment in knob.h); split factors are written
  // with the explicit outer factor. requires: config is well-formed.
  std::vector<KnobValue> ToValues(const Config& config) const;
  // Inverse of ToValues. Matches knobs by name, in any order; a split value whose ints[0] is -1
  // matches the candidate with equal inner factors. Fails with InvalidArgument naming the knob
  // and value when a name is unknown, repeated or missing, a kind differs, or no candidate
  // matches; with NotFound when a listed space has no such member. Constraints are not checked.
  StatusOr<Config> FromValues(const std::vector<KnobValue>& values) const;

 private:
  static StatusOr<ConfigSpace> MakeImpl(std::vector<Knob> knobs,
                                        std::vector<NamedConstraint> constraints);
  bool IsWellFormed(const Config& config) const;
  bool IsMember(const Config& config) const;
  bool ConstraintsHold(const Config& config, int* failed) const;
  int32_t SampleKnob(int k, Rng& rng) const;

  std::vector<Knob> knobs_;
  std::vector<NamedConstraint> constraints_;
  uint64_t raw_size_ = 1;
  bool listed_ = false;
  std::vector<Config> members_;                                   // listed only
  std::unordered_map<Config, int64_t, ConfigHash> member_index_;  // listed only
  std::vector<int64_t> valid_members_;  // listed only: members that satisfy the constraints
};

}  // namespace sonar
