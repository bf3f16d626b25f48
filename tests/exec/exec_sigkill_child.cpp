// tests/exec/exec_sigkill_child.cpp — the trading process of the SIGKILL test (test_sigkill.cpp).
//
// Does what a real restart does: open the journal, replay it, reconcile with the exchange (fail
// closed on a mismatch), start the gateway, then trade: alternating taker buys and sells against
// the counterparty liquidity the test placed, plus passive orders it cancels. Prints "READY" when
// trading starts and "DONE" after a clean shutdown (journal flushed). The test SIGKILLs it
// mid-trading and runs it again.
//
// Usage: exec_sigkill_child <port> <journal.db> <orders>
// Exit: 0 done, 2 setup error, 3 recovery failed closed.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "exec/binance_gateway.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "exec/recovery.hpp"

using namespace tickrt;
using namespace tickrt::exec;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <port> <journal.db> <orders>\n", argv[0]);
    return 2;
  }
  const std::string port = argv[1], path = argv[2];
  const long orders = std::atol(argv[3]);
  auto jr = Journal::open(path);
  if (!jr.ok()) {
    std::fprintf(stderr, "%s\n", jr.status().to_string().c_str());
    return 2;
  }
  Journal& journal = *jr.value();
  auto jc = journal.load();
  auto session = journal.begin_session("sk");
  if (!jc.ok() || !session.ok()) {
    std::fprintf(stderr, "journal: %s %s\n", jc.status().to_string().c_str(), session.status().to_string().c_str());
    return 2;
  }
  BinanceConfig bc;
  bc.host = "127.0.0.1";
  bc.port = port;
  bc.tls = false;
  bc.api_key = "tickrtTestApiKey0000000000000000000000000000000000000000000000000";
  bc.secret = "tickrtTestSecret0000000000000000000000000000000000000000000000000";
  bc.request_timeout_ms = 2000;
  bc.idle.sleep_ns = 50'000;
  BinanceGateway gw(bc);
  RequestRing out(1024);
  ReportRing in(4096);
  OmsConfig oc;
  oc.id_prefix = "sk";
  oc.session = session.value();
  oc.symbols = {"BTCUSDT"};
  auto omsr = Oms::create(oc, {&out, &in}, &journal);
  if (!omsr.ok()) return 2;
  Oms& oms = *omsr.value();
  if (Status st = gw.sync_time(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 2;
  }
  RecoveryReport rep;
  if (Status st = replay_journal(jc.value(), oms, rep); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 2;
  }
  RecoveryConfig rc;
  rc.full_trade_history = true;
  const Status rs = reconcile(jc.value(), oms, gw, &journal, rc, rep);
  std::printf("%s\n", rep.summary().c_str());
  std::fflush(stdout);
  if (!rs.ok() || !rep.ok) return 3;
  if (Status st = gw.start({&out, &in}); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 2;
  }
  std::printf("READY session %u\n", session.value());
  std::fflush(stdout);

  ClientOrderId passive;
  bool have_passive = false;
  for (long i = 0; i < orders; ++i) {
    OrderRequest o;
    o.symbol = SymbolName::from("BTCUSDT");
    o.stp = StpMode::none;
    o.qty = Qty::from_raw(1'000'000);  // 0.01
    o.created_ns = now_ns();
    if (i % 5 == 4) {
      if (have_passive) (void)oms.cancel(passive);
      o.side = Side::buy;
      o.price = Price::from_int(40000);
      have_passive = oms.submit(o, &passive) == SubmitResult::ok;
    } else {
      o.side = i % 2 ? Side::sell : Side::buy;
      o.price = o.side == Side::buy ? Price::from_int(50000) : Price::from_raw(4'999'999'000'000);  // 49999.99
      o.tif = TimeInForce::ioc;
      (void)oms.submit(o);
    }
    // Keep at most 4 orders in flight.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (oms.open_orders() > (have_passive ? 4u : 3u) && std::chrono::steady_clock::now() < deadline) {
      oms.poll();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    oms.poll();
  }
  // Cancel whatever is still open (our passive order and any recovered from before a kill).
  (void)oms.cancel_all();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (oms.open_orders() > 0 && std::chrono::steady_clock::now() < deadline) {
    oms.poll();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  gw.stop();
  while (oms.poll() > 0) {}
  journal.close();
  std::printf("DONE fills %llu anomalies %llu open %zu\n", static_cast<unsigned long long>(oms.counters().fills),
              static_cast<unsigned long long>(oms.counters().anomalies), oms.open_orders());
  return 0;
}
