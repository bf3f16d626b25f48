// sim/matching_engine.hpp — the exchange side: a Binance-spot-like matching engine for many
// symbols and accounts, with an optional replayed real book underneath. The contract.
//
// Who calls: the venue servers (src/venue: Binance REST/WebSocket), the FIX acceptor (src/fix),
// the backtester (src/backtest) and tests. ONE thread at a time: the engine has no locks; callers
// that serve several connections serialise access (a strand or a mutex of their own).
// Time is the caller's: every call takes `now_ns` (any monotonic or replayed clock, int64 ns) and
// stamps reports with it; the engine never reads a clock, so runs are reproducible.
//
// Setup path (constructor, add_symbol, map_feed_symbol, set_balance): Status naming what is wrong.
// Request path (submit, cancel, cancel_replace, cancel_all, on_market_event): noexcept; bad input
// is answered with a Binance error code (RejectCode) plus a finer RejectReason, never a crash.
// Steady state allocates only when a new price level is inserted, when the order history deque,
// the fill ledger or the client-id index (open addressing, doubles when half full) grow.
//
// Model (docs/SIMULATOR.md has the details and limits):
//  * Price-time priority among the engine's own orders (orders of all accounts match each other).
//  * Order types LIMIT (GTC/IOC/FOK), MARKET (IOC semantics; FOK honoured), LIMIT_MAKER (post-only:
//    rejected with -2010 "Order would immediately match and take." if it would take).
//  * Self-trade prevention between orders of one account: StpMode none / expire_taker /
//    expire_maker / expire_both (Binance semantics: the expired side gets an EXPIRED report with
//    the quantity that did not trade; `none` lets an account trade with itself).
//  * Fees in the quote asset: commission = floor(|price*qty| * bps / 1e4) in 1e-8 quote units,
//    maker or taker rate; a negative maker rate is a rebate (negative commission).
//  * Balances per account and asset (free/locked, 1e-8 units). LIMIT buys lock price*qty plus the
//    worst-case fee; sells lock the base quantity; MARKET buys are checked against the cost of the
//    walk they would make. SimConfig::enforce_balances = false turns the checks off (backtests).
//  * Replay mode (a symbol with a mapped feed symbol): the displayed book is a book::L2Book fed by
//    real captures (snapshot + diffs); our orders take displayed liquidity at displayed prices
//    (what they take stays consumed until the next diff that sets that level), rest behind the
//    displayed quantity at their price (queue position estimate, see QueueModel), are filled by
//    real trades once the queue ahead is gone, and fully by a trade strictly through their price
//    or by the displayed opposite side crossing them. Replayed flow never reacts to our orders.
//  * Ids: exchange order ids and trade ids are consecutive counters from SimConfig::first_*:
//    deterministic for a given sequence of calls. Faults use a seeded RNG per fault kind, so
//    turning one fault on never changes the draws of another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/status.hpp"
#include "exec/order_types.hpp"
#include "feed/events.hpp"

