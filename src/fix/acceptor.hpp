// fix/acceptor.hpp — the simulator's FIX 4.4 order-entry acceptor: QuickFIX sessions in front of
// sim::MatchingEngine. The contract.
//
// Who calls, when:
//  * The owner (tickrt sim, a test) creates it with create(), start()s it, stop()s it; setup path,
//    Status on failure naming the setting or the endpoint.
//  * QuickFIX calls the Application from one connection thread per logged-on counterparty. Each
//    request takes the engine mutex `engine_mu` (shared with every other caller of the engine:
//    REST/WebSocket venue servers, a replay thread), calls the engine, and sends what the engine
//    reports before releasing it, so reports leave in the engine's causal order.
//  * The engine calls on_exec_report() (this class is a sim::ReportSink) from inside any caller's
//    engine call: fills caused by another account's order, by another FIX session or by replayed
//    trades reach the account's FIX session through it. The owner either lets create() install
//    the acceptor as the engine's sink (AcceptorConfig::install_sink) or forwards to it from its
//    own sink, under engine_mu either way.
//
// Sessions: one FIX.4.4 session per account (AcceptorConfig::accounts): our CompID is
// AcceptorConfig::comp_id, the counterparty's SenderCompID names the account. Logon may carry
// Username 553 / Password 554; they are checked when the account configures them (a mismatch is
// a Logout with the reason, no session). Session level (Heartbeat, TestRequest, ResendRequest,
// SequenceReset, sequence numbers) is QuickFIX's; the message store is a FileStore under
// store_dir, so sequence numbers and sent messages survive a restart of the simulator, and a
// report generated while the counterparty is disconnected is stored and resent after its next
// logon (QuickFIX answers its ResendRequest).
//
// Application messages (fix/codec.hpp has the field mapping):
//   35=D NewOrderSingle        -> engine.submit   -> 35=8 New / Trade / Expired, or 35=8 Rejected
//                                                    (58 "code=-2010 <Binance message>")
//   35=F OrderCancelRequest    -> engine.cancel   -> 35=8 Canceled, or 35=9 (102=1 unknown order)
//   35=G OrderCancelReplaceReq -> engine.cancel_replace -> 35=8 Replaced (150=5, 11 new, 41 old),
//                                 or 35=9 (434=2); a refused replacement after the cancel: 35=8 Rejected
//   35=H OrderStatusRequest    -> engine.query    -> 35=8 ExecType I (39=8, 103=5 when unknown)
//   35=V MarketDataRequest     -> engine.depth_snapshot -> 35=W per symbol (269 0/1 levels); with
//                                 263=1 also 35=X per visible level change (279=1 change = new level
//                                 total, 2 delete) and per engine trade (269=2); 263=2 unsubscribes;
//                                 unknown symbol / entry type -> 35=Y MarketDataRequestReject
//   malformed (missing tag, bad value) or unsupported type -> 35=j BusinessMessageReject with
//   58 naming the tag ("tag 44 (Price) missing: required for OrdType=2 (Limit)"), 45, 372, 379.
// No request, however malformed, throws out of the Application or crashes the process.
//
// Clock: the engine is called with tickrt::wall_ns() (CLOCK_REALTIME), so TransactTime 60 is UTC.
// Faults (sim::FaultConfig): ack delays are honoured — a report due later (deliver_ns) waits in
// an outbox sent by the acceptor's own thread, and every later message to that session queues
// behind it (per-session FIFO); lost acks send nothing; disconnect windows log every session out
// and refuse logons while open (the counterparty reconnects afterwards and QuickFIX resends the gap).
// Limits: no OrderMassStatusRequest (35=AF), no ExecInst besides 6. Market data is one 35=X per
// level change (not batched per engine update id) and MarketDepth limits only the snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "sim/matching_engine.hpp"

namespace FIX {
class Application;
class FileStoreFactory;
class LogFactory;
class SessionSettings;
}  // namespace FIX

