// pipeline/config.cpp — TOML -> PipelineConfig with errors that name the key.
#include "pipeline/config.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace tickrt::pipeline {

std::string_view thread_mode_name(ThreadMode m) noexcept { return m == ThreadMode::inline_ ? "inline" : "pipelined"; }
std::string_view idle_name(IdleKind k) noexcept {
  switch (k) {
    case IdleKind::busy: return "busy";
    case IdleKind::yield: return "yield";
    case IdleKind::sleep: return "sleep";
  }
  return "?";
}
std::string_view feed_source_name(FeedSource s) noexcept {
  switch (s) {
    case FeedSource::sim: return "sim";
    case FeedSource::url: return "url";
    case FeedSource::capture: return "capture";
  }
  return "?";
}

const std::string_view kDefaultConfigToml = R"toml(# tickrt run: embedded default configuration (configs/tickrt.toml documents every key)
[feed]
source = "sim"
capture = "data/captures/spot_btcusdt_20240808.gz"
speed = 1.0
duration_s = 60.0

[model]
path = "models/trained/lstm_attn_s/model.onnx"

[threads]
mode = "inline"

[batch]
max_batch = 8
max_delay_us = 50
coalesce = true
)toml";

namespace {

// Walks one table: each get_*() marks its key known, checks the type and range, and records the
// first error as "<origin>: key 'table.key': ..."; finish() reports keys nobody asked for.
class TableReader {
 public:
  TableReader(const toml::table* t, std::string prefix, std::string origin, Status& st)
      : t_(t), prefix_(std::move(prefix)), origin_(std::move(origin)), st_(st) {}

  void get_str(const char* key, std::string& out) {
    const toml::node* n = find(key);
    if (!n) return;
    if (auto v = n->value<std::string>()) out = *v;
    else fail(key, n, "expected a string");
  }
  void get_bool(const char* key, bool& out) {
    const toml::node* n = find(key);
    if (!n) return;
    if (auto v = n->value_exact<bool>()) out = *v;
    else fail(key, n, "expected true or false");
  }
  void get_double(const char* key, double& out, double lo, double hi) {
    const toml::node* n = find(key);
    if (!n) return;
    std::optional<double> v;
    if (n->is_integer()) v = static_cast<double>(*n->value<std::int64_t>());
    else if (n->is_floating_point()) v = *n->value<double>();
    if (!v) return fail(key, n, "expected a number");
    if (!(*v >= lo && *v <= hi)) return fail(key, n, range_msg(lo, hi));
    out = *v;
  }
  template <class I>
  void get_int(const char* key, I& out, std::int64_t lo, std::int64_t hi) {
    const toml::node* n = find(key);
    if (!n) return;
    auto v = n->value_exact<std::int64_t>();
    if (!v) return fail(key, n, "expected an integer");
    if (*v < lo || *v > hi) return fail(key, n, range_msg(static_cast<double>(lo), static_cast<double>(hi)));
    out = static_cast<I>(*v);
  }
  template <class E>
  void get_enum(const char* key, E& out, std::initializer_list<std::pair<const char*, E>> choices) {
    const toml::node* n = find(key);
    if (!n) return;
    auto v = n->value<std::string>();
    std::string names;
    for (const auto& [name, e] : choices) {
      if (v && *v == name) { out = E(e); return; }
      names += names.empty() ? name : std::string("|") + name;
    }
    fail(key, n, "expected one of " + names + (v ? ", got \"" + *v + "\"" : ", got a non-string"));
  }
  void get_str_list(const char* key, std::vector<std::string>& out) {
    const toml::node* n = find(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) return fail(key, n, "expected an array of strings");
    out.clear();
    for (const toml::node& e : *a) {
      auto s = e.value<std::string>();
      if (!s) return fail(key, &e, "expected an array of strings");
      out.push_back(*s);
    }
  }
  void mark(const char* key) { known_.insert(key); }
  // A value of the right type that is still wrong (names the key and its line).
  void reject(const char* key, const std::string& what) { fail_raw(key, t_ ? t_->get(key) : nullptr, what); }
  void finish() {
    if (!t_ || !st_.ok()) return;
    for (const auto& [k, v] : *t_) {
      if (!known_.count(std::string(k.str()))) {
        fail_raw(std::string(k.str()), &v, "unknown key");
        return;
      }
    }
  }

