// strategy/signal_strategy.hpp — SignalStrategy: three-class model output -> intents for ONE
// symbol. The rules (signal, hysteresis, sizing, order style, reprice) are in strategy/strategy.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/fixed_point.hpp"
#include "core/status.hpp"
#include "exec/order_types.hpp"
#include "risk/risk_engine.hpp"  // SingleWriterCounter
#include "risk/views.hpp"

namespace tickrt::strategy {

enum class Signal : std::int8_t { short_ = -1, flat = 0, long_ = 1 };
enum class Sizing : std::uint8_t { fixed = 0, max_position, confidence };
enum class OrderStyle : std::uint8_t { aggressive = 0, passive };

std::string_view signal_name(Signal s) noexcept;
// "fixed" | "max_position" | "confidence"; "aggressive" | "passive" (for the TOML reader).
bool parse_sizing(std::string_view s, Sizing& out) noexcept;
bool parse_order_style(std::string_view s, OrderStyle& out) noexcept;

// A plain struct the pipeline fills from TOML ([strategy] table). Defaults are for BTCUSDT-like
// spot symbols and deliberately small sizes.
struct StrategyConfig {
  std::string symbol = "BTCUSDT";
  bool inputs_are_logits = true;   // models/trained/* output logits; false: probabilities
  double enter_prob = 0.55;        // p(direction) to enter
  double exit_prob = 0.45;         // hold while p(direction) >= exit_prob (<= enter_prob)
  double min_edge = 0.10;          // p(direction) - p(opposite) to enter
  Sizing sizing = Sizing::fixed;
  Qty order_qty = Qty::from_raw(100'000);       // 0.001: one clip
  Qty max_position = Qty::from_raw(1'000'000);  // 0.01
  Qty qty_step = Qty::from_raw(1'000);          // 0.00001: Binance BTCUSDT LOT_SIZE stepSize
  OrderStyle style = OrderStyle::passive;
  bool aggressive_market = false;  // aggressive style: MARKET instead of LIMIT IOC at the touch
  Price tick_size = Price::from_raw(1'000'000); // 0.01: Binance BTCUSDT PRICE_FILTER tickSize
  std::int32_t reprice_ticks = 1;               // passive: cancel when the touch moved this far; <= 0 off
  std::int64_t passive_max_age_ns = 5'000'000'000;  // passive: cancel older orders; <= 0 off
  std::int64_t min_interval_ns = 100'000'000;       // between new-order intents
};

// Setup path: names the first bad field ("strategy.exit_prob: 0.7 above enter_prob 0.55").
Status validate(const StrategyConfig& c);

struct Probabilities {
  double down = 0, flat = 0, up = 0;
};
// Softmax of three logits (max-subtracted, so any finite input works), or three probabilities
// renormalised to sum 1. Non-finite inputs or a non-positive sum give {0, 1, 0} (flat): a broken
// model output never opens a position.
Probabilities to_probabilities(const float* v3, bool logits) noexcept;

// What the OMS says about this symbol: position and its working orders (any order; only this
// symbol's). Spans over the caller's memory, valid for the call.
struct AccountView {
  Qty position;
  std::span<const risk::OpenOrder> open;
};

enum class CancelWhy : std::uint8_t { none = 0, wrong_side, stale, reprice };

struct Intent {
  enum class Kind : std::uint8_t { new_order = 0, cancel = 1 };
  Kind kind = Kind::new_order;
  CancelWhy why = CancelWhy::none;
  exec::OrderRequest order;    // kind new_order (client_order_id empty: the OMS assigns it)
  exec::CancelRequest cancel;  // kind cancel (own client_order_id empty: the OMS assigns it)
};

struct StrategyCounters {
  risk::SingleWriterCounter decisions;       // on_model_output calls
  risk::SingleWriterCounter maintenance;     // on_book calls
  risk::SingleWriterCounter signal_changes;
  risk::SingleWriterCounter new_intents;
  risk::SingleWriterCounter cancel_intents;
  risk::SingleWriterCounter throttled;       // a new order waited for min_interval_ns
  risk::SingleWriterCounter no_book;         // a new order waited for a tradable top
  risk::SingleWriterCounter dropped;         // intents that did not fit the caller's array
  risk::SingleWriterCounter bad_output;      // non-finite model output (treated as flat)
};

class SignalStrategy {
 public:
  static constexpr std::size_t kMaxIntents = 8;

  // Setup: validates the config (error names the field).
  static Result<SignalStrategy> create(const StrategyConfig& cfg);

  // Per inference: out3 = the model's 3 outputs (down, flat, up). Updates the signal and target,
  // then acts (cancels, at most one new order) into `out`. Returns the number of intents written.
  [[nodiscard]] std::size_t on_model_output(const float* out3, const risk::MarketTop& top,
                                            const AccountView& acct, std::int64_t now_ns,
                                            std::span<Intent> out) noexcept;
  // Per book change (optional): acts on the current target without a new signal.
  [[nodiscard]] std::size_t on_book(const risk::MarketTop& top, const AccountView& acct,
                                    std::int64_t now_ns, std::span<Intent> out) noexcept;

  Signal signal() const noexcept { return signal_; }
  Qty target() const noexcept { return target_; }
  const Probabilities& last_probabilities() const noexcept { return probs_; }
  const StrategyConfig& config() const noexcept { return cfg_; }
  const StrategyCounters& counters() const noexcept { return *c_; }
  // Back to flat with no memory of the last intent time (e.g. after a kill-switch reset).
  void reset() noexcept;

 private:
  explicit SignalStrategy(const StrategyConfig& cfg);
  std::int64_t round_down(std::int64_t raw) const noexcept;
  std::size_t act(const risk::MarketTop& top, const AccountView& acct, std::int64_t now_ns,
                  std::span<Intent> out) noexcept;

  StrategyConfig cfg_;
  exec::SymbolName symbol_;
  Signal signal_ = Signal::flat;
  Qty target_;
  Probabilities probs_{0, 1, 0};
  std::int64_t last_new_ns_ = 0;
  bool any_new_ = false;
  // Counters are atomics (readable by a metrics thread); held by pointer so the strategy stays a
  // movable value type (Result<SignalStrategy>).
  std::unique_ptr<StrategyCounters> c_;
};

}  // namespace tickrt::strategy
