// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The one translation unit that includes <mpi.h>. Messages are byte strings with a tag:
// rank 0 sends jobs and stop; workers send hello, results and timing requests and releases;
// rank 0 answers a timing request with a grant (the slot index) as soon as one of the worker's
// node's slots is free. MPI's default error handler stays: a rank that dies ends the job.
#include "tuner/mpi/mpi_work_queue.h"

#include <sched.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>

#include "common/check.h"

#if defined(SONAR_WITH_MPI)
#include <mpi.h>
#endif

namespace sonar {
namespace {

enum Tag : int {
  kTagJob = 1,
  kTagResult = 2,
  kTagHello = 3,
  kTagStop = 4,
  kTagTimingRequest = 5,
  kTagTimingGrant = 6,
  kTagTimingRelease = 7,
};

// Little byte writer and reader (native endianness: every rank runs the same build).
class Writer {
 public:
  template <typename T>
  void Put(T x) {
    const char* p = reinterpret_cast<const char*>(&x);
    out_.append(p, sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint64_t>(s.size());
    out_ += s;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  template <typename T>
  bool Get(T* x) {
    if (pos_ + sizeof(T) > in_.size()) return false;
    std::memcpy(x, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint64_t n = 0;
    if (!Get(&n) || pos_ + n > in_.size()) return false;
    s->assign(in_, pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  const std::string& in_;
  size_t pos_ = 0;
};

bool g_initialized = false;
bool g_workers_stopped = false;

// The CPUs this process may use, as they were at the first call (before a worker keeps its
// compiles off the timing cores).
const std::vector<int>& AllowedCpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &set)) out.push_back(c);
      }
    }
    return out;
  }();
  return cpus;
}

// The CPU for timing slot `slot`: counted from the last CPU this process may use.
int CpuForSlot(int slot) {
  const std::vector<int>& cpus = AllowedCpus();
  if (cpus.empty()) return -1;
  const int at = static_cast<int>(cpus.size()) - 1 - slot;
  return cpus[static_cast<size_t>(std::max(0, at))];
}

#if defined(SONAR_WITH_MPI)
void SendBytes(int to, int tag, const std::string& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD);
}

// Receives one message from `from` (or any) with `tag` (or any). Waits by polling with short
// sleeps (up to 1 ms) rather than in MPI_Probe, which spins a core: ranks mostly wait, and an
// oversubscribed node (more ranks than cores, the workers sleeping through simulated
// measurements) must not spend its cores waiting.
std::string ReceiveBytes(int from, int tag, int* source, int* got_tag) {
  MPI_Status status;
  int flag = 0;
  for (int spins = 0;; ++spins) {
    MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &status);
    if (flag) break;
    if (spins >= 100) usleep(spins < 1000 ? 50 : 1000);
  }
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::string bytes(static_cast<size_t>(count), '\0');
  MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  if (source) *source = status.MPI_SOURCE;
  if (got_tag) *got_tag = status.MPI_TAG;
  return bytes;
}

std::string NodeName() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return std::string(name, static_cast<size_t>(len));
}
#endif

}  // namespace

bool MpiBuilt() {
#if defined(SONAR_WITH_MPI)
  return true;
#else
  return false;
#endif
}

