// backtest/backtest_config.cpp — `tickrt backtest` configuration (see backtester.hpp).
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "backtest/backtester.hpp"

namespace tickrt::backtest {

namespace fs = std::filesystem;

const std::string_view kDefaultBacktestToml = R"(# tickrt backtest: every key with its default (src/backtest/backtester.hpp, docs/BACKTEST.md).
[backtest]
data = ["data/captures/spot_btcusdt_20240808.gz"]   # capture files, merged by receive stamp
engines = ["models/trained/lstm_attn_s/model.onnx"] # "path" or "label=path"; .onnx (FP32) or .engine
symbol = ""                   # traded symbol; "" = the first symbol in the data
seed = 1
zero_latency_twins = true     # also run each engine with inference charged 0 ns
capital = 10000.0             # quote units the returns are measured against
equity_period_ms = 1000       # equity sampled every this much simulated time (and on every fill)
record_wall_time = true       # false: no wall time in the result (byte-identical reruns)
title = "tickrt backtest"
out = "backtest-out"          # report directory (--out overrides)
stream_max_gap_ms = 5000      # streaming models: as [model] stream_max_gap_ms / stream_warmup of tickrt run
stream_warmup = -1

[latency]
feed_floor_us = 0.0           # one-way latency of each file's fastest message (not in the data)
features = "measured"         # "measured" or fixed:<us> | normal:<mean>,<sd> | lognormal:<median>,<sigma> | uniform:<lo>,<hi>
inference = "measured"        # per engine: measured on this machine at the start, or a spec as above
inference_samples = 300       # timed inferences per engine when measured
window_prefix = true          # window LSTM models: charge the last step when the live prefix would be ready
infer_at_boundary = true      # as tickrt run's [engine] infer_at_boundary: the model runs at the sample's boundary
                              # when the thread is free before the message; the message waits only for the rest
inference_by_engine = {}      # per engine, by run label: { int8 = "fixed:40", fp32 = "measured" }
order_out = "lognormal:250,0.3"    # OMS -> matching engine, microseconds
order_back = "lognormal:250,0.3"   # matching engine -> OMS

[sim]
maker_fee_bps = 10.0
taker_fee_bps = 10.0
queue_model = "proportional"  # proportional | cancels_behind | cancels_ahead (docs/SIMULATOR.md)

# [strategy] and [risk]: the same keys and defaults as `tickrt run` (configs/tickrt.toml).
[strategy]
enter_prob = 0.55
exit_prob = 0.45
min_edge = 0.10
sizing = "fixed"
style = "passive"
aggressive_market = false
order_qty = 0.001
max_position = 0.01
reprice_ticks = 1
passive_max_age_ms = 5000
min_interval_ms = 100
tick_size = 0.01
qty_step = 0.00001

[risk]
max_order_notional = 1000.0
min_order_notional = 5.0
max_gross_notional = 5000.0
collar_bps = 50
max_open_orders = 4
max_orders_per_s = 10
max_daily_loss = 100.0
max_drawdown = 100.0
max_md_staleness_ms = 2000
)";

std::vector<EngineSpec> parse_engine_list(std::string_view csv) {
  std::vector<EngineSpec> out;
  std::size_t pos = 0;
  while (pos <= csv.size()) {
    std::size_t c = csv.find(',', pos);
    if (c == std::string_view::npos) c = csv.size();
    std::string_view item = csv.substr(pos, c - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      EngineSpec e;
      const std::size_t eq = item.find('=');
      if (eq != std::string_view::npos) {
        e.label = std::string(item.substr(0, eq));
        e.path = std::string(item.substr(eq + 1));
      } else {
        e.path = std::string(item);
      }
      out.push_back(std::move(e));
    }
    pos = c + 1;
  }
  return out;
}

