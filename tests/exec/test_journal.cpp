// tests/exec/test_journal.cpp — journal round trip, sessions, fill ledger, replay into an OMS.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "exec/recovery.hpp"

using namespace tickrt;
using namespace tickrt::exec;

namespace {

std::string temp_db(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tickrt_exec_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::filesystem::remove(p);
  std::filesystem::remove(p.string() + "-wal");
  std::filesystem::remove(p.string() + "-shm");
  return p.string();
}

long count_rows(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  long n = -1;
  if (st && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

Price px(double v) { return Price::from_raw(static_cast<std::int64_t>(v * 1e8 + 0.5)); }
Qty qt(double v) { return Qty::from_raw(static_cast<std::int64_t>(v * 1e8 + 0.5)); }

}  // namespace

TEST(Journal, OpenFailsWithPathInMessage) {
  auto j = Journal::open("/nonexistent-dir/x/journal.db");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("/nonexistent-dir/x/journal.db"), std::string::npos) << j.status().to_string();
}

TEST(Journal, SessionsIncreaseAcrossReopen) {
  const std::string path = temp_db("sessions.db");
  std::uint32_t s2_value = 0;
  {
    auto j = Journal::open(path);
    ASSERT_TRUE(j.ok()) << j.status().to_string();
    const std::uint32_t clock_before = clock_session_number();
    auto s1 = j.value()->begin_session("tk");
    auto s2 = j.value()->begin_session("tk");
    ASSERT_TRUE(s1.ok() && s2.ok());
    // Seconds since 2024 (a new journal does not start at 1: two processes with their own journals
    // on one account would hand out the same ids), and strictly increasing.
    EXPECT_GE(s1.value(), clock_before);
    EXPECT_GT(clock_before, 86400u * 365);  // after 2025: the clock is read, not a constant
    EXPECT_GT(s2.value(), s1.value());
    s2_value = s2.value();
  }
  auto j = Journal::open(path);
  ASSERT_TRUE(j.ok());
  auto s3 = j.value()->begin_session("tk");
  ASSERT_TRUE(s3.ok());
  EXPECT_GT(s3.value(), s2_value);
  auto c = j.value()->load();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value().sessions.size(), 3u);
  EXPECT_EQ(c.value().prefix, "tk");
}

