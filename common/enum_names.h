// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: EnumNames, the one way Sonar spells an enum as text and reads it back:
// a table of (value, name) pairs, looked up both ways. Every XxxToString / StringToXxx pair in
// the library is a two-line wrapper over one table.
//
// Example:
//   constexpr EnumNames<Color, 2> kColorNames = {{{Color::kRed, "red"}, {Color::kBlue, "blue"}}};
//   std::string_view s = EnumToName(kColorNames, Color::kRed);           // "red"
//   Color c;
//   if (NameToEnum(kColorNames, "blue", &c)) { ... }
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace sonar {

template <typename E, size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

// The name of `value`, or `unknown` when the table lacks it.
template <typename E, size_t N>
constexpr std::string_view EnumToName(const EnumNames<E, N>& table, E value,
                                      std::string_view unknown = "unknown") {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return unknown;
}

// Sets *value to the enum named `name` and returns true; false (and *value untouched) when no
// entry has that name.
template <typename E, size_t N>
bool NameToEnum(const EnumNames<E, N>& table, std::string_view name, E* value) {
  for (const auto& [e, n] : table) {
    if (n == name) {
      *value = e;
      return true;
    }
  }
  return false;
}

}  // namespace sonar
