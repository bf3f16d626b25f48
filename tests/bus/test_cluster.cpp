// tests/bus/test_cluster.cpp — the scale-out cluster, for real: a nats-server (JetStream on, file
// store in a temp dir, 127.0.0.1, a free port) started by the test, and the feed, strategy shards
// and execution node as separate build/bin/tickrt processes. Skips when nats-server is absent.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "exec/journal.hpp"

namespace fs = std::filesystem;

namespace {

std::string find_exe(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/usr/sbin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  for (const char* d : {"/usr/sbin", "/usr/bin", "/usr/local/bin"}) {
    const fs::path p = fs::path(d) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& out) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Exit code, or -signal; -1000 on timeout (the process is then killed).
int wait_for(pid_t pid, double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int st = 0;
  while (std::chrono::steady_clock::now() < end) {
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  return -1000;
}

class NatsServer {
 public:
  bool start(const fs::path& dir, int port = -1) {
    exe_ = find_exe("nats-server");
    if (exe_.empty()) return false;
    dir_ = dir;
    log_ = dir / ("nats-" + std::to_string(++starts_) + ".log");
    pid_ = spawn({exe_, "-js", "-sd", (dir / "store").string(), "-a", "127.0.0.1", "-p", std::to_string(port)}, log_);
    const std::regex re("Listening for client connections on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 250; ++i) {
      std::smatch m;
      const std::string text = slurp(log_);
      if (std::regex_search(text, m, re) && text.find("Server is ready") != std::string::npos) {
        port_ = std::stoi(m[1]);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void stop(int sig = SIGTERM) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      wait_for(pid_, 10);
      pid_ = -1;
    }
  }
  bool restart() {
    stop(SIGTERM);
    return start(dir_, port_);
  }
  ~NatsServer() { stop(SIGKILL); }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  bool found() { return !find_exe("nats-server").empty(); }

 private:
  std::string exe_;
  fs::path dir_, log_;
  pid_t pid_ = -1;
  int port_ = -1;
  int starts_ = 0;
};

struct TempDir {
  fs::path p;
  TempDir() {
    char tmpl[] = "/tmp/tickrt-bus-XXXXXX";
    p = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("TICKRT_KEEP_TMP")) fs::remove_all(p, ec);
  }
};

const std::string kBin = TICKRT_BIN;
const std::string kCapture = "data/captures/spot_btcusdt_20240808.gz";
const std::string kEth = "../shared/data/binance_ws/spot/ethusdt_20240808.gz";

// Per symbol, the sequence numbers a shard applied (in file order).
std::map<std::string, std::vector<std::uint64_t>> read_events(const fs::path& p) {
  std::map<std::string, std::vector<std::uint64_t>> out;
  std::ifstream f(p);
  std::string sym;
  std::uint64_t seq;
  while (f >> sym >> seq) out[sym].push_back(seq);
  return out;
}

std::uint64_t field(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return ~0ull;
  return std::stoull(m[1]);
}

// The port `tickrt sim` printed in its REST URL ("" if it did not within 5 s).
std::string sim_port(const fs::path& out) {
  const std::regex re("http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 250; ++i) {
    std::smatch m;
    const std::string text = slurp(out);
    if (std::regex_search(text, m, re)) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

// Waits until a node's output holds `needle` (its readiness line: "exec: serving", "shard <name>: consuming"),
// instead of a fixed sleep that a loaded machine outlasts. False after `seconds`.
bool wait_text(const fs::path& out, const std::string& needle, int seconds = 30) {
  for (int i = 0; i < seconds * 50; ++i) {
    if (slurp(out).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

#define NEED_NATS(server)                                                       \
  if (!(server).found()) GTEST_SKIP() << "nats-server not installed (scripts/install-deps.sh test)"

std::vector<std::string> shard_args(const std::string& url, const std::string& node, const std::string& syms,
                                    const fs::path& events, double idle, bool trade) {
  std::vector<std::string> a = {kBin, "run", "--source", url, "--symbols", syms, "--node", node, "--idle-exit",
                                std::to_string(idle), "--duration", "0", "--events-out", events.string()};
  if (!trade) a.push_back("--no-trade");
  return a;
}

}  // namespace

TEST(Cluster, EveryEventReachesItsShardOnceAndInOrder) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  // Two shards, started before the feed (live path), one symbol each: the bundled capture and a
  // renamed copy of it.
  const pid_t a = spawn(shard_args(ns.url(), "a", "BTCUSDT", t.p / "a.ev", 2.0, false), t.p / "a.out");
  const pid_t b = spawn(shard_args(ns.url(), "b", "B000001", t.p / "b.ev", 2.0, false), t.p / "b.out");
  ASSERT_TRUE(wait_text(t.p / "a.out", "shard a: consuming")) << slurp(t.p / "a.out");
  ASSERT_TRUE(wait_text(t.p / "b.out", "shard b: consuming")) << slurp(t.p / "b.out");
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--capture", kCapture, "--copies", "2", "--max-lines", "5000"},
                        t.p / "feed.out");
  ASSERT_EQ(wait_for(f, 30), 0) << slurp(t.p / "feed.out");
  ASSERT_EQ(wait_for(a, 30), 0) << slurp(t.p / "a.out");
  ASSERT_EQ(wait_for(b, 30), 0) << slurp(t.p / "b.out");
  const std::string feed_out = slurp(t.p / "feed.out");
  const std::uint64_t published = field(feed_out, "([0-9]+) published");
  ASSERT_EQ(published, 10000u) << feed_out;
  const auto ea = read_events(t.p / "a.ev"), eb = read_events(t.p / "b.ev");
  ASSERT_EQ(ea.size(), 1u);  // shard a saw only its symbol
  ASSERT_EQ(eb.size(), 1u);
  const auto& sa = ea.at("BTCUSDT");
  const auto& sb = eb.at("B000001");
  EXPECT_EQ(sa.size() + sb.size(), published);
  for (std::size_t i = 0; i < sa.size(); ++i) ASSERT_EQ(sa[i], i + 1) << "shard a, position " << i;
  for (std::size_t i = 0; i < sb.size(); ++i) ASSERT_EQ(sb[i], i + 1) << "shard b, position " << i;
  const std::string out_a = slurp(t.p / "a.out");
  EXPECT_EQ(field(out_a, "([0-9]+) gaps"), 0u) << out_a;
  EXPECT_EQ(field(out_a, "([0-9]+) duplicates dropped"), 0u) << out_a;
  EXPECT_GT(field(out_a, "([0-9]+) inferences"), 0u) << out_a;  // book + features + model ran on the shard
}

TEST(Cluster, KilledShardResumesWithoutGap) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  const fs::path ev = t.p / "s.ev";
  const pid_t s1 = spawn(shard_args(ns.url(), "k", "BTCUSDT", ev, 30, false), t.p / "s1.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Paced: ~8000 lines of market time at 25x take ~2.7 s; the shard dies in the middle.
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--capture", kCapture, "--max-lines", "8000", "--speed", "25"},
                        t.p / "feed.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  ::kill(s1, SIGKILL);
  EXPECT_EQ(wait_for(s1, 5), -SIGKILL);
  const std::size_t before = read_events(ev)["BTCUSDT"].size();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the stream moves on without it
  const pid_t s2 = spawn(shard_args(ns.url(), "k", "BTCUSDT", ev, 2.0, false), t.p / "s2.out");
  ASSERT_EQ(wait_for(f, 30), 0) << slurp(t.p / "feed.out");
  ASSERT_EQ(wait_for(s2, 30), 0) << slurp(t.p / "s2.out");
  const std::uint64_t published = field(slurp(t.p / "feed.out"), "([0-9]+) published");
  const auto seqs = read_events(ev)["BTCUSDT"];
  ASSERT_GT(before, 0u) << "the shard was killed before it applied anything";
  ASSERT_LT(before, published) << "the shard was killed after the feed ended: no resume tested";
  // Every sequence number 1..N applied, in order; the only repeats are the first run's last few
  // messages (applied, their acks not yet flushed to the server at the SIGKILL): the restarted
  // node's state is rebuilt up to the ack floor, so it applies them once more, in order.
  std::vector<int> seen(published + 1, 0);
  std::uint64_t dups = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_GE(seqs[i], 1u);
    ASSERT_LE(seqs[i], published);
    if (++seen[seqs[i]] > 1) ++dups;
    if (i > 0 && i != before) {
      ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "position " << i;
    }
  }
  for (std::uint64_t s = 1; s <= published; ++s) ASSERT_EQ(seen[s] >= 1, true) << "seq " << s << " never applied";
  ASSERT_LT(before, seqs.size());
  EXPECT_LE(seqs[before], seqs[before - 1] + 1) << "gap at the restart";
  EXPECT_EQ(dups, seqs[before - 1] + 1 - seqs[before]) << "repeats other than the unacknowledged tail";
  EXPECT_LE(dups, 64u);
  const std::string out2 = slurp(t.p / "s2.out");
  EXPECT_NE(out2.find("resumed after stream seq"), std::string::npos) << out2;
  EXPECT_EQ(field(out2, "([0-9]+) gaps"), 0u) << out2;
}

TEST(Cluster, CentralRiskRefusesWhatTwoShardsTogetherBreach) {
  NatsServer ns;
  NEED_NATS(ns);
  if (!fs::exists(kEth)) GTEST_SKIP() << kEth << " absent (../shared/data)";
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  // Every node reads one config: ETHUSDT's own sizes (the default 0.001 ETH is under its 5 USDT
  // minimum notional: risk would refuse every ETH order and the shards would never overlap), and
  // passive orders kept until the signal or their age ends them (no reprice), so open orders
  // overlap often and the test does not hang on the two shards' scheduling.
  const fs::path cfg = t.p / "cluster.toml";
  {
    std::ofstream c(cfg);
    c << "[model]\npath = \"" << fs::absolute("models/trained/lstm_attn_s/model.onnx").string() << "\"\n"
      << "[strategy]\nreprice_ticks = 0\n"
      << "[strategy.symbols.ETHUSDT]\norder_qty = 0.01\nmax_position = 0.05\nqty_step = 0.0001\n";
  }
  // One open order for the whole account: either shard alone keeps its (one) passive order; the
  // two together exceed it, and only the execution node sees both.
  const pid_t x = spawn({kBin, "exec", "--nats", ns.url(), "--symbols", "BTCUSDT,ETHUSDT", "--config", cfg.string(),
                         "--max-open-orders-account", "1", "--journal", "", "--idle-exit", "4"},
                        t.p / "exec.out");
  ASSERT_TRUE(wait_text(t.p / "exec.out", "exec: serving")) << slurp(t.p / "exec.out");
  auto with_cfg = [&](std::vector<std::string> a) {
    a.insert(a.end(), {"--config", cfg.string()});
    return a;
  };
  const pid_t a = spawn(with_cfg(shard_args(ns.url(), "ra", "BTCUSDT", t.p / "a.ev", 2.0, true)), t.p / "a.out");
  const pid_t b = spawn(with_cfg(shard_args(ns.url(), "rb", "ETHUSDT", t.p / "b.ev", 2.0, true)), t.p / "b.out");
  ASSERT_TRUE(wait_text(t.p / "a.out", "shard ra: consuming")) << slurp(t.p / "a.out");
  ASSERT_TRUE(wait_text(t.p / "b.out", "shard rb: consuming")) << slurp(t.p / "b.out");
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--capture", kCapture, "--capture", kEth, "--max-lines", "20000"},
                        t.p / "feed.out");
  ASSERT_EQ(wait_for(f, 60), 0) << slurp(t.p / "feed.out");
  ASSERT_EQ(wait_for(a, 60), 0) << slurp(t.p / "a.out");
  ASSERT_EQ(wait_for(b, 60), 0) << slurp(t.p / "b.out");
  ASSERT_EQ(wait_for(x, 30), 0) << slurp(t.p / "exec.out");
  const std::string oa = slurp(t.p / "a.out"), ob = slurp(t.p / "b.out"), ox = slurp(t.p / "exec.out");
  // Both shards traded through the execution node ...
  EXPECT_GT(field(oa, "\\(([0-9]+) orders,"), 0u) << oa;
  EXPECT_GT(field(ob, "\\(([0-9]+) orders,"), 0u) << ob;
  // ... and some new orders were refused by the account-wide limit while the refused shard's own
  // symbol had no open order: the other shard's order filled the account (only central risk knows).
  const std::uint64_t cross = field(oa, "([0-9]+) refused by the account while flat") + field(ob, "([0-9]+) refused by the account while flat");
  EXPECT_GT(cross, 0u) << oa << ob << ox;
  EXPECT_GT(field(ox, "([0-9]+) refused by risk"), 0u) << ox;
  EXPECT_EQ(field(ox, "([0-9]+) open at end"), 0u) << ox;
  // Every order was one the venue takes: none rejected (a reject here once hid the overlap).
  EXPECT_EQ(field(ox, "([0-9]+) rejects"), 0u) << ox;
}

TEST(Cluster, NatsServerRestartLosesNothing) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  const fs::path ev = t.p / "s.ev";
  const pid_t s = spawn(shard_args(ns.url(), "r", "BTCUSDT", ev, 6.0, false), t.p / "s.out");
  ASSERT_TRUE(wait_text(t.p / "s.out", "shard r: consuming")) << slurp(t.p / "s.out");
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--capture", kCapture, "--max-lines", "8000", "--speed", "25"},
                        t.p / "feed.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_TRUE(ns.restart());  // SIGTERM, then the same port and store
  ASSERT_EQ(wait_for(f, 40), 0) << slurp(t.p / "feed.out");
  ASSERT_EQ(wait_for(s, 40), 0) << slurp(t.p / "s.out");
  const std::string fo = slurp(t.p / "feed.out");
  const std::uint64_t published = field(fo, "([0-9]+) published");
  EXPECT_EQ(published, 8000u) << fo;
  EXPECT_GE(field(fo, "([0-9]+) reconnects"), 1u) << fo;
  const auto seqs = read_events(ev)["BTCUSDT"];
  ASSERT_EQ(seqs.size(), published) << slurp(t.p / "s.out");
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "position " << i;
}

TEST(Cluster, KilledWorkersJobIsRedone) {
  NatsServer ns;
  NEED_NATS(ns);
  const std::string model = "models/trained/lstm_attn_s/model.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << model << " absent";
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  // Two jobs (the engine and its zero-latency twin); AckWait 2 s.
  const pid_t co = spawn({kBin, "backtest", "--distributed", ns.url(), "--engines", model, "--data", kCapture, "--out",
                          (t.p / "report").string(), "--zero-latency-twins", "on", "--ack-wait", "2", "--sweep-timeout", "60"},
                         t.p / "coord.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const pid_t w1 = spawn({kBin, "worker", "--nats", ns.url(), "--name", "w1", "--idle-exit", "30"}, t.p / "w1.out");
  // Kill w1 as soon as it has started its first job (engine load + replay take far longer).
  bool started = false;
  for (int i = 0; i < 1000 && !started; ++i) {
    started = slurp(t.p / "w1.out").find("started") != std::string::npos;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(started) << slurp(t.p / "w1.out");
  ::kill(w1, SIGKILL);
  EXPECT_EQ(wait_for(w1, 5), -SIGKILL);
  EXPECT_EQ(slurp(t.p / "w1.out").find("done ("), std::string::npos) << "w1 finished its job before the kill";
  const pid_t w2 = spawn({kBin, "worker", "--nats", ns.url(), "--name", "w2", "--idle-exit", "4"}, t.p / "w2.out");
  ASSERT_EQ(wait_for(co, 60), 0) << slurp(t.p / "coord.out") << slurp(t.p / "w2.out");
  EXPECT_EQ(wait_for(w2, 30), 0) << slurp(t.p / "w2.out");
  const std::string w2o = slurp(t.p / "w2.out"), co_out = slurp(t.p / "coord.out");
  EXPECT_NE(w2o.find("(delivery 2)"), std::string::npos) << w2o;  // w1's job, redelivered
  EXPECT_EQ(field(w2o, "([0-9]+) job\\(s\\) done"), 2u) << w2o;
  EXPECT_NE(co_out.find("result 2/2"), std::string::npos) << co_out;
  EXPECT_TRUE(fs::exists(t.p / "report" / "result.json"));
}

// `tickrt feed --source url --reconnect-ms`: the venue goes away and comes back on the same port; the feed
// reconnects, fetches the snapshot again and keeps publishing (Binance closes every connection after 24 h).
TEST(Cluster, UrlFeedReconnectsAndResnapshotsWhenTheVenueComesBack) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  pid_t sim = spawn({kBin, "sim", "-p", "0", "--speed", "20", "--captures", kCapture}, t.p / "sim1.out");
  const std::string port = sim_port(t.p / "sim1.out");
  ASSERT_FALSE(port.empty()) << slurp(t.p / "sim1.out");
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--source", "url", "--speed", "20", "--ws-url",
                         "ws://127.0.0.1:" + port, "--rest-url", "http://127.0.0.1:" + port, "--symbols", "BTCUSDT",
                         "--reconnect-ms", "200", "--idle-exit", "0", "--duration", "5"},
                        t.p / "feed.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(sim, SIGTERM);  // the venue goes away: the feed's WebSocket closes
  ASSERT_EQ(wait_for(sim, 10), 0) << slurp(t.p / "sim1.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  sim = spawn({kBin, "sim", "-p", port, "--speed", "20", "--captures", kCapture}, t.p / "sim2.out");
  ASSERT_EQ(sim_port(t.p / "sim2.out"), port) << slurp(t.p / "sim2.out");
  ASSERT_EQ(wait_for(f, 30), 0) << slurp(t.p / "feed.out");
  ::kill(sim, SIGTERM);
  (void)wait_for(sim, 10);
  const std::string fo = slurp(t.p / "feed.out");
  EXPECT_GE(field(fo, "([0-9]+) WebSocket reconnects"), 1u) << fo;
  EXPECT_NE(field(fo, "([0-9]+) WebSocket reconnects"), ~0ull) << fo;
  EXPECT_GE(field(fo, "([0-9]+) REST snapshots"), 2u) << "startup + after the reconnect\n" << fo;
  EXPECT_GT(field(fo, "([0-9]+) published"), 100u) << fo;
}

// `tickrt feed --source url`: a depth diff that breaks the update-id chain (the simulator's gap fault)
// makes the feed fetch that symbol's snapshot again, so the consumers' books can resync.
TEST(Cluster, UrlFeedRefetchesTheSnapshotAfterADiffGap) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  std::ofstream(t.p / "sim.toml") << "[faults]\ngap = 0.05\n";
  const pid_t sim = spawn({kBin, "sim", "-p", "0", "--speed", "20", "--captures", kCapture, "-c", (t.p / "sim.toml").string()},
                          t.p / "sim.out");
  const std::string port = sim_port(t.p / "sim.out");
  ASSERT_FALSE(port.empty()) << slurp(t.p / "sim.out");
  const pid_t f = spawn({kBin, "feed", "--publish", ns.url(), "--source", "url", "--speed", "20", "--ws-url",
                         "ws://127.0.0.1:" + port, "--rest-url", "http://127.0.0.1:" + port, "--symbols", "BTCUSDT",
                         "--idle-exit", "0", "--duration", "3"},
                        t.p / "feed.out");
  ASSERT_EQ(wait_for(f, 30), 0) << slurp(t.p / "feed.out");
  ::kill(sim, SIGTERM);
  (void)wait_for(sim, 10);
  const std::string fo = slurp(t.p / "feed.out");
  const std::uint64_t gaps = field(fo, "([0-9]+) diff gaps"), snaps = field(fo, "([0-9]+) REST snapshots");
  ASSERT_NE(gaps, ~0ull) << fo;
  EXPECT_GE(gaps, 1u) << fo;
  EXPECT_GE(snaps, 2u) << "startup + at least one after a gap\n" << fo;
  EXPECT_LE(snaps, 1 + gaps) << "at most one snapshot per gap\n" << fo;
}

namespace {

// A journal left by an earlier exec node: one BTCUSDT order (and, when `with_fill`, its fill); returns false on error.
bool write_exec_journal(const std::string& jpath, bool with_fill) {
  auto j = tickrt::exec::Journal::open(jpath);
  if (!j.ok()) return false;
  auto s = j.value()->begin_session("tk");
  if (!s.ok()) return false;
  tickrt::exec::JournalRecord r;
  r.kind = tickrt::exec::JournalKind::order_new;
  r.order.symbol = tickrt::exec::SymbolName::from("BTCUSDT");
  r.order.client_order_id = tickrt::exec::ClientOrderId::from("tk-" + std::to_string(s.value()) + "-1");
  r.order.side = tickrt::exec::Side::buy;
  r.order.type = tickrt::exec::OrderType::limit;
  r.order.price = tickrt::Price::from_raw(50'000LL * 100'000'000);
  r.order.qty = tickrt::Qty::from_raw(1'000'000);
  if (!j.value()->try_append(r)) return false;
  if (with_fill) {
    tickrt::exec::JournalRecord f;
    f.kind = tickrt::exec::JournalKind::fill;
    f.report.symbol = r.order.symbol;
    f.report.client_order_id = r.order.client_order_id;
    f.report.exchange_order_id = 7;
    f.report.trade_id = 1;
    f.report.exec_type = tickrt::exec::ExecType::trade;
    f.report.status = tickrt::exec::OrderStatus::filled;
    f.report.side = tickrt::exec::Side::buy;
    f.report.last_price = r.order.price;
    f.report.last_qty = r.order.qty;
    f.report.cum_qty = r.order.qty;
    if (!j.value()->try_append(f)) return false;
  }
  return j.value()->flush().ok();
}

// Runs `tickrt exec` (journal jpath, --idle-exit 2) against a fresh `tickrt sim`; its exit code and output.
int exec_against_fresh_sim(const NatsServer& ns, const TempDir& t, const std::string& jpath, std::string& out) {
  const pid_t sim = spawn({kBin, "sim", "-p", "0"}, t.p / "sim.out");
  const std::string port = sim_port(t.p / "sim.out");
  if (port.empty()) {
    ::kill(sim, SIGTERM);
    (void)wait_for(sim, 10);
    out = "tickrt sim printed no port: " + slurp(t.p / "sim.out");
    return -1;
  }
  std::ofstream(t.p / "exec.toml") << "[feed]\nsource = \"url\"\nws_url = \"ws://127.0.0.1:" << port << "\"\nrest_url = \"http://127.0.0.1:"
                                   << port << "\"\nsymbols = [\"BTCUSDT\"]\n[exec]\njournal = \"" << jpath
                                   << "\"\napi_key = \"tickrtTestApiKey0000000000000000000000000000000000000000000000000\"\n"
                                   << "api_secret = \"tickrtTestSecret0000000000000000000000000000000000000000000000000\"\n"
                                   << "[metrics]\nenabled = false\n";
  const pid_t x = spawn({kBin, "exec", "--nats", ns.url(), "-c", (t.p / "exec.toml").string(), "--symbols", "BTCUSDT",
                         "--journal", jpath, "--idle-exit", "2"},
                        t.p / "exec.out");
  const int rc = wait_for(x, 30);
  ::kill(sim, SIGTERM);
  (void)wait_for(sim, 10);
  out = slurp(t.p / "exec.out");
  return rc;
}

}  // namespace

// `tickrt exec` restarted on a journal that holds a fill the exchange does not know (another venue, or
// history lost): restart recovery runs before the gateway starts and fails closed naming the trade,
// with no order sent, as the single process does (tests/pipeline/test_recovery.cpp).
TEST(Cluster, ExecNodeRestartRecoveryFailsClosedOnAFillTheExchangeNeverMade) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  const std::string jpath = (t.p / "exec.db").string();
  ASSERT_TRUE(write_exec_journal(jpath, /*with_fill=*/true));
  std::string xo;
  const int rc = exec_against_fresh_sim(ns, t, jpath, xo);
  EXPECT_NE(rc, 0) << xo;
  EXPECT_NE(xo.find("exec recovery failed closed"), std::string::npos) << xo;
  EXPECT_NE(xo.find("in the journal but not on the exchange"), std::string::npos) << xo;
  EXPECT_EQ(xo.find("serving"), std::string::npos) << "no intent may be served after a failed recovery\n" << xo;
}

// The same restart with an order the exchange never saw (sent, then the node died before the answer):
// recovery asks, finds nothing, settles the order as rejected and the node serves.
TEST(Cluster, ExecNodeRestartRecoverySettlesAnOrderTheExchangeNeverSawAndServes) {
  NatsServer ns;
  NEED_NATS(ns);
  TempDir t;
  ASSERT_TRUE(ns.start(t.p));
  const std::string jpath = (t.p / "exec.db").string();
  ASSERT_TRUE(write_exec_journal(jpath, /*with_fill=*/false));
  std::string xo;
  EXPECT_EQ(exec_against_fresh_sim(ns, t, jpath, xo), 0) << xo;
  EXPECT_NE(xo.find("exec: recovery: "), std::string::npos) << xo;
  EXPECT_NE(xo.find("serving"), std::string::npos) << xo;
  EXPECT_EQ(xo.find("failed closed"), std::string::npos) << xo;
}