namespace {

struct Reader {
  std::string origin;
  Status st;
  void fail(const toml::node& n, const std::string& key, const std::string& why) {
    if (!st.ok()) return;
    st = Status(Code::invalid_argument,
                origin + ":" + std::to_string(n.source().begin.line) + ": key '" + key + "': " + why);
  }
  void only(const toml::table& t, const std::string& prefix, std::initializer_list<const char*> keys) {
    const std::set<std::string> ok(keys.begin(), keys.end());
    for (auto&& [k, v] : t) {
      if (!ok.count(std::string(k.str())))
        fail(v, prefix + std::string(k.str()), "unknown key (typo?); known: " + [&] {
          std::string s;
          for (auto* x : keys) s += (s.empty() ? "" : ", ") + std::string(x);
          return s;
        }());
    }
  }
  template <class T>
  void get(const toml::table& t, const std::string& tab, const char* key, T& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    const std::string full = tab + "." + key;
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value_exact<bool>()) out = *v;
      else fail(*n, full, "expected true or false");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = n->value_exact<std::string>()) out = *v;
      else fail(*n, full, "expected a string");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = n->value<double>()) out = *v;
      else fail(*n, full, "expected a number");
    } else {
      if (auto v = n->value_exact<std::int64_t>()) out = static_cast<T>(*v);
      else fail(*n, full, "expected an integer");
    }
  }
  void strings(const toml::table& t, const std::string& tab, const char* key, std::vector<std::string>& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    const std::string full = tab + "." + key;
    if (auto s = n->value_exact<std::string>()) {
      out = {*s};
      return;
    }
    const toml::array* a = n->as_array();
    if (!a) return fail(*n, full, "expected a string or an array of strings");
    out.clear();
    for (auto&& e : *a) {
      if (auto s = e.value_exact<std::string>()) out.push_back(*s);
      else return fail(e, full, "expected strings");
    }
  }
};

std::string resolve(const std::string& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute() || base.empty()) return p;
  return (fs::path(base) / p).lexically_normal().string();
}

}  // namespace

