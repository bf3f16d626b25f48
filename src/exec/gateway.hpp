// exec/gateway.hpp — the contract between the OMS (exec/oms.hpp) and an order gateway
// (exec/binance_gateway.hpp: Binance REST + user data stream; fix/: FIX 4.4 initiator).
//
// Shape: two SPSC rings and one small virtual interface used only off the hot path.
//
//   trading thread (owns the Oms)                      gateway IO thread (owns sockets)
//   ----------------------------------                 -----------------------------------
//   oms.submit(intent)  -> GatewayRequest  --ring-->   drain, encode (+sign), write
//   oms.cancel(...)     -> GatewayRequest  --ring-->   ...
//   oms.poll()          <- ExecReport      <--ring--   acks, fills, rejects, query answers
//
//  * Outbound: SpscRing<GatewayRequest>. Producer: the trading thread (the Oms, only it).
//    Consumer: the gateway's IO thread. The OMS writes a request by value into the ring: no heap,
//    no lock, no exception, no virtual call per order. A full ring is a [[nodiscard]] code at the
//    OMS (SubmitResult::ring_full), never a block.
//  * Inbound: SpscRing<ExecReport>. Producer: the gateway's IO thread (only it: a gateway with
//    several sockets — REST responses and the user data stream — funnels them through its one IO
//    thread). Consumer: the trading thread in Oms::poll().
//  * Why rings and not a template/concept gateway or a virtual send(): the encoding, signing
//    (HMAC-SHA256, ~1-2 us) and the write syscall (several us) then run on the gateway's thread,
//    not on the strategy thread, and the OMS compiles once for every gateway (Binance, FIX, a
//    test venue) with no per-order dispatch at all. The cost is one cross-core hand-off
//    (~100 ns, the ring's cache-line transfer) plus the IO thread's wake-up (see IdleWait below).
//  * Control (start/stop/queries for recovery) goes through the virtual interface Gateway:
//    setup path only, never called by the trading thread while it trades.
//
// Duplicates and ordering. A gateway may deliver the same state twice (Binance answers a POST
// with the order's state and also sends an executionReport on the user data stream; a query
// answer repeats a known fill). The OMS is idempotent: fills are keyed by (symbol, trade_id) and
// state only moves forward. Reports of one order arrive in exchange order from one source but
// the REST answer and the stream may interleave; the OMS never regresses a status
// (FILLED then a late NEW is ignored, and counted).
//
// Lost outcomes. When a request's outcome is not known (send failed after bytes may have left,
// timeout waiting for the answer, disconnect with requests in flight), the gateway pushes an
// ExecReport{exec_type = status, status = unknown, reject = disconnected} for that
// client_order_id. The OMS marks the order unknown and sends GatewayOp::query for it; the
// gateway answers with exec_type = status and the exchange's status (or reject = no_such_order
// when the exchange never saw it, which the OMS turns into rejected). Nothing is assumed.
//
// Latency stamps (all tickrt::now_ns(), CLOCK_MONOTONIC, one time base across threads):
//   OrderRequest::created_ns        t0  strategy made the intent
//   GatewayRequest::enqueue_ns      t1  OMS pushed the request into the outbound ring
//   ExecReport::request_sent_ns     t2  gateway IO thread: the write of the request's last byte
//                                       returned (echoed on the first report answering it)
//   ExecReport::local_ns            t3  gateway IO thread: the answer's bytes were read
//   "OMS submit"                = t1 - t0 (intent -> request in the ring)
//   "order encode and send"     = t2 - t1 (ring hand-off + IO wake-up + encode + sign + write)
//   "wire round trip"           = t3 - t2 (network + exchange + our read)
// The pipeline measures "order encode and send" from the report whose request_sent_ns != 0
// and the OMS's stored enqueue_ns (Oms::on_report exposes both through OmsEvent).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/spsc_ring.hpp"
#include "core/status.hpp"
#include "exec/order_types.hpp"

