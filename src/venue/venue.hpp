// venue/venue.hpp — Binance-compatible exchange servers around the matching engine. The contract.
//
// What it serves (HTTP/1.1 + WebSocket on one port, Boost.Beast, plain TCP, bound to
// VenueConfig::bind_address = 127.0.0.1 unless configured):
//   Market data   WS  /stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms
//                 (futures captures stream as recorded, with pu; /fapi/v1/depth serves their book)
//                 WS  /ws/<stream>[/<stream>...] (raw payloads), /ws + SUBSCRIBE/UNSUBSCRIBE/
//                     LIST_SUBSCRIPTIONS method messages
//                 GET /api/v3/depth, /api/v3/exchangeInfo, /api/v3/time, /api/v3/ping
//   Order entry   (SIGNED: HMAC-SHA256 of query string + body with the key's secret, hex, in
//                 `signature`; header X-MBX-APIKEY; `timestamp`, `recvWindow` <= 60000)
//                 POST/DELETE/GET /api/v3/order, GET/DELETE /api/v3/openOrders,
//                 POST /api/v3/order/cancelReplace, GET /api/v3/account, GET /api/v3/myTrades
//   WebSocket API WS  /ws-api/v3: ping, time, order.place, order.cancel, order.status,
//                     openOrders.status, openOrders.cancelAll, account.status
//   User data     POST/PUT/DELETE /api/v3/userDataStream -> listenKey; WS /ws/<listenKey>
//                 (executionReport, outboundAccountPosition)
// Messages and errors use Binance's JSON text, field letters and error codes (-1003, -1021,
// -1022, -1102, -1121, -2010, -2011, -2013, -2014, -2015, ...); docs/SIMULATOR.md "## venue".
//
// Market data is a replay of real captures (feed::CaptureReader): each recorded line is re-sent as
// recorded (the combined-stream wrapper is rebuilt with the name the client subscribed with),
// paced at VenueConfig::speed x the recorded time (0 = as fast as the slowest client reads), and
// the same parsed events drive the engine's replay mode, so our orders trade against that book.
// The REST /api/v3/depth snapshot comes from a book::L2Book mirror fed with exactly the diffs that
// were streamed, so its lastUpdateId is consistent with the diff stream (Binance's sync recipe
// works). Before streaming starts the replay runs ahead to each symbol's first snapshot line.
// Several captures: VenueConfig::interleave decides how they are read. Interleaved (the default when
// the captures' symbols differ, e.g. BTCUSDT + ETHUSDT of the same day): every file is open at once and
// a k-way merge on the lines' recorded receive stamps sends the earliest line next (ties: the file
// listed first), so all symbols are live together, each in its own recorded order, paced by the same
// rule (a line is due at t0 + (stamp - first stamp) / speed). Sequential (the default when every
// capture holds the same symbol, e.g. consecutive days): one file after another, as recorded. The
// replay knows each file's symbol before it starts (its first parsable line) and the preroll waits for
// every wanted symbol's snapshot.
//
// Threads: start() spawns ONE IO thread that owns everything: sockets, the replay, and the
// engine (the engine must not be touched by anyone else while the server runs). run_sync() lets
// another thread (tests, the CLI summary) run a function on the IO thread and wait for it.
//
// Faults (engine.faults(), seeded in the engine): drop_md drops recorded messages, gap drops a
// depth diff (clients see U != last u + 1), throttle answers 429/-1003, disconnect windows close
// every connection and refuse new ones, ack_delay delays answers and reports, lose_ack sends no
// answer (REST: connection closed without a response; WS API: no response), reject is the engine's.
//
// Limits: spot REST paths only (/api/v3, plus /fapi/v1/depth, ping, time); no TLS (loopback
// use); no order lists (OCO), no iceberg/stop orders; trades our orders make are not echoed on the public @trade stream, and
// our resting orders are not in the streamed/REST book (it is the recorded book); after the last
// capture line the book stays as it was (order entry keeps working).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "sim/matching_engine.hpp"

