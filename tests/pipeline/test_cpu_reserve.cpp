// [threads] reserve_pinned_cpus: the threads a Pipeline starts during setup (venue, journal, gateway, metrics,
// snapshot fetcher, swapper, wire tap) are kept off the CPU given to the pinned pipeline thread, and the
// calling thread gets its own mask back; with the key off they inherit the full mask as before.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/threads.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

// Threads of this process (other than `self`) whose allowed CPUs include `cpu`.
int threads_allowed_on(int cpu, pid_t self) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/task")) {
    const pid_t tid = static_cast<pid_t>(std::stol(e.path().filename().string()));
    if (tid == self) continue;
    cpu_set_t m;
    CPU_ZERO(&m);
    if (sched_getaffinity(tid, sizeof(m), &m) == 0 && CPU_ISSET(cpu, &m)) ++n;
  }
  return n;
}

int thread_count() {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/task")) (void)e, ++n;
  return n;
}

TEST(PipelineCpus, SetupThreadsStayOffThePinnedThreadsCpu) {
  if (!fs::exists("data/captures/spot_btcusdt_20240808.gz") || !fs::exists("models/trained/lstm_attn_s/model.onnx"))
    GTEST_SKIP() << "bundled capture or trained model not present";
  const cpu_set_t mine = current_thread_cpus();
  if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "needs 2 CPUs";
  int pin = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && pin < 0; --c)
    if (CPU_ISSET(c, &mine)) pin = c;  // the last allowed CPU
  const pid_t self = static_cast<pid_t>(gettid());
  for (const bool reserve : {true, false}) {
    auto c = default_config(fs::current_path().string());
    ASSERT_TRUE(c.ok());
    PipelineConfig cfg = c.value();
    cfg.journal = "";
    cfg.metrics_listen = "127.0.0.1:0";
    cfg.feed.cpu = pin;
    cfg.reserve_pinned_cpus = reserve;
    const int before = thread_count();
    std::ostringstream out;
    auto p = Pipeline::create(cfg, out);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    ASSERT_GT(thread_count(), before + 3) << "setup should have started the venue, gateway, journal... threads";
    const int on_pin = threads_allowed_on(pin, self);
    if (reserve) EXPECT_EQ(on_pin, 0) << "a setup thread may run on the pinned thread's CPU " << pin;
    else EXPECT_GT(on_pin, 0);
    const cpu_set_t after = current_thread_cpus();
    EXPECT_TRUE(CPU_EQUAL(&after, &mine)) << "the calling thread's mask was not restored";
  }
}

}  // namespace
}  // namespace tickrt::pipeline