void MpiInitIfLaunched(int* argc, char*** argv) {
#if defined(SONAR_WITH_MPI)
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr ||
                        std::getenv("PMI_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
  if (!launched || g_initialized) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  g_initialized = true;
#else
  (void)argc;
  (void)argv;
#endif
}

void MpiFinalizeIfInitialized() {
#if defined(SONAR_WITH_MPI)
  if (!g_initialized) return;
  if (MpiRank() == 0 && !g_workers_stopped) {
    for (int w = 1; w < MpiSize(); ++w) SendBytes(w, kTagStop, "");
    g_workers_stopped = true;
  }
  MPI_Finalize();
  g_initialized = false;
#endif
}

void MpiAbortAll(int code) {
#if defined(SONAR_WITH_MPI)
  if (g_initialized) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

int MpiRank() {
#if defined(SONAR_WITH_MPI)
  if (!g_initialized) return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
#else
  return 0;
#endif
}

int MpiSize() {
#if defined(SONAR_WITH_MPI)
  if (!g_initialized) return 1;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
#else
  return 1;
#endif
}

Status MpiQueueOptions::Validate() const {
  if (timing_ranks_per_node < 1) {
    return InvalidArgumentError("MpiQueueOptions::timing_ranks_per_node must be >= 1");
  }
  return OkStatus();
}

Status RunMpiWorker(const std::string& hello,
                    const std::function<std::string(const std::string& job)>& handle) {
#if defined(SONAR_WITH_MPI)
  if (!g_initialized) return FailedPreconditionError("RunMpiWorker: MPI is not initialized");
  Writer w;
  w.PutString(NodeName());
  w.PutString(hello);
  SendBytes(0, kTagHello, w.Take());
  while (true) {
    int tag = 0;
    const std::string job = ReceiveBytes(0, MPI_ANY_TAG, nullptr, &tag);
    if (tag == kTagStop) return OkStatus();
    if (tag != kTagJob)
      return InternalError("worker: unexpected message tag " + std::to_string(tag));
    SendBytes(0, kTagResult, handle(job));
  }
#else
  (void)hello;
  (void)handle;
  return FailedPreconditionError("this sonar was built without MPI (SONAR_WITH_MPI=OFF)");
#endif
}

int MpiAcquireTiming() {
#if defined(SONAR_WITH_MPI)
  SendBytes(0, kTagTimingRequest, "");
  const std::string grant = ReceiveBytes(0, kTagTimingGrant, nullptr, nullptr);
  int32_t slot = 0;
  Reader r(grant);
  r.Get(&slot);
  return CpuForSlot(slot);
#else
  return -1;
#endif
}

void MpiReleaseTiming() {
#if defined(SONAR_WITH_MPI)
  SendBytes(0, kTagTimingRelease, "");
#endif
}

struct MpiDispatcher::State {
  MpiQueueOptions options;
  int size = 1;
  std::vector<std::string> hello;  // by rank
  std::vector<int> node;           // by rank: index into slots
  std::vector<char> busy;          // by rank
  // Per node: which worker holds each timing slot (0: free), and the workers waiting for one.
  std::vector<std::vector<int>> slots;
  std::vector<std::deque<int>> waiting;
  bool stopped = false;

  void Grant(int worker, int slot) {
#if defined(SONAR_WITH_MPI)
    slots[static_cast<size_t>(node[static_cast<size_t>(worker)])][static_cast<size_t>(slot)] =
        worker;
    Writer w;
    w.Put<int32_t>(slot);
    SendBytes(worker, kTagTimingGrant, w.Take());
#endif
  }
  // Handles one message that is not a result; returns false for a result (left in *bytes).
  bool Service(int source, int tag) {
    const size_t n = static_cast<size_t>(node[static_cast<size_t>(source)]);
    if (tag == kTagTimingRequest) {
      for (size_t s = 0; s < slots[n].size(); ++s) {
        if (slots[n][s] == 0) {
          Grant(source, static_cast<int>(s));
          return true;
        }
      }
      waiting[n].push_back(source);
      return true;
    }
    if (tag == kTagTimingRelease) {
      for (size_t s = 0; s < slots[n].size(); ++s) {
        if (slots[n][s] != source) continue;
        slots[n][s] = 0;
        if (!waiting[n].empty()) {
          const int next = waiting[n].front();
          waiting[n].pop_front();
          Grant(next, static_cast<int>(s));
        }
      }
      return true;
    }
    return false;
  }
};

MpiDispatcher::MpiDispatcher(const MpiQueueOptions& options) : state_(std::make_unique<State>()) {
  SONAR_CHECK(options.Validate().ok()) << options.Validate().ToString();
  SONAR_CHECK(MpiRank() == 0 && MpiSize() > 1)
      << "MpiDispatcher is made on rank 0 of a run with workers (mpirun -np 2 or more)";
  State& s = *state_;
  s.options = options;
  s.size = MpiSize();
  s.hello.assign(static_cast<size_t>(s.size), "");
  s.node.assign(static_cast<size_t>(s.size), 0);
  s.busy.assign(static_cast<size_t>(s.size), 0);
#if defined(SONAR_WITH_MPI)
  std::map<std::string, int> nodes;
  for (int got = 0; got < s.size - 1; ++got) {
    int source = 0;
    const std::string bytes = ReceiveBytes(MPI_ANY_SOURCE, kTagHello, &source, nullptr);
    Reader r(bytes);
    std::string node_name, hello;
    r.GetString(&node_name);
    r.GetString(&hello);
    s.hello[static_cast<size_t>(source)] = hello;
    auto [it, inserted] = nodes.emplace(node_name, static_cast<int>(nodes.size()));
    s.node[static_cast<size_t>(source)] = it->second;
  }
  s.slots.assign(nodes.size(),
                 std::vector<int>(static_cast<size_t>(options.timing_ranks_per_node), 0));
  s.waiting.assign(nodes.size(), {});
#endif
}

MpiDispatcher::~MpiDispatcher() { Stop(); }

int MpiDispatcher::num_workers() const { return state_->size - 1; }

int MpiDispatcher::num_idle() const {
  int idle = 0;
  for (int w = 1; w < state_->size; ++w) idle += !state_->busy[static_cast<size_t>(w)];
  return idle;
}

const std::string& MpiDispatcher::hello(int worker) const {
  return state_->hello[static_cast<size_t>(worker)];
}

int MpiDispatcher::Send(const std::string& job) {
  for (int w = 1; w < state_->size; ++w) {
    if (state_->busy[static_cast<size_t>(w)]) continue;
#if defined(SONAR_WITH_MPI)
    SendBytes(w, kTagJob, job);
#endif
    state_->busy[static_cast<size_t>(w)] = 1;
    return w;
  }
  SONAR_CHECK(false) << "MpiDispatcher::Send needs an idle worker (check num_idle())";
  return -1;
}

std::pair<int, std::string> MpiDispatcher::Receive() {
  SONAR_CHECK(num_idle() < num_workers()) << "MpiDispatcher::Receive with no job in flight";
#if defined(SONAR_WITH_MPI)
  while (true) {
    int source = 0, tag = 0;
    std::string bytes = ReceiveBytes(MPI_ANY_SOURCE, MPI_ANY_TAG, &source, &tag);
    if (state_->Service(source, tag)) continue;
    SONAR_CHECK(tag == kTagResult)
        << "rank 0: unexpected message tag " << tag << " from " << source;
    state_->busy[static_cast<size_t>(source)] = 0;
    return {source, std::move(bytes)};
  }
#else
  return {0, ""};
#endif
}

void MpiDispatcher::Stop() {
  if (state_->stopped) return;
  state_->stopped = true;
#if defined(SONAR_WITH_MPI)
  for (int w = 1; w < state_->size; ++w) SendBytes(w, kTagStop, "");
#endif
  g_workers_stopped = true;
}

std::string EncodeMeasureResult(const MeasureResult& r) {
  Writer w;
  w.Put<int32_t>(static_cast<int32_t>(r.status));
  w.Put<uint64_t>(r.run_seconds.size());
  for (double x : r.run_seconds) w.Put(x);
  w.Put(r.compile_seconds);
  w.Put(r.all_cost_seconds);
  w.PutString(r.error_msg);
  w.Put(r.source_error_code);
  w.Put(r.reference_seconds);
  w.Put(r.reported_seconds);
  w.Put(r.accuracy);
  return w.Take();
}

StatusOr<MeasureResult> DecodeMeasureResult(const std::string& bytes) {
  MeasureResult r;
  Reader in(bytes);
  int32_t status = 0;
  uint64_t n = 0;
  bool ok = in.Get(&status) && in.Get(&n) && n <= bytes.size() / sizeof(double);
  for (uint64_t i = 0; ok && i < n; ++i) {
    double x = 0;
    ok = in.Get(&x);
    r.run_seconds.push_back(x);
  }
  ok = ok && in.Get(&r.compile_seconds) && in.Get(&r.all_cost_seconds) &&
       in.GetString(&r.error_msg) && in.Get(&r.source_error_code) && in.Get(&r.reference_seconds) &&
       in.Get(&r.reported_seconds) && in.Get(&r.accuracy) && in.done();
  if (!ok) return DataLossError("a measure result from a worker is truncated");
  r.status = static_cast<MeasureStatus>(status);
  return r;
}

MpiAsyncMeasurer::MpiAsyncMeasurer(const MpiQueueOptions& options)
    : dispatcher_(options), job_of_worker_(static_cast<size_t>(MpiSize()), -1) {}

int MpiAsyncMeasurer::capacity() const { return dispatcher_.num_workers(); }

void MpiAsyncMeasurer::Submit(int64_t id, const Task& task, const Config& config) {
  (void)task;  // every worker built the same task from the same command line
  Writer w;
  w.Put<uint64_t>(config.choice.size());
  for (int32_t c : config.choice) w.Put(c);
  const int worker = dispatcher_.Send(w.Take());
  job_of_worker_[static_cast<size_t>(worker)] = id;
}

std::pair<int64_t, MeasureResult> MpiAsyncMeasurer::Next() {
  auto [worker, bytes] = dispatcher_.Receive();
  const int64_t id = job_of_worker_[static_cast<size_t>(worker)];
  StatusOr<MeasureResult> r = DecodeMeasureResult(bytes);
  if (!r.ok()) {
    MeasureResult failed;
    failed.status = MeasureStatus::kUnknownError;
    failed.error_msg = r.status().message();
    return {id, failed};
  }
  return {id, std::move(*r)};
}

std::string MpiAsyncMeasurer::hardware_id() const {
  return dispatcher_.num_workers() > 0 ? dispatcher_.hello(1) : "";
}

Status MpiMeasureWorkerOptions::Validate() const {
  if (reference_every < 1) {
    return InvalidArgumentError("MpiMeasureWorkerOptions::reference_every must be >= 1");
  }
  if (timing_cores < 0) {
    return InvalidArgumentError("MpiMeasureWorkerOptions::timing_cores must be >= 0");
  }
  return OkStatus();
}

Status RunMpiMeasureWorker(const Task& task, Measurer& measurer, Measurer* no_reference,
                           const MpiMeasureWorkerOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const std::vector<int>& cpus = AllowedCpus();
  if (options.timing_cores > 0 && static_cast<int>(cpus.size()) > options.timing_cores) {
    // Compiles (children of this process) stay off the timing cores; timed children are
    // pinned to their slot's core explicitly.
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i + static_cast<size_t>(options.timing_cores) < cpus.size(); ++i)
      CPU_SET(cpus[i], &set);
    sched_setaffinity(0, sizeof(set), &set);
  }
  int64_t jobs = 0;
  double last_reference = 0;
  return RunMpiWorker(measurer.hardware_id(), [&](const std::string& job) {
    Reader in(job);
    uint64_t n = 0;
    Config config;
    bool ok = in.Get(&n) && n <= job.size();
    for (uint64_t i = 0; ok && i < n; ++i) {
      int32_t c = 0;
      ok = in.Get(&c);
      config.choice.push_back(c);
    }
    MeasureResult result;
    if (!ok) {
      result.status = MeasureStatus::kUnknownError;
      result.error_msg = "worker: a truncated job";
    } else {
      const bool with_reference =
          no_reference == nullptr || last_reference <= 0 || jobs % options.reference_every == 0;
      std::vector<MeasureResult> results =
          (with_reference ? measurer : *no_reference).Measure(task, {config});
      if (results.size() == 1) result = std::move(results[0]);
      if (with_reference) {
        if (result.reference_seconds > 0) last_reference = result.reference_seconds;
      } else {
        result.reference_seconds = last_reference;
      }
      ++jobs;
    }
    return EncodeMeasureResult(result);
  });
}

bool MpiRunCompareJobs(size_t num_jobs, const std::function<std::vector<double>(size_t)>& run,
                       const std::function<void(size_t, std::vector<double>)>& store) {
  if (MpiRank() != 0) {
    const Status s = RunMpiWorker("", [&](const std::string& job) {
      uint64_t j = 0;
      Reader in(job);
      in.Get(&j);
      Writer w;
      w.Put<uint64_t>(j);
      for (double x : run(static_cast<size_t>(j))) w.Put(x);
      return w.Take();
    });
    SONAR_CHECK(s.ok()) << s.ToString();
    return false;
  }
  MpiDispatcher dispatcher(MpiQueueOptions{});
  size_t next = 0, done = 0;
  while (done < num_jobs) {
    while (next < num_jobs && dispatcher.num_idle() > 0) {
      Writer w;
      w.Put<uint64_t>(next++);
      dispatcher.Send(w.Take());
    }
    auto [worker, bytes] = dispatcher.Receive();
    (void)worker;
    Reader in(bytes);
    uint64_t j = 0;
    in.Get(&j);
    std::vector<double> curve;
    double x = 0;
    while (in.Get(&x)) curve.push_back(x);
    store(static_cast<size_t>(j), std::move(curve));
    ++done;
  }
  return true;
}

}  // namespace sonar