namespace tickrt::fix {

class LoopbackAcceptor;

struct FixAccount {
  std::string comp_id;            // the counterparty's SenderCompID (our TargetCompID)
  sim::AccountId account = 0;     // engine account its orders trade for
  std::string username;           // Logon 553 required and compared when non-empty
  std::string password;           // Logon 554 likewise
};

struct AcceptorConfig {
  std::string host = "127.0.0.1";  // dotted IPv4 to listen on
  std::uint16_t port = 0;          // 0 = ephemeral (read it back with FixAcceptor::port())
  std::string comp_id = "TICKRT-SIM";
  std::vector<FixAccount> accounts;
  std::string store_dir;           // QuickFIX FileStore directory (required; created if missing)
  std::string log_dir;             // QuickFIX FileLog directory; empty = no message log
  // Dictionary QuickFIX parses with (groups) — app fields relaxed so fix/codec.hpp validates them.
  std::string data_dictionary = "data/fix/FIX44-sim.xml";
  // engine.set_sink(this) in create() (and set_sink(nullptr) in the destructor). When false the
  // owner forwards its sink's calls here, under engine_mu, and stops before destroying us.
  bool install_sink = true;
};

struct AcceptorStats {
  std::uint64_t orders = 0;             // 35=D passed to the engine
  std::uint64_t cancels = 0;            // 35=F passed to the engine
  std::uint64_t replaces = 0;           // 35=G passed to the engine
  std::uint64_t status_requests = 0;    // 35=H answered
  std::uint64_t business_rejects = 0;   // 35=j sent (malformed / unsupported)
  std::uint64_t reports_sent = 0;       // 35=8 sent
  std::uint64_t cancel_rejects = 0;     // 35=9 sent
  std::uint64_t logons_refused = 0;     // bad Username/Password, or a simulated outage
  std::uint64_t reports_unrouted = 0;   // engine reports for accounts without a FIX session
  std::uint64_t md_requests = 0;        // 35=V answered with snapshots
  std::uint64_t md_rejects = 0;         // 35=Y sent
};

class FixAcceptor final : public sim::ReportSink {
 public:
  // Validates the config (comp ids, unique accounts, store_dir) and builds the QuickFIX
  // sessions. `engine` and `engine_mu` must outlive the acceptor.
  [[nodiscard]] static Result<std::unique_ptr<FixAcceptor>> create(AcceptorConfig cfg, sim::MatchingEngine& engine,
                                                                   std::mutex& engine_mu);
  ~FixAcceptor() override;
  FixAcceptor(const FixAcceptor&) = delete;
  FixAcceptor& operator=(const FixAcceptor&) = delete;

  // Binds host:port and starts accepting. Fails naming the endpoint.
  [[nodiscard]] Status start();
  // Logs every session out (waits up to 10 s for the Logout answers unless force) and closes.
  void stop(bool force = false) noexcept;
  std::uint16_t port() const noexcept;
  bool logged_on(const std::string& counterparty_comp_id) const;

  AcceptorStats stats() const noexcept;

  // sim::ReportSink: called by the engine under engine_mu.
  void on_exec_report(sim::AccountId account, const exec::ExecReport& report, std::int64_t deliver_ns) override;
  void on_public_trade(const sim::PublicTrade& trade) override;   // 35=X trades to subscribers
  void on_book_update(const sim::BookUpdate& update) override;    // 35=X levels to subscribers

 private:
  class App;
  FixAcceptor(AcceptorConfig cfg, sim::MatchingEngine& engine, std::mutex& engine_mu);

  AcceptorConfig cfg_;
  sim::MatchingEngine& engine_;
  std::mutex& engine_mu_;
  std::unique_ptr<App> app_;
  std::unique_ptr<FIX::SessionSettings> settings_;
  std::unique_ptr<FIX::FileStoreFactory> store_;
  std::unique_ptr<FIX::LogFactory> log_;
  std::unique_ptr<LoopbackAcceptor> acceptor_;
  bool started_ = false;
};

}  // namespace tickrt::fix
