// bus/feed_node.cpp — capture -> normalised events -> ring -> JetStream (feed_node.hpp).
#include "bus/feed_node.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bus/wire.hpp"
#include "core/clock.hpp"
#include "feed/line_parser.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/ws_client.hpp"

namespace tickrt::bus {

std::string md_subject(const std::string& venue, std::string_view symbol, std::string_view kind) {
  std::string s = "md.";
  s += venue;
  s += '.';
  s += symbol;
  s += '.';
  s += kind;
  return s;
}

namespace {

// One message in flight from the feed thread to the publisher thread. Most messages fit the
// inline bytes; a larger one (a depth snapshot) carries its own buffer (rare path).
struct OutMsg {
  std::uint32_t len = 0;
  char subject[72] = {};
  char msg_id[48] = {};
  std::vector<std::uint8_t> big;
  std::array<std::uint8_t, 1536> inl{};
  const std::uint8_t* data() const noexcept { return big.empty() ? inl.data() : big.data(); }
};

}  // namespace

struct FeedNode::Impl {
  FeedOptions o;
  std::unique_ptr<NatsConn> conn;
  std::vector<std::unique_ptr<pipeline::CaptureSource>> caps;
  std::unique_ptr<pipeline::WsFeed> ws;               // source url
  std::unique_ptr<pipeline::SnapshotFetcher> snaps;   // source url
  std::unique_ptr<SpscRing<OutMsg>> ring;
  std::atomic<bool> feed_done{false};
  std::atomic<std::uint64_t> published{0}, pub_fail{0};
  std::array<std::uint64_t, 1024> seq{};  // per SymbolId
};

FeedNode::FeedNode(std::unique_ptr<Impl> i) : impl_(std::move(i)) {}
FeedNode::~FeedNode() = default;

Result<std::unique_ptr<FeedNode>> FeedNode::create(const FeedOptions& o) {
  auto im = std::make_unique<Impl>();
  im->o = o;
  const bool url = !o.ws_url.empty();
  if (url && (o.symbols.empty() || o.rest_url.empty()))
    return Status(Code::invalid_argument, "feed --source url: needs --symbols and --rest-url (with --ws-url)");
  if (!url && o.captures.empty()) return Status(Code::invalid_argument, "feed: no capture given (--capture FILE)");
  if (!url) for (const std::string& path : o.captures) {
    auto src = pipeline::CaptureSource::open(path, std::max(1, o.copies), o.speed, o.max_lines);
    if (!src.ok()) return src.status().with_context("feed --capture");
    im->caps.push_back(std::move(src.value()));
  }
  auto c = NatsConn::connect(o.url, "tickrt-feed", false);
  if (!c.ok()) return c.status().with_context("feed --publish");
  im->conn = std::move(c.value());
  TICKRT_RETURN_IF_ERROR(im->conn->ensure_stream(o.stream, {"md.>"}, false, o.max_age_s).with_context("feed"));
  im->ring = std::make_unique<SpscRing<OutMsg>>(8192);
  if (url) {
    // WebSocket first, then the snapshots: diffs after the snapshot's lastUpdateId are then all on
    // the connection (the Binance recipe; the consumers' books drop the older ones as stale).
    im->ws = std::make_unique<pipeline::WsFeed>();
    TICKRT_RETURN_IF_ERROR(im->ws->connect(o.ws_url, pipeline::combined_stream_target(o.symbols)).with_context("feed --ws-url " + o.ws_url));
    im->snaps = std::make_unique<pipeline::SnapshotFetcher>(o.rest_url, o.symbols);
    im->snaps->start();
    for (std::size_t i = 0; i < o.symbols.size(); ++i)
      if (!im->snaps->request(static_cast<std::uint16_t>(i))) return Status(Code::internal, "feed --source url: snapshot request ring full");
  }
  return std::unique_ptr<FeedNode>(new FeedNode(std::move(im)));
}

Status FeedNode::run(const std::atomic<bool>& stop) {
  Impl& m = *impl_;
  // Publisher thread: ring -> cnats async publish, in windows of up to 256 messages: the window's
  // acks are awaited before the next window goes out, and a window with a failed or lost ack
  // (server restart) is sent again in order. So the stream holds every message once (Nats-Msg-Id
  // de-duplication) and in sequence order, and the feed thread never waits on the network.
  std::thread pub([&m, &stop] {
    std::vector<OutMsg> win;
    win.reserve(256);
    OutMsg msg;
    for (;;) {
      while (win.size() < 256 && m.ring->try_pop(msg)) win.push_back(std::move(msg));
      if (win.empty()) {
        if (m.feed_done.load(std::memory_order_acquire) && m.ring->empty()) break;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        continue;
      }
      for (int attempt = 0;; ++attempt) {
        bool sent = true;
        for (const OutMsg& x : win)
          sent &= m.conn->publish_async(x.subject, x.data(), static_cast<int>(x.len), x.msg_id).ok();
        const bool acked = m.conn->flush_async(5000).ok();
        if (!m.conn->take_pub_failed() && sent && acked) break;
        m.pub_fail.fetch_add(1, std::memory_order_relaxed);  // resending the window
        if (stop.load(std::memory_order_relaxed) && attempt > 3) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      m.published.fetch_add(win.size(), std::memory_order_relaxed);
      win.clear();
    }
  });

  const std::int64_t t0 = now_ns();
  feed::LineParser parser;
  feed::Event ev;
  OutMsg out;
  std::vector<std::uint8_t> scratch(1 << 16);
  // Encodes the parsed event `ev` (taken at `recv`) and hands it to the publisher thread.
  auto emit = [&](std::int64_t recv) __attribute__((noinline)) {  // out of line: g++ 12 -Wdangling-pointer misfires when inlined
    const std::string_view sym = parser.symbols().name(ev.symbol);
    if (sym.empty() || sym.size() > kMaxSymbolLen) {
      ++c_.malformed;
      return;
    }
    if (m.seq[ev.symbol] == 0) ++c_.symbols;
    const std::uint64_t seq = ++m.seq[ev.symbol];
    std::size_t n = encode_event(ev, sym, seq, recv, std::span<std::uint8_t>(out.inl.data(), out.inl.size()));
    out.big.clear();
    if (n == 0) {
      // Larger than a slot (snapshots, wide diffs): its own buffer. Rare path.
      const std::size_t need = kHeaderSize + 128 + 16 * (ev.depth.bids.size() + ev.depth.asks.size() +
                                                         ev.snapshot.bids.size() + ev.snapshot.asks.size());
      if (scratch.size() < need) scratch.resize(need);
      n = encode_event(ev, sym, seq, recv, scratch);
      if (n == 0) {
        ++c_.malformed;
        return;
      }
      out.big.assign(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
      ++c_.large;
    }
    out.len = static_cast<std::uint32_t>(n);
    const MsgKind k = static_cast<MsgKind>(ev.kind);
    const std::string_view kname = msg_kind_name(k);  // named: g++ 12 warns (falsely) on the temporary in a lambda
    std::snprintf(out.subject, sizeof(out.subject), "md.%s.%.*s.%.*s", m.o.venue.c_str(), static_cast<int>(sym.size()),
                  sym.data(), static_cast<int>(kname.size()), kname.data());
    std::snprintf(out.msg_id, sizeof(out.msg_id), "%.*s:%" PRIu64 ":%" PRId64, static_cast<int>(sym.size()), sym.data(), seq, t0);
    ++c_.by_kind[static_cast<int>(ev.kind)];
    bool waited = false;
    while (!m.ring->try_push(std::move(out))) {
      if (!waited) { ++c_.ring_full_waits; waited = true; }
      std::this_thread::yield();
    }
    out = OutMsg{};
  };
  // Several captures replay side by side (round robin, each paced on its own clock): the symbols of
  // different files interleave as they would on one live connection.
  std::vector<feed::FileContext> files(m.caps.size());
  feed::FileContext url_ctx;
  std::size_t live = m.caps.size();
  while (live > 0 && !stop.load(std::memory_order_relaxed)) {
    bool any = false;
    live = 0;
    for (std::size_t ci = 0; ci < m.caps.size(); ++ci) {
      auto& cap = m.caps[ci];
      feed::FileContext& file = files[ci];
      if (cap->done()) continue;
      ++live;
      std::string_view line;
      if (!cap->next(line)) continue;  // paced replay: next line not due
      any = true;
      const std::int64_t recv = now_ns();
      ++c_.lines;
      if (parser.parse(line, file, ev) != feed::LineError::ok || ev.symbol >= m.seq.size()) {
        ++c_.malformed;
        continue;
      }
      emit(recv);
    }
    if (!any && live > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  if (m.ws) {
    // Source url: the venue's frames as they arrive, stamped with their receive time; snapshots
    // (startup) in between, parsed like any message (rare path: the fetcher's string is freed here).
    // Feature time (the events' local stamp) as `tickrt run` computes it for a url source: the
    // receive stamp, scaled by the speed the venue replays at (--speed; 0 or 1 = wall time), so
    // the shards sample every 100 ms of MARKET time. The header stamp stays the receive time (hop).
    std::int64_t last_frame = now_ns();
    std::int64_t disconnected_at = 0;
    // Diff continuity per symbol (by parser symbol id): a gap (Binance spot: U != previous u + 1; futures:
    // pu != previous u) re-fetches that symbol's snapshot once, and the consumers' books resync on it.
    struct Chain { std::uint64_t last_u = 0; int fetch = -1; bool pending = false; bool named = false; };
    std::vector<Chain> chain(m.seq.size());
    auto check_chain = [&] {
      if (ev.symbol >= chain.size()) return;
      Chain& c = chain[ev.symbol];
      if (!c.named) {  // first event of the symbol: its index in --symbols (the snapshot fetcher's)
        c.named = true;
        const std::string_view name = parser.symbols().name(ev.symbol);
        for (std::size_t i = 0; i < m.o.symbols.size(); ++i)
          if (m.o.symbols[i] == name) c.fetch = static_cast<int>(i);
      }
      if (ev.kind == feed::EventKind::depth_snapshot) {
        c.pending = false;
        return;
      }
      if (ev.kind != feed::EventKind::depth_update) return;
      const feed::DepthUpdateFields& d = ev.depth;
      const bool gap = c.last_u != 0 && (d.has_prev ? d.prev_final_update_id != c.last_u : d.first_update_id > c.last_u + 1);
      c.last_u = d.final_update_id;
      if (!gap) return;
      ++c_.gaps;
      if (!c.pending && c.fetch >= 0 && m.snaps->request(static_cast<std::uint16_t>(c.fetch))) c.pending = true;
    };
    std::int64_t time_base = 0;
    const double scale = m.o.speed > 0 ? m.o.speed : 1.0;
    auto fts = [&](std::int64_t rns) {
      if (scale == 1.0) return rns;
      if (time_base == 0) time_base = rns;
      return time_base + static_cast<std::int64_t>(static_cast<double>(rns - time_base) * scale);
    };
    while (!stop.load(std::memory_order_relaxed)) {
      const std::int64_t now = now_ns();
      if (std::string* snap = m.snaps->take()) {
        ++c_.lines;
        ++c_.snapshots_fetched;
        if (parser.parse_json(*snap, fts(now), url_ctx, ev) == feed::LineError::ok && ev.symbol < m.seq.size()) {
          check_chain();
          emit(now);
        } else {
          ++c_.malformed;
        }
        delete snap;
        continue;
      }
      std::string_view frame;
      std::uint64_t tsc = 0;
      std::int64_t rns = 0;
      if (m.ws->poll(frame, tsc, rns)) {
        last_frame = rns;
        ++c_.lines;
        if (parser.parse_json(frame, fts(rns), url_ctx, ev) == feed::LineError::ok && ev.symbol < m.seq.size()) {
          check_chain();
          emit(rns);
        } else {
          ++c_.malformed;
        }
        continue;
      }
      if (!m.ws->connected()) {
        if (m.o.reconnect_ms <= 0) break;  // the venue closed (replay over, or stopped)
        // Recovery path: reconnect after reconnect_ms, then a snapshot per symbol (the consumers' books
        // see the gap in the diffs and resync on it). The parser's per-connection state starts over.
        if (disconnected_at == 0) disconnected_at = now;
        if (now - disconnected_at >= static_cast<std::int64_t>(m.o.reconnect_ms) * 1'000'000) {
          disconnected_at = now;
          if (m.ws->connect(m.o.ws_url, pipeline::combined_stream_target(m.o.symbols)).ok()) {
            disconnected_at = 0;
            last_frame = now;
            url_ctx = feed::FileContext{};
            ++c_.ws_reconnects;
            for (Chain& c : chain) c.last_u = 0;   // a new connection's diffs start anew (the snapshots follow)
            for (std::size_t i = 0; i < m.o.symbols.size(); ++i) (void)m.snaps->request(static_cast<std::uint16_t>(i));
          }
        }
        if (m.o.duration_s > 0 && now - t0 > static_cast<std::int64_t>(m.o.duration_s * 1e9)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (m.o.idle_exit_s > 0 && now - last_frame > static_cast<std::int64_t>(m.o.idle_exit_s * 1e9)) break;
      if (m.o.duration_s > 0 && now - t0 > static_cast<std::int64_t>(m.o.duration_s * 1e9)) break;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    m.snaps->stop();
    m.ws->close();
  }
  m.feed_done.store(true, std::memory_order_release);
  pub.join();
  Status st = m.conn->flush_async(10000);
  c_.published = m.published.load();
  c_.publish_errors = m.conn->counters().pub_errors.load();
  c_.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  return st;
}

std::string FeedNode::report() const {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "feed: %" PRIu64 " lines (%" PRIu64 " malformed), %" PRIu64 " symbols, %" PRIu64 " published in %.2f s (%.0f msg/s); "
                "trade %" PRIu64 ", ticker %" PRIu64 ", depth %" PRIu64 ", mark %" PRIu64 ", snapshot %" PRIu64 "; %" PRIu64
                " large, %" PRIu64 " ring-full waits, %" PRIu64 " publish errors (%" PRIu64 " windows resent), %" PRIu64 " reconnects; "
                "%" PRIu64 " REST snapshots, %" PRIu64 " WebSocket reconnects, %" PRIu64 " diff gaps\n",
                c_.lines, c_.malformed, c_.symbols, c_.published, c_.seconds, c_.seconds > 0 ? c_.published / c_.seconds : 0.0,
                c_.by_kind[1], c_.by_kind[2], c_.by_kind[3], c_.by_kind[4], c_.by_kind[5], c_.large, c_.ring_full_waits,
                c_.publish_errors, impl_->pub_fail.load(), impl_->conn->counters().reconnects.load(), c_.snapshots_fetched,
                c_.ws_reconnects, c_.gaps);
  return buf;
}

}  // namespace tickrt::bus
