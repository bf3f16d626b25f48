// tests/exec/test_sigkill.cpp — a trading process (exec_sigkill_child) is SIGKILLed mid-trading
// against the simulator venue (in this process), started again, recovers from its journal and the
// exchange, trades on and exits cleanly; then the venue's fill ledger for our account equals the
// journal's fills table, and every order the venue holds open for us is in the journal.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <tuple>

#include "venue_rig.hpp"

using namespace tickrt;
using namespace tickrt::exec;
using namespace tickrt::exec::test;

namespace {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
  std::string output;

  Child(std::uint16_t port, const std::string& db, long orders) {
    int p[2];
    if (pipe(p) != 0) throw std::runtime_error("pipe");
    // Everything that allocates happens before fork(): the test process has threads (the venue's),
    // and only async-signal-safe calls are allowed between fork and exec.
    const std::string ps = std::to_string(port), os = std::to_string(orders);
    pid = fork();
    if (pid == 0) {
      dup2(p[1], 1);
      close(p[0]);
      close(p[1]);
      execl(TICKRT_SIGKILL_CHILD, TICKRT_SIGKILL_CHILD, ps.c_str(), db.c_str(), os.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(p[1]);
    out_fd = p[0];
  }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out_fd >= 0) close(out_fd);
  }
  // Reads stdout until `token` appears or the child closes it.
  bool read_until(const std::string& token) {
    char buf[4096];
    while (output.find(token) == std::string::npos) {
      const ssize_t n = read(out_fd, buf, sizeof buf);
      if (n <= 0) return false;
      output.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  int wait_exit() {
    read_until("\x01never");  // drain to EOF
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
};

using FillKey = std::tuple<std::uint64_t, int, std::int64_t, std::int64_t>;  // trade id, side, price, qty

std::set<FillKey> journal_fills(const std::string& path, std::size_t& rows) {
  std::set<FillKey> out;
  rows = 0;
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT trade_id, side, price, qty FROM fills", -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    out.emplace(static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)), sqlite3_column_int(st, 1),
                sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
    ++rows;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::set<std::string> journal_orders(const std::string& path) {
  std::set<std::string> out;
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT client_order_id FROM events WHERE kind IN (1, 7)", -1, &st, nullptr);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST(SigKill, KilledMidTradingRecoversAndLedgerEqualsJournal) {
  VenueHost v;
  // Counterparty liquidity: our IOC buys take the ask at 50000, IOC sells hit the bid at 49999.99.
  v.counter(Side::sell, 50000, 5);
  v.counter(Side::buy, 49999.99, 1.9);
  const auto dir = std::filesystem::temp_directory_path() / ("tickrt_exec_k_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "sigkill.db").string();
  for (const char* suf : {"", "-wal", "-shm"}) std::filesystem::remove(db + suf);

  std::size_t fills_at_kill = 0;
  for (int round = 0; round < 2; ++round) {
    Child c(v.port, db, 1'000'000);
    ASSERT_TRUE(c.read_until("READY")) << c.output;
    EXPECT_NE(c.output.find("recovery ok"), std::string::npos) << c.output;
    std::printf("run %d:\n%s", round + 1, c.output.c_str());
    // Let it trade, then kill it without warning at a moment the journal is mid-stream.
    const std::size_t target = fills_at_kill + 40;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (v.fills_of(1).size() < target && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(v.fills_of(1).size(), target) << "child did not trade";
    ASSERT_EQ(kill(c.pid, SIGKILL), 0);
    EXPECT_EQ(c.wait_exit(), 128 + SIGKILL);
    fills_at_kill = v.fills_of(1).size();
  }
  // Third run: recover, trade 30 more orders, exit cleanly.
  Child c(v.port, db, 30);
  ASSERT_TRUE(c.read_until("READY")) << c.output;
  EXPECT_NE(c.output.find("recovery ok"), std::string::npos) << c.output;
  ASSERT_EQ(c.wait_exit(), 0) << c.output;
  std::printf("run 3:\n%s", c.output.c_str());
  EXPECT_NE(c.output.find("DONE"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("open 0"), std::string::npos) << c.output;

  // The ledger check: every fill of account 1 on the venue is in the journal, and nothing else.
  std::set<FillKey> venue;
  const auto ledger = v.fills_of(1);
  for (const auto& f : ledger)
    venue.emplace(f.trade_id, static_cast<int>(f.side), f.price.raw, f.qty.raw);
  std::size_t rows = 0;
  const std::set<FillKey> journal = journal_fills(db, rows);
  EXPECT_GT(venue.size(), fills_at_kill);
  EXPECT_EQ(rows, ledger.size());
  EXPECT_EQ(journal, venue);
  // Every order the venue holds open for us is one the journal knows.
  std::vector<sim::OrderState> open;
  v.server->run_sync([&] { v.engine->open_orders(1, nullptr, open); });
  const auto orders = journal_orders(db);
  for (const auto& o : open) EXPECT_TRUE(orders.count(std::string(o.client_order_id.view()))) << o.client_order_id.view();
  EXPECT_TRUE(open.empty());
}