Result<BacktestConfig> parse_backtest_config(std::string_view text, std::string_view origin_sv, const std::string& base_dir) {
  BacktestConfig c;
  c.origin = std::string(origin_sv);
  c.base_dir = base_dir;
  // Defaults first (the embedded text), then the file on top: a key absent from the file keeps
  // the default shown in kDefaultBacktestToml.
  toml::table root, defaults;
  try {
    defaults = toml::parse(kDefaultBacktestToml, std::string_view("<embedded>"));
  } catch (const toml::parse_error& e) {
    return Status(Code::internal, std::string("embedded backtest defaults: ") + std::string(e.description()));
  }
  try {
    root = toml::parse(text, std::string_view(c.origin));
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << c.origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return Status(Code::parse_error, o.str());
  }
  Reader r{c.origin, {}};
  r.only(root, "", {"backtest", "latency", "sim", "strategy", "risk"});
  for (const char* t : {"backtest", "latency", "sim", "strategy", "risk"}) {
    if (const toml::node* n = root.get(t); n && !n->is_table()) r.fail(*n, t, std::string("expected a table [") + t + "]");
  }
  if (!r.st.ok()) return r.st;
  // Merge: defaults overwritten key by key.
  for (auto&& [k, v] : root) {
    if (!v.is_table()) continue;
    toml::table* dt = defaults[k].as_table();
    for (auto&& [kk, vv] : *v.as_table()) dt->insert_or_assign(kk, vv);
  }
  const toml::table empty;
  auto tab = [&](const char* n) -> const toml::table& {
    const toml::table* t = root[n].as_table();
    return t ? *t : empty;
  };
  std::vector<std::string> engines;
  {
    const toml::table& t = tab("backtest");
    r.only(t, "backtest.", {"data", "engines", "symbol", "seed", "zero_latency_twins", "capital", "equity_period_ms",
                            "record_wall_time", "title", "out", "stream_max_gap_ms", "stream_warmup"});
    const toml::table& d = *defaults["backtest"].as_table();
    r.strings(d, "backtest", "data", c.data);
    r.strings(d, "backtest", "engines", engines);
    r.get(d, "backtest", "symbol", c.symbol);
    std::int64_t seed = 1;
    r.get(d, "backtest", "seed", seed);
    c.seed = static_cast<std::uint64_t>(seed);
    r.get(d, "backtest", "zero_latency_twins", c.zero_latency_twins);
    r.get(d, "backtest", "capital", c.capital);
    if (c.capital <= 0) r.fail(*d.get("capital"), "backtest.capital", "must be > 0");
    r.get(d, "backtest", "equity_period_ms", c.equity_period_ms);
    if (c.equity_period_ms <= 0) r.fail(*d.get("equity_period_ms"), "backtest.equity_period_ms", "must be > 0");
    r.get(d, "backtest", "record_wall_time", c.record_wall_time);
    r.get(d, "backtest", "title", c.title);
    r.get(d, "backtest", "out", c.out);
    r.get(d, "backtest", "stream_max_gap_ms", c.stream_max_gap_ms);
    if (c.stream_max_gap_ms < 1) r.fail(*d.get("stream_max_gap_ms"), "backtest.stream_max_gap_ms", "must be >= 1");
    std::int64_t warm = c.stream_warmup;
    r.get(d, "backtest", "stream_warmup", warm);
    if (warm < -1 || warm > 100'000) r.fail(*d.get("stream_warmup"), "backtest.stream_warmup", "must be in [-1, 100000]");
    c.stream_warmup = static_cast<int>(warm);
  }
  {
    const toml::table& t = tab("latency");
    r.only(t, "latency.", {"feed_floor_us", "features", "inference", "inference_samples", "window_prefix", "infer_at_boundary",
                           "inference_by_engine",
                           "order_out", "order_back"});
    const toml::table& d = *defaults["latency"].as_table();
    r.get(d, "latency", "feed_floor_us", c.feed_floor_us);
    if (c.feed_floor_us < 0) r.fail(*d.get("feed_floor_us"), "latency.feed_floor_us", "must be >= 0");
    r.get(d, "latency", "features", c.features);
    r.get(d, "latency", "inference", c.inference);
    r.get(d, "latency", "inference_samples", c.inference_samples);
    r.get(d, "latency", "window_prefix", c.window_prefix);
    r.get(d, "latency", "infer_at_boundary", c.infer_at_boundary);
    if (c.inference_samples < 10 || c.inference_samples > 100'000)
      r.fail(*d.get("inference_samples"), "latency.inference_samples", "must be in [10, 100000]");
    if (const toml::node* n = d.get("inference_by_engine")) {
      const toml::table* m = n->as_table();
      if (!m) {
        r.fail(*n, "latency.inference_by_engine", "expected a table { label = \"spec\", ... }");
      } else {
        for (auto&& [k, v] : *m) {
          const std::string key = "latency.inference_by_engine." + std::string(k.str());
          auto spec = v.value_exact<std::string>();
          if (!spec) {
            r.fail(v, key, "expected a string (\"measured\" or a latency spec)");
            continue;
          }
          if (*spec != "measured") {
            auto p = LatencyDist::parse(*spec, c.origin + ": key '" + key + "'");
            if (!p.ok() && r.st.ok()) r.st = p.status();
          }
          c.inference_by_engine.emplace_back(std::string(k.str()), *spec);
        }
      }
    }
    r.get(d, "latency", "order_out", c.order_out);
    r.get(d, "latency", "order_back", c.order_back);
    // Specs checked now so a typo fails before any data is loaded.
    for (auto [key, val, measured_ok] : {std::tuple{"features", &c.features, true}, std::tuple{"inference", &c.inference, true},
                                         std::tuple{"order_out", &c.order_out, false}, std::tuple{"order_back", &c.order_back, false}}) {
      if (measured_ok && *val == "measured") continue;
      auto p = LatencyDist::parse(*val, c.origin + ": key 'latency." + key + "'");
      if (!p.ok() && r.st.ok()) r.st = p.status();
    }
  }
  {
    const toml::table& t = tab("sim");
    r.only(t, "sim.", {"maker_fee_bps", "taker_fee_bps", "queue_model"});
    const toml::table& d = *defaults["sim"].as_table();
    r.get(d, "sim", "maker_fee_bps", c.maker_fee_bps);
    r.get(d, "sim", "taker_fee_bps", c.taker_fee_bps);
    r.get(d, "sim", "queue_model", c.queue_model);
    if (c.queue_model != "proportional" && c.queue_model != "cancels_behind" && c.queue_model != "cancels_ahead")
      r.fail(*d.get("queue_model"), "sim.queue_model",
             "expected one of proportional|cancels_behind|cancels_ahead, got \"" + c.queue_model + "\"");
  }
  if (!r.st.ok()) return r.st;
  // [strategy] / [risk]: the pipeline's loader (its messages name the key; the line numbers are
  // of the merged tables, so the origin says so).
  {
    toml::table tr;
    tr.insert("strategy", *defaults["strategy"].as_table());
    tr.insert("risk", *defaults["risk"].as_table());
    std::ostringstream o;
    o << tr;
    auto pc = pipeline::parse_config(o.str(), c.origin + " ([strategy]/[risk])", base_dir);
    if (!pc.ok()) return pc.status();
    c.trading = std::move(pc.value());
    c.trading.journal.clear();
  }
  for (std::string& d : c.data) d = resolve(base_dir, d);
  for (const std::string& e : engines)
    for (EngineSpec& s : parse_engine_list(e)) {
      s.path = resolve(base_dir, s.path);
      c.engines.push_back(std::move(s));
    }
  std::ostringstream eff;
  eff << defaults;
  c.effective_toml = eff.str();
  return c;
}

Result<BacktestConfig> load_backtest_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::not_found, path + ": cannot open backtest config");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return parse_backtest_config(ss.str(), path, dir);
}

}  // namespace tickrt::backtest
