// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// perf_event_open counters with a getrusage / clock_gettime fallback for software events.
#include "measure/perf_counters.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace sonar::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct EventSpec {
  const char* name;
  uint32_t type;
  uint64_t config;
};

#if defined(__linux__)
const EventSpec kHardwareEvents[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache_references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branch_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
};
const EventSpec kSoftwareEvents[] = {
    {"task_clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
};

std::string ErrnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")";
}

// Opens one event for the calling thread, disabled. Tries user+kernel first, then user only
// (what perf_event_paranoid = 2 allows an unprivileged process). Returns the fd or -errno.
int OpenEvent(const EventSpec& e, bool* user_only) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = e.type;
  attr.config = e.config;
  attr.disabled = 1;
  attr.exclude_hv = 1;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  *user_only = false;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0 && (errno == EACCES || errno == EPERM)) {
    attr.exclude_kernel = 1;
    *user_only = true;
    fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  }
  if (fd < 0) return -errno;
  return static_cast<int>(fd);
}

double ThreadCpuSeconds() {
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return kNaN;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
#endif

}  // namespace

CounterGroup::CounterGroup(Kind kind, bool enabled) {
#if defined(__linux__)
  const EventSpec* begin =
      kind == Kind::kHardware ? std::begin(kHardwareEvents) : std::begin(kSoftwareEvents);
  const EventSpec* end =
      kind == Kind::kHardware ? std::end(kHardwareEvents) : std::end(kSoftwareEvents);
  for (const EventSpec* e = begin; e != end; ++e) {
    CounterInfo info;
    info.name = e->name;
    info.kind = kind == Kind::kHardware ? "hardware" : "software";
    Counter c;
    if (!enabled) {
      info.error = "disabled by options";
    } else {
      bool user_only = false;
      const int fd = OpenEvent(*e, &user_only);
      if (fd >= 0) {
        c.fd = fd;
        info.available = true;
        info.method = user_only ? "perf_event_user" : "perf_event";
      } else {
        info.error = ErrnoText("perf_event_open", -fd);
        if (kind == Kind::kSoftware && info.name != "cpu_migrations") {
          // getrusage / clock_gettime count these for the calling thread without perf.
          c.fallback = true;
          info.available = true;
          info.method = info.name == "task_clock" ? "clock_gettime" : "getrusage";
          info.error.clear();
        }
      }
    }
    counters_.push_back(c);
    infos_.push_back(std::move(info));
  }
#else
  (void)kind;
  (void)enabled;
#endif
}

CounterGroup::~CounterGroup() {
#if defined(__linux__)
  for (Counter& c : counters_) {
    if (c.fd >= 0) close(c.fd);
  }
#endif
}

bool CounterGroup::available(const std::string& name) const {
  for (const CounterInfo& i : infos_) {
    if (i.name == name) return i.available;
  }
  return false;
}

void CounterGroup::Start() {
#if defined(__linux__)
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) == 0) {
    start_minflt_ = ru.ru_minflt;
    start_majflt_ = ru.ru_majflt;
    start_nvcsw_ = ru.ru_nvcsw;
    start_nivcsw_ = ru.ru_nivcsw;
  }
  start_cpu_seconds_ = ThreadCpuSeconds();
  for (Counter& c : counters_) {
    if (c.fd < 0) continue;
    ioctl(c.fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(c.fd, PERF_EVENT_IOC_ENABLE, 0);
  }
#endif
}

CounterValues CounterGroup::Stop() {
  CounterValues values;
#if defined(__linux__)
  for (Counter& c : counters_) {
    if (c.fd >= 0) ioctl(c.fd, PERF_EVENT_IOC_DISABLE, 0);
  }
  const double cpu_seconds = ThreadCpuSeconds();
  rusage ru;
  const bool have_ru = getrusage(RUSAGE_THREAD, &ru) == 0;
  for (size_t i = 0; i < counters_.size(); ++i) {
    const Counter& c = counters_[i];
    const CounterInfo& info = infos_[i];
    double v = kNaN;
    if (c.fd >= 0) {
      uint64_t buf[3] = {0, 0, 0};  // value, time enabled, time running
      if (read(c.fd, buf, sizeof(buf)) == static_cast<ssize_t>(sizeof(buf)) && buf[2] > 0) {
        v = static_cast<double>(buf[0]) * static_cast<double>(buf[1]) / static_cast<double>(buf[2]);
      }
      if (info.name == "task_clock" && std::isfinite(v)) v *= 1e-9;  // ns -> seconds
    } else if (c.fallback) {
      if (info.name == "task_clock") {
        v = cpu_seconds - start_cpu_seconds_;
      } else if (have_ru && info.name == "page_faults") {
        v = static_cast<double>(ru.ru_minflt - start_minflt_ + ru.ru_majflt - start_majflt_);
      } else if (have_ru && info.name == "context_switches") {
        v = static_cast<double>(ru.ru_nvcsw - start_nvcsw_ + ru.ru_nivcsw - start_nivcsw_);
      }
    }
    values[info.name] = v;
  }
#endif
  return values;
}

void CounterGroup::MarkSilent(const CounterValues& totals) {
  for (size_t i = 0; i < infos_.size(); ++i) {
    CounterInfo& info = infos_[i];
    if (!info.available || info.kind != "hardware") continue;
    auto it = totals.find(info.name);
    if (it == totals.end() || !std::isfinite(it->second) || it->second <= 0) {
      info.available = false;
      info.method.clear();
      info.error =
          "perf_event_open succeeded but the counter counted nothing while the probes "
          "ran (a virtual PMU without access?)";
    }
  }
}

}  // namespace sonar::internal
