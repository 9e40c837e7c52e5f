// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Knob (one axis of a configuration space: a finite, ordered list of
// candidate values), the constructors for each KnobKind, and KnobValue (a knob's value written
// out by name, independent of any space, as records and imported histories hold it).
//
// The constructors return a Knob even when their arguments are bad; such a knob carries the
// reason in `error`, and Knob::Validate() (which ConfigSpace::Make calls for every knob) returns
// it as an InvalidArgument Status. Nothing here aborts on bad user input.
//
// Example:
//   Knob tile = SplitKnob("tile_x", /*extent=*/512, /*num_parts=*/3);  // AutoTVM define_split
//   Knob vec = ChoiceKnob("vec", {"none", "avx2"});
//   if (Status s = tile.Validate(); !s.ok()) return s;
//   KnobValue v{.name = "tile_x", .kind = KnobKind::kSplit, .ints = {-1, 8, 4}};
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace sonar {

// A knob's value by name. This is what records store, so that a record stays meaningful when a
// template changes (AutoTVM's code_hash problem).
//   kSplit:   ints = the factors, outermost first; ints[0] == -1 means "the rest" (AutoTVM).
//   kReorder: ints = the permutation of axis positions.
//   kChoice:  ints = {value} for an integer choice, or strings = {label} (AutoTVM "an" knobs
//             hold a list of several labels).
//   kInt:     ints = {value}.
//   kBool:    ints = {0} or {1}.
// `source_type` keeps AutoTVM's knob type ("sp", "re", "an", "ot") of an imported knob so an
// export writes it back unchanged; it is empty for Sonar's own knobs.
struct KnobValue {
  std::string name;
  KnobKind kind = KnobKind::kChoice;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::string source_type;
  friend bool operator==(const KnobValue&, const KnobValue&) = default;
};

// The most candidates one knob may hold. Candidates are stored explicitly, so this bounds
// memory (about 60 bytes per candidate); a Config index per knob is an int32_t.
inline constexpr int64_t kMaxKnobCandidates = int64_t{1} << 20;

// One axis of a space: a finite, ordered list of candidate values. A Config picks one
// candidate index per knob. Build knobs with the constructors below; a hand-built Knob is
// accepted by ConfigSpace::Make if Validate() passes.
//   kSplit:   candidates[i] = the factors, outermost first, with the outer factor explicit:
//             outer == ceil(extent / product of the inner factors). e.g. extent 512 into 3 ->
//             {8, 8, 8}. `extent` is the split loop's length.
//   kReorder: candidates[i] = a permutation of 0..n-1 (AutoTVM ReorderEntity.perm: the axes
//             in their new order).
//   kChoice:  labels non-empty: candidates[i] = {i} and labels[i] names it;
//             labels empty: candidates[i] = {value} (an integer choice).
//   kInt:     candidates[i] = {value}, strictly increasing. `log_scale` makes sampling
//             log-uniform and features log2 (then every value is >= 1).
//   kBool:    candidates = {{0}, {1}}.
// Thread safety: value type; immutable once built and safe to share.
struct Knob {
  std::string name;
  KnobKind kind = KnobKind::kChoice;
  std::vector<std::vector<int64_t>> candidates;
  std::vector<std::string> labels;  // kChoice with labels only
  int64_t extent = 0;               // kSplit only: the length of the split loop, >= 1
  bool log_scale = false;           // kInt only
  // Set by a constructor whose arguments were bad; Validate() returns it. Empty when fine.
  std::string error;

  // Number of candidates.
  int64_t size() const { return static_cast<int64_t>(candidates.size()); }
  // True for knobs whose candidates have a meaningful order (kSplit, kInt): Neighbors moves
  // them to an adjacent index. Others (kChoice, kReorder, kBool) may jump to any candidate.
  bool is_ordered() const { return kind == KnobKind::kSplit || kind == KnobKind::kInt; }
  // OK, or InvalidArgument naming the knob and what is wrong: a constructor error, an empty or
  // oversized candidate list (> kMaxKnobCandidates), duplicate candidates, a name that is empty
  // or holds whitespace or '=', or candidates that break the per-kind shape above.
  Status Validate() const;
};

// How SplitKnob enumerates factorizations (AutoTVM define_split policies).
enum class SplitPolicy {
  kFactors,  // divisors of the extent; product of all factors == extent (no tail)
  kPower2,   // powers of two <= extent for the inner factors; product may be < extent (tails)
};

// Options of SplitKnob.
struct SplitOptions {
  // Which factors the inner parts may take; see SplitPolicy.
  SplitPolicy policy = SplitPolicy::kFactors;
  // Inner factors larger than this are not used (AutoTVM max_factor; its default is 2^31).
  // Range: >= 1. Lower it to cut the space for long loops.
  int64_t max_factor = int64_t{1} << 31;
  // Optional: keeps only factorizations for which it returns true. It receives the factors
  // outermost first with the outer factor explicit (unlike AutoTVM, which passes -1). Null keeps
  // all.
  std::function<bool(const std::vector<int64_t>& factors)> filter;

  // OK, or InvalidArgument if max_factor < 1.
  Status Validate() const;
};

// The factorizations of `extent` into `num_parts` parts, in exactly the order of AutoTVM's
// SplitSpace._generate_space, so candidate i is AutoTVM's entity i (before AutoTVM's filter;
// a filter keeps the relative order). The inner parts take values from the policy's factor list;
// the innermost factor varies slowest and the second-outermost fastest.
// requires (else the knob's Validate() fails): 1 <= extent <= 2^40, 1 <= num_parts <= 16,
// options valid, at most kMaxKnobCandidates results and at least one after the filter.
Knob SplitKnob(std::string name, int64_t extent, int num_parts, const SplitOptions& options = {});

// A split knob over an explicit list (AutoTVM policy "candidate"). Each candidate has the same
// number of factors, outermost first; an outer factor of -1 means "the rest" and is replaced by
// ceil(extent / product of the inner factors). An explicit outer factor must equal that value.
// The order of `candidates` is kept.
Knob ListedSplitKnob(std::string name, int64_t extent,
                     std::vector<std::vector<int64_t>> candidates);

// All permutations of 0..num_axes-1 in lexicographic order (itertools.permutations, AutoTVM
// reorder policy "all"). requires: 1 <= num_axes <= 8 (8! = 40320 candidates).
Knob ReorderKnob(std::string name, int num_axes);
// An explicit list of permutations, each of 0..n-1 with the same n; order kept.
Knob ListedReorderKnob(std::string name, std::vector<std::vector<int64_t>> permutations);

// A choice among string labels (AutoTVM "an"/"ot" knobs with string options); order kept.
// requires: labels non-empty and distinct.
Knob ChoiceKnob(std::string name, std::vector<std::string> labels);
// A choice among integer values (AutoTVM define_knob, "ot"); order kept.
// requires: values non-empty and distinct.
Knob IntChoiceKnob(std::string name, std::vector<int64_t> values);

// The integers lo, lo + step, lo + 2 step, ... <= hi. With log_scale, sampling is log-uniform
// over these values and features use log2. requires: lo <= hi, step >= 1, at most
// kMaxKnobCandidates values, and lo >= 1 when log_scale.
Knob IntKnob(std::string name, int64_t lo, int64_t hi, int64_t step = 1, bool log_scale = false);

// false / true, as candidates {0} and {1}.
Knob BoolKnob(std::string name);

// "[v0,v1,...]": how knob candidates and values are written in messages (one home for
// space/'s error texts).
std::string JoinInts(const std::vector<int64_t>& values);

}  // namespace sonar
