// exec/journal.hpp — durable order journal: SQLite in WAL mode, written by a background thread.
//
// Who calls: the trading thread (the Oms) calls try_append() — a copy into an SPSC ring, no disk
// I/O, no allocation, no lock. The journal's own writer thread drains the ring and inserts rows
// in batched transactions. Setup path (open, begin_session, load, flush, close): any thread that
// is not concurrently appending (main thread, recovery), Status on failure naming the file.
//
// What is written: every order request (new, cancel, query), every execution report the OMS
// applied (ack, fill, cancel, reject, expiry, status answer), every anomaly, and a row per
// session. Fills also go to their own table keyed by (symbol, trade_id, side), the ledger recovery
// and the SIGKILL test compare with the exchange.
//
// Durability (docs/EXECUTION.md "Journal"): journal_mode=WAL, synchronous=NORMAL. A commit is a
// write() into the WAL file: it survives the process being killed (SIGKILL, crash) because the
// bytes are in the kernel's page cache; an OS crash or power loss may lose the last commits
// (never corrupting the file: WAL replays whole transactions only). FULL would fsync every commit
// (milliseconds on ordinary disks) and cap the writer far below the order rate; the window it
// closes is covered by restart recovery, which re-reads the exchange (openOrders, order status,
// myTrades) and re-journals what the lost commits held. begin_session() is the exception: it is
// committed with an explicit fsync (synchronous=FULL for that transaction) because client order
// id uniqueness across restarts rests on it.
//
// A fill is never lost inside the process: the OMS refuses to apply a report it cannot journal
// (ring full: the report stays in the gateway ring and is retried), and close() drains the ring
// and commits before it returns (also called from the destructor and on SIGTERM paths).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"
#include "core/status.hpp"
#include "exec/order_types.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tickrt::exec {

enum class JournalKind : std::uint8_t {
  order_new = 1,   // `order` = the request as sent
  cancel = 2,      // `cancel`
  query = 3,       // `cancel` names the queried order
  report = 4,      // `report` applied, no new fill
  fill = 5,        // `report` carried a new fill (also a row in `fills`)
  anomaly = 6,     // `report` + anomaly code
  adopt = 7,       // recovery: an order of ours the journal had lost (rebuilt from the exchange)
  note = 8,        // recovery / operator note in `text`
};

struct JournalRecord {
  JournalKind kind = JournalKind::report;
  std::uint8_t anomaly = 0;     // exec::Anomaly when kind == anomaly
  std::int64_t local_ns = 0;    // now_ns() when appended
  OrderRequest order;
  CancelRequest cancel;
  ExecReport report;
  FixedString<95> text;         // kind == note
};
static_assert(std::is_trivially_copyable_v<JournalRecord>);

struct JournalConfig {
  std::size_t ring_capacity = 1 << 14;   // records buffered between the OMS and the writer
  std::size_t max_batch = 512;           // rows per transaction
  bool synchronous_full = false;         // FULL instead of NORMAL (benchmarks compare both)
};

// Everything in the journal, in append order (setup path: recovery reads it once).
struct JournalContents {
  std::vector<JournalRecord> records;
  std::vector<std::uint32_t> sessions;   // sessions ever begun
  std::string prefix;                    // the prefix of the last session ("" if none)
};

struct JournalStats {
  std::uint64_t appended = 0;   // accepted by try_append (producer side)
  std::uint64_t written = 0;    // rows committed (writer side)
  std::uint64_t commits = 0;
  std::uint64_t ring_full = 0;  // try_append refusals
  std::uint64_t errors = 0;     // SQLite errors in the writer (rows then stay in the ring)
};

// Seconds since 2024-01-01 UTC by the wall clock (fits the uint32 session for a century): the
// session number of a process that runs without a journal, so client order ids ("tk-<session>-
// <seq>") do not repeat across restarts or between processes started at different seconds.
std::uint32_t clock_session_number() noexcept;

class Journal {
 public:
  // Opens (creating if needed) the database at `path`, sets WAL + synchronous, creates tables,
  // starts the writer thread.
  [[nodiscard]] static Result<std::unique_ptr<Journal>> open(const std::string& path,
                                                             const JournalConfig& cfg = {});
  ~Journal();  // close()
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Hot path, producer = one thread. False when the ring is full (nothing written).
  [[nodiscard]] bool try_append(const JournalRecord& rec) noexcept;

  // Setup path. A new session number, committed and fsynced before it returns: the larger of
  // 1 + the largest so far and clock_session_number() (seconds since 2024), so two journals used
  // on one account (two processes) only hand out the same number when both start in the same
  // second. prefix = the client order id prefix of the session.
  [[nodiscard]] Result<std::uint32_t> begin_session(const std::string& prefix);
  // Reads every record (order of append) and the sessions. Call before trading starts or after
  // flush(); it reads through its own connection.
  [[nodiscard]] Result<JournalContents> load();
  // Blocks until everything appended so far is committed.
  [[nodiscard]] Status flush();
  // flush + stop the writer + close the database. Idempotent.
  void close() noexcept;

  [[nodiscard]] JournalStats stats() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] Status last_error() const;

 private:
  Journal() = default;
  void writer_loop() noexcept;
  [[nodiscard]] bool write_batch() noexcept;
  [[nodiscard]] bool insert(const JournalRecord& r) noexcept;

  std::string path_;
  JournalConfig cfg_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* ins_event_ = nullptr;
  sqlite3_stmt* ins_fill_ = nullptr;
  std::unique_ptr<SpscRing<JournalRecord>> ring_;
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  alignas(64) std::atomic<std::uint64_t> appended_{0};  // producer's counters, own line
  std::atomic<std::uint64_t> ring_full_{0};
  alignas(64) std::atomic<std::uint64_t> written_{0};   // writer's counters, own line
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::string error_;  // last SQLite error (writer thread; read after flush/close)
};

}  // namespace tickrt::exec
