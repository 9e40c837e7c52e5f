// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: SONAR_CHECK(cond) << message, for programmer errors (a caller broke a
// documented requirement). It prints the file, line, condition and message to stderr, then
// aborts. It is on in every build type; input from users is validated with Status instead.
//
// Example:
//   SONAR_CHECK(index < raw_size()) << "index " << index << " is outside the space";
#pragma once

#include <sstream>

namespace sonar::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Swallows the stream expression so that SONAR_CHECK is a single statement.
struct CheckVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace sonar::internal

#define SONAR_CHECK(condition)                      \
  (condition) ? (void)0                             \
              : ::sonar::internal::CheckVoidify() & \
                    ::sonar::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()
