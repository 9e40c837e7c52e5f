// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The external trainer (StartExternalTraining): a user's program, run through ChildStream, that
// reads the architecture's JSON on stdin and prints one JSON line per epoch.
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "measure/child_process.h"
#include "measure/training/trainer.h"

namespace sonar {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStderrLines = 8;     // stderr lines quoted in an error message
constexpr double kExitWaitS = 2.0;  // after stdout closes, how long the child may take to exit

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.3g s", s);
  return buf;
}

// "SIGSEGV (Segmentation fault)".
std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* description = strsignal(sig);
  std::string name = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (description != nullptr) name += std::string(" (") + description + ")";
  return name;
}

// Python's json.dumps writes NaN, Infinity and -Infinity, which are not JSON: outside strings,
// quote them ("NaN"), so that such a line parses and its bad field gets a precise message.
std::string QuoteNonFiniteTokens(const std::string& line) {
  std::string out;
  out.reserve(line.size() + 8);
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < line.size()) {
        out += line[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = strlen(token);
      if (line.compare(i, n, token) == 0) {
        out += '"';
        out += token;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

// The value of a number field, or +-inf / NaN for the quoted tokens above; false otherwise.
bool NumberOf(const nlohmann::json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") *out = std::nan("");
    if (s == "Infinity") *out = HUGE_VAL;
    if (s == "-Infinity") *out = -HUGE_VAL;
    return s == "NaN" || s == "Infinity" || s == "-Infinity";
  }
  return false;
}

std::string Quote(const std::string& line) {
  constexpr size_t kMax = 200;
  return "'" + (line.size() > kMax ? line.substr(0, kMax) + "..." : line) + "'";
}

class ExternalTrainingRun final : public TrainingRun {
 public:
  explicit ExternalTrainingRun(const ExternalTrainerOptions& options) : options_(options) {
    for (const std::string& a : options_.argv) {
      if (!command_.empty()) command_ += ' ';
      command_ += a;
    }
    if (command_.size() > 120) command_ = command_.substr(0, 117) + "...";
  }

  Status Start(const std::string& architecture_json) {
    ChildStreamOptions child_options;
    child_options.argv = options_.argv;
    child_options.stdin_text = architecture_json;
    SONAR_RETURN_IF_ERROR(child_.Start(child_options).WithContext(Context()));
    last_line_at_ = Clock::now();
    // Start-up (imports, data loading) runs in the first NextEpoch, under first_epoch_timeout_s.
    if (options_.pause_between_epochs) child_.Pause();
    return OkStatus();
  }

  StatusOr<EpochResult> NextEpoch() override {
    if (!failed_.ok()) return failed_;
    const int epoch = epochs_done_ + 1;
    const double timeout_s =
        epochs_done_ == 0 ? options_.first_epoch_timeout_s : options_.epoch_timeout_s;
    child_.Resume();
    const auto started = Clock::now();
    // With pausing, the child ran only while this call waits; without, since the last line.
    const auto running_since = options_.pause_between_epochs ? started : last_line_at_;
    std::string line;
    while (true) {
      const double left_s = timeout_s - SecondsSince(started);
      const ChildStream::Read read = child_.ReadLine(std::max(0.0, left_s), &line);
      if (read == ChildStream::Read::kTimeout) {
        return Fail(DeadlineExceededError(
            Context() + ": no line for epoch " + std::to_string(epoch) + " within " +
            Seconds(timeout_s) + " (" +
            (epochs_done_ == 0 ? "first_epoch_timeout_s" : "epoch_timeout_s") + "); killed it" +
            StderrNote()));
      }
      if (read == ChildStream::Read::kEof) return Fail(EndedError(epoch));
      const size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] != '{') continue;  // logging
      last_line_at_ = Clock::now();
      StatusOr<EpochResult> result = ParseLine(line, epoch);
      if (!result.ok()) return Fail(result.status());
      if (std::isnan(result->seconds)) {
        result->seconds = std::chrono::duration<double>(last_line_at_ - running_since).count();
      }
      epochs_done_ = epoch;
      if (options_.pause_between_epochs) child_.Pause();
      return result;
    }
  }

  int epochs_done() const override { return epochs_done_; }

 private:
  std::string Context() const { return "train command '" + command_ + "'"; }

  Status Fail(Status status) {
    child_.Kill();
    failed_ = std::move(status);
    return failed_;
  }

  std::string StderrNote() const {
    const std::string tail = LastLines(child_.stderr_tail(), kStderrLines);
    return tail.empty() ? "" : "; its stderr ends with:\n" + tail;
  }

  // Stdout is closed: say how the child ended.
  Status EndedError(int epoch) {
    const std::string before = " before printing epoch " + std::to_string(epoch);
    if (!child_.Wait(kExitWaitS)) {
      return InternalError(Context() + ": closed its stdout" + before + " but did not exit" +
                           StderrNote());
    }
    if (child_.term_signal() != 0) {
      return InternalError(Context() + ": killed by " + SignalName(child_.term_signal()) + before +
                           StderrNote());
    }
    return InternalError(Context() + ": exited with code " + std::to_string(child_.exit_code()) +
                         before + " (after " + std::to_string(epochs_done_) + " epochs)" +
                         StderrNote());
  }

  StatusOr<EpochResult> ParseLine(const std::string& line, int epoch) const {
    const std::string where =
        Context() + ": epoch " + std::to_string(epoch) + ": line " + Quote(line) + ": ";
    const nlohmann::json j = nlohmann::json::parse(QuoteNonFiniteTokens(line), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgumentError(where +
                                  "not a JSON object (a line that starts with '{' must be "
                                  "one, e.g. {\"epoch\": 1, \"accuracy\": 0.9})");
    }
    EpochResult r;
    const auto e = j.find("epoch");
    if (e == j.end()) return InvalidArgumentError(where + "no \"epoch\"");
    const bool integral =
        e->is_number_integer() || (e->is_number_float() && std::isfinite(e->get<double>()) &&
                                   e->get<double>() == std::floor(e->get<double>()));
    if (!integral) return InvalidArgumentError(where + "\"epoch\" is not an integer");
    const double got_epoch = e->get<double>();
    if (got_epoch != epoch) {
      return InvalidArgumentError(where + "epoch out of order: expected " + std::to_string(epoch) +
                                  ", got " + e->dump());
    }
    r.epoch = epoch;
    const auto a = j.find("accuracy");
    if (a == j.end()) return InvalidArgumentError(where + "no \"accuracy\"");
    double accuracy = 0;
    if (!NumberOf(*a, &accuracy) || !std::isfinite(accuracy) || accuracy < 0 || accuracy > 1) {
      return InvalidArgumentError(where + "\"accuracy\" must be a finite fraction in [0, 1], got " +
                                  a->dump());
    }
    r.validation_accuracy = accuracy;
    r.train_loss = std::nan("");
    if (const auto l = j.find("loss"); l != j.end() && !l->is_null()) {
      if (!NumberOf(*l, &r.train_loss)) {
        return InvalidArgumentError(where + "\"loss\" is not a number: " + l->dump());
      }
    }
    r.seconds = std::nan("");
    if (const auto s = j.find("seconds"); s != j.end() && !s->is_null()) {
      if (!s->is_number() || !std::isfinite(s->get<double>()) || s->get<double>() < 0) {
        return InvalidArgumentError(where + "\"seconds\" must be a number >= 0, got " + s->dump());
      }
      r.seconds = s->get<double>();
    }
    return r;
  }

  ExternalTrainerOptions options_;
  std::string command_;  // argv joined, for messages
  ChildStream child_;
  int epochs_done_ = 0;
  Status failed_;  // OK until the run fails
  Clock::time_point last_line_at_;
};

}  // namespace

Status ExternalTrainerOptions::Validate() const {
  if (argv.empty() || argv[0].empty()) {
    return InvalidArgumentError(
        "ExternalTrainerOptions.argv is empty (--train-command PROGRAM ...)");
  }
  if (!(epoch_timeout_s > 0) || !std::isfinite(epoch_timeout_s)) {
    return InvalidArgumentError("ExternalTrainerOptions.epoch_timeout_s must be > 0, got " +
                                std::to_string(epoch_timeout_s));
  }
  if (!(first_epoch_timeout_s > 0) || !std::isfinite(first_epoch_timeout_s)) {
    return InvalidArgumentError("ExternalTrainerOptions.first_epoch_timeout_s must be > 0, got " +
                                std::to_string(first_epoch_timeout_s));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<TrainingRun>> StartExternalTraining(
    const std::string& architecture_json, const ExternalTrainerOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  auto run = std::make_unique<ExternalTrainingRun>(options);
  SONAR_RETURN_IF_ERROR(run->Start(architecture_json));
  return std::unique_ptr<TrainingRun>(std::move(run));
}

}  // namespace sonar
