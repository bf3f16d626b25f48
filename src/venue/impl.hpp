// venue/impl.hpp — internals of VenueServer shared by server.cpp (sockets, sessions),
// api.cpp (REST / WebSocket API / user data) and md.cpp (capture replay, market-data fan-out).
// Everything here runs on the server's single IO thread: no locks anywhere.
#pragma once

// Boost 1.74 asio/awaitable.hpp uses std::exchange without <utility> (g++ 12, C++20).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "book/l2_book.hpp"
#include "feed/feed.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"
#include "venue/wire.hpp"

namespace tickrt::venue {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

class WsSession;
class HttpSession;
struct Api;

// One API call, from REST or the WebSocket API, in one shape.
struct ApiRequest {
  std::string method;          // REST verb ("GET", "POST", ...) or WS API method ("order.place")
  std::string path;            // REST path; "" for the WS API
  Params params;               // decoded, in the order sent
  std::string signed_payload;  // what the HMAC covers (REST: query + body without signature)
  std::optional<std::string> api_key;  // X-MBX-APIKEY header / WS API "apiKey" param
  std::string ip;
  bool ws_api = false;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::int64_t delay_ms = 0;  // FaultConfig ack delay: answer this much later
  bool drop = false;          // FaultConfig lose_ack: no answer at all
  int retry_after_s = -1;     // 429: Retry-After header
  std::uint32_t used_weight = 0;
};

// A resolved market-data subscription: `name` as the client wrote it, `key` = "<sym>@<kind>"
// with kind one of trade, bookTicker, depth, markPrice (what recorded lines are matched on).
struct Subscription {
  std::string name;
  std::string key;
};

// One WebSocket client: market data (combined or raw), a user data stream, or the WS API.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  enum class Kind : std::uint8_t { market, ws_api };
  WsSession(VenueServer::Impl& srv, tcp::socket&& socket, Kind kind, bool combined);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  void run(http::request<http::string_body> req);
  void send(std::shared_ptr<const std::string> msg);
  void send(std::string msg) { send(std::make_shared<const std::string>(std::move(msg))); }
  void close();
  std::size_t queued() const noexcept { return queue_.size(); }

  Kind kind;
  bool combined;
  std::vector<Subscription> subs;
  std::vector<std::string> listen_keys;  // user data streams this session carries
  std::string ip;

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void do_write();

  VenueServer::Impl& srv_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool writing_ = false;
  bool closing_ = false;
  // Set when the WebSocket handshake completed. The session is registered (and may have URL
  // subscriptions the replay serves) before that: messages queue until then, never written to a
  // stream that is not open yet (a speed-0 replay starts on the first subscriber and raced it).
  bool accepted_ = false;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(VenueServer::Impl& srv, tcp::socket&& socket);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  void run() { do_read(); }
  void close();

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void respond(ApiResponse r, unsigned version, bool keep_alive);
  void write(std::shared_ptr<http::response<http::string_body>> res, bool close);

  VenueServer::Impl& srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string ip_;
};

struct ListenKey {
  std::uint32_t account = 0;
  std::int64_t expires_ms = 0;
};

struct VenueServer::Impl : sim::ReportSink {
  Impl(VenueConfig c, sim::MatchingEngine& e);
  ~Impl() override;

  // ---- sim::ReportSink (called inside engine calls, on the IO thread) ----
  void on_exec_report(sim::AccountId account, const exec::ExecReport& r, std::int64_t deliver_ns) override;

  // ---- time ----
  std::int64_t now_ms() const { return wall_ms() + cfg.server_time_offset_ms; }
  std::int64_t now_ns() const;  // wall clock in ns: the engine's clock (reports' E/T in ms)

  // ---- api.cpp ----
  ApiResponse handle_rest(ApiRequest& req);
  // WS API: one text frame in, the answer (or nothing when dropped) out.
  void handle_ws_api(WsSession& s, std::string_view text);
  // WS market: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS.
  void handle_ws_method(WsSession& s, std::string_view text);
  bool listen_key_valid(const std::string& key);
  void deliver_user_event(std::uint32_t account, std::shared_ptr<const std::string> msg, std::int64_t delay_ms);
  void flush_account_positions(std::int64_t delay_ms);

