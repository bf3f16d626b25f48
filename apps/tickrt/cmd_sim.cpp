// `tickrt sim`: run the simulated Binance venue alone (matching engine + REST/WebSocket servers)
// so any Binance client can be pointed at it. Thin: options -> venue::SimSetup -> VenueServer.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }
}  // namespace

void register_sim(CLI::App& app) {
  struct Opts {
    std::string config;
    int port = -1;
    std::string bind;
    std::vector<std::string> captures;
    std::string speed;
    std::vector<std::string> symbols;
    int weight_limit = -1;
    double duration = 0;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("sim", "Run the simulated Binance exchange (REST, WebSocket streams, WS API, user data)");
  cmd->add_option("-c,--config", opts->config, "TOML file ([venue], [engine], [faults]; docs/SIMULATOR.md)");
  cmd->add_option("-p,--port", opts->port, "TCP port (default 8080; 0 = any free port)");
  cmd->add_option("--bind", opts->bind, "Address to bind (default 127.0.0.1)");
  cmd->add_option("--captures", opts->captures, "Capture files to replay (default: the bundled BTCUSDT capture); different symbols are interleaved by receive stamp, one symbol's files play in order ([venue] interleave)");
  cmd->add_option("--speed", opts->speed, "Replay speed: 1, 10, ... x recorded time, or max")->default_str("1");
  cmd->add_option("--symbols", opts->symbols, "Replay only these symbols (e.g. BTCUSDT)")->delimiter(',');
  cmd->add_option("--weight-limit", opts->weight_limit, "REQUEST_WEIGHT per minute per IP before HTTP 429 (default 6000)");
  cmd->add_option("--duration", opts->duration, "Exit after this many seconds (default: run until Ctrl-C)");
  cmd->footer(
      "Serves Binance's spot API on one port: REST /api/v3/*, market streams /stream?streams=... and /ws/...,\n"
      "the WebSocket API /ws-api/v3 and user data streams (/api/v3/userDataStream -> /ws/<listenKey>).\n"
      "Market data replays real captures; your orders trade against that book. The test API key and\n"
      "secret are printed at start (or set [[venue.keys]] in the config).\n\n"
      "Examples:\n"
      "  tickrt sim\n"
      "  tickrt sim --port 9000 --speed 10 --captures ../shared/data/binance_ws/spot/btcusdt_20240808.gz\n"
      "  tickrt sim --config sim.toml --speed max --symbols BTCUSDT\n"
      "  curl 'http://127.0.0.1:8080/api/v3/depth?symbol=BTCUSDT&limit=5'\n");
  cmd->callback([opts] {
    venue::SimSetup setup = venue::default_sim_setup();
    if (!opts->config.empty()) {
      auto r = venue::load_sim_setup(opts->config);
      if (!r.ok()) {
        std::cerr << "tickrt sim: " << r.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      setup = std::move(r.value());
    }
    if (opts->port >= 0) {
      if (opts->port > 65535) {
        std::cerr << "tickrt sim: --port " << opts->port << " is not a TCP port\n";
        throw CLI::RuntimeError(2);
      }
      setup.venue.port = static_cast<std::uint16_t>(opts->port);
    }
    if (!opts->bind.empty()) setup.venue.bind_address = opts->bind;
    if (!opts->captures.empty()) setup.venue.captures = opts->captures;
    if (setup.venue.captures.empty()) {
      const std::string def = data_dir() + "/captures/spot_btcusdt_20240808.gz";
      std::error_code ec;
      if (std::filesystem::exists(def, ec)) setup.venue.captures.push_back(def);
    }
    if (!opts->speed.empty()) {
      if (opts->speed == "max") {
        setup.venue.speed = 0;
      } else {
        try {
          std::size_t used = 0;
          setup.venue.speed = std::stod(opts->speed, &used);
          if (used != opts->speed.size() || setup.venue.speed <= 0) throw std::invalid_argument("speed");
        } catch (const std::exception&) {
          std::cerr << "tickrt sim: --speed '" << opts->speed << "': expected a positive number or 'max'\n";
          throw CLI::RuntimeError(2);
        }
      }
    }
    if (!opts->symbols.empty()) {
      setup.venue.symbols.clear();
      for (std::string s : opts->symbols) {
        for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        setup.venue.symbols.push_back(s);
      }
    }
    if (opts->weight_limit >= 0) setup.venue.weight_limit_1m = static_cast<std::uint32_t>(opts->weight_limit);

    sim::MatchingEngine engine(setup.engine);
    if (!engine.status().ok()) {
      std::cerr << "tickrt sim: engine: " << engine.status().to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    venue::VenueServer server(setup.venue, engine);
    if (Status st = server.start(); !st.ok()) {
      std::cerr << "tickrt sim: " << st.to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    const std::string host = setup.venue.bind_address + ":" + std::to_string(server.port());
    std::ostringstream streams;
    std::vector<std::string> syms = setup.venue.symbols;
    if (syms.empty())
      for (std::size_t i = 0; i < engine.symbol_count(); ++i) syms.emplace_back(engine.spec(static_cast<sim::SymbolIndex>(i)).name.view());
    std::string lower = syms.empty() ? std::string("btcusdt") : syms[0];
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::cout << "tickrt sim: simulated Binance spot venue\n"
              << "  REST        http://" << host << "/api/v3/  (ping, time, exchangeInfo, depth, order, openOrders,\n"
              << "              order/cancelReplace, account, myTrades, userDataStream)\n"
              << "  streams     ws://" << host << "/stream?streams=" << lower << "@trade/" << lower << "@bookTicker/"
              << lower << "@depth@100ms\n"
              << "              ws://" << host << "/ws/" << lower << "@trade\n"
              << "  WS API      ws://" << host << "/ws-api/v3\n"
              << "  user data   POST /api/v3/userDataStream -> ws://" << host << "/ws/<listenKey>\n"
              << "  API key     " << setup.venue.keys.front().key << "\n"
              << "  secret      " << setup.venue.keys.front().secret << "\n"
              << "  replay      ";
    for (const std::string& c : setup.venue.captures) std::cout << c << " ";
    if (setup.venue.captures.empty()) std::cout << "(none: static book)";
    std::ostringstream speed;
    if (setup.venue.speed <= 0) speed << "max speed (starts when the first market-data client subscribes)";
    else speed << setup.venue.speed << "x recorded time";
    std::cout << " at " << speed.str() << "\n"
              << "Ctrl-C prints a summary and exits.\n"
              << std::flush;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const auto t0 = std::chrono::steady_clock::now();
    while (!g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (opts->duration > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= opts->duration)
        break;
    }
    std::cout << "\n" << server.summary() << std::flush;
    server.stop();
  });
}

}  // namespace tickrt::cli