namespace tickrt::sim {

using exec::CancelRequest;
using exec::ClientOrderId;
using exec::ExecReport;
using exec::ExecType;
using exec::OrderRequest;
using exec::OrderStatus;
using exec::OrderType;
using exec::RejectCode;
using exec::ReplaceRequest;
using exec::Side;
using exec::StpMode;
using exec::SymbolName;
using exec::TimeInForce;
using feed::Level;

// Accounts are small dense integers (venue maps API keys to them). Created on first use with
// SimConfig::start_balances.
using AccountId = std::uint32_t;
inline constexpr AccountId kMaxAccounts = 4096;
// Counterparty of fills against replayed (displayed / real-trade) liquidity.
inline constexpr AccountId kReplayAccount = 0xFFFFFFFFu;

using AssetName = exec::FixedString<15>;
using SymbolIndex = std::uint16_t;
inline constexpr SymbolIndex kNoSymbolIndex = 0xFFFF;

// One tradable symbol and its Binance filters (PRICE_FILTER tickSize, LOT_SIZE stepSize/minQty/
// maxQty, NOTIONAL minNotional). Prices must be multiples of tick_size, quantities of step_size.
struct SymbolSpec {
  SymbolName name;                                  // "BTCUSDT"
  AssetName base;                                   // "BTC"
  AssetName quote;                                  // "USDT"
  Price tick_size = Price::from_raw(1'000'000);     // 0.01
  Qty step_size = Qty::from_raw(1'000);             // 0.00001
  Qty min_qty = Qty::from_raw(1'000);               // 0.00001
  Qty max_qty = Qty::from_int(9000);
  std::int64_t min_notional_raw = 0;                // price*qty, 1e-8 quote units (0 = none)
  feed::Market market = feed::Market::spot;         // sync rules of the replayed book
  std::size_t book_levels = 8192;                   // replayed L2Book capacity per side
};

// How decreases of the displayed quantity at our resting order's level move us in the queue
// (replay mode). Real trades at our price always deplete the queue ahead first.
enum class QueueModel : std::uint8_t {
  proportional = 0,  // a cancel of c out of displayed D removes c * ahead / D from ahead (hftbacktest-like)
  cancels_behind,    // cancels come from behind us first: ahead only shrinks to the new displayed qty
  cancels_ahead,     // cancels come from the front first (optimistic)
};
std::string_view queue_model_name(QueueModel m) noexcept;

// A window of simulated disconnection: the venue layer closes sessions and refuses connections
// while start_ns <= now < end_ns.
struct DisconnectWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

// Faults, each off by default, each deterministic under SimConfig::seed. Fractions are in [0,1].
// The engine applies the order-path faults itself (reject, lose_ack, ack delay); the network ones
// are decisions the venue/FIX layers ask for (should_drop_md, should_gap, should_throttle,
// disconnected).
struct FaultConfig {
  double drop_md = 0.0;          // fraction of market-data messages the venue drops
  double gap = 0.0;              // fraction of depth diffs after which the venue skips an id range
  std::uint64_t gap_ids = 10;    // ... of this many update ids
  std::int64_t ack_delay_ns = 0; // every report is due at now + ack_delay_ns (+ jitter)
  std::int64_t ack_jitter_ns = 0;// uniform extra delay in [0, ack_jitter_ns)
  double lose_ack = 0.0;         // fraction of accepted orders whose reports from submit are never sent
  double reject = 0.0;           // fraction of valid new orders rejected (-2010, RejectReason::fault_reject)
  double throttle = 0.0;         // fraction of requests the venue answers HTTP 429 / -1003
  std::vector<DisconnectWindow> disconnects;
};

struct SimConfig {
  double maker_fee_bps = 10.0;   // Binance spot default 0.1%; negative = rebate; resolution 1e-4 bps
  double taker_fee_bps = 10.0;
  std::vector<SymbolSpec> symbols;                              // added at construction
  std::vector<std::pair<AssetName, std::int64_t>> start_balances;  // per new account, 1e-8 units
  bool enforce_balances = true;
  QueueModel queue_model = QueueModel::proportional;
  std::int64_t seed = 1;
  std::uint64_t first_order_id = 1;
  std::uint64_t first_trade_id = 1;
  std::size_t max_closed_orders = 1u << 20;  // closed orders remembered for query() (oldest dropped)
  bool record_fills = true;                  // keep the fill ledger (fills())
  bool emit_book_updates = true;             // ReportSink::on_book_update calls (off: cheaper backtests)
  FaultConfig faults;
};

// Why a request was refused; reject_code() maps it to the Binance code, reject_message() to
// Binance's message text.
enum class RejectReason : std::uint8_t {
  none = 0,
  unknown_symbol,          // -1121 Invalid symbol.
  bad_account,             // -2014 (account id >= kMaxAccounts)
  bad_client_order_id,     // -1130 (empty, > 36 chars, bad characters)
  duplicate_order,         // -2010 Duplicate order sent. (an open order of the account has this id)
  bad_enum,                // -1100 (side/type/tif/stp value out of range)
  bad_qty,                 // -1013 Filter failure: LOT_SIZE (qty <= 0, < min, > max, off step)
  bad_price,               // -1013 Filter failure: PRICE_FILTER (price <= 0 or off tick)
  min_notional,            // -1013 Filter failure: NOTIONAL
  insufficient_balance,    // -2010 Account has insufficient balance for requested action.
  would_take,              // -2010 Order would immediately match and take. (LIMIT_MAKER)
  fault_reject,            // -2010 (FaultConfig::reject)
  unknown_order,           // -2011 Unknown order sent. (cancel) / -2013 Order does not exist. (query)
};
RejectCode reject_code(RejectReason r, bool for_cancel = false) noexcept;
std::string_view reject_message(RejectReason r) noexcept;
std::string_view reject_reason_name(RejectReason r) noexcept;

// An order as the exchange knows it (open or closed).
struct OrderState {
  SymbolName symbol;
  ClientOrderId client_order_id;
  std::uint64_t exchange_order_id = 0;
  AccountId account = 0;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  StpMode stp = StpMode::none;
  OrderStatus status = OrderStatus::new_;
  Price price;
  Qty qty;
  Qty cum_qty;
  std::int64_t cum_quote_raw = 0;
  std::int64_t commission_raw = 0;
  Qty queue_ahead;                  // replay: displayed quantity estimated ahead of us
  std::int64_t created_ns = 0;      // exchange time of acceptance
  std::int64_t updated_ns = 0;      // last change
};
// An order's state as a status report (exec_type status; transact_ns = its last change): what a query is
// answered with (the FIX acceptor's order status, the backtests' simulated gateway).
ExecReport status_report(const OrderState& o) noexcept;

// One fill of one order (each trade between two engine orders appears twice, once per side).
struct Fill {
  std::uint64_t trade_id = 0;
  AccountId account = 0;
  AccountId counterparty = 0;       // kReplayAccount for replayed liquidity
  SymbolName symbol;
  std::uint64_t exchange_order_id = 0;
  ClientOrderId client_order_id;
  Side side = Side::buy;
  bool is_maker = false;
  Price price;
  Qty qty;
  std::int64_t quote_raw = 0;       // floor(price*qty), 1e-8 quote units
  std::int64_t commission_raw = 0;  // quote asset, negative = rebate
  std::int64_t transact_ns = 0;
};

struct Balance {
  std::int64_t free_raw = 0;    // 1e-8 units
  std::int64_t locked_raw = 0;  // held by open orders
};

// Trades the engine's orders made (for the public @trade stream). Replayed trades are not echoed.
struct PublicTrade {
  SymbolIndex symbol = kNoSymbolIndex;
  std::uint64_t trade_id = 0;
  Price price;
  Qty qty;
  bool buyer_is_maker = false;
  std::int64_t transact_ns = 0;
};

// A visible level changed (for the public @depth stream): qty is the new total at the price
// (displayed minus consumed plus our resting orders); 0 removes the level. update_id is the
// symbol's engine update id (see depth_snapshot); several updates may share one id (one request
// or one market event): the venue groups them into one depthUpdate with U = u = update_id.
struct BookUpdate {
  SymbolIndex symbol = kNoSymbolIndex;
  Side side = Side::buy;  // buy = bid level
  Price price;
  Qty qty;
  std::uint64_t update_id = 0;
  std::int64_t ts_ns = 0;
};

// Where reports go. Installed by the caller (set_sink); called synchronously from inside
// submit/cancel/on_market_event, in causal order. deliver_ns = when the report is due at the
// client (now + FaultConfig ack delay); the venue/FIX layer delays delivery until then.
// Implementations must not call back into the engine.
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual void on_exec_report(AccountId account, const ExecReport& report, std::int64_t deliver_ns) = 0;
  virtual void on_public_trade(const PublicTrade& trade) { (void)trade; }
  virtual void on_book_update(const BookUpdate& update) { (void)update; }
};

struct SubmitResult {
  RejectCode code = RejectCode::none;
  RejectReason reason = RejectReason::none;
  std::uint64_t exchange_order_id = 0;  // 0 when rejected
  OrderStatus status = OrderStatus::rejected;  // after matching: new_, partially_filled, filled, expired
  Qty executed;
  std::int64_t cum_quote_raw = 0;
  bool ack_lost = false;                // FaultConfig::lose_ack hit: the venue must not answer either
  std::int64_t deliver_ns = 0;          // when the answer is due (ack delay)
  bool ok() const noexcept { return code == RejectCode::none; }
};

struct CancelResult {
  RejectCode code = RejectCode::none;
  RejectReason reason = RejectReason::none;
  OrderState order;                     // the canceled order's final state (when ok)
  std::int64_t deliver_ns = 0;
  bool ok() const noexcept { return code == RejectCode::none; }
};

// Binance cancelReplace with STOP_ON_FAILURE: the new order is placed only if the cancel
// succeeded (placed == false otherwise).
struct ReplaceResult {
  CancelResult cancel;
  bool placed = false;
  SubmitResult replacement;
  bool ok() const noexcept { return cancel.ok() && placed && replacement.ok(); }
};

struct DepthSnapshot {
  std::uint64_t last_update_id = 0;
  std::vector<Level> bids;  // best first
  std::vector<Level> asks;  // best first
};

// What a market event did (replay mode).
struct MarketEventResult {
  bool mapped = false;          // the event's symbol is mapped to an engine symbol
  bool book_changed = false;    // snapshot/diff applied to the displayed book
  bool gap = false;             // the diff broke the chain (the displayed book resyncs)
  std::uint32_t fills = 0;      // fills of our orders it caused
};

struct EngineCounters {
  std::uint64_t orders_accepted = 0;
  std::uint64_t orders_rejected = 0;
  std::uint64_t cancels = 0;
  std::uint64_t cancel_rejects = 0;
  std::uint64_t fills = 0;              // per side of a trade
  std::uint64_t trades = 0;             // engine-order vs engine-order or vs replayed liquidity
  std::uint64_t stp_expired = 0;
  std::uint64_t market_events = 0;
  std::uint64_t market_events_unmapped = 0;
  std::uint64_t faults_rejected = 0;
  std::uint64_t faults_acks_lost = 0;
  // Replay fills of our resting orders, by cause (docs/SIMULATOR.md):
  std::uint64_t replay_fills_queue = 0;    // real trade at our price after the queue ahead was gone
  std::uint64_t replay_fills_through = 0;  // real trade strictly through our price
  std::uint64_t replay_fills_cross = 0;    // displayed opposite side crossed our price
  std::uint64_t replay_taker_fills = 0;    // our takers against displayed liquidity
};

class MatchingEngine {
 public:
  // Validates cfg (fees, symbols); throws nothing: check status() before use.
  explicit MatchingEngine(SimConfig cfg);
  ~MatchingEngine();
  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  // Construction outcome (bad SimConfig: which field, which symbol).
  const Status& status() const noexcept;

