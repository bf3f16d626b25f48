// exec/journal.cpp — see journal.hpp.
#include "exec/journal.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "core/clock.hpp"

namespace tickrt::exec {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions(
  session INTEGER PRIMARY KEY, prefix TEXT NOT NULL, started_wall_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL, anomaly INTEGER NOT NULL, local_ns INTEGER NOT NULL,
  symbol TEXT NOT NULL, client_order_id TEXT NOT NULL, orig_client_order_id TEXT NOT NULL,
  exchange_order_id INTEGER NOT NULL, trade_id INTEGER NOT NULL,
  side INTEGER NOT NULL, type INTEGER NOT NULL, tif INTEGER NOT NULL, stp INTEGER NOT NULL,
  exec_type INTEGER NOT NULL, status INTEGER NOT NULL, reject INTEGER NOT NULL, is_maker INTEGER NOT NULL,
  price INTEGER NOT NULL, qty INTEGER NOT NULL, last_price INTEGER NOT NULL, last_qty INTEGER NOT NULL,
  cum_qty INTEGER NOT NULL, cum_quote INTEGER NOT NULL, commission INTEGER NOT NULL,
  transact_ns INTEGER NOT NULL, created_ns INTEGER NOT NULL, request_sent_ns INTEGER NOT NULL,
  text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fills(
  symbol TEXT NOT NULL, trade_id INTEGER NOT NULL, client_order_id TEXT NOT NULL,
  exchange_order_id INTEGER NOT NULL, side INTEGER NOT NULL, price INTEGER NOT NULL,
  qty INTEGER NOT NULL, commission INTEGER NOT NULL, is_maker INTEGER NOT NULL,
  transact_ns INTEGER NOT NULL, PRIMARY KEY(symbol, trade_id, side));
)sql";

// Column order of the events insert (1-based binds).
constexpr const char* kInsertEvent =
    "INSERT INTO events(kind, anomaly, local_ns, symbol, client_order_id, orig_client_order_id,"
    " exchange_order_id, trade_id, side, type, tif, stp, exec_type, status, reject, is_maker, price, qty,"
    " last_price, last_qty, cum_qty, cum_quote, commission, transact_ns, created_ns, request_sent_ns, text)"
    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
// A fill seen twice is kept once. Key (symbol, trade_id, side): a self-trade (STP none) is one
// trade id with both sides ours. trade_id 0 (unknown) rows are not inserted.
constexpr const char* kInsertFill =
    "INSERT OR IGNORE INTO fills(symbol, trade_id, client_order_id, exchange_order_id, side, price, qty,"
    " commission, is_maker, transact_ns) VALUES(?,?,?,?,?,?,?,?,?,?)";

std::string sqlite_err(sqlite3* db, const std::string& path, const char* what) {
  return "journal " + path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

Status exec_sql(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = "journal " + path + ": '" + std::string(sql).substr(0, 60) + "': " + (err ? err : "?");
    sqlite3_free(err);
    return Status(Code::internal, m);
  }
  return Status::Ok();
}

void bind_text(sqlite3_stmt* st, int i, std::string_view s) {
  // An empty view may have data() == nullptr, which SQLite binds as NULL (columns are NOT NULL).
  sqlite3_bind_text(st, i, s.empty() ? "" : s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const std::string& path, const JournalConfig& cfg) {
  using R = Result<std::unique_ptr<Journal>>;
  std::unique_ptr<Journal> j(new Journal());
  j->path_ = path;
  j->cfg_ = cfg;
  if (cfg.max_batch == 0) return R(Code::invalid_argument, "journal " + path + ": max_batch must be >= 1");
  auto ring = SpscRing<JournalRecord>::create(cfg.ring_capacity);
  if (!ring.ok()) return R(ring.status().with_context("journal " + path + ": ring"));
  j->ring_ = std::move(ring.value());
  if (sqlite3_open_v2(path.c_str(), &j->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = sqlite_err(j->db_, path, "open");
    sqlite3_close(j->db_);
    j->db_ = nullptr;
    return R(Code::not_found, m);
  }
  sqlite3_busy_timeout(j->db_, 5000);
  TICKRT_RETURN_IF_ERROR(exec_sql(j->db_, path, "PRAGMA journal_mode=WAL"));
  TICKRT_RETURN_IF_ERROR(exec_sql(j->db_, path, cfg.synchronous_full ? "PRAGMA synchronous=FULL"
                                                                     : "PRAGMA synchronous=NORMAL"));
  TICKRT_RETURN_IF_ERROR(exec_sql(j->db_, path, kSchema));
  if (sqlite3_prepare_v2(j->db_, kInsertEvent, -1, &j->ins_event_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(j->db_, kInsertFill, -1, &j->ins_fill_, nullptr) != SQLITE_OK) {
    return R(Code::internal, sqlite_err(j->db_, path, "prepare"));
  }
  j->writer_ = std::thread([p = j.get()] { p->writer_loop(); });
  return j;
}

Journal::~Journal() { close(); }

bool Journal::try_append(const JournalRecord& rec) noexcept {
  if (ring_->try_push(rec)) {
    appended_.store(appended_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return true;
  }
  ring_full_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool Journal::insert(const JournalRecord& r) noexcept {
  sqlite3_stmt* st = ins_event_;
  sqlite3_reset(st);
  const bool is_order = r.kind == JournalKind::order_new || r.kind == JournalKind::adopt;
  const bool is_cancel = r.kind == JournalKind::cancel || r.kind == JournalKind::query;
  const ExecReport& x = r.report;
  const std::string_view symbol = is_order ? r.order.symbol.view() : is_cancel ? r.cancel.symbol.view() : x.symbol.view();
  const std::string_view cid = is_order ? r.order.client_order_id.view()
                               : is_cancel ? r.cancel.client_order_id.view() : x.client_order_id.view();
  const std::string_view orig = is_cancel ? r.cancel.orig_client_order_id.view() : is_order ? std::string_view{} : x.orig_client_order_id.view();
  sqlite3_bind_int(st, 1, static_cast<int>(r.kind));
  sqlite3_bind_int(st, 2, r.anomaly);
  sqlite3_bind_int64(st, 3, r.local_ns);
  bind_text(st, 4, symbol);
  bind_text(st, 5, cid);
  bind_text(st, 6, orig);
  sqlite3_bind_int64(st, 7, static_cast<std::int64_t>(is_cancel ? r.cancel.exchange_order_id : x.exchange_order_id));
  sqlite3_bind_int64(st, 8, static_cast<std::int64_t>(x.trade_id));
  sqlite3_bind_int(st, 9, static_cast<int>(is_order ? r.order.side : x.side));
  sqlite3_bind_int(st, 10, static_cast<int>(is_order ? r.order.type : x.type));
  sqlite3_bind_int(st, 11, static_cast<int>(is_order ? r.order.tif : x.tif));
  sqlite3_bind_int(st, 12, static_cast<int>(r.order.stp));
  sqlite3_bind_int(st, 13, static_cast<int>(x.exec_type));
  sqlite3_bind_int(st, 14, static_cast<int>(x.status));
  sqlite3_bind_int(st, 15, static_cast<int>(x.reject));
  sqlite3_bind_int(st, 16, x.is_maker ? 1 : 0);
  sqlite3_bind_int64(st, 17, is_order ? r.order.price.raw : x.price.raw);
  sqlite3_bind_int64(st, 18, is_order ? r.order.qty.raw : x.qty.raw);
  sqlite3_bind_int64(st, 19, x.last_price.raw);
  sqlite3_bind_int64(st, 20, x.last_qty.raw);
  sqlite3_bind_int64(st, 21, x.cum_qty.raw);
  sqlite3_bind_int64(st, 22, x.cum_quote_raw);
  sqlite3_bind_int64(st, 23, x.commission_raw);
  sqlite3_bind_int64(st, 24, x.transact_ns);
  sqlite3_bind_int64(st, 25, r.order.created_ns);
  sqlite3_bind_int64(st, 26, x.request_sent_ns);
  bind_text(st, 27, r.text.view());
  if (sqlite3_step(st) != SQLITE_DONE) return false;
  if (r.kind == JournalKind::fill && x.trade_id != 0) {
    sqlite3_stmt* f = ins_fill_;
    sqlite3_reset(f);
    bind_text(f, 1, x.symbol.view());
    sqlite3_bind_int64(f, 2, static_cast<std::int64_t>(x.trade_id));
    bind_text(f, 3, (x.orig_client_order_id.empty() ? x.client_order_id : x.orig_client_order_id).view());
    sqlite3_bind_int64(f, 4, static_cast<std::int64_t>(x.exchange_order_id));
    sqlite3_bind_int(f, 5, static_cast<int>(x.side));
    sqlite3_bind_int64(f, 6, x.last_price.raw);
    sqlite3_bind_int64(f, 7, x.last_qty.raw);
    sqlite3_bind_int64(f, 8, x.commission_raw);
    sqlite3_bind_int(f, 9, x.is_maker ? 1 : 0);
    sqlite3_bind_int64(f, 10, x.transact_ns);
    if (sqlite3_step(f) != SQLITE_DONE) return false;
  }
  return true;
}

bool Journal::write_batch() noexcept {
  JournalRecord* r = ring_->front();
  if (r == nullptr) return false;
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Rows are popped only after COMMIT succeeds: peek up to max_batch, insert, commit, pop.
  // SpscRing::front() shows one element; insert it, then pop into a local stash so the next
  // front() shows the next one. On failure the stash is lost to the ring — so copy and keep it.
  std::size_t n = 0;
  bool ok = true;
  static thread_local std::vector<JournalRecord> stash;  // writer thread only
  stash.clear();
  while (n < cfg_.max_batch && (r = ring_->front()) != nullptr) {
    stash.push_back(*r);
    ring_->pop();
    if (!insert(stash.back())) {
      ok = false;
      break;
    }
    ++n;
  }
  if (ok && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
    written_.fetch_add(n, std::memory_order_release);
    commits_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  error_ = sqlite3_errmsg(db_);
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  errors_.fetch_add(1, std::memory_order_relaxed);
  // Retry the stashed rows until they go in (the disk may be momentarily full or locked): rows are
  // never dropped for a transient error; the producer sees ring_full meanwhile and backs off. A
  // row SQLite refuses for what it is (constraint, type) cannot succeed later: it is skipped and
  // counted (errors, last_error) so one bad row never stops the journal.
  for (std::size_t attempt = 0; !stop_.load(std::memory_order_relaxed) || attempt < 100; ++attempt) {
    bool all = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    std::size_t skipped = 0;
    for (std::size_t i = 0; all && i < stash.size(); ++i) {
      if (insert(stash[i])) continue;
      const int ec = sqlite3_errcode(db_);
      if (ec == SQLITE_CONSTRAINT || ec == SQLITE_MISMATCH || ec == SQLITE_RANGE || ec == SQLITE_TOOBIG) {
        error_ = std::string("row skipped: ") + sqlite3_errmsg(db_);
        errors_.fetch_add(1, std::memory_order_relaxed);
        ++skipped;
        continue;
      }
      all = false;
    }
    if (all && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
      written_.fetch_add(stash.size(), std::memory_order_release);  // skipped rows count as handled
      commits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void Journal::writer_loop() noexcept {
  int idle = 0;
  while (true) {
    if (write_batch()) {
      idle = 0;
      continue;
    }
    if (stop_.load(std::memory_order_acquire) && ring_->front() == nullptr) break;
    // Idle: short sleeps; the journal is not latency critical, only throughput (batching).
    std::this_thread::sleep_for(std::chrono::microseconds(idle < 100 ? 50 : 500));
    ++idle;
  }
}

std::uint32_t clock_session_number() noexcept {
  constexpr std::int64_t k2024 = 1704067200;  // 2024-01-01T00:00:00Z
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return s > k2024 ? static_cast<std::uint32_t>(s - k2024) : 1u;
}

Result<std::uint32_t> Journal::begin_session(const std::string& prefix) {
  using R = Result<std::uint32_t>;
  if (closed_.load()) return R(Code::invalid_argument, "journal " + path_ + ": closed");
  TICKRT_RETURN_IF_ERROR(flush());
  // A separate connection so the writer thread's connection is never used from two threads.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string m = sqlite_err(db, path_, "open (session)");
    sqlite3_close(db);
    return R(Code::internal, m);
  }
  sqlite3_busy_timeout(db, 5000);
  // fsync this commit: id uniqueness across restarts depends on it.
  Status st = exec_sql(db, path_, "PRAGMA synchronous=FULL");
  std::uint32_t session = 0;
  if (st.ok()) st = exec_sql(db, path_, "BEGIN IMMEDIATE");
  if (st.ok()) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(session), 0) FROM sessions", -1, &q, nullptr);
    if (q != nullptr && sqlite3_step(q) == SQLITE_ROW) session = static_cast<std::uint32_t>(sqlite3_column_int64(q, 0)) + 1;
    if (session != 0) session = std::max(session, clock_session_number());
    sqlite3_finalize(q);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO sessions(session, prefix, started_wall_ns) VALUES(?,?,?)", -1, &ins, nullptr);
    if (ins == nullptr || session == 0) {
      st = Status(Code::internal, sqlite_err(db, path_, "session insert"));
    } else {
      sqlite3_bind_int64(ins, 1, session);
      bind_text(ins, 2, prefix);
      sqlite3_bind_int64(ins, 3, wall_ns());
      if (sqlite3_step(ins) != SQLITE_DONE) st = Status(Code::internal, sqlite_err(db, path_, "session insert"));
    }
    sqlite3_finalize(ins);
    if (st.ok()) st = exec_sql(db, path_, "COMMIT");
  }
  sqlite3_close(db);
  if (!st.ok()) return R(st);
  return session;
}

Result<JournalContents> Journal::load() {
  using R = Result<JournalContents>;
  TICKRT_RETURN_IF_ERROR(flush());
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string m = sqlite_err(db, path_, "open (load)");
    sqlite3_close(db);
    return R(Code::internal, m);
  }
  JournalContents out;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT session, prefix FROM sessions ORDER BY session", -1, &q, nullptr) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      out.sessions.push_back(static_cast<std::uint32_t>(sqlite3_column_int64(q, 0)));
      const unsigned char* p = sqlite3_column_text(q, 1);
      out.prefix = p ? reinterpret_cast<const char*>(p) : "";
    }
  }
  sqlite3_finalize(q);
  q = nullptr;
  const char* sel =
      "SELECT id, kind, anomaly, local_ns, symbol, client_order_id, orig_client_order_id, exchange_order_id,"
      " trade_id, side, type, tif, stp, exec_type, status, reject, is_maker, price, qty, last_price, last_qty,"
      " cum_qty, cum_quote, commission, transact_ns, created_ns, request_sent_ns, text FROM events ORDER BY id";
  if (sqlite3_prepare_v2(db, sel, -1, &q, nullptr) != SQLITE_OK) {
    std::string m = sqlite_err(db, path_, "select events");
    sqlite3_close(db);
    return R(Code::internal, m);
  }
  auto text = [&](int c) {
    const unsigned char* p = sqlite3_column_text(q, c);
    return std::string_view(p ? reinterpret_cast<const char*>(p) : "", static_cast<std::size_t>(sqlite3_column_bytes(q, c)));
  };
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    JournalRecord r;
    const std::int64_t row = sqlite3_column_int64(q, 0);
    const int kind = sqlite3_column_int(q, 1);
    if (kind < 1 || kind > 8) {
      sqlite3_finalize(q);
      sqlite3_close(db);
      return R(Code::invalid_argument, "journal " + path_ + ": events row " + std::to_string(row) + ": kind " +
                                           std::to_string(kind) + " unknown");
    }
    r.kind = static_cast<JournalKind>(kind);
    const bool is_order = r.kind == JournalKind::order_new || r.kind == JournalKind::adopt;
    const bool is_cancel = r.kind == JournalKind::cancel || r.kind == JournalKind::query;
    const bool is_report = !is_order && !is_cancel && r.kind != JournalKind::note;
    // Enum columns are checked before the cast: a damaged or foreign file fails load() naming the row
    // and the column, instead of replaying a value its enum does not have (or one truncated into it).
    struct Range { int col; const char* name; int lo, hi; bool used; };
    const Range ranges[] = {
        {9, "side", 0, 1, is_order || is_report},           {10, "type", 0, 2, is_order || is_report},
        {11, "tif", 0, 2, is_order || is_report},           {12, "stp", 0, 3, is_order},
        {13, "exec_type", 0, 6, is_report},                 {14, "status", 0, 8, is_report},
        {15, "reject", INT16_MIN, INT16_MAX, is_report},    {2, "anomaly", 0, 255, true},
    };
    for (const Range& c : ranges) {
      const std::int64_t v = sqlite3_column_int64(q, c.col);
      if (c.used && (v < c.lo || v > c.hi)) {
        sqlite3_finalize(q);
        sqlite3_close(db);
        return R(Code::invalid_argument, "journal " + path_ + ": events row " + std::to_string(row) + ": " + c.name + " " +
                                             std::to_string(v) + " out of range [" + std::to_string(c.lo) + ", " +
                                             std::to_string(c.hi) + "]");
      }
    }
    r.anomaly = static_cast<std::uint8_t>(sqlite3_column_int(q, 2));
    r.local_ns = sqlite3_column_int64(q, 3);
    const auto sym = SymbolName::from(text(4));
    const auto cid = ClientOrderId::from(text(5));
    const auto orig = ClientOrderId::from(text(6));
    const auto xid = static_cast<std::uint64_t>(sqlite3_column_int64(q, 7));
    const auto side = static_cast<Side>(sqlite3_column_int(q, 9));
    const auto type = static_cast<OrderType>(sqlite3_column_int(q, 10));
    const auto tif = static_cast<TimeInForce>(sqlite3_column_int(q, 11));
    const std::int64_t price = sqlite3_column_int64(q, 17), qty = sqlite3_column_int64(q, 18);
    if (is_order) {
      r.order.symbol = sym;
      r.order.client_order_id = cid;
      r.order.side = side;
      r.order.type = type;
      r.order.tif = tif;
      r.order.stp = static_cast<StpMode>(sqlite3_column_int(q, 12));
      r.order.price = Price::from_raw(price);
      r.order.qty = Qty::from_raw(qty);
      r.order.created_ns = sqlite3_column_int64(q, 25);
      r.report.exchange_order_id = xid;  // adopt rows carry it
    } else if (is_cancel) {
      r.cancel.symbol = sym;
      r.cancel.client_order_id = cid;
      r.cancel.orig_client_order_id = orig;
      r.cancel.exchange_order_id = xid;
    } else {
      ExecReport& x = r.report;
      x.symbol = sym;
      x.client_order_id = cid;
      x.orig_client_order_id = orig;
      x.exchange_order_id = xid;
      x.trade_id = static_cast<std::uint64_t>(sqlite3_column_int64(q, 8));
      x.side = side;
      x.type = type;
      x.tif = tif;
      x.exec_type = static_cast<ExecType>(sqlite3_column_int(q, 13));
      x.status = static_cast<OrderStatus>(sqlite3_column_int(q, 14));
      x.reject = static_cast<RejectCode>(sqlite3_column_int(q, 15));
      x.is_maker = sqlite3_column_int(q, 16) != 0;
      x.price = Price::from_raw(price);
      x.qty = Qty::from_raw(qty);
      x.last_price = Price::from_raw(sqlite3_column_int64(q, 19));
      x.last_qty = Qty::from_raw(sqlite3_column_int64(q, 20));
      x.cum_qty = Qty::from_raw(sqlite3_column_int64(q, 21));
      x.cum_quote_raw = sqlite3_column_int64(q, 22);
      x.commission_raw = sqlite3_column_int64(q, 23);
      x.transact_ns = sqlite3_column_int64(q, 24);
      x.request_sent_ns = sqlite3_column_int64(q, 26);
    }
    r.text = FixedString<95>::from(text(27));
    out.records.push_back(r);
  }
  std::string m = rc == SQLITE_DONE ? std::string() : sqlite_err(db, path_, "read events");
  sqlite3_finalize(q);
  sqlite3_close(db);
  if (!m.empty()) return R(Code::internal, m);
  return out;
}

Status Journal::flush() {
  if (closed_.load()) return Status::Ok();
  const std::uint64_t target = appended_.load(std::memory_order_acquire);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (written_.load(std::memory_order_acquire) < target) {
    if (std::chrono::steady_clock::now() > deadline)
      return Status(Code::io_error, "journal " + path_ + ": flush: " +
                                                 std::to_string(target - written_.load()) +
                                                 " rows not committed after 30 s (" + error_ + ")");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return Status::Ok();
}

void Journal::close() noexcept {
  if (closed_.exchange(true)) return;
  stop_.store(true, std::memory_order_release);
  if (writer_.joinable()) writer_.join();
  if (ins_event_) sqlite3_finalize(ins_event_);
  if (ins_fill_) sqlite3_finalize(ins_fill_);
  ins_event_ = ins_fill_ = nullptr;
  if (db_) sqlite3_close(db_);
  db_ = nullptr;
}

JournalStats Journal::stats() const noexcept {
  JournalStats s;
  s.appended = appended_.load(std::memory_order_acquire);
  s.written = written_.load(std::memory_order_acquire);
  s.commits = commits_.load(std::memory_order_relaxed);
  s.ring_full = ring_full_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  return s;
}

Status Journal::last_error() const {
  if (errors_.load() == 0) return Status::Ok();
  return Status(Code::internal, "journal " + path_ + ": " + error_);
}

}  // namespace tickrt::exec
