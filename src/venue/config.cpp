// venue/config.cpp — `tickrt sim` settings: defaults and the TOML file (toml++). Setup path.
#include <toml++/toml.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "venue/venue.hpp"

namespace tickrt::venue {

namespace {

sim::SymbolSpec spec(std::string_view name, std::string_view base, std::string_view quote, std::int64_t tick_raw,
                     std::int64_t step_raw) {
  sim::SymbolSpec s;
  s.name = exec::SymbolName::from(name);
  s.base = sim::AssetName::from(base);
  s.quote = sim::AssetName::from(quote);
  s.tick_size = Price::from_raw(tick_raw);
  s.step_size = Qty::from_raw(step_raw);
  s.min_qty = Qty::from_raw(step_raw);
  s.min_notional_raw = 5 * kDecimalScale;  // Binance spot NOTIONAL minNotional 5 USDT
  return s;
}

std::string where(const std::string& path, const toml::node& n) {
  std::ostringstream o;
  o << path << ":" << n.source().begin.line;
  return o.str();
}

struct Reader {
  const std::string& path;
  Status st;

  void fail(const toml::node& n, const std::string& key, const std::string& what) {
    if (st.ok()) st = Status(Code::invalid_argument, where(path, n) + ": " + key + ": " + what);
  }
  // Checks that a table holds only the allowed keys.
  void only(const toml::table& t, const std::string& table, std::initializer_list<std::string_view> keys) {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (auto a : keys) ok |= (k.str() == a);
      if (!ok) fail(v, table + "." + std::string(k.str()), "unknown key");
    }
  }
  template <class T>
  void get(const toml::table& t, std::string_view k, const std::string& table, T& out) {
    const toml::node* n = t.get(k);
    if (!n) return;
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = n->value<std::string>()) out = *v;
      else fail(*n, table + "." + std::string(k), "expected a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value<bool>()) out = *v;
      else fail(*n, table + "." + std::string(k), "expected true or false");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = n->value<double>()) out = static_cast<T>(*v);
      else fail(*n, table + "." + std::string(k), "expected a number");
    } else {
      if (auto v = n->value<std::int64_t>(); v && *v >= 0) out = static_cast<T>(*v);
      else fail(*n, table + "." + std::string(k), "expected a non-negative integer");
    }
  }
  void strings(const toml::table& t, std::string_view k, const std::string& table, std::vector<std::string>& out) {
    const toml::node* n = t.get(k);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) return fail(*n, table + "." + std::string(k), "expected an array of strings");
    out.clear();
    for (auto&& e : *a) {
      if (auto v = e.value<std::string>()) out.push_back(*v);
      else return fail(e, table + "." + std::string(k), "expected an array of strings");
    }
  }
  // A decimal given as a string ("0.01") or a number (0.01 is read through its shortest text).
  void decimal(const toml::table& t, std::string_view k, const std::string& table, std::int64_t& raw) {
    const toml::node* n = t.get(k);
    if (!n) return;
    std::string text;
    if (auto s = n->value<std::string>()) {
      text = *s;
    } else if (auto i = n->value<std::int64_t>(); i && n->is_integer()) {
      text = std::to_string(*i);
    } else if (auto d = n->value<double>()) {
      std::ostringstream o;
      o.precision(15);
      o << *d;
      text = o.str();
    } else {
      return fail(*n, table + "." + std::string(k), "expected a decimal (string or number)");
    }
    if (parse_decimal(text, raw) != DecimalError::ok)
      fail(*n, table + "." + std::string(k), "'" + text + "' is not an exact decimal with at most 8 fractional digits");
  }
};

}  // namespace

