// fix/gateway.hpp — tickrt's FIX 4.4 order gateway: a QuickFIX initiator implementing the gateway
// contract of exec/gateway.hpp, so the OMS trades over FIX exactly as over Binance REST. The
// contract.
//
// Threads (exec/gateway.hpp has the ring contract):
//   trading thread  --GatewayRequest ring-->  IO thread: encodes 35=D / 35=F / 35=H, sends them
//   trading thread  <--ExecReport ring-----   QuickFIX's initiator thread: decodes 35=8 / 35=9 /
//                                             35=j as they arrive and pushes them
// The trading thread never touches QuickFIX, never locks, never allocates for the gateway. The
// inbound ring has two producers on the gateway side: QuickFIX's thread (reports) and the IO
// thread (local outcomes: "not sent, not logged on", "lost on disconnect"). They serialise on
// `produce_mu_`, which only gateway threads take, so the ring keeps exactly one producer at a
// time and the consumer (the OMS) stays lock-free.
// The FIX path allocates inside QuickFIX (a FIX::Message is a map of strings) on the gateway's
// threads; that is QuickFIX's design and stays off the trading thread.
//
// Sessions and sequence numbers: one FIX.4.4 initiator session SenderCompID -> TargetCompID with a
// QuickFIX FileStore under store_dir: sequence numbers and sent messages survive a restart, and
// the next logon continues the sequence (no ResetSeqNumFlag; tests/fix checks it). Messages the
// acceptor sent while we were away are recovered by QuickFIX's ResendRequest on logon and
// reach the OMS like live reports (the OMS de-duplicates). Our own application messages are never
// resent after a reconnect (toApp answers a PossDup resend with DoNotSend, QuickFIX gap-fills):
// a stale order must not reach the exchange minutes late; the OMS queries instead.
//
// Outcomes (exec/gateway.hpp "Lost outcomes"):
//  * not logged on when the IO thread dequeues a request: it is not sent; a new order is reported
//    rejected (reject = disconnected), a cancel is reported as a rejected cancel (reject =
//    disconnected: the OMS returns the order to its state before the cancel), a query as
//    status unknown (the OMS retries).
//  * sent, and the session drops before the first answer: status unknown (reject = disconnected)
//    for that order; the OMS queries it after the next logon.
//  * 35=j BusinessMessageReject for one of our orders (BusinessRejectRefID 379 = its ClOrdID):
//    reported rejected with the acceptor's text code when present.
// Latency stamps: request_sent_ns on the first report answering a request, local_ns when
// QuickFIX handed us the report. request_sent_ns is taken on the IO thread just before
// Session::send (which serialises, writes the socket, then appends the message to its FileStore):
// on loopback the acceptor's answer regularly arrives before Session::send returns, so a stamp
// taken after the call would miss the first answer. t2 - t1 therefore covers the ring hand-off,
// the wake-up and the FIX::Message build; the serialisation and write fall into t3 - t2.
//
// Limits: open_orders / trades / balances answer Code::unsupported (FIX 4.4 order entry has no
// standard query for them; OrderMassStatusRequest is not implemented); query_order is a
// blocking 35=H on the live session (not a separate connection) that waits for the answer
// carrying our OrdStatusReqID 790.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/status.hpp"
#include "exec/gateway.hpp"

namespace FIX {
class SessionSettings;
class FileStoreFactory;
class LogFactory;
class SocketInitiator;
class Message;
}  // namespace FIX

namespace tickrt::fix {

struct FixGatewayConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                   // the acceptor's port (required)
  std::string sender_comp_id = "TICKRT";    // ours
  std::string target_comp_id = "TICKRT-SIM";
  std::string username;                     // Logon 553 when non-empty
  std::string password;                     // Logon 554 when non-empty
  std::string store_dir;                    // FileStore (required): sequence numbers persist here
  std::string log_dir;                      // FileLog; empty = none
  std::string data_dictionary = "data/fix/FIX44.xml";  // validates what the acceptor sends; empty = off
  int heartbeat_s = 30;                     // HeartBtInt 108 we propose
  int reconnect_s = 1;
  std::chrono::milliseconds logon_timeout{5000};   // start() fails after this without a logon
  std::chrono::milliseconds query_timeout{3000};   // query_order()
  exec::IdleWait idle;
};

class FixGateway final : public exec::Gateway {
 public:
  [[nodiscard]] static Result<std::unique_ptr<FixGateway>> create(FixGatewayConfig cfg);
  ~FixGateway() override;
  FixGateway(const FixGateway&) = delete;
  FixGateway& operator=(const FixGateway&) = delete;

  std::string_view name() const noexcept override { return "fix"; }
  [[nodiscard]] Status start(exec::GatewayRings rings) override;
  void stop() noexcept override;

  [[nodiscard]] Result<std::vector<exec::ExecReport>> open_orders(std::string_view symbol) override;
  [[nodiscard]] Result<exec::ExecReport> query_order(std::string_view symbol, std::string_view client_order_id,
                                                     std::uint64_t exchange_order_id = 0) override;
  [[nodiscard]] Result<std::vector<exec::ExecReport>> trades(std::string_view symbol,
                                                             std::uint64_t from_trade_id) override;
  [[nodiscard]] Result<std::vector<exec::Balance>> balances() override;
  exec::GatewayStats stats() const noexcept override;

  // The session's next outgoing / expected incoming MsgSeqNum (from the store); 0 before start().
  int next_sender_seq() const;
  int next_target_seq() const;
  bool logged_on() const;

 private:
  class App;
  friend class App;
  struct InFlight {
    std::int64_t sent_ns = 0;       // request_sent_ns for the first answer (0 once echoed)
    exec::Side side = exec::Side::buy;
    std::string order_id;           // for a cancel / query: the order it names
    bool is_new = false;
    exec::SymbolName symbol;
  };

  explicit FixGateway(FixGatewayConfig cfg);
  void io_loop();
  void handle(const exec::GatewayRequest& req);
  bool push_report(const exec::ExecReport& r);  // takes produce_mu_
  bool push_report_locked(const exec::ExecReport& r);
  // QuickFIX thread:
  void on_message(const FIX::Message& m);
  void on_session_lost();

  FixGatewayConfig cfg_;
  std::unique_ptr<App> app_;
  std::unique_ptr<FIX::SessionSettings> settings_;
  std::unique_ptr<FIX::FileStoreFactory> store_;
  std::unique_ptr<FIX::LogFactory> log_;
  std::unique_ptr<FIX::SocketInitiator> initiator_;
  exec::GatewayRings rings_;
  std::thread io_;
  std::atomic<bool> running_{false};
  bool started_ = false;

  std::mutex produce_mu_;  // gateway threads only: inbound ring producer side + the maps below
  std::unordered_map<std::string, InFlight> inflight_;      // by the request's ClOrdID
  std::unordered_map<std::string, exec::Side> order_side_;  // our live orders (FIX wants 54 on F/H)
  std::uint64_t query_seq_ = 0;                             // IO thread

  // Blocking query_order(): answers carrying our 790 go here, not to the ring.
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::map<std::string, std::unique_ptr<exec::ExecReport>> q_answers_;
  std::atomic<std::uint64_t> q_seq_{0};

  struct Counters {
    std::atomic<std::uint64_t> requests_sent{0}, reports_pushed{0}, report_ring_full{0}, reconnects{0},
        unknown_outcomes{0}, parse_errors{0};
    std::atomic<bool> connected{false};
  } c_;
};

}  // namespace tickrt::fix