 private:
  const toml::node* find(const char* key) {
    known_.insert(key);
    if (!t_ || !st_.ok()) return nullptr;
    return t_->get(key);
  }
  static std::string range_msg(double lo, double hi) {
    std::ostringstream o;
    o << "out of range [" << lo << ", " << hi << "]";
    return o.str();
  }
  void fail(const char* key, const toml::node* n, const std::string& what) { fail_raw(key, n, what); }
  void fail_raw(const std::string& key, const toml::node* n, const std::string& what) {
    if (!st_.ok()) return;
    std::ostringstream o;
    o << origin_;
    if (n) o << ":" << n->source().begin.line;
    o << ": key '" << prefix_ << key << "': " << what;
    st_ = Status(Code::invalid_argument, o.str());
  }

  const toml::table* t_;
  std::string prefix_, origin_;
  Status& st_;
  std::set<std::string> known_;
};

void read_thread(const toml::table* t, const std::string& name, const std::string& origin, ThreadConfig& tc, Status& st) {
  TableReader r(t, "threads." + name + ".", origin, st);
  r.get_int("cpu", tc.cpu, -1, 4095);
  r.get_enum<IdleKind>("idle", tc.idle, {{"busy", IdleKind::busy}, {"yield", IdleKind::yield}, {"sleep", IdleKind::sleep}});
  r.get_int("sleep_us", tc.sleep_us, 1, 1'000'000);
  r.finish();
}

}  // namespace

