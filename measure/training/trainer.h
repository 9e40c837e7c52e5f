// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: how the joint search measures an architecture's accuracy. A
// TrainingRun trains one network one epoch at a time (epochs are the search's fidelity), so the
// search can interleave epochs of many networks and stop any of them early. Two trainers:
//   - built in: dlib, on scikit-learn's handwritten digits (1,797 8x8 images shipped by
//     Debian's python3-sklearn), upsampled to the space's input size, with a fixed seeded
//     train/validation split (StartBuiltinTraining);
//   - external: a user's program (`--train-command ARGV...`, run by execv, never a shell) reads
//     the architecture as JSON on stdin and prints one JSON line per epoch
//     ({"epoch": 1, "accuracy": 0.93}); the child is paused (SIGSTOP) between epochs so it does
//     not compete with measurements, and a crash, hang or garbage line fails that architecture
//     only (StartExternalTraining).
// A failure is an error Status from NextEpoch whose message says what happened; the search
// records it and goes on.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(DigitsData data, LoadDigits(DigitsOptions{}));
//   SONAR_ASSIGN_OR_RETURN(auto run, StartBuiltinTraining(space, space.at(3), data, {}));
//   for (int e = 0; e < 10; ++e) {
//     SONAR_ASSIGN_OR_RETURN(EpochResult r, run->NextEpoch());
//     std::cout << r.epoch << " " << r.validation_accuracy << " " << r.seconds << "\n";
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "space/architecture.h"

namespace sonar {

// What one epoch gave.
struct EpochResult {
  int epoch = 0;                   // 1-based: the number of epochs trained so far
  double validation_accuracy = 0;  // fraction of the validation set classified right, [0, 1]
  double train_loss = 0;           // mean training loss of the epoch; NaN when not reported
  double seconds = 0;              // wall time the epoch took (training + validation)
};

// One network being trained. Thread safety: thread-compatible (one thread drives it); distinct
// runs may be driven from distinct threads.
class TrainingRun {
 public:
  virtual ~TrainingRun() = default;
  TrainingRun() = default;
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;
  // Trains one more epoch and evaluates on the validation set. An error means the run failed
  // (and stays failed): the message names the cause (a crash, a timeout, a garbage line, ...).
  virtual StatusOr<EpochResult> NextEpoch() = 0;
  virtual int epochs_done() const = 0;
};

// ---- the built-in trainer: dlib on the digits ----

// The digits as float images in [0, 1], resized to height x width, split into train and
// validation sets. Thread safety: value type.
struct DigitsData {
  int height = 0, width = 0;
  std::vector<std::vector<float>> train_images, validation_images;  // height*width, row-major
  std::vector<int> train_labels, validation_labels;                 // 0..9
  std::string source;                                               // the file read
};

struct DigitsOptions {
  // digits.csv.gz (or .csv); "" = FindDigitsCsv().
  std::string path;
  // Image size after resizing (bilinear) from 8x8. Range 8..64.
  int height = 16, width = 16;
  // Fraction of the 1,797 images held out for validation, (0, 1).
  double validation_fraction = 0.2;
  // Seed of the split (a seeded shuffle, stratified by class).
  uint64_t split_seed = 0;
  Status Validate() const;
};

// The digits file of the installed scikit-learn (python3-sklearn), or "" when none is found.
std::string FindDigitsCsv();
// Reads and splits the digits. NotFound, naming python3-sklearn and --data, when no file;
// InvalidArgument "file: line N: reason" for a malformed one.
StatusOr<DigitsData> LoadDigits(const DigitsOptions& options);

struct BuiltinTrainerOptions {
  uint64_t seed = 0;            // weight initialisation and minibatch order
  int batch_size = 32;          // minibatch size, >= 1
  double learning_rate = 1e-3;  // Adam's step size, > 0
  // Threads of an OpenBLAS loaded in the process (a process-wide setting), >= 1. dlib's CPU
  // code runs on the calling thread, and a serial BLAS (Debian's default libblas) ignores it.
  int threads = 1;
  Status Validate() const;
};

// Starts training `arch` of `space` on `data` (whose size must match the space's input).
// InvalidArgument when the built-in trainer cannot build the architecture (it trains conv2d
// blocks with kernel 3 or 5, stride 1, pool 2 or 1, up to 3 blocks, and up to 1 hidden dense
// layer; separable blocks need an external trainer) or the data does not match. The network
// is a chain of small dlib networks (one per block, the hidden layer, the classifier) run
// stage by stage, with weights initialised from options.seed, so the same seed gives the same
// curve. The run keeps its own copy of the data.
StatusOr<std::unique_ptr<TrainingRun>> StartBuiltinTraining(const ArchitectureSpace& space,
                                                            const Architecture& arch,
                                                            const DigitsData& data,
                                                            const BuiltinTrainerOptions& options);

// ---- the external trainer: a user's program ----

struct ExternalTrainerOptions {
  // The program and its arguments (argv[0] is looked up in $PATH when it has no '/').
  std::vector<std::string> argv;
  // Longest wait for one epoch's line, seconds (the child is killed after it). > 0.
  double epoch_timeout_s = 600;
  // Longest wait for the first line (start-up, data loading included), seconds. > 0.
  double first_epoch_timeout_s = 1200;
  // Pause the child (SIGSTOP) while the search does other work, resume it (SIGCONT) for the
  // next epoch.
  bool pause_between_epochs = true;
  Status Validate() const;
};

// Starts the program with the architecture's JSON (ArchitectureSpace::ToJson) on stdin and
// pauses it at once: it runs only inside NextEpoch, and each timeout counts from that call
// (first_epoch_timeout_s for the first line, start-up included). The program prints one line
// per epoch: a JSON object with "epoch" (1, 2, ...) and "accuracy" (validation accuracy, a
// fraction in [0, 1]), optional "loss" and "seconds" (the epoch's own time; else the time
// spent waiting for the line). Lines that do not start with '{' (after blanks) are logging and
// are ignored; Python's bare NaN / Infinity are read as numbers. The run fails, and stays
// failed, on: a timeout (DeadlineExceeded); an exit or a signal before the next line
// (Internal, naming the exit code or signal, with the last lines of stderr); a malformed line,
// a missing field, an epoch out of order, or an accuracy that is not finite or outside [0, 1]
// (InvalidArgument, quoting the line). Starting fails with NotFound for a program not on the
// PATH. Destroying the run kills the child's process group and reaps it.
StatusOr<std::unique_ptr<TrainingRun>> StartExternalTraining(const std::string& architecture_json,
                                                             const ExternalTrainerOptions& options);

}  // namespace sonar
