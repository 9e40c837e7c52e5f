// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/knob.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <utility>

namespace sonar {
namespace {

constexpr int64_t kMaxSplitExtent = int64_t{1} << 40;
constexpr int kMaxSplitParts = 16;
constexpr int kMaxReorderAxes = 8;

Knob ErrorKnob(std::string name, KnobKind kind, std::string error) {
  Knob knob;
  knob.name = std::move(name);
  knob.kind = kind;
  knob.error = std::move(error);
  return knob;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Product of v[begin..], or -1 if it exceeds `limit` (no overflow for limit <= 2^62).
int64_t ProductUpTo(const std::vector<int64_t>& v, size_t begin, int64_t limit) {
  int64_t prod = 1;
  for (size_t i = begin; i < v.size(); ++i) {
    if (v[i] < 1 || prod > limit / v[i]) return -1;
    prod *= v[i];
  }
  return prod;
}

// Sorted divisors of n (AutoTVM get_factors).
std::vector<int64_t> Divisors(int64_t n) {
  std::vector<int64_t> small, large;
  for (int64_t i = 1; i * i <= n; ++i) {
    if (n % i != 0) continue;
    small.push_back(i);
    if (i != n / i) large.push_back(n / i);
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

// Powers of two <= n (AutoTVM get_pow2s).
std::vector<int64_t> PowersOfTwo(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t p = 1; p <= n; p *= 2) out.push_back(p);
  return out;
}

// Depth-first enumeration in AutoTVM's order: stack[0] is the innermost factor and varies
// slowest. Subtrees whose partial product already exceeds the extent hold no entity (factors
// are >= 1), so they are skipped; that keeps the order and avoids exponential work.
struct SplitGenerator {
  int64_t extent;
  bool no_tail;
  const std::vector<int64_t>* factors;
  std::vector<int64_t> stack;
  std::vector<std::vector<int64_t>>* out;
  bool too_many = false;

  void Run(size_t now, int64_t prod) {
    if (too_many) return;
    if (now == stack.size()) {
      if (extent % prod == 0 || (!no_tail && prod < extent)) {
        if (static_cast<int64_t>(out->size()) >= kMaxKnobCandidates) {
          too_many = true;
          return;
        }
        std::vector<int64_t> entity;
        entity.reserve(stack.size() + 1);
        entity.push_back(CeilDiv(extent, prod));
        entity.insert(entity.end(), stack.rbegin(), stack.rend());
        out->push_back(std::move(entity));
      }
      return;
    }
    for (int64_t f : *factors) {
      if (prod > extent / f) continue;  // prod * f > extent
      stack[now] = f;
      Run(now + 1, prod * f);
    }
  }
};

bool BadName(std::string_view name) {
  if (name.empty()) return true;
  for (char c : name) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '=') return true;
  }
  return false;
}

}  // namespace

Status SplitOptions::Validate() const {
  if (max_factor < 1) {
    return InvalidArgumentError("SplitOptions.max_factor must be >= 1, got " +
                                std::to_string(max_factor));
  }
  return OkStatus();
}

Status Knob::Validate() const {
  const std::string where = "knob '" + name + "' (" + std::string(KnobKindToString(kind)) + ")";
  auto fail = [&](const std::string& what) { return InvalidArgumentError(where + ": " + what); };
  if (BadName(name)) {
    return fail("the name must be non-empty and hold no whitespace or '='");
  }
  if (!error.empty()) return fail(error);
  if (candidates.empty()) return fail("has no candidates");
  if (size() > kMaxKnobCandidates) {
    return fail("has " + std::to_string(size()) + " candidates, more than the limit of " +
                std::to_string(kMaxKnobCandidates) + "; use a coarser step or fewer values");
  }
  if (kind != KnobKind::kChoice && !labels.empty()) return fail("only choice knobs have labels");
  {
    std::set<std::vector<int64_t>> seen;
    for (const auto& c : candidates) {
      if (!seen.insert(c).second) return fail("candidate " + JoinInts(c) + " appears twice");
    }
  }
  switch (kind) {
    case KnobKind::kSplit: {
      if (extent < 1) return fail("extent must be >= 1, got " + std::to_string(extent));
      const size_t n = candidates[0].size();
      for (const auto& c : candidates) {
        if (c.size() != n || n == 0) {
          return fail("every candidate must have the same number (>= 1) of factors; got " +
                      JoinInts(c));
        }
        const int64_t inner = ProductUpTo(c, 1, extent);
        if (inner < 1) {
          return fail("candidate " + JoinInts(c) + ": inner factors must be >= 1 and their " +
                      "product at most the extent " + std::to_string(extent));
        }
        if (c[0] != CeilDiv(extent, inner)) {
          return fail("candidate " + JoinInts(c) + ": the outer factor must be ceil(" +
                      std::to_string(extent) + "/" + std::to_string(inner) +
                      ") = " + std::to_string(CeilDiv(extent, inner)));
        }
      }
      break;
    }
    case KnobKind::kReorder: {
      const size_t n = candidates[0].size();
      for (const auto& c : candidates) {
        std::vector<int64_t> sorted = c;
        std::sort(sorted.begin(), sorted.end());
        bool is_perm = c.size() == n && n > 0;
        for (size_t i = 0; is_perm && i < n; ++i) is_perm = sorted[i] == static_cast<int64_t>(i);
        if (!is_perm) {
          return fail("candidate " + JoinInts(c) + " is not a permutation of 0.." +
                      std::to_string(static_cast<int64_t>(n) - 1));
        }
      }
      break;
    }
    case KnobKind::kChoice: {
      if (!labels.empty()) {
        if (labels.size() != candidates.size()) {
          return fail("has " + std::to_string(labels.size()) + " labels but " +
                      std::to_string(candidates.size()) + " candidates");
        }
        std::set<std::string> seen;
        for (size_t i = 0; i < labels.size(); ++i) {
          if (!seen.insert(labels[i]).second) {
            return fail("label '" + labels[i] + "' appears twice");
          }
          if (candidates[i] != std::vector<int64_t>{static_cast<int64_t>(i)}) {
            return fail("a labelled choice must have candidates {0}, {1}, ...");
          }
        }
      } else {
        for (const auto& c : candidates) {
          if (c.size() != 1) return fail("candidate " + JoinInts(c) + " must hold one value");
        }
      }
      break;
    }
    case KnobKind::kInt: {
      for (size_t i = 0; i < candidates.size(); ++i) {
        const auto& c = candidates[i];
        if (c.size() != 1) return fail("candidate " + JoinInts(c) + " must hold one value");
        if (i > 0 && c[0] <= candidates[i - 1][0]) {
          return fail("values must be strictly increasing");
        }
      }
      if (log_scale && candidates[0][0] < 1) {
        return fail("a log-scale int knob needs values >= 1, got " +
                    std::to_string(candidates[0][0]));
      }
      break;
    }
    case KnobKind::kBool: {
      if (candidates != std::vector<std::vector<int64_t>>{{0}, {1}}) {
        return fail("a bool knob must have candidates {0}, {1}");
      }
      break;
    }
  }
  if (kind != KnobKind::kSplit && extent != 0) return fail("only split knobs have an extent");
  if (kind != KnobKind::kInt && log_scale) return fail("only int knobs can be log-scale");
  return OkStatus();
}

Knob SplitKnob(std::string name, int64_t extent, int num_parts, const SplitOptions& options) {
  const KnobKind kind = KnobKind::kSplit;
  if (extent < 1 || extent > kMaxSplitExtent) {
    return ErrorKnob(std::move(name), kind,
                     "extent must be in [1, 2^40], got " + std::to_string(extent));
  }
  if (num_parts < 1 || num_parts > kMaxSplitParts) {
    return ErrorKnob(std::move(name), kind,
                     "num_parts must be in [1, 16], got " + std::to_string(num_parts));
  }
  if (Status s = options.Validate(); !s.ok()) {
    return ErrorKnob(std::move(name), kind, s.message());
  }
  std::vector<int64_t> factors =
      options.policy == SplitPolicy::kFactors ? Divisors(extent) : PowersOfTwo(extent);
  std::erase_if(factors, [&](int64_t f) { return f > options.max_factor; });

  std::vector<std::vector<int64_t>> entities;
  SplitGenerator gen{.extent = extent,
                     .no_tail = options.policy == SplitPolicy::kFactors,
                     .factors = &factors,
                     .stack = std::vector<int64_t>(num_parts - 1),
                     .out = &entities};
  gen.Run(0, 1);
  if (gen.too_many) {
    return ErrorKnob(std::move(name), kind,
                     "splitting " + std::to_string(extent) + " into " + std::to_string(num_parts) +
                         " parts gives more than " + std::to_string(kMaxKnobCandidates) +
                         " candidates; use fewer parts, a lower max_factor or a filter");
  }
  if (options.filter) {
    std::erase_if(entities, [&](const std::vector<int64_t>& e) { return !options.filter(e); });
    if (entities.empty()) {
      return ErrorKnob(std::move(name), kind, "the filter rejects every factorization");
    }
  }
  Knob knob;
  knob.name = std::move(name);
  knob.kind = kind;
  knob.extent = extent;
  knob.candidates = std::move(entities);
  return knob;
}

Knob ListedSplitKnob(std::string name, int64_t extent,
                     std::vector<std::vector<int64_t>> candidates) {
  const KnobKind kind = KnobKind::kSplit;
  if (extent < 1) {
    return ErrorKnob(std::move(name), kind, "extent must be >= 1, got " + std::to_string(extent));
  }
  for (auto& c : candidates) {
    if (c.empty()) return ErrorKnob(std::move(name), kind, "a candidate has no factors");
    if (c[0] != -1) continue;
    const int64_t inner = ProductUpTo(c, 1, extent);
    if (inner < 1) {
      return ErrorKnob(std::move(name), kind,
                       "candidate " + JoinInts(c) + ": inner factors must be >= 1 and their " +
                           "product at most the extent " + std::to_string(extent));
    }
    c[0] = CeilDiv(extent, inner);
  }
  Knob knob;
  knob.name = std::move(name);
  knob.kind = kind;
  knob.extent = extent;
  knob.candidates = std::move(candidates);
  return knob;
}

Knob ReorderKnob(std::string name, int num_axes) {
  if (num_axes < 1 || num_axes > kMaxReorderAxes) {
    return ErrorKnob(std::move(name), KnobKind::kReorder,
                     "num_axes must be in [1, 8] (8! = 40320 permutations), got " +
                         std::to_string(num_axes) + "; list the permutations you want instead");
  }
  std::vector<int64_t> perm(num_axes);
  for (int i = 0; i < num_axes; ++i) perm[i] = i;
  Knob knob;
  knob.name = std::move(name);
  knob.kind = KnobKind::kReorder;
  do {
    knob.candidates.push_back(perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return knob;
}

Knob ListedReorderKnob(std::string name, std::vector<std::vector<int64_t>> permutations) {
  Knob knob;
  knob.name = std::move(name);
  knob.kind = KnobKind::kReorder;
  knob.candidates = std::move(permutations);
  return knob;
}

Knob ChoiceKnob(std::string name, std::vector<std::string> labels) {
  Knob knob;
  knob.name = std::move(name);
  knob.kind = KnobKind::kChoice;
  for (size_t i = 0; i < labels.size(); ++i) {
    knob.candidates.push_back({static_cast<int64_t>(i)});
  }
  knob.labels = std::move(labels);
  return knob;
}

Knob IntChoiceKnob(std::string name, std::vector<int64_t> values) {
  Knob knob;
  knob.name = std::move(name);
  knob.kind = KnobKind::kChoice;
  for (int64_t v : values) knob.candidates.push_back({v});
  return knob;
}

Knob IntKnob(std::string name, int64_t lo, int64_t hi, int64_t step, bool log_scale) {
  const KnobKind kind = KnobKind::kInt;
  if (lo > hi) {
    return ErrorKnob(
        std::move(name), kind,
        "lo must be <= hi, got lo=" + std::to_string(lo) + " hi=" + std::to_string(hi));
  }
  if (step < 1) {
    return ErrorKnob(std::move(name), kind, "step must be >= 1, got " + std::to_string(step));
  }
  if (log_scale && lo < 1) {
    return ErrorKnob(std::move(name), kind,
                     "a log-scale int knob needs lo >= 1, got " + std::to_string(lo));
  }
  // Count in unsigned arithmetic: hi - lo may not fit in int64_t.
  const uint64_t steps =
      (static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo)) / static_cast<uint64_t>(step);
  if (steps >= static_cast<uint64_t>(kMaxKnobCandidates)) {
    return ErrorKnob(std::move(name), kind,
                     "the range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "] with step " + std::to_string(step) + " has more than " +
                         std::to_string(kMaxKnobCandidates) + " values; use a larger step");
  }
  Knob knob;
  knob.name = std::move(name);
  knob.kind = kind;
  knob.log_scale = log_scale;
  knob.candidates.reserve(steps + 1);
  for (uint64_t i = 0; i <= steps; ++i) {
    // Modular unsigned arithmetic, then a (C++20: well-defined) conversion back.
    knob.candidates.push_back(
        {static_cast<int64_t>(static_cast<uint64_t>(lo) + i * static_cast<uint64_t>(step))});
  }
  return knob;
}

Knob BoolKnob(std::string name) {
  Knob knob;
  knob.name = std::move(name);
  knob.kind = KnobKind::kBool;
  knob.candidates = {{0}, {1}};
  return knob;
}

std::string JoinInts(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(values[i]);
  }
  return out + "]";
}

}  // namespace sonar
