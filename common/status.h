// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Status and StatusOr<T>, the error values of Sonar's first error tier
// (bad input from files, flags or the environment), with Abseil's canonical codes, and the
// SONAR_RETURN_IF_ERROR / SONAR_ASSIGN_OR_RETURN helpers.
//
// Example:
//   StatusOr<int> ParsePositive(std::string_view s);
//   Status Use() {
//     SONAR_ASSIGN_OR_RETURN(int n, ParsePositive("12"));
//     if (n > 10) return InvalidArgumentError("n must be at most 10, got " + std::to_string(n));
//     return OkStatus();
//   }
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/check.h"

namespace sonar {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kDataLoss,
  kFailedPrecondition,
  kDeadlineExceeded,
  kResourceExhausted,
  kInternal,
};

std::string_view StatusCodeToString(StatusCode code);

// An error code and an actionable message, or OK.
// Thread safety: value type; immutable once built.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "INVALID_ARGUMENT: message".
  std::string ToString() const;
  // Returns a copy whose message is `context + ": " + message()`; OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status DeadlineExceededError(std::string m) {
  return Status(StatusCode::kDeadlineExceeded, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// A T or the Status that explains why there is none.
// requires: constructed from a non-OK Status or from a value.
// Thread safety: value type.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    SONAR_CHECK(!status_.ok()) << "StatusOr built from an OK Status without a value";
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // requires: ok().
  T& value() & {
    SONAR_CHECK(ok()) << "StatusOr::value() on an error: " << status_.ToString();
    return *value_;
  }
  const T& value() const& {
    SONAR_CHECK(ok()) << "StatusOr::value() on an error: " << status_.ToString();
    return *value_;
  }
  T&& value() && {
    SONAR_CHECK(ok()) << "StatusOr::value() on an error: " << status_.ToString();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace sonar

#define SONAR_STATUS_CONCAT_INNER_(a, b) a##b
#define SONAR_STATUS_CONCAT_(a, b) SONAR_STATUS_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define SONAR_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::sonar::Status sonar_status_ = (expr);        \
    if (!sonar_status_.ok()) return sonar_status_; \
  } while (false)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define SONAR_ASSIGN_OR_RETURN(lhs, expr) \
  SONAR_ASSIGN_OR_RETURN_IMPL_(SONAR_STATUS_CONCAT_(sonar_statusor_, __LINE__), lhs, expr)
#define SONAR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