  // ---- md.cpp ----
  Status open_replay();
  void replay_step();
  // Resolves "btcusdt@depth@100ms" -> key "btcusdt@depth"; false for streams we do not serve.
  static bool stream_key(std::string_view name, std::string& key);
  // The REST depth answer for a symbol (mirror of the streamed book, or the engine's book).
  ApiResponse depth(std::string_view symbol, std::size_t limit);

  // ---- server.cpp ----
  void do_accept();
  void tick_faults();
  void after(std::int64_t delay_ms, std::function<void()> fn);

  VenueConfig cfg;
  sim::MatchingEngine& engine;
  std::shared_ptr<Api> api;  // api.cpp's handlers and their id RNG
  VenueCounters counters;
  std::int64_t start_ns = 0;   // wall clock at start(): disconnect windows are relative to it
  bool in_disconnect = false;
  bool stopping = false;

  // Sessions (raw pointers: each removes itself in its destructor, on this thread).
  std::unordered_set<WsSession*> ws_sessions;
  std::unordered_set<HttpSession*> http_sessions;

  // Accounts, keys, listen keys.
  std::unordered_map<std::string, ListenKey> listen_keys;
  // Per-IP request weight in the current minute.
  struct Weight { std::int64_t minute = 0; std::uint32_t used = 0; };
  std::unordered_map<std::string, Weight> weights;

  // Reports of the engine call in progress (FULL responses gather their fills from here).
  std::vector<exec::ExecReport> call_reports;
  bool capturing = false;
  std::int64_t call_now_ns = 0;
  std::unordered_set<std::uint32_t> touched_accounts;  // need an outboundAccountPosition
  std::int64_t touched_delay_ms = 0;

  // ---- replay state ----
  struct MdSymbol {
    std::string lower;    // "btcusdt"
    std::string upper;    // "BTCUSDT"
    bool wanted = true;   // passes VenueConfig::symbols
    std::unique_ptr<book::L2Book> mirror;
    bool mapped = false;  // mapped onto an engine symbol
  };
  std::vector<MdSymbol> md_syms;  // by feed::SymbolId
  // One lane = files read one after another by one reader. Sequential replay: one lane holding every
  // capture; interleaved: one lane per capture, merged on the head lines' receive stamps. A lane's
  // head is a view into its reader's buffer: valid until that reader's next next(), and only the
  // lane whose head was sent is advanced.
  struct MdLane {
    std::vector<std::size_t> files;  // indices into cfg.captures
    std::size_t file = 0;            // position in `files`
    std::unique_ptr<feed::CaptureReader> reader;
    feed::FileContext fctx;
    std::string_view head;
    std::int64_t head_ts_ns = 0;     // the head's receive stamp, ns
    bool has_head = false;
    bool done = false;
  };
  std::vector<MdLane> md_lanes;
  static constexpr std::size_t kNoLane = ~std::size_t{0};
  std::size_t md_advance = kNoLane;  // the lane whose head was handled: read its next line first
  std::size_t md_expect_syms = 0;  // distinct wanted symbols of the captures (the preroll waits for each)
  bool md_open = false;
  bool md_preroll = true;
  std::uint64_t md_preroll_lines = 0;
  bool md_have_t0 = false;
  std::int64_t md_t0_cap_ns = 0;
  std::chrono::steady_clock::time_point md_t0_wall;
  std::unique_ptr<feed::LineParser> md_parser;
  feed::Event md_ev;
  // Reads the lane's next line into its head (opening its next file at an end); false when the lane
  // is exhausted or failed (then md_open may be cleared by the caller when every lane is done).
  bool md_fill(MdLane& lane);

  // ---- io (declared last: destroyed first, while the registries above still exist) ----
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer md_timer{ioc};
  net::steady_timer fault_timer{ioc};
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool started = false;
};

}  // namespace tickrt::venue
