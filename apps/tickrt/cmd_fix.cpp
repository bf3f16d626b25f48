// `tickrt fix-sim`: the simulator's matching engine behind the FIX 4.4 acceptor (src/fix) alone,
// so any FIX 4.4 initiator (QuickFIX, tickrt's FixGateway) can trade against it. Thin: options ->
// sim::SimConfig (the venue's defaults or a TOML file) -> fix::FixAcceptor.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "fix/acceptor.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::cli {

namespace {
std::atomic<bool> g_fix_stop{false};
extern "C" void on_fix_signal(int) { g_fix_stop.store(true); }

// "COMPID:ACCOUNT[:USER:PASSWORD]"
bool parse_account(const std::string& s, fix::FixAccount& out) {
  std::vector<std::string> parts;
  std::size_t p = 0;
  while (true) {
    const std::size_t c = s.find(':', p);
    parts.push_back(s.substr(p, c == std::string::npos ? std::string::npos : c - p));
    if (c == std::string::npos) break;
    p = c + 1;
  }
  if ((parts.size() != 2 && parts.size() != 4) || parts[0].empty()) return false;
  char* end = nullptr;
  const unsigned long id = std::strtoul(parts[1].c_str(), &end, 10);
  if (parts[1].empty() || *end != '\0' || id >= sim::kMaxAccounts) return false;
  out.comp_id = parts[0];
  out.account = static_cast<sim::AccountId>(id);
  if (parts.size() == 4) {
    out.username = parts[2];
    out.password = parts[3];
  }
  return true;
}
}  // namespace

void register_fix(CLI::App& app) {
  struct Opts {
    std::string config;
    int port = 9878;
    std::string bind = "127.0.0.1";
    std::string comp_id = "TICKRT-SIM";
    std::vector<std::string> accounts;
    std::string store = "var/fix/sim";
    std::string log;
    std::string dictionary;
    double duration = 0;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("fix-sim", "Run the simulated exchange behind a FIX 4.4 acceptor (orders, market data)");
  cmd->add_option("-c,--config", opts->config, "TOML file for the engine ([engine], [[engine.symbols]], [faults]; docs/SIMULATOR.md)");
  cmd->add_option("-p,--port", opts->port, "TCP port (0 = any free port)")->default_str("9878");
  cmd->add_option("--bind", opts->bind, "IPv4 address to listen on")->default_str("127.0.0.1");
  cmd->add_option("--comp-id", opts->comp_id, "The acceptor's SenderCompID")->default_str("TICKRT-SIM");
  cmd->add_option("-a,--account", opts->accounts,
                  "COMPID:ACCOUNT[:USER:PASSWORD], one FIX session per account (default TICKRT:1 and PEER:2)");
  cmd->add_option("--store", opts->store, "QuickFIX FileStore directory (sequence numbers persist)")->default_str("var/fix/sim");
  cmd->add_option("--log", opts->log, "QuickFIX FileLog directory (default: no message log)");
  cmd->add_option("--dictionary", opts->dictionary, "Acceptor data dictionary (default data/fix/FIX44-sim.xml)");
  cmd->add_option("--duration", opts->duration, "Exit after this many seconds (default: run until Ctrl-C)");
  cmd->footer(
      "FIX 4.4 order entry (35=D/F/G/H -> 35=8/9, rejects 35=j naming the tag) and market data\n"
      "(35=V -> 35=W/X) against the simulator's matching engine; orders of all sessions trade with\n"
      "each other (no replayed book here: `tickrt sim` serves the Binance API with replay). docs/FIX.md.\n\n"
      "Examples:\n"
      "  tickrt fix-sim\n"
      "  tickrt fix-sim --port 0 --account TICKRT:1:user:secret --account MM:2 --store /tmp/fixstore\n"
      "  tickrt fix-sim --config sim.toml --log var/fix/log --duration 60\n");
  cmd->callback([opts] {
    if (opts->port < 0 || opts->port > 65535) {
      std::cerr << "tickrt fix-sim: --port " << opts->port << " is not a TCP port\n";
      throw CLI::RuntimeError(2);
    }
    venue::SimSetup setup = venue::default_sim_setup();
    if (!opts->config.empty()) {
      auto r = venue::load_sim_setup(opts->config);
      if (!r.ok()) {
        std::cerr << "tickrt fix-sim: " << r.status().to_string() << "\n";
        throw CLI::RuntimeError(1);
      }
      setup = std::move(r.value());
    }
    fix::AcceptorConfig ac;
    ac.host = opts->bind;
    ac.port = static_cast<std::uint16_t>(opts->port);
    ac.comp_id = opts->comp_id;
    ac.store_dir = opts->store;
    ac.log_dir = opts->log;
    if (!opts->dictionary.empty()) ac.data_dictionary = opts->dictionary;
    else ac.data_dictionary = data_dir() + "/fix/FIX44-sim.xml";
    if (opts->accounts.empty()) opts->accounts = {"TICKRT:1", "PEER:2"};
    for (const std::string& a : opts->accounts) {
      fix::FixAccount acc;
      if (!parse_account(a, acc)) {
        std::cerr << "tickrt fix-sim: --account '" << a << "': expected COMPID:ACCOUNT[:USER:PASSWORD] with ACCOUNT < "
                  << sim::kMaxAccounts << "\n";
        throw CLI::RuntimeError(2);
      }
      ac.accounts.push_back(acc);
    }
    sim::MatchingEngine engine(setup.engine);
    if (!engine.status().ok()) {
      std::cerr << "tickrt fix-sim: engine: " << engine.status().to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    std::mutex engine_mu;
    auto acc = fix::FixAcceptor::create(ac, engine, engine_mu);
    if (!acc.ok()) {
      std::cerr << "tickrt fix-sim: " << acc.status().to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    fix::FixAcceptor& acceptor = *acc.value();
    if (Status st = acceptor.start(); !st.ok()) {
      std::cerr << "tickrt fix-sim: " << st.to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << "tickrt fix-sim: FIX 4.4 acceptor on " << ac.host << ":" << acceptor.port() << ", SenderCompID "
              << ac.comp_id << ", store " << ac.store_dir << "\n";
    for (const fix::FixAccount& a : ac.accounts) {
      std::cout << "  session " << a.comp_id << " -> account " << a.account
                << (a.username.empty() ? std::string() : " (Username/Password required)") << "\n";
    }
    std::cout << "  symbols ";
    for (std::size_t i = 0; i < engine.symbol_count(); ++i) std::cout << engine.spec(static_cast<sim::SymbolIndex>(i)).name.view() << " ";
    std::cout << "\nCtrl-C prints a summary and exits.\n" << std::flush;
    std::signal(SIGINT, on_fix_signal);
    std::signal(SIGTERM, on_fix_signal);
    const auto t0 = std::chrono::steady_clock::now();
    while (!g_fix_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (opts->duration > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= opts->duration)
        break;
    }
    acceptor.stop();
    const fix::AcceptorStats s = acceptor.stats();
    std::cout << "fix-sim: orders " << s.orders << ", cancels " << s.cancels << ", replaces " << s.replaces
              << ", status requests " << s.status_requests << ", reports " << s.reports_sent << ", cancel rejects "
              << s.cancel_rejects << ", business rejects " << s.business_rejects << ", logons refused "
              << s.logons_refused << ", md requests " << s.md_requests << "\n";
  });
}

}  // namespace tickrt::cli