namespace tickrt::exec {

enum class GatewayOp : std::uint8_t {
  new_order = 0,   // `order` is valid
  cancel = 1,      // `cancel` is valid (orig_client_order_id, exchange_order_id if known)
  query = 2,       // `cancel` names the order to query (orig_client_order_id); answer: exec_type status
};

constexpr std::string_view gateway_op_name(GatewayOp op) noexcept {
  switch (op) {
    case GatewayOp::new_order: return "new_order";
    case GatewayOp::cancel: return "cancel";
    case GatewayOp::query: return "query";
  }
  return "?";
}

// One outbound request. Trivially copyable, no pointers: it lives in a ring slot.
struct GatewayRequest {
  GatewayOp op = GatewayOp::new_order;
  OrderRequest order;        // op == new_order
  CancelRequest cancel;      // op == cancel / query
  std::int64_t enqueue_ns = 0;  // t1: now_ns() when the OMS pushed it
};
static_assert(std::is_trivially_copyable_v<GatewayRequest>);

using RequestRing = SpscRing<GatewayRequest>;
using ReportRing = SpscRing<ExecReport>;

// The two rings a gateway is bound to. Owned by whoever wires the pipeline (or the test); they
// must outlive the gateway's IO thread (Gateway::stop() joins it).
struct GatewayRings {
  RequestRing* outbound = nullptr;  // OMS -> gateway
  ReportRing* inbound = nullptr;    // gateway -> OMS
};

// A balance line (Binance GET /api/v3/account "balances"; FIX has no standard equivalent:
// a FIX gateway returns Code::unsupported).
struct Balance {
  FixedString<15> asset;
  Qty free;
  Qty locked;
};

// What the gateway counts; read with Gateway::stats() from any thread (relaxed snapshot).
struct GatewayStats {
  std::uint64_t requests_sent = 0;
  std::uint64_t reports_pushed = 0;
  std::uint64_t report_ring_full = 0;   // reports dropped because the OMS did not drain (alarm)
  std::uint64_t reconnects = 0;
  std::uint64_t throttled = 0;          // 429 / -1003 / -1015 answers (backed off)
  std::uint64_t clock_resyncs = 0;      // -1021 answers (server time re-read)
  std::uint64_t unknown_outcomes = 0;   // requests whose outcome was lost (reported as unknown)
  std::uint64_t parse_errors = 0;       // wire messages that could not be parsed (skipped)
  std::uint64_t warm_sends = 0;         // send-path warm-ups into the private loopback connection (send_warm.hpp)
  bool connected = false;
};

// Where one request's "order encode and send" (t2 - t1) goes, stamped on the gateway IO thread with
// now_ns() (the clock of t1 and t2; ~20 ns per read through the vDSO). Zero = stage not reached.
//   wait     = pop_ns - enqueue_ns      ring hand-off + the IO thread's wake-up (its idle wait)
//   queued   = start_ns - pop_ns        waiting for a free connection (one request in flight each)
//   sign     = signed_ns - sign_ns      HMAC-SHA256
//   format   = encoded_ns - start_ns - sign   query string + HTTP/WS framing (+ allocations)
//   write    = sent_ns - encoded_ns     write syscall (+ the completion handler when it went async)
// Recorded for new orders and cancels that reached the wire; read after stop() (setup path).
struct SendTrace {
  GatewayOp op = GatewayOp::new_order;
  bool woke_from_sleep = false;  // the IO thread was in its sleep phase when the request came
  bool write_async = false;      // the write did not complete in the first syscall
  std::int64_t enqueue_ns = 0, pop_ns = 0, start_ns = 0, sign_ns = 0, signed_ns = 0, encoded_ns = 0, sent_ns = 0;
};

// Fixed-capacity log of SendTraces: the IO thread appends (no allocation: sized at construction),
// the owner reads after the IO thread stopped. Keeps the first `capacity` (a run's orders fit).
class SendTraceLog {
 public:
  explicit SendTraceLog(std::size_t capacity = 8192) : v_(capacity) {}
  void add(const SendTrace& t) noexcept {
    if (n_ < v_.size()) v_[n_++] = t;
  }
  std::vector<SendTrace> snapshot() const { return {v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(n_)}; }

 private:
  std::vector<SendTrace> v_;
  std::size_t n_ = 0;
};

// Control interface of a gateway. Every member is setup/recovery path (may allocate, block and
// return Status); none is called per order. Threads: start/stop/queries from the thread that
// owns the gateway (main or recovery); stats() from any thread.
class Gateway {
 public:
  virtual ~Gateway() = default;

  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  // Connects (session/logon, user data stream), then starts the IO thread that drains
  // rings.outbound and fills rings.inbound. Fails with a Status naming the endpoint.
  [[nodiscard]] virtual Status start(GatewayRings rings) = 0;
  // Stops the IO thread (joins it) and closes connections. Requests still in the outbound ring
  // are not sent. Idempotent.
  virtual void stop() noexcept = 0;

  // ---- blocking queries for restart recovery (exec/recovery.hpp); own connection ----------
  // Open orders on the exchange for `symbol` (Binance GET /api/v3/openOrders; FIX
  // OrderMassStatusRequest). Each as ExecReport{exec_type = status}.
  [[nodiscard]] virtual Result<std::vector<ExecReport>> open_orders(std::string_view symbol) = 0;
  // One order's state (GET /api/v3/order; FIX OrderStatusRequest), named by client_order_id or,
  // when that is empty, by exchange_order_id (recovery maps a myTrades orderId back to its client
  // id this way). reject = no_such_order when the exchange does not know the order.
  [[nodiscard]] virtual Result<ExecReport> query_order(std::string_view symbol,
                                                       std::string_view client_order_id,
                                                       std::uint64_t exchange_order_id = 0) = 0;
  // Own trades with trade_id >= from_trade_id (GET /api/v3/myTrades fromId), each as
  // ExecReport{exec_type = trade}; client_order_id may be empty (myTrades carries only orderId):
  // the caller maps exchange_order_id. FIX: Code::unsupported unless the acceptor offers it.
  [[nodiscard]] virtual Result<std::vector<ExecReport>> trades(std::string_view symbol,
                                                               std::uint64_t from_trade_id) = 0;
  [[nodiscard]] virtual Result<std::vector<Balance>> balances() = 0;

  [[nodiscard]] virtual GatewayStats stats() const noexcept = 0;
  // The per-request send breakdown (SendTrace); call after stop(). Empty for gateways that do not
  // record it (FIX).
  [[nodiscard]] virtual std::vector<SendTrace> send_traces() const { return {}; }
};

// How a gateway IO thread waits for outbound requests when idle: spin (pause) for `spin_ns`,
// then sleep `sleep_ns` per check. The trading thread never signals (no syscall on its path),
// so the worst-case added latency after an idle period is sleep_ns; spin_ns > 0 keeps a busy
// period's orders at ring-hand-off latency. Default: spin 50 us, then sleep 20 us (fits a 2-core
// machine; pin and set sleep_ns = 0 on a dedicated core).
// cpu >= 0: the IO thread pins itself there and spins for ever (spin_ns/sleep_ns ignored): the
// order leaves at ring hand-off latency instead of after a timer wake-up. A pinned Binance REST
// gateway also formats and signs a throw-away order (nothing sent) once per ms of idleness, so the
// real one does not run from cold caches (~5 us; an order arriving meanwhile waits that long).
struct IdleWait {
  std::int64_t spin_ns = 50'000;
  std::int64_t sleep_ns = 20'000;
  int cpu = -1;
};

}  // namespace tickrt::exec
