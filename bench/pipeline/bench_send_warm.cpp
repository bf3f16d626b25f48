// bench_send_warm: what an idle core costs one order's send() on loopback, and what the gateway's
// send-path warmer (exec/send_warm.hpp) gives back. A TCP connection on 127.0.0.1 stands for the
// venue: its reading end is drained by a busy-polling thread (--cpu-rx), so no wake-up is measured;
// the sending thread (--cpu) sends one 400-byte request (a signed order's size) per interval and times
// the send() call, in three rows of the same run:
//   back to back   one send every 100 us (everything hot: the floor)
//   idle, cold     one send every --idle-ms, the thread spinning in between (a pinned IO thread's life)
//   idle, warmed   the same, plus SendPathWarmer::warm() once per ms of idleness (the gateway's habit)
//   taskset -c 2,3 build/bin/bench_send_warm [--cpu 2] [--cpu-rx 3] [--sends 100] [--idle-ms 100] [--rounds 2]
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "exec/send_warm.hpp"
#include "pipeline/threads.hpp"

namespace {
double now_us() { return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
struct Row { const char* name; double p50, p90, max; };
}  // namespace

int main(int argc, char** argv) {
  int cpu = -1, cpu_rx = -1, sends = 100, idle_ms = 100, rounds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--cpu") cpu = std::atoi(argv[i + 1]);
    else if (a == "--cpu-rx") cpu_rx = std::atoi(argv[i + 1]);
    else if (a == "--sends") sends = std::max(5, std::atoi(argv[i + 1]));
    else if (a == "--idle-ms") idle_ms = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    else { std::fprintf(stderr, "usage: bench_send_warm [--cpu N] [--cpu-rx N] [--sends N] [--idle-ms N] [--rounds N]\n"); return 2; }
  }
  auto venue = tickrt::exec::LoopbackPair::open();   // the "venue" connection: tx = the gateway's end
  if (!venue.ok()) { std::fprintf(stderr, "%s\n", venue.status().to_string().c_str()); return 1; }
  const int tx = venue.value().tx(), rx = venue.value().rx();
  auto warmer = tickrt::exec::SendPathWarmer::open();
  if (!warmer.ok()) { std::fprintf(stderr, "%s\n", warmer.status().to_string().c_str()); return 1; }
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    (void)tickrt::pipeline::pin_current_thread(cpu_rx, "bench-reader");
    static char buf[1 << 16];
    while (!stop.load(std::memory_order_relaxed)) (void)recv(rx, buf, sizeof buf, MSG_DONTWAIT);
  });
  (void)tickrt::pipeline::pin_current_thread(cpu, "bench-sender");
  const std::string req(400, 'x');
  auto measure = [&](const char* name, double interval_us, bool warm) {
    std::vector<double> t;
    for (int i = 0; i < sends + 3; ++i) {  // the first 3: connection and code warm-up, not recorded
      const double next = now_us() + interval_us;
      double last_warm = now_us();
      while (now_us() < next) {
        if (warm && now_us() - last_warm >= 1000.0) {
          (void)warmer.value()->warm(req.data(), req.size());
          last_warm = now_us();
        }
      }
      const double t0 = now_us();
      (void)send(tx, req.data(), req.size(), MSG_NOSIGNAL);
      const double t1 = now_us();
      if (i >= 3) t.push_back(t1 - t0);
    }
    std::sort(t.begin(), t.end());
    return Row{name, t[t.size() / 2], t[t.size() * 9 / 10], t.back()};
  };
  std::printf("400-byte send() on a 127.0.0.1 TCP connection (reader busy-polling), %d sends per row, idle %d ms, cpu %d / reader %d\n",
              sends, idle_ms, cpu, cpu_rx);
  std::printf("| round | row | send P50 us | P90 | max |\n|---|---|---:|---:|---:|\n");
  for (int r = 1; r <= rounds; ++r) {
    const Row rows[] = {measure("back to back (every 100 us)", 100.0, false), measure("idle, cold", idle_ms * 1000.0, false),
                        measure("idle, warmed every ms (SendPathWarmer)", idle_ms * 1000.0, true)};
    for (const Row& x : rows) std::printf("| %d | %s | %.1f | %.1f | %.1f |\n", r, x.name, x.p50, x.p90, x.max);
    std::printf("| %d | cold / warmed P50 | %.1fx | | |\n", r, rows[1].p50 / rows[2].p50);
  }
  std::printf("warmer: %llu sends, %llu errors\n", static_cast<unsigned long long>(warmer.value()->sends()),
              static_cast<unsigned long long>(warmer.value()->errors()));
  stop.store(true);
  reader.join();
  return warmer.value()->errors() == 0 ? 0 : 1;
}
