// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What the command groups share (see commands.h).
#include "cli/commands.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "measure/cuda/cuda_measurer.h"
#include "measure/cuda/cuda_operators.h"
#include "measure/history_io.h"
#include "measure/operators.h"

namespace sonar::cli {

int UsageError(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "sonar %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return kExitUsage;
}

Status CheckOutputFile(std::string_view flag, const std::string& path, bool force) {
  const std::string f(flag);
  if (path.empty()) return InvalidArgumentError(f + " is empty");
  std::error_code ec;
  const std::filesystem::path p(path);
  if (std::filesystem::is_directory(p, ec)) {
    return InvalidArgumentError(f + " " + path + " is a directory; name a file");
  }
  const std::filesystem::path dir = p.parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    return InvalidArgumentError(f + " " + path + ": its directory " + dir.string() +
                                " does not exist");
  }
  if (!force && std::filesystem::exists(p, ec)) {
    return InvalidArgumentError(f + " " + path + " exists; pass --force to replace it");
  }
  return OkStatus();
}

Status CheckOutputDirectory(std::string_view flag, const std::string& path) {
  const std::string f(flag);
  if (path.empty()) return InvalidArgumentError(f + " is empty");
  std::error_code ec;
  const std::filesystem::path p(path);
  if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec)) {
    return InvalidArgumentError(f + " " + path + " exists and is not a directory");
  }
  const std::filesystem::path parent = std::filesystem::absolute(p, ec).parent_path();
  if (!std::filesystem::is_directory(parent, ec)) {
    return InvalidArgumentError(f + " " + path + ": its parent directory " + parent.string() +
                                " does not exist");
  }
  return OkStatus();
}

StatusOr<std::vector<Record>> LoadRecordFiles(const std::vector<std::string>& paths) {
  std::vector<Record> all;
  for (const std::string& p : paths) {
    ImportOptions options;
    ImportReport report;
    StatusOr<std::vector<Record>> records = LoadRecordsOrHistory(p, options, &report);
    if (!records.ok()) return records.status();
    all.insert(all.end(), std::make_move_iterator(records->begin()),
               std::make_move_iterator(records->end()));
  }
  return all;
}

StatusOr<std::vector<int64_t>> ParseShape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    char* end = nullptr;
    const long long v = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0') {
      return InvalidArgumentError("--shape: '" + part +
                                  "' is not an integer (expected e.g. 512,512,512)");
    }
    shape.push_back(v);
  }
  if (shape.empty()) return InvalidArgumentError("--shape is empty (expected e.g. 512,512,512)");
  return shape;
}

StatusOr<Task> OperatorTaskFromFlags(const std::string& op, const std::string& shape,
                                     const std::string& target) {
  const std::vector<std::string> names = OperatorNames();
  if (std::find(names.begin(), names.end(), op) == names.end()) {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    return InvalidArgumentError("--op: unknown operator '" + op + "'; the built-in ones are " +
                                list + " (your own kernel: --kernel and --space)");
  }
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> ints, ParseShape(shape));
  StatusOr<Task> task = MakeOperatorTask(op, ints, target);
  if (!task.ok()) return InvalidArgumentError("--shape: " + task.status().message());
  return task;
}

void AddBackendFlags(CLI::App* command, BackendFlags* flags) {
  command->add_option("--backend", flags->backend,
                      "cpu (the default) or cuda: built-in GPU templates and .cu kernels timed on "
                      "an NVIDIA GPU (docs/cuda.md)");
  command->add_option("--device", flags->device, "CUDA device ordinal of the GPU (implies cuda)")
      ->check(AtLeast(0));
  command->add_option("--arch", flags->arch,
                      "cuda: nvcc -arch, e.g. sm_90 (default: the device's compute capability)");
  command->add_flag("--flush-l2", flags->flush_l2,
                    "cuda: flush the L2 cache before every timed call (cold-cache timings)");
}

StatusOr<bool> UsesCuda(const BackendFlags& flags, const std::string& kernel) {
  if (!flags.backend.empty() && flags.backend != "cpu" && flags.backend != "cuda") {
    return InvalidArgumentError("--backend: unknown backend '" + flags.backend +
                                "'; the backends are cpu and cuda");
  }
  const bool cu_kernel = kernel.size() > 3 && kernel.ends_with(".cu");
  const bool gpu_flags = flags.device >= 0 || !flags.arch.empty() || flags.flush_l2;
  if (flags.backend == "cuda" || gpu_flags || cu_kernel) {
    if (flags.backend == "cpu") {
      return InvalidArgumentError(
          "--backend cpu contradicts --device, --arch, --flush-l2 or a .cu --kernel");
    }
    return true;
  }
  return false;
}

CudaOptions CudaOptionsFromFlags(const BackendFlags& flags) {
  CudaOptions o;
  o.device = flags.device >= 0 ? flags.device : 0;
  o.arch = flags.arch;
  o.flush_l2 = flags.flush_l2;
  return o;
}

StatusOr<Task> CudaOperatorTaskFromFlags(const std::string& op, const std::string& shape,
                                         const std::string& target) {
  const std::vector<std::string> names = CudaOperatorNames();
  if (std::find(names.begin(), names.end(), op) == names.end()) {
    return InvalidArgumentError("--op: unknown GPU operator '" + op +
                                "'; the GPU templates are dense (M,N,K) and conv2d "
                                "(image_width,image_height,filter_width,filter_height)");
  }
  SONAR_ASSIGN_OR_RETURN(std::vector<int64_t> ints, ParseShape(shape));
  StatusOr<Task> task = MakeCudaOperatorTask(op, ints, target);
  if (!task.ok()) return InvalidArgumentError("--shape: " + task.status().message());
  return task;
}

}  // namespace sonar::cli
