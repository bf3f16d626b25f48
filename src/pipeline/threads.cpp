// pipeline/threads.cpp — pinning and priorities (setup path).
#include "pipeline/threads.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tickrt::pipeline {

Status pin_current_thread(int cpu, const char* thread_name) {
  if (cpu < 0) return Status::Ok();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu >= CPU_SETSIZE) return Status(Code::out_of_range, std::string(thread_name) + ": cpu " + std::to_string(cpu) + " >= CPU_SETSIZE");
  CPU_SET(cpu, &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) {
    return Status(Code::invalid_argument, std::string(thread_name) + ": pthread_setaffinity_np(cpu " + std::to_string(cpu) +
                                              "): " + std::strerror(rc) + " (is the CPU online and in this process's cpuset?)");
  }
  return Status::Ok();
}

cpu_set_t current_thread_cpus() noexcept {
  cpu_set_t m;
  CPU_ZERO(&m);
  if (pthread_getaffinity_np(pthread_self(), sizeof(m), &m) != 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &m);  // unknown: everything (the kernel clamps it)
  }
  return m;
}

cpu_set_t without(cpu_set_t m, const std::vector<int>& cpus) noexcept {
  for (int c : cpus)
    if (c >= 0 && c < CPU_SETSIZE) CPU_CLR(c, &m);
  return m;
}

Status set_current_thread_cpus(const cpu_set_t& m, const char* thread_name) {
  if (CPU_COUNT(&m) == 0) return Status(Code::invalid_argument, std::string(thread_name) + ": empty CPU set");
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(m), &m);
  if (rc != 0) return Status(Code::invalid_argument, std::string(thread_name) + ": pthread_setaffinity_np: " + std::strerror(rc));
  return Status::Ok();
}

void make_current_thread_background() noexcept {
  sched_param sp{};
  sp.sched_priority = 0;
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0) {
    // Not permitted (or not Linux): at least the lowest nice value for this thread.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  }
}

void name_current_thread(const char* name) noexcept {
  char buf[16];
  std::strncpy(buf, name, sizeof(buf) - 1);
  buf[15] = '\0';
  (void)pthread_setname_np(pthread_self(), buf);
}

}  // namespace tickrt::pipeline