SimSetup default_sim_setup() {
  SimSetup s;
  s.engine.symbols.push_back(spec("BTCUSDT", "BTC", "USDT", 1'000'000, 1'000));       // tick 0.01, step 0.00001
  s.engine.symbols.push_back(spec("ETHUSDT", "ETH", "USDT", 1'000'000, 10'000));      // tick 0.01, step 0.0001
  s.engine.start_balances = {{sim::AssetName::from("USDT"), 100'000 * kDecimalScale},
                             {sim::AssetName::from("BTC"), 10 * kDecimalScale},
                             {sim::AssetName::from("ETH"), 100 * kDecimalScale}};
  s.venue.port = 8080;
  return s;
}

Result<SimSetup> load_sim_setup(const std::string& path) {
  SimSetup s = default_sim_setup();
  toml::table root;
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return Status(Code::parse_error, o.str());
  }
  Reader r{path, {}};
  r.only(root, "", {"venue", "engine", "faults"});

  if (const toml::table* v = root["venue"].as_table()) {
    r.only(*v, "venue", {"bind_address", "port", "captures", "speed", "symbols", "keys", "weight_limit_1m",
                         "server_time_offset_ms", "ws_queue_limit", "max_pace_queue", "preroll_max_lines",
                         "interleave"});
    r.get(*v, "bind_address", "venue", s.venue.bind_address);
    std::int64_t port = s.venue.port;
    r.get(*v, "port", "venue", port);
    if (port > 65535) r.fail(*v->get("port"), "venue.port", "must be <= 65535");
    s.venue.port = static_cast<std::uint16_t>(port);
    r.strings(*v, "captures", "venue", s.venue.captures);
    if (const toml::node* n = v->get("interleave")) {
      // true / false force it; "auto" = interleave when the captures' symbols differ (venue.hpp).
      if (auto b = n->value_exact<bool>()) {
        s.venue.interleave = *b ? VenueConfig::Interleave::on : VenueConfig::Interleave::off;
      } else if (auto t = n->value<std::string>(); t && *t == "auto") {
        s.venue.interleave = VenueConfig::Interleave::automatic;
      } else {
        r.fail(*n, "venue.interleave", "expected true, false or \"auto\"");
      }
    }
    r.get(*v, "speed", "venue", s.venue.speed);
    if (s.venue.speed < 0) r.fail(*v->get("speed"), "venue.speed", "must be >= 0 (0 = as fast as possible)");
    r.strings(*v, "symbols", "venue", s.venue.symbols);
    r.get(*v, "weight_limit_1m", "venue", s.venue.weight_limit_1m);
    if (const toml::node* n = v->get("server_time_offset_ms")) {
      if (auto x = n->value<std::int64_t>()) s.venue.server_time_offset_ms = *x;
      else r.fail(*n, "venue.server_time_offset_ms", "expected an integer");
    }
    r.get(*v, "ws_queue_limit", "venue", s.venue.ws_queue_limit);
    r.get(*v, "max_pace_queue", "venue", s.venue.max_pace_queue);
    r.get(*v, "preroll_max_lines", "venue", s.venue.preroll_max_lines);
    if (const toml::node* kn = v->get("keys")) {
      const toml::array* a = kn->as_array();
      if (!a) {
        r.fail(*kn, "venue.keys", "expected [[venue.keys]] tables");
      } else {
        s.venue.keys.clear();
        for (auto&& e : *a) {
          const toml::table* t = e.as_table();
          if (!t) { r.fail(e, "venue.keys", "expected a table"); break; }
          r.only(*t, "venue.keys", {"api_key", "secret", "account"});
          ApiKey k;
          k.key.clear();
          r.get(*t, "api_key", "venue.keys", k.key);
          r.get(*t, "secret", "venue.keys", k.secret);
          r.get(*t, "account", "venue.keys", k.account);
          if (k.key.empty() || k.secret.empty()) r.fail(e, "venue.keys", "api_key and secret are required");
          if (k.account >= sim::kMaxAccounts) r.fail(e, "venue.keys.account", "must be < 4096");
          s.venue.keys.push_back(k);
        }
      }
    }
  }
  if (const toml::table* e = root["engine"].as_table()) {
    r.only(*e, "engine", {"maker_fee_bps", "taker_fee_bps", "enforce_balances", "queue_model", "seed", "balances", "symbols"});
    r.get(*e, "maker_fee_bps", "engine", s.engine.maker_fee_bps);
    r.get(*e, "taker_fee_bps", "engine", s.engine.taker_fee_bps);
    r.get(*e, "enforce_balances", "engine", s.engine.enforce_balances);
    std::int64_t seed = s.engine.seed;
    r.get(*e, "seed", "engine", seed);
    s.engine.seed = seed;
    std::string qm;
    r.get(*e, "queue_model", "engine", qm);
    if (!qm.empty()) {
      if (qm == "proportional") s.engine.queue_model = sim::QueueModel::proportional;
      else if (qm == "cancels_behind") s.engine.queue_model = sim::QueueModel::cancels_behind;
      else if (qm == "cancels_ahead") s.engine.queue_model = sim::QueueModel::cancels_ahead;
      else r.fail(*e->get("queue_model"), "engine.queue_model", "expected proportional, cancels_behind or cancels_ahead");
    }
    if (const toml::table* b = (*e)["balances"].as_table()) {
      s.engine.start_balances.clear();
      for (auto&& [k, val] : *b) {
        std::int64_t raw = 0;
        r.decimal(*b, k.str(), "engine.balances", raw);
        s.engine.start_balances.emplace_back(sim::AssetName::from(k.str()), raw);
      }
    }
    if (const toml::node* sn = e->get("symbols")) {
      const toml::array* a = sn->as_array();
      if (!a) {
        r.fail(*sn, "engine.symbols", "expected [[engine.symbols]] tables");
      } else {
        s.engine.symbols.clear();
        for (auto&& el : *a) {
          const toml::table* t = el.as_table();
          if (!t) { r.fail(el, "engine.symbols", "expected a table"); break; }
          r.only(*t, "engine.symbols", {"name", "base", "quote", "tick_size", "step_size", "min_qty", "max_qty", "min_notional"});
          std::string name, base, quote;
          r.get(*t, "name", "engine.symbols", name);
          r.get(*t, "base", "engine.symbols", base);
          r.get(*t, "quote", "engine.symbols", quote);
          if (name.empty() || base.empty() || quote.empty()) r.fail(el, "engine.symbols", "name, base and quote are required");
          std::int64_t tick = 1'000'000, step = 1'000, minq = -1, maxq = 9000 * kDecimalScale, notional = 5 * kDecimalScale;
          r.decimal(*t, "tick_size", "engine.symbols", tick);
          r.decimal(*t, "step_size", "engine.symbols", step);
          r.decimal(*t, "min_qty", "engine.symbols", minq);
          r.decimal(*t, "max_qty", "engine.symbols", maxq);
          r.decimal(*t, "min_notional", "engine.symbols", notional);
          sim::SymbolSpec sp = spec(name, base, quote, tick, step);
          sp.min_qty = Qty::from_raw(minq >= 0 ? minq : step);
          sp.max_qty = Qty::from_raw(maxq);
          sp.min_notional_raw = notional;
          s.engine.symbols.push_back(sp);
        }
      }
    }
  }
  if (const toml::table* f = root["faults"].as_table()) {
    r.only(*f, "faults", {"drop_md", "gap", "gap_ids", "ack_delay_ms", "ack_jitter_ms", "lose_ack", "reject", "throttle",
                          "disconnects"});
    sim::FaultConfig& fc = s.engine.faults;
    r.get(*f, "drop_md", "faults", fc.drop_md);
    r.get(*f, "gap", "faults", fc.gap);
    r.get(*f, "gap_ids", "faults", fc.gap_ids);
    double ad = 0, aj = 0;
    r.get(*f, "ack_delay_ms", "faults", ad);
    r.get(*f, "ack_jitter_ms", "faults", aj);
    fc.ack_delay_ns = static_cast<std::int64_t>(ad * 1e6);
    fc.ack_jitter_ns = static_cast<std::int64_t>(aj * 1e6);
    r.get(*f, "lose_ack", "faults", fc.lose_ack);
    r.get(*f, "reject", "faults", fc.reject);
    r.get(*f, "throttle", "faults", fc.throttle);
    for (double* x : {&fc.drop_md, &fc.gap, &fc.lose_ack, &fc.reject, &fc.throttle})
      if (*x < 0 || *x > 1) r.fail(*f, "faults", "fractions must be in [0, 1]");
    if (const toml::node* dn = f->get("disconnects")) {
      // disconnects = [[start_s, end_s], ...] in seconds after the server started.
      const toml::array* a = dn->as_array();
      bool ok = a != nullptr;
      if (ok) {
        for (auto&& w : *a) {
          const toml::array* p = w.as_array();
          if (!p || p->size() != 2) { ok = false; break; }
          auto s0 = (*p)[0].value<double>(), s1 = (*p)[1].value<double>();
          if (!s0 || !s1 || *s1 <= *s0) { ok = false; break; }
          fc.disconnects.push_back({static_cast<std::int64_t>(*s0 * 1e9), static_cast<std::int64_t>(*s1 * 1e9)});
        }
      }
      if (!ok) r.fail(*dn, "faults.disconnects", "expected [[start_s, end_s], ...] with end > start");
    }
  }
  if (!r.st.ok()) return r.st;
  return s;
}

}  // namespace tickrt::venue
