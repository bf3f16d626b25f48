// The NATS scale-out verbs (src/bus, docs/SCALING.md):
//   tickrt feed --publish nats://...      market-data bus publisher (JetStream stream MD)
//   tickrt exec --nats nats://...         central risk + OMS + gateway for every shard
//   tickrt ctl kill|cancel-all|reset      control message to every node
//   tickrt run --source nats://... --symbols A,B   a strategy shard (options added to `run` here)
// Thin: options -> bus::*Options -> create/run -> report.
#include <CLI/CLI.hpp>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "pipeline/config.hpp"

#ifdef TICKRT_HAVE_BUS
#include "bus/exec_node.hpp"
#include "bus/feed_node.hpp"
#include "bus/jobs.hpp"
#include "bus/nats_client.hpp"
#include "bus/shard_node.hpp"
#include "bus/wire.hpp"
#include "core/clock.hpp"
#endif

namespace tickrt::cli {

namespace {
std::atomic<bool> g_bus_stop{false};
extern "C" void on_bus_signal(int) { g_bus_stop.store(true); }
void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_bus_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// `tickrt run --source nats://...` options (one run command per process).
struct ShardArgs {
  std::vector<std::string> symbols;
  std::string node = "shard";
  std::string stream = "MD";
  double idle_exit = 0;
  std::string events_out;
};
ShardArgs g_shard;

// `tickrt backtest --distributed nats://...` options.
struct DistArgs {
  std::string url;
  std::int64_t ack_wait_s = 60;
  double timeout_s = 3600;
};
DistArgs g_dist;

Result<pipeline::PipelineConfig> load_cfg(const std::string& path) {
  return path.empty() ? pipeline::default_config(TICKRT_SOURCE_DIR) : pipeline::load_config(path);
}
}  // namespace

bool is_bus_source(const std::string& source) { return source.rfind("nats://", 0) == 0; }

void add_bus_run_options(CLI::App* run) {
  run->add_option("--symbols", g_shard.symbols, "--source nats://: this shard's symbols (comma list)")->delimiter(',');
  run->add_option("--node", g_shard.node, "--source nats://: node name (durable consumers <node>_<SYMBOL>; same name = resume)");
  run->add_option("--stream", g_shard.stream, "--source nats://: JetStream stream of the market data (default MD)");
  run->add_option("--idle-exit", g_shard.idle_exit, "--source nats://: stop after this many seconds without market data");
  run->add_option("--events-out", g_shard.events_out, "--source nats://: append 'SYMBOL seq' per applied event (tests)");
}

void add_bus_backtest_options(CLI::App* backtest) {
  backtest->add_option("--distributed", g_dist.url, "Run the sweep on `tickrt worker` processes via NATS (nats://host:port)");
  backtest->add_option("--ack-wait", g_dist.ack_wait_s, "--distributed: seconds before a silent worker's job is redelivered (default 60)");
  backtest->add_option("--sweep-timeout", g_dist.timeout_s, "--distributed: give up after this many seconds (default 3600)");
}

bool bus_backtest_requested() { return !g_dist.url.empty(); }

#ifdef TICKRT_HAVE_BUS

int run_distributed_backtest(const std::string& config, const std::string& engines, const std::vector<std::string>& data,
                             const std::string& out, std::int64_t seed, const std::string& twins, const std::string& command) {
  bus::SweepOptions o;
  o.url = g_dist.url;
  o.config = config;
  o.engines = engines;
  o.data = data;
  o.out = out;
  o.seed = seed;
  o.twins = twins;
  o.command = command + " --distributed " + g_dist.url;
  o.ack_wait_s = g_dist.ack_wait_s;
  o.timeout_s = g_dist.timeout_s;
  o.source_root = TICKRT_SOURCE_DIR;
  auto r = bus::run_sweep(o, std::cout);
  if (!r.ok()) {
    std::cerr << "tickrt backtest: " << r.status().to_string() << "\n";
    return 1;
  }
  return 0;
}

int run_bus_shard(const pipeline::PipelineConfig& cfg, const std::string& url) {
  install_signals();
  bus::ShardOptions o;
  o.url = url;
  o.stream = g_shard.stream;
  o.node = g_shard.node;
  o.symbols = g_shard.symbols;
  for (auto& s : o.symbols)
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  o.cfg = cfg;
  o.idle_exit_s = g_shard.idle_exit;
  o.duration_s = cfg.duration_s;
  o.events_out = g_shard.events_out;
  auto n = bus::ShardNode::create(o, std::cout);
  if (!n.ok()) {
    std::cerr << "tickrt run: " << n.status().to_string() << "\n";
    return 1;
  }
  std::cout << "shard " << o.node << ": consuming " << o.stream << " on " << url << " for";
  for (const auto& s : o.symbols) std::cout << " " << s;
  std::cout << (cfg.trade ? "; intents -> ex.intent.<SYMBOL>" : "; no trading") << std::endl;
  Status st = n.value()->run(g_bus_stop);
  std::cout << n.value()->report() << std::flush;
  if (!st.ok()) {
    std::cerr << "tickrt run: " << st.to_string() << "\n";
    return 1;
  }
  return 0;
}

void register_bus(CLI::App& app) {
  // ---- feed ----
  {
    CLI::App* cmd = app.add_subcommand("feed", "Publish normalised market data on NATS JetStream (md.<venue>.<SYMBOL>.<kind>)");
    auto o = std::make_shared<bus::FeedOptions>();
    auto source = std::make_shared<std::string>("capture");
    cmd->add_option("--publish", o->url, "NATS server URL, e.g. nats://127.0.0.1:4222")->required();
    cmd->add_option("--source", *source, "capture (captures replayed one after the other) or url (the venue's WebSocket + REST: --ws-url, --rest-url, --symbols)");
    cmd->add_option("--ws-url", o->ws_url, "--source url: venue WebSocket base, e.g. ws://127.0.0.1:8080 (tickrt sim)");
    cmd->add_option("--rest-url", o->rest_url, "--source url: venue REST base for depth snapshots, e.g. http://127.0.0.1:8080");
    cmd->add_option("--symbols", o->symbols, "--source url: symbols to subscribe (comma list, upper case)")->delimiter(',');
    cmd->add_option("--idle-exit", o->idle_exit_s, "--source url: stop after this many seconds without a frame (default 3, 0 = never)");
    cmd->add_option("--duration", o->duration_s, "--source url: stop after this many seconds (0 = until stopped or idle; default 0)");
    cmd->add_option("--reconnect-ms", o->reconnect_ms,
                    "--source url: when the venue closes the WebSocket, reconnect after this many ms and re-fetch the snapshots "
                    "(0 = stop; a live exchange needs it: Binance closes connections after 24 h)");
    cmd->add_option("--capture", o->captures, "Capture file(s) (.gz); default: the bundled BTCUSDT capture");
    cmd->add_option("--speed", o->speed, "x recorded time (0 = as fast as possible; default 0); --source url: the speed the venue replays at (feature time)");
    cmd->add_option("--stream", o->stream, "JetStream stream, created with subjects md.> when absent (default MD)");
    cmd->add_option("--venue", o->venue, "Venue token in the subjects (default binance)");
    cmd->add_option("--max-lines", o->max_lines, "Per capture, publish only the first N lines");
    cmd->add_option("--copies", o->copies, "Also publish each capture under N-1 renamed symbols (B000001, ...)");
    cmd->footer(
        "Examples:\n"
        "  nats-server -js -sd /tmp/js &\n"
        "  tickrt feed --publish nats://127.0.0.1:4222\n"
        "  tickrt feed --publish nats://127.0.0.1:4222 --capture ../shared/data/binance_ws/spot/btcusdt_20240808.gz \\\n"
        "              --capture ../shared/data/binance_ws/spot/ethusdt_20240808.gz --speed 1\n"
        "  tickrt feed --publish nats://127.0.0.1:4222 --source url --ws-url ws://127.0.0.1:8080 \\\n"
        "              --rest-url http://127.0.0.1:8080 --symbols BTCUSDT,ETHUSDT   # what tickrt sim streams\n");
    cmd->callback([o, source] {
      if (*source != "capture" && *source != "url") {
        std::cerr << "tickrt feed: --source " << *source << ": 'capture' or 'url'\n";
        throw CLI::RuntimeError(2);
      }
      if ((*source == "url") != !o->ws_url.empty()) {
        std::cerr << "tickrt feed: --ws-url goes with --source url (and --source url needs it)\n";
        throw CLI::RuntimeError(2);
      }
      install_signals();
      if (*source == "capture" && o->captures.empty()) o->captures.push_back(data_dir() + "/captures/spot_btcusdt_20240808.gz");
      auto n = bus::FeedNode::create(*o);
      if (!n.ok()) {
        std::cerr << "tickrt feed: " << n.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      Status st = n.value()->run(g_bus_stop);
      std::cout << n.value()->report() << std::flush;
      if (!st.ok()) {
        std::cerr << "tickrt feed: " << st.to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
    });
  }
  // ---- exec ----
  {
    CLI::App* cmd = app.add_subcommand("exec", "Execution node: central pre-trade risk, OMS, journal and gateway for every shard");
    auto o = std::make_shared<bus::ExecOptions>();
    auto cfg_path = std::make_shared<std::string>();
    auto journal = std::make_shared<std::string>();
    cmd->add_option("--nats", o->url, "NATS server URL")->required();
    cmd->add_option("--symbols", o->symbols, "Every traded symbol of every shard (comma list)")->delimiter(',')->required();
    cmd->add_option("-c,--config", *cfg_path, "TOML ([risk], [exec], [strategy] sizes; feed.source url = orders to feed.rest_url)");
    cmd->add_option("--max-open-orders-account", o->max_open_orders_account, "Account-wide open-order limit (default risk.max_open_orders x symbols)");
    cmd->add_option("--journal", *journal, "SQLite journal (default exec.journal; \"\" none)");
    cmd->add_option("--idle-exit", o->idle_exit_s, "Stop after this many seconds without an intent");
    cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (0 = until SIGINT)");
    cmd->footer(
        "Shards send intents on ex.intent.<SYMBOL> (request/reply); account views go out on ex.acct.<SYMBOL>;\n"
        "`tickrt ctl kill` (subject ctl.all) latches the kill switch for the whole account.\n"
        "Without --config: an in-process venue with no market data (orders rest, never fill).\n"
        "Against the simulator: `tickrt sim` replaying the feed's capture, and a config with\n"
        "feed.source = \"url\", rest_url = the sim, exec.api_key/api_secret = its test key\n"
        "(bench/bus/run_sim_cluster.sh, docs/SCALING.md).\n\n"
        "Examples:\n"
        "  tickrt exec --nats nats://127.0.0.1:4222 --symbols BTCUSDT,ETHUSDT --journal exec.db\n"
        "  tickrt exec --nats nats://127.0.0.1:4222 -c cluster.toml --symbols BTCUSDT,ETHUSDT\n");
    cmd->callback([o, cfg_path, journal, cmd] {
      install_signals();
      auto c = load_cfg(*cfg_path);
      if (!c.ok()) {
        std::cerr << "tickrt exec: " << c.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      o->cfg = c.value();
      if (cmd->count("--journal") > 0) o->cfg.journal = *journal;
      for (auto& s : o->symbols)
        for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      auto n = bus::ExecNode::create(*o, std::cout);
      if (!n.ok()) {
        std::cerr << "tickrt exec: " << n.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      std::cout << "exec: serving ex.intent.* on " << o->url << std::endl;
      Status st = n.value()->run(g_bus_stop);
      std::cout << n.value()->report() << std::flush;
      if (!st.ok()) {
        std::cerr << "tickrt exec: " << st.to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
    });
  }
  // ---- worker ----
  {
    CLI::App* cmd = app.add_subcommand("worker", "Pull backtest jobs from NATS (tickrt backtest --distributed) and run them");
    auto o = std::make_shared<bus::WorkerOptions>();
    cmd->add_option("--nats", o->url, "NATS server URL")->required();
    cmd->add_option("--name", o->name, "Worker name (logs)");
    cmd->add_option("--idle-exit", o->idle_exit_s, "Stop after this many seconds without a job (0 = never)");
    cmd->add_option("--max-jobs", o->max_jobs, "Stop after this many jobs (0 = unlimited)");
    cmd->footer(
        "Any number of workers on any machines with the same files at the same paths.\n"
        "A job is acknowledged after its result is stored; a worker killed mid-job loses nothing:\n"
        "the job is redelivered after the sweep's --ack-wait.\n\n"
        "Example:\n"
        "  tickrt worker --nats nats://127.0.0.1:4222 --name w1 &\n"
        "  tickrt backtest --distributed nats://127.0.0.1:4222 --engines models/trained/lstm_attn_s/model.onnx \\\n"
        "                  --data data/captures/spot_btcusdt_20240808.gz --out bt-dist\n");
    cmd->callback([o] {
      install_signals();
      Status st = bus::run_worker(*o, g_bus_stop, std::cout);
      if (!st.ok()) {
        std::cerr << "tickrt worker: " << st.to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
    });
  }
  // ---- ctl ----
  {
    CLI::App* cmd = app.add_subcommand("ctl", "Send kill | cancel-all | reset to every node (subject ctl.all)");
    auto action = std::make_shared<std::string>();
    auto url = std::make_shared<std::string>("nats://127.0.0.1:4222");
    cmd->add_option("action", *action, "kill | cancel-all | reset")->required();
    cmd->add_option("--nats", *url, "NATS server URL");
    cmd->footer("Examples:\n  tickrt ctl kill --nats nats://127.0.0.1:4222\n  tickrt ctl reset\n");
    cmd->callback([action, url] {
      bus::ControlMsg cm;
      if (*action == "kill") cm.action = bus::ControlAction::kill;
      else if (*action == "cancel-all") cm.action = bus::ControlAction::cancel_all;
      else if (*action == "reset") cm.action = bus::ControlAction::reset;
      else {
        std::cerr << "tickrt ctl: expected kill, cancel-all or reset, got " << *action << "\n";
        throw CLI::RuntimeError(2);
      }
      auto c = bus::NatsConn::connect(*url, "tickrt-ctl", false);
      if (!c.ok()) {
        std::cerr << "tickrt ctl: " << c.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      std::uint8_t buf[64];
      const std::size_t n = bus::encode_control(cm, 1, now_ns(), buf);
      if (natsConnection_Publish(c.value()->nc(), std::string(bus::kControlSubject).c_str(), buf, static_cast<int>(n)) != NATS_OK ||
          natsConnection_FlushTimeout(c.value()->nc(), 2000) != NATS_OK) {
        std::cerr << "tickrt ctl: publish failed on " << *url << "\n";
        throw CLI::RuntimeError(1);
      }
      std::cout << "ctl: " << *action << " sent on " << bus::kControlSubject << "\n";
    });
  }
}

#else  // built without libnats

int run_distributed_backtest(const std::string&, const std::string&, const std::vector<std::string>&, const std::string&,
                             std::int64_t, const std::string&, const std::string&) {
  std::cerr << "tickrt backtest --distributed: this build has no NATS support (install libnats-dev, reconfigure)\n";
  return 1;
}

int run_bus_shard(const pipeline::PipelineConfig&, const std::string& url) {
  std::cerr << "tickrt run --source " << url << ": this build has no NATS support (install libnats-dev, reconfigure)\n";
  return 1;
}
void register_bus(CLI::App&) {}

#endif

}  // namespace tickrt::cli