TEST(Journal, RoundTripEveryKindAndWal) {
  const std::string path = temp_db("roundtrip.db");
  auto jr = Journal::open(path);
  ASSERT_TRUE(jr.ok()) << jr.status().to_string();
  Journal& j = *jr.value();
  std::vector<JournalRecord> in;
  for (int i = 0; i < 5000; ++i) {
    JournalRecord r;
    r.local_ns = 1000 + i;
    switch (i % 4) {
      case 0:
        r.kind = JournalKind::order_new;
        r.order.symbol = SymbolName::from("BTCUSDT");
        r.order.client_order_id = ClientOrderId::from("tk-1-" + std::to_string(i));
        r.order.side = i % 8 ? Side::sell : Side::buy;
        r.order.type = OrderType::limit_maker;
        r.order.tif = TimeInForce::ioc;
        r.order.price = px(100.25 + i);
        r.order.qty = qt(0.001 * (i + 1));
        r.order.created_ns = 77 + i;
        break;
      case 1:
        r.kind = JournalKind::cancel;
        r.cancel.symbol = SymbolName::from("ETHUSDT");
        r.cancel.client_order_id = ClientOrderId::from("tk-1-c" + std::to_string(i));
        r.cancel.orig_client_order_id = ClientOrderId::from("tk-1-" + std::to_string(i - 1));
        r.cancel.exchange_order_id = 900 + i;
        break;
      case 2:
        r.kind = JournalKind::fill;
        r.report.symbol = SymbolName::from("BTCUSDT");
        r.report.client_order_id = ClientOrderId::from("tk-1-" + std::to_string(i - 2));
        r.report.exchange_order_id = 5 + i;
        r.report.trade_id = 10000 + i;
        r.report.exec_type = ExecType::trade;
        r.report.status = OrderStatus::partially_filled;
        r.report.side = Side::sell;
        r.report.last_price = px(101.5);
        r.report.last_qty = qt(0.5);
        r.report.cum_qty = qt(0.5);
        r.report.cum_quote_raw = 5075000000;
        r.report.commission_raw = -123;
        r.report.is_maker = true;
        r.report.transact_ns = 42'000'000;
        r.report.request_sent_ns = 9;
        break;
      default:
        r.kind = JournalKind::report;
        r.report.symbol = SymbolName::from("BTCUSDT");
        r.report.client_order_id = ClientOrderId::from("tk-1-x" + std::to_string(i));
        r.report.orig_client_order_id = ClientOrderId::from("tk-1-" + std::to_string(i - 3));
        r.report.exec_type = ExecType::canceled;
        r.report.status = OrderStatus::canceled;
        r.report.reject = RejectCode::cancel_rejected;
        break;
    }
    ASSERT_TRUE(j.try_append(r) || (j.flush().ok() && j.try_append(r)));
    in.push_back(r);
  }
  ASSERT_TRUE(j.flush().ok());
  auto c = j.load();
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_EQ(c.value().records.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const JournalRecord& a = in[i];
    const JournalRecord& b = c.value().records[i];
    ASSERT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.local_ns, b.local_ns);
    if (a.kind == JournalKind::order_new) {
      EXPECT_EQ(a.order.client_order_id, b.order.client_order_id);
      EXPECT_EQ(a.order.symbol, b.order.symbol);
      EXPECT_EQ(a.order.side, b.order.side);
      EXPECT_EQ(a.order.type, b.order.type);
      EXPECT_EQ(a.order.tif, b.order.tif);
      EXPECT_EQ(a.order.price, b.order.price);
      EXPECT_EQ(a.order.qty, b.order.qty);
      EXPECT_EQ(a.order.created_ns, b.order.created_ns);
    } else if (a.kind == JournalKind::cancel) {
      EXPECT_EQ(a.cancel.client_order_id, b.cancel.client_order_id);
      EXPECT_EQ(a.cancel.orig_client_order_id, b.cancel.orig_client_order_id);
      EXPECT_EQ(a.cancel.exchange_order_id, b.cancel.exchange_order_id);
    } else {
      const ExecReport &x = a.report, &y = b.report;
      EXPECT_EQ(x.client_order_id, y.client_order_id);
      EXPECT_EQ(x.orig_client_order_id, y.orig_client_order_id);
      EXPECT_EQ(x.trade_id, y.trade_id);
      EXPECT_EQ(x.exec_type, y.exec_type);
      EXPECT_EQ(x.status, y.status);
      EXPECT_EQ(x.reject, y.reject);
      EXPECT_EQ(x.last_price, y.last_price);
      EXPECT_EQ(x.last_qty, y.last_qty);
      EXPECT_EQ(x.cum_quote_raw, y.cum_quote_raw);
      EXPECT_EQ(x.commission_raw, y.commission_raw);
      EXPECT_EQ(x.is_maker, y.is_maker);
      EXPECT_EQ(x.transact_ns, y.transact_ns);
      EXPECT_EQ(x.request_sent_ns, y.request_sent_ns);
    }
  }
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM fills"), 1250);
  j.close();
  // The database is in WAL mode.
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// A damaged journal fails load() naming the row and the column, never replays an enum value that does
// not exist (side 7 would have replayed as a sell) or one truncated into range (status 260 -> 4, canceled).
TEST(Journal, OutOfRangeEnumColumnsFailLoadNamingRowAndColumn) {
  const std::string path = temp_db("damaged.db");
  {
    auto j = Journal::open(path);
    ASSERT_TRUE(j.ok()) << j.status().to_string();
    JournalRecord o;
    o.kind = JournalKind::order_new;
    o.order.symbol = SymbolName::from("BTCUSDT");
    o.order.client_order_id = ClientOrderId::from("tk-1-1");
    o.order.price = px(100);
    o.order.qty = qt(1);
    JournalRecord f;
    f.kind = JournalKind::fill;
    f.report.symbol = SymbolName::from("BTCUSDT");
    f.report.client_order_id = ClientOrderId::from("tk-1-1");
    f.report.exec_type = ExecType::trade;
    f.report.status = OrderStatus::filled;
    f.report.trade_id = 1;
    f.report.last_qty = qt(1);
    ASSERT_TRUE(j.value()->try_append(o));
    ASSERT_TRUE(j.value()->try_append(f));
    ASSERT_TRUE(j.value()->flush().ok());
    auto ok = j.value()->load();
    ASSERT_TRUE(ok.ok()) << ok.status().to_string();
    ASSERT_EQ(ok.value().records.size(), 2u);
    j.value()->close();
  }
  auto damage = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  auto load_error = [&]() {
    auto j = Journal::open(path);
    if (!j.ok()) return j.status().to_string();
    auto l = j.value()->load();
    j.value()->close();
    return l.ok() ? std::string("loaded") : l.status().to_string();
  };
  damage("UPDATE events SET side = 7 WHERE kind = 1");
  std::string e = load_error();
  EXPECT_NE(e.find("events row 1: side 7 out of range"), std::string::npos) << e;
  damage("UPDATE events SET side = 0 WHERE kind = 1; UPDATE events SET status = 260 WHERE kind = 5");
  e = load_error();
  EXPECT_NE(e.find("events row 2: status 260 out of range"), std::string::npos) << e;
  damage("UPDATE events SET status = 3 WHERE kind = 5");
  EXPECT_EQ(load_error(), "loaded");
}