  // ---- setup --------------------------------------------------------------------------------
  Status add_symbol(const SymbolSpec& spec);
  SymbolIndex find_symbol(std::string_view name) const noexcept;
  std::size_t symbol_count() const noexcept;
  const SymbolSpec& spec(SymbolIndex s) const noexcept;  // s < symbol_count()
  // Replay: events with this feed SymbolId drive the displayed book of `name`.
  Status map_feed_symbol(feed::SymbolId id, std::string_view name);
  void set_sink(ReportSink* sink) noexcept;  // nullptr = reports dropped
  // Sets an account's free balance of an asset (creates the account).
  Status set_balance(AccountId account, std::string_view asset, std::int64_t free_raw);

  // ---- requests (exchange side of REST/WS/FIX) -----------------------------------------------
  // New order. Reports: NEW (if accepted), TRADE per fill, EXPIRED/REJECTED as they happen; the
  // resting counterparties get their TRADE reports too.
  SubmitResult submit(AccountId account, const OrderRequest& req, std::int64_t now_ns) noexcept;
  // By exchange id when non-zero, else by orig_client_order_id. Report CANCELED.
  CancelResult cancel(AccountId account, const CancelRequest& req, std::int64_t now_ns) noexcept;
  ReplaceResult cancel_replace(AccountId account, const ReplaceRequest& req, std::int64_t now_ns) noexcept;
  // Cancels every open order of the account on the symbol; canceled orders appended to *out when
  // given. -1121 for an unknown symbol; otherwise none (even when nothing was open).
  RejectCode cancel_all(AccountId account, const SymbolName& symbol, std::int64_t now_ns,
                        std::vector<OrderState>* out = nullptr) noexcept;