namespace tickrt::venue {

// The default test key pair (documented in docs/SIMULATOR.md and printed by `tickrt sim`).
inline constexpr const char* kTestApiKey = "tickrtTestApiKey0000000000000000000000000000000000000000000000000";
inline constexpr const char* kTestSecret = "tickrtTestSecret0000000000000000000000000000000000000000000000000";

struct ApiKey {
  std::string key;
  std::string secret;
  std::uint32_t account = 1;  // sim::AccountId the key trades for
};

struct VenueConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;                 // 0 = ephemeral (read it back with port())
  std::vector<std::string> captures;      // empty = no market data (static book); see `interleave`
  // How several captures are replayed (header comment): automatic = interleaved by receive stamp when
  // their symbols differ, one after another when they all hold the same symbol; on / off force it.
  enum class Interleave : std::uint8_t { automatic, on, off };
  Interleave interleave = Interleave::automatic;
  double speed = 1.0;                     // x recorded time; 0 = as fast as clients read (starts
                                          // when the first market-data subscriber arrives)
  std::vector<std::string> symbols;       // replay only these (upper case); empty = all
  std::vector<ApiKey> keys = {ApiKey{kTestApiKey, kTestSecret, 1}};
  std::uint32_t weight_limit_1m = 6000;   // REQUEST_WEIGHT per minute per IP (429 beyond)
  std::int64_t server_time_offset_ms = 0; // added to the wall clock (tests of -1021)
  std::size_t ws_queue_limit = 1u << 16;  // queued messages per WS client before it is dropped
  std::size_t max_pace_queue = 2048;      // speed 0: replay waits while a client queues more
  std::size_t preroll_max_lines = 200000; // lines replayed silently while looking for snapshots
  std::int64_t listen_key_ttl_ms = 60LL * 60 * 1000;
  // >= 0: the server's thread is pinned to this CPU and busy-polls its sockets instead of sleeping in
  // epoll. For latency benchmarks of a client on the same host: a sleeping server makes every loopback
  // send() of the client wake it inside the syscall (a cross-CPU wake-up, tens of us on a VM), a cost a
  // venue on another machine does not put on the sender. Costs a whole CPU. -1 = sleep (default).
  int busy_poll_cpu = -1;
};

// Everything `tickrt sim` needs: the server's settings and the engine's (symbols, fees,
// balances, faults). default_sim_setup() = BTCUSDT and ETHUSDT with Binance's filters, 100000 USDT,
// 10 BTC, 100 ETH per account, the bundled BTCUSDT capture (when present), speed 1.
struct SimSetup {
  VenueConfig venue;
  sim::SimConfig engine;
};
SimSetup default_sim_setup();
// Reads a TOML file over the defaults: tables [venue] (interleave = "auto" | true | false), [[venue.keys]], [engine],
// [engine.balances], [[engine.symbols]], [faults] (docs/SIMULATOR.md "## venue" lists every key).
// Errors name the file, the key and what is wrong; unknown keys are errors.
Result<SimSetup> load_sim_setup(const std::string& path);

struct VenueCounters {
  std::uint64_t http_requests = 0;
  std::uint64_t http_errors = 0;       // answers with a 4xx/5xx status
  std::uint64_t ws_sessions = 0;       // WebSocket sessions opened
  std::uint64_t ws_api_requests = 0;
  std::uint64_t md_lines = 0;          // capture lines read
  std::uint32_t md_lanes = 0;          // captures read at once (1 = sequential; >1 = interleaved)
  std::uint64_t md_bad_lines = 0;      // lines the feed parser refused (not streamed)
  std::uint64_t md_messages_sent = 0;  // WS frames queued to market-data clients
  std::uint64_t md_dropped_fault = 0;  // FaultConfig::drop_md
  std::uint64_t md_gaps_fault = 0;     // FaultConfig::gap
  std::uint64_t throttled = 0;         // 429 answers (limit or fault)
  std::uint64_t disconnects_fault = 0; // sessions closed by a disconnect window
  std::uint64_t slow_clients_dropped = 0;
  std::uint64_t orders = 0;            // order requests reaching the engine
  std::uint64_t exec_reports_sent = 0;
  bool replay_done = false;
};

class VenueServer {
 public:
  // `engine` must outlive the server; the server installs itself as the engine's ReportSink and
  // maps the captures' symbols onto the engine's symbols of the same name.
  VenueServer(VenueConfig cfg, sim::MatchingEngine& engine);
  ~VenueServer();  // stop()s
  VenueServer(const VenueServer&) = delete;
  VenueServer& operator=(const VenueServer&) = delete;

  // Binds, listens, opens the captures, spawns the IO thread. Error names the address or file.
  Status start();
  // Closes every connection and joins the IO thread. Idempotent.
  void stop();
  std::uint16_t port() const noexcept;
  const VenueConfig& config() const noexcept;

  // Runs fn on the IO thread and waits (fn may touch the engine). No-op after stop().
  void run_sync(const std::function<void()>& fn);
  // A copy of the counters (taken on the IO thread).
  VenueCounters counters();
  // Human-readable summary (counters + engine counters) for `tickrt sim` on exit.
  std::string summary();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickrt::venue