Result<PipelineConfig> parse_config(std::string_view text, std::string_view origin_sv, const std::string& base_dir) {
  const std::string origin(origin_sv);
  toml::table root;
  try {
    root = toml::parse(text, origin_sv);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": TOML syntax: " << e.description();
    return Result<PipelineConfig>(Code::parse_error, o.str());
  }
  PipelineConfig c;
  c.base_dir = base_dir;
  c.capture = "data/captures/spot_btcusdt_20240808.gz";
  c.model = "models/trained/lstm_attn_s/model.onnx";
  Status st;
  auto table = [&](const char* name) -> const toml::table* {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) {
      if (st.ok())
        st = Status(Code::invalid_argument, origin + ":" + std::to_string(n->source().begin.line) + ": key '" + name +
                                                "': expected a table [" + name + "]");
      return nullptr;
    }
    return n->as_table();
  };
  {
    TableReader r(&root, "", origin, st);
    // The top level holds only tables; each is read below.
    for (const char* t : {"feed", "model", "engine", "threads", "batch", "strategy", "risk", "exec", "metrics", "report"}) r.mark(t);
    r.finish();
  }
  {
    TableReader r(table("feed"), "feed.", origin, st);
    r.get_enum<FeedSource>("source", c.source, {{"sim", FeedSource::sim}, {"url", FeedSource::url}, {"capture", FeedSource::capture}});
    r.get_str("capture", c.capture);
    r.get_str_list("captures", c.captures);
    if (const toml::table* ft = table("feed"); ft && ft->get("captures")) {
      if (ft->get("capture"))
        r.reject("captures", "give either feed.capture (one file) or feed.captures (a list), not both");
      else if (c.captures.empty())
        r.reject("captures", "empty list (omit it to replay feed.capture)");
    }
    r.get_str_list("symbols", c.symbols);
    r.get_str("ws_url", c.ws_url);
    r.get_str("rest_url", c.rest_url);
    r.get_double("speed", c.speed, 0.0, 1e6);
    r.get_double("duration_s", c.duration_s, 0.0, 1e9);
    r.get_int("reconnect_ms", c.reconnect_ms, 0, 3'600'000);
    r.get_int("extra_symbols", c.extra_symbols, 0, 1023);
    r.get_bool("wire_tap", c.wire_tap);
    r.get_int("sim_cpu", c.sim_cpu, -1, 4095);
    r.finish();
  }
  {
    TableReader r(table("model"), "model.", origin, st);
    r.get_str("path", c.model);
    r.get_bool("watch", c.watch);
    r.get_int("watch_ms", c.watch_ms, 10, 3'600'000);
    r.get_int("workspace_limit_mb", c.workspace_limit_mb, 0, 1 << 20);
    r.get_bool("require_golden", c.require_golden);
    r.get_double("golden_tol", c.golden_tol, 0.0, 1.0);
    r.get_bool("swap_warm", c.swap_warm);
    r.get_int("swap_warm_max_ms", c.swap_warm_max_ms, 0, 60'000);
    r.get_int("stream_max_gap_ms", c.stream_max_gap_ms, 1, 86'400'000);
    r.get_int("stream_warmup", c.stream_warmup, -1, 100'000);
    r.finish();
  }
  {
    TableReader r(table("engine"), "engine.", origin, st);
    r.get_str("device", c.engine_device);
    r.get_str("fallback", c.engine_fallback);
    if (c.engine_device != "cpu" && c.engine_device != "cuda" && c.engine_device.rfind("cuda:", 0) != 0)
      r.reject("device", "expected \"cpu\", \"cuda\", \"cuda:N\" or \"cuda:<UUID>\", got \"" + c.engine_device + "\"");
    if (c.engine_fallback != "none" && c.engine_fallback != "cpu")
      r.reject("fallback", "expected \"none\" or \"cpu\", got \"" + c.engine_fallback + "\"");
    r.get_str("precision", c.precision);
    r.get_str("calib", c.calib);
    r.get_str("calib_cache", c.calib_cache);
    r.get_double("golden_min_agreement", c.golden_min_agreement, 0.0, 1.0);
    r.get_str("keep_warm", c.keep_warm);
    r.get_int("keep_warm_after_us", c.keep_warm_after_us, 0, 60'000'000);
    r.get_bool("keep_warm_path", c.keep_warm_path);
    r.get_int("keep_warm_trickle_us", c.keep_warm_trickle_us, 0, 60'000'000);
    r.get_bool("window_prefix", c.window_prefix);
    r.get_int("window_prefix_slice", c.window_prefix_slice, 1, 1024);
    r.get_bool("infer_at_boundary", c.infer_at_boundary);
    if (c.keep_warm != "off" && c.keep_warm != "touch" && c.keep_warm != "infer")
      r.reject("keep_warm", "expected \"off\", \"touch\" or \"infer\", got \"" + c.keep_warm + "\"");
    r.finish();
  }
  {
    const toml::table* t = table("threads");
    TableReader r(t, "threads.", origin, st);
    r.get_enum<ThreadMode>("mode", c.mode, {{"inline", ThreadMode::inline_}, {"pipelined", ThreadMode::pipelined}});
    r.get_int("infer_threads", c.infer_threads, 1, 64);
    r.get_int("ring_capacity", c.ring_capacity, 2, 1 << 20);
    r.get_bool("reserve_pinned_cpus", c.reserve_pinned_cpus);
    for (const char* sub : {"feed", "infer", "exec"}) {
      const toml::node* n = t ? t->get(sub) : nullptr;
      ThreadConfig& tc = std::string_view(sub) == "feed" ? c.feed : std::string_view(sub) == "infer" ? c.infer : c.exec;
      if (n && !n->is_table()) {
        if (st.ok())
          st = Status(Code::invalid_argument, origin + ":" + std::to_string(n->source().begin.line) + ": key 'threads." +
                                                  sub + "': expected a table [threads." + sub + "]");
      } else if (n) {
        read_thread(n->as_table(), sub, origin, tc, st);
      }
    }
    // sub-tables are known keys of [threads]
    if (t && st.ok()) {
      for (const auto& [k, v] : *t) {
        const std::string key(k.str());
        if (key != "mode" && key != "infer_threads" && key != "ring_capacity" && key != "reserve_pinned_cpus" && key != "feed" &&
            key != "infer" && key != "exec") {
          st = Status(Code::invalid_argument, origin + ":" + std::to_string(v.source().begin.line) + ": key 'threads." + key + "': unknown key");
          break;
        }
      }
    }
  }
  {
    TableReader r(table("batch"), "batch.", origin, st);
    r.get_int("max_batch", c.max_batch, 1, 256);
    r.get_int("max_delay_us", c.max_delay_us, 0, 1'000'000);
    r.get_bool("coalesce", c.coalesce);
    r.finish();
  }
  {
    TableReader r(table("strategy"), "strategy.", origin, st);
    r.get_double("enter_prob", c.enter_prob, 0.0, 1.0);
    r.get_double("exit_prob", c.exit_prob, 0.0, 1.0);
    r.get_double("min_edge", c.min_edge, 0.0, 1.0);
    r.get_enum<std::string>("sizing", c.sizing, {{"fixed", "fixed"}, {"max_position", "max_position"}, {"confidence", "confidence"}});
    r.get_enum<std::string>("style", c.style, {{"passive", "passive"}, {"aggressive", "aggressive"}});
    r.get_bool("aggressive_market", c.aggressive_market);
    r.get_double("order_qty", c.order_qty, 1e-8, 1e6);
    r.get_double("max_position", c.max_position, 0.0, 1e9);
    r.get_int("reprice_ticks", c.reprice_ticks, -1, 1'000'000);
    r.get_int("passive_max_age_ms", c.passive_max_age_ms, -1, 86'400'000);
    r.get_int("min_interval_ms", c.min_interval_ms, 0, 86'400'000);
    r.get_double("tick_size", c.tick_size, 1e-8, 1e6);
    r.get_double("qty_step", c.qty_step, 1e-8, 1e6);
    r.mark("symbols");
    r.finish();
    // [strategy.symbols.<SYMBOL>] tables: per-symbol sizes.
    const toml::table* stt = table("strategy");
    if (const toml::node* sn = stt ? stt->get("symbols") : nullptr) {
      if (!sn->is_table()) {
        if (st.ok())
          st = Status(Code::invalid_argument, origin + ":" + std::to_string(sn->source().begin.line) +
                                                  ": key 'strategy.symbols': expected tables [strategy.symbols.<SYMBOL>]");
      } else {
        for (const auto& [k, v] : *sn->as_table()) {
          const std::string sym(k.str());
          const std::string prefix = "strategy.symbols." + sym + ".";
          if (!v.is_table()) {
            if (st.ok())
              st = Status(Code::invalid_argument, origin + ":" + std::to_string(v.source().begin.line) + ": key '" +
                                                      prefix.substr(0, prefix.size() - 1) + "': expected a table");
            continue;
          }
          bool upper_ok = !sym.empty() && sym.size() <= 20;
          for (char ch : sym) upper_ok &= (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
          if (!upper_ok && st.ok())
            st = Status(Code::invalid_argument, origin + ":" + std::to_string(v.source().begin.line) + ": key '" +
                                                    prefix.substr(0, prefix.size() - 1) + "': expected an upper-case symbol name");
          PipelineConfig::SymbolSizing z;
          z.symbol = sym;
          TableReader zr(v.as_table(), prefix, origin, st);
          zr.get_double("order_qty", z.order_qty, 1e-8, 1e6);
          zr.get_double("max_position", z.max_position, 0.0, 1e9);
          zr.get_double("tick_size", z.tick_size, 1e-8, 1e6);
          zr.get_double("qty_step", z.qty_step, 1e-8, 1e6);
          zr.get_double("min_order_notional", z.min_order_notional, 0.0, 1e12);
          zr.finish();
          c.symbol_sizing.push_back(z);
        }
      }
    }
  }
  {
    TableReader r(table("risk"), "risk.", origin, st);
    r.get_double("max_order_notional", c.max_order_notional, 0.0, 1e12);
    r.get_double("min_order_notional", c.min_order_notional, 0.0, 1e12);
    r.get_double("max_gross_notional", c.max_gross_notional, 0.0, 1e12);
    r.get_int("collar_bps", c.collar_bps, 1, 100'000);
    r.get_int("max_open_orders", c.max_open_orders, 1, 100'000);
    r.get_int("max_orders_per_s", c.max_orders_per_s, 1, 1'000'000);
    r.get_double("max_daily_loss", c.max_daily_loss, 0.0, 1e12);
    r.get_double("max_drawdown", c.max_drawdown, 0.0, 1e12);
    r.get_int("max_md_staleness_ms", c.max_md_staleness_ms, 1, 86'400'000);
    r.finish();
  }
  {
    TableReader r(table("exec"), "exec.", origin, st);
    r.get_bool("trade", c.trade);
    r.get_str("journal", c.journal);
    r.get_str("id_prefix", c.id_prefix);
    r.get_str("api_key", c.api_key);
    r.get_str("api_secret", c.api_secret);
    r.get_bool("recover", c.recover);
    r.get_bool("recovery_full_history", c.recovery_full_history);
    r.get_bool("allow_foreign_orders", c.allow_foreign_orders);
    r.get_int("cancel_timeout_ms", c.cancel_timeout_ms, 0, 600'000);
    r.get_int("gateway_spin_us", c.gateway_spin_us, -1, 60'000'000);
    r.get_int("gateway_sleep_us", c.gateway_sleep_us, 0, 1'000'000);
    r.get_int("gateway_cpu", c.gateway_cpu, -1, 4095);
    r.get_bool("gateway_warm_send", c.gateway_warm_send);
    r.finish();
  }
  {
    TableReader r(table("metrics"), "metrics.", origin, st);
    r.get_bool("enabled", c.metrics);
    r.get_str("listen", c.metrics_listen);
    r.get_str("control_token", c.control_token);
    r.finish();
  }
  {
    TableReader r(table("report"), "report.", origin, st);
    r.get_bool("print_orders", c.print_orders);
    r.get_int("max_order_lines", c.max_order_lines, 0, 1'000'000);
    r.finish();
  }
  if (!st.ok()) return st;
  // Cross-key checks.
  if (c.source == FeedSource::url && c.symbols.empty())
    return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'feed.symbols': required when feed.source = \"url\"");
  for (const std::string& s : c.symbols) {
    if (s.empty() || s.size() > 20)
      return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'feed.symbols': bad symbol \"" + s + "\"");
  }
  if (c.source != FeedSource::url && c.capture.empty() && c.captures.empty())
    return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'feed.capture': empty");
  for (const std::string& f : c.captures)
    if (f.empty()) return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'feed.captures': an empty path");
  if (c.source == FeedSource::capture && c.captures.size() > 1)
    return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'feed.captures': " + std::to_string(c.captures.size()) +
                                                              " files need feed.source = \"sim\" (the capture source reads one file; "
                                                              "extra_symbols renames its copies)");
  if (c.model.empty()) return Result<PipelineConfig>(Code::invalid_argument, origin + ": key 'model.path': empty");
  return c;
}

Result<PipelineConfig> load_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Result<PipelineConfig>(Code::not_found, path + ": cannot open config file");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::filesystem::path dir = std::filesystem::absolute(std::filesystem::path(path)).parent_path();
  return parse_config(text, path, dir.string());
}

Result<PipelineConfig> default_config(const std::string& source_root) {
  return parse_config(kDefaultConfigToml, "<embedded default config>", source_root);
}

std::string resolve_path(const PipelineConfig& cfg, const std::string& p) {
  if (p.empty()) return p;
  std::filesystem::path fp(p);
  if (fp.is_absolute() || cfg.base_dir.empty()) return p;
  return (std::filesystem::path(cfg.base_dir) / fp).lexically_normal().string();
}

PipelineConfig for_symbol(const PipelineConfig& cfg, std::string_view symbol) {
  PipelineConfig c = cfg;
  for (const PipelineConfig::SymbolSizing& z : cfg.symbol_sizing) {
    if (z.symbol != symbol) continue;
    if (z.order_qty >= 0) c.order_qty = z.order_qty;
    if (z.max_position >= 0) c.max_position = z.max_position;
    if (z.tick_size >= 0) c.tick_size = z.tick_size;
    if (z.qty_step >= 0) c.qty_step = z.qty_step;
    if (z.min_order_notional >= 0) c.min_order_notional = z.min_order_notional;
  }
  return c;
}

std::vector<std::string> capture_paths(const PipelineConfig& cfg) {
  std::vector<std::string> v;
  if (cfg.captures.empty()) {
    v.push_back(resolve_path(cfg, cfg.capture));
  } else {
    for (const std::string& f : cfg.captures) v.push_back(resolve_path(cfg, f));
  }
  return v;
}

}  // namespace tickrt::pipeline