  // ---- queries ---------------------------------------------------------------------------------
  // Latest order of the account with this client id (open, or closed within max_closed_orders).
  std::optional<OrderState> query(AccountId account, const SymbolName& symbol,
                                  const ClientOrderId& client_order_id) const noexcept;
  std::optional<OrderState> query(AccountId account, const SymbolName& symbol,
                                  std::uint64_t exchange_order_id) const noexcept;
  // Open orders of the account (symbol == nullptr: all symbols), in exchange id order.
  void open_orders(AccountId account, const SymbolName* symbol, std::vector<OrderState>& out) const;
  Balance balance(AccountId account, std::string_view asset) const noexcept;
  // Every asset the account has touched, in first-touch order.
  std::vector<std::pair<AssetName, Balance>> balances(AccountId account) const;
  // Every fill in time order (both sides of engine-vs-engine trades). Empty if !record_fills.
  const std::vector<Fill>& fills() const noexcept;
  // Visible book (displayed - consumed + our orders), best first, up to `limit` levels a side.
  // last_update_id = the symbol's engine update id: +1 per request or market event that changed
  // the visible book. -1121 for an unknown symbol.
  RejectCode depth_snapshot(const SymbolName& symbol, std::size_t limit, DepthSnapshot& out) const;
  // Best visible bid/ask (false when that side is empty).
  bool best_bid(SymbolIndex s, Level& out) const noexcept;
  bool best_ask(SymbolIndex s, Level& out) const noexcept;
  // Replay: the displayed book of the symbol is synced and not crossed.
  bool replay_tradable(SymbolIndex s) const noexcept;

  // ---- replay ----------------------------------------------------------------------------------
  // Depth snapshot / diff -> displayed book; trade -> queue depletion and fills; bookTicker and
  // markPrice are ignored. Time of fills = ev.local_ts_ns. Unmapped symbols are counted, ignored.
  MarketEventResult on_market_event(const feed::Event& ev) noexcept;

  // ---- faults (venue/FIX layers ask; each call draws from its own seeded stream) -------------
  bool should_drop_md() noexcept;
  bool should_gap() noexcept;          // true: skip FaultConfig::gap_ids update ids before the next diff
  bool should_throttle() noexcept;
  bool disconnected(std::int64_t now_ns) const noexcept;
  const FaultConfig& faults() const noexcept;
  void set_faults(const FaultConfig& f) noexcept;  // streams keep their positions

  const EngineCounters& counters() const noexcept;
  const SimConfig& config() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickrt::sim