TEST(Journal, CloseFlushesEverything) {
  const std::string path = temp_db("close.db");
  {
    auto jr = Journal::open(path, JournalConfig{1 << 16, 64, false});
    ASSERT_TRUE(jr.ok());
    JournalRecord r;
    r.kind = JournalKind::fill;
    r.report.symbol = SymbolName::from("BTCUSDT");
    for (int i = 0; i < 20000; ++i) {
      r.report.trade_id = static_cast<std::uint64_t>(i + 1);
      ASSERT_TRUE(jr.value()->try_append(r));
    }
    // Destructor: close() drains the ring and commits.
  }
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM events"), 20000);
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM fills"), 20000);
}

// The OMS journals through the ring; replaying the journal into a fresh OMS reproduces orders,
// statuses, positions and PnL.
TEST(Journal, ReplayRebuildsOmsState) {
  const std::string path = temp_db("replay.db");
  RequestRing out(1024);
  ReportRing in(1024);
  auto jr = Journal::open(path);
  ASSERT_TRUE(jr.ok());
  Journal& j = *jr.value();
  auto sess = j.begin_session("rp");
  ASSERT_TRUE(sess.ok());
  OmsConfig c;
  c.id_prefix = "rp";
  c.session = sess.value();
  c.symbols = {"BTCUSDT", "ETHUSDT"};
  auto o1 = Oms::create(c, {&out, &in}, &j);
  ASSERT_TRUE(o1.ok());
  Oms& a = *o1.value();
  std::uint64_t trade = 1;
  std::vector<ClientOrderId> ids;
  for (int i = 0; i < 200; ++i) {
    OrderRequest o;
    o.symbol = SymbolName::from(i % 3 ? "BTCUSDT" : "ETHUSDT");
    o.side = i % 2 ? Side::sell : Side::buy;
    o.price = px(100 + i % 7);
    o.qty = qt(1 + i % 3);
    ClientOrderId id;
    ASSERT_EQ(a.submit(o, &id), SubmitResult::ok);
    ids.push_back(id);
    ExecReport r;
    r.symbol = o.symbol;
    r.client_order_id = id;
    r.side = o.side;
    r.qty = o.qty;
    r.price = o.price;
    r.exchange_order_id = 1000 + i;
    r.exec_type = ExecType::new_;
    r.status = OrderStatus::new_;
    ASSERT_TRUE(in.try_push(r));
    if (i % 4 != 3) {  // partial or full fill
      ExecReport f = r;
      f.exec_type = ExecType::trade;
      f.trade_id = trade++;
      f.last_price = px(100 + i % 5);
      f.last_qty = qt(i % 4 == 0 ? 1 : 0.5);
      f.cum_qty = f.last_qty;
      f.commission_raw = 1000 + i;
      f.status = f.cum_qty.raw >= o.qty.raw ? OrderStatus::filled : OrderStatus::partially_filled;
      ASSERT_TRUE(in.try_push(f));
    }
    if (i % 10 == 5) {
      ASSERT_EQ(a.poll(), i % 4 != 3 ? 2u : 1u);
      if (a.find(id.view()) != nullptr) { ASSERT_EQ(a.cancel(id), SubmitResult::ok); }
    }
    while (a.poll() > 0) {}
  }
  GatewayRequest g;
  while (out.try_pop(g)) {}
  ASSERT_TRUE(j.flush().ok());
  auto jc = j.load();
  ASSERT_TRUE(jc.ok());

  auto o2 = Oms::create(c, {&out, &in}, &j);
  ASSERT_TRUE(o2.ok());
  Oms& b = *o2.value();
  RecoveryReport rep;
  ASSERT_TRUE(replay_journal(jc.value(), b, rep).ok());
  EXPECT_EQ(rep.orders_replayed, 200u);
  EXPECT_EQ(rep.fills_replayed, a.counters().fills);
  EXPECT_EQ(b.journal(), &j);  // re-attached after replay
  EXPECT_EQ(b.open_orders(), a.open_orders());
  for (const auto& id : ids) {
    const OrderEntry* x = a.find(id.view());
    const OrderEntry* y = b.find(id.view());
    ASSERT_EQ(x == nullptr, y == nullptr) << id.view();
    if (x) {
      EXPECT_EQ(x->status, y->status) << id.view();
      EXPECT_EQ(x->cum_qty, y->cum_qty);
      EXPECT_EQ(x->exchange_order_id, y->exchange_order_id);
    }
  }
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(a.position(s).qty_raw, b.position(s).qty_raw);
    EXPECT_EQ(a.position(s).avg_price_raw, b.position(s).avg_price_raw);
    EXPECT_EQ(a.position(s).realized_raw, b.position(s).realized_raw);
    EXPECT_EQ(a.position(s).fees_raw, b.position(s).fees_raw);
  }
  // The replay wrote nothing: the row count is unchanged.
  const long rows = count_rows(path, "SELECT COUNT(*) FROM events");
  ASSERT_TRUE(j.flush().ok());
  EXPECT_EQ(count_rows(path, "SELECT COUNT(*) FROM events"), rows);
  EXPECT_EQ(static_cast<std::size_t>(rows), jc.value().records.size());
}
