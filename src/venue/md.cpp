// venue/md.cpp — capture replay: recorded lines -> WebSocket market-data clients, the REST depth
// mirror and the engine's replay mode, paced by VenueConfig::speed. See venue.hpp.
#include <algorithm>
#include <cctype>

#include "venue/impl.hpp"

namespace tickrt::venue {

namespace {
std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}
std::string upper(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}
std::string_view kind_suffix(feed::EventKind k) {
  switch (k) {
    case feed::EventKind::trade: return "trade";
    case feed::EventKind::book_ticker: return "bookTicker";
    case feed::EventKind::depth_update: return "depth";
    case feed::EventKind::mark_price: return "markPrice";
    default: return {};
  }
}
constexpr std::size_t kBatch = 512;  // lines per handler before yielding to sockets
constexpr int kProbeLines = 2000;    // lines read to find a capture's symbol (its first parsable line)

// A line's recorded receive stamp in ns; the digits before the first space decide the unit the way
// the parser does (13 or fewer: ms, 15-16: us, else ns). 0 when the line has none.
std::int64_t line_stamp_ns(std::string_view line) {
  std::int64_t ts = 0;
  for (char c : line) {
    if (c < '0' || c > '9') break;
    ts = ts * 10 + (c - '0');
  }
  const std::size_t digits = line.find(' ');
  if (digits != std::string_view::npos && digits <= 16 && digits >= 15) ts *= 1000;
  else if (digits != std::string_view::npos && digits <= 13) ts *= 1'000'000;
  return ts;
}
}  // namespace

bool VenueServer::Impl::stream_key(std::string_view name, std::string& key) {
  const std::size_t at = name.find('@');
  if (at == 0 || at == std::string_view::npos) return false;
  const std::string sym = lower(name.substr(0, at));
  const std::string_view rest = name.substr(at + 1);
  std::string_view kind;
  if (rest == "trade") {
    kind = "trade";
  } else if (rest == "bookTicker") {
    kind = "bookTicker";
  } else if (rest == "depth" || rest == "depth@100ms" || rest == "depth@0ms" || rest == "depth@250ms" ||
             rest == "depth@500ms" || rest == "depth@1000ms") {
    // Every depth speed gets the recorded diffs (their ids chain the same way).
    kind = "depth";
  } else if (rest == "markPrice" || rest == "markPrice@1s") {
    kind = "markPrice";
  } else {
    return false;
  }
  key = sym + "@" + std::string(kind);
  return true;
}

Status VenueServer::Impl::open_replay() {
  if (cfg.captures.empty()) {
    counters.replay_done = true;
    return Status::Ok();
  }
  md_parser = std::make_unique<feed::LineParser>();
  // Each file's symbol (its first parsable line): decides interleaving and what the preroll waits for.
  std::vector<std::string> file_syms;
  for (const std::string& f : cfg.captures) {
    // Fail early on a missing file rather than in the middle of a session.
    feed::CaptureReader probe;
    TICKRT_RETURN_IF_ERROR(probe.open(f).with_context("venue: capture file '" + f + "'"));
    feed::LineParser lp;
    feed::FileContext fc;
    feed::Event ev;
    std::string sym;
    std::string_view line;
    for (int i = 0; i < kProbeLines && sym.empty() && probe.next(line); ++i)
      if (lp.parse(line, fc, ev) == feed::LineError::ok && ev.symbol != feed::kNoSymbol)
        sym = upper(lp.symbols().name(ev.symbol));
    if (!probe.status().ok()) return probe.status().with_context("venue: capture file '" + f + "'");
    file_syms.push_back(std::move(sym));
  }
  std::vector<std::string> distinct;
  for (const std::string& sy : file_syms)
    if (!sy.empty() && std::find(distinct.begin(), distinct.end(), sy) == distinct.end()) distinct.push_back(sy);
  const bool interleave = cfg.interleave == VenueConfig::Interleave::on ||
                          (cfg.interleave == VenueConfig::Interleave::automatic && distinct.size() > 1);
  md_lanes.clear();
  if (interleave) {
    md_lanes.resize(cfg.captures.size());
    for (std::size_t i = 0; i < cfg.captures.size(); ++i) md_lanes[i].files = {i};
    md_expect_syms = 0;
    for (const std::string& sy : distinct)
      if (cfg.symbols.empty() || std::find(cfg.symbols.begin(), cfg.symbols.end(), sy) != cfg.symbols.end())
        ++md_expect_syms;
  } else {
    md_lanes.resize(1);
    for (std::size_t i = 0; i < cfg.captures.size(); ++i) md_lanes[0].files.push_back(i);
    md_expect_syms = 0;  // one file after another: a later file's symbols cannot be waited for
  }
  for (MdLane& lane : md_lanes) {
    lane.reader = std::make_unique<feed::CaptureReader>();
    TICKRT_RETURN_IF_ERROR(lane.reader->open(cfg.captures[lane.files[0]]).with_context("venue"));
    (void)md_fill(lane);
  }
  counters.md_lanes = static_cast<std::uint32_t>(md_lanes.size());
  md_advance = kNoLane;
  md_open = true;
  return Status::Ok();
}

bool VenueServer::Impl::md_fill(MdLane& lane) {
  lane.has_head = false;
  while (!lane.done) {
    std::string_view line;
    if (lane.reader->next(line)) {
      lane.head = line;
      lane.head_ts_ns = line_stamp_ns(line);
      lane.has_head = true;
      return true;
    }
    if (!lane.reader->status().ok()) {
      std::fprintf(stderr, "venue: replay of %s stopped: %s\n", lane.reader->path().c_str(),
                   lane.reader->status().to_string().c_str());
      lane.done = true;
      break;
    }
    if (++lane.file >= lane.files.size()) {
      lane.done = true;
      break;
    }
    Status st = lane.reader->open(cfg.captures[lane.files[lane.file]]);
    if (!st.ok()) {
      std::fprintf(stderr, "venue: replay stopped: %s\n", st.to_string().c_str());
      lane.done = true;
      break;
    }
    lane.fctx.reset();
  }
  return false;
}

ApiResponse VenueServer::Impl::depth(std::string_view symbol, std::size_t limit) {
  ApiResponse r;
  const std::string up = upper(symbol);
  std::vector<feed::Level> bids, asks;
  std::uint64_t last_id = 0;
  const MdSymbol* ms = nullptr;
  for (const MdSymbol& m : md_syms)
    if (m.upper == up && m.wanted && m.mirror) ms = &m;
  if (ms) {
    bids.resize(limit);
    asks.resize(limit);
    bids.resize(ms->mirror->top_bids(bids.data(), limit));
    asks.resize(ms->mirror->top_asks(asks.data(), limit));
    last_id = ms->mirror->last_update_id();
  } else {
    sim::DepthSnapshot snap;
    if (engine.depth_snapshot(exec::SymbolName::from(up), limit, snap) != exec::RejectCode::none) {
      r.status = 400;
      r.body = error_body(-1121, "Invalid symbol.");
      return r;
    }
    bids = std::move(snap.bids);
    asks = std::move(snap.asks);
    last_id = snap.last_update_id;
  }
  std::string s = "{\"lastUpdateId\":" + std::to_string(last_id);
  if (ms && ms->mirror->market() == feed::Market::futures) {
    // Futures snapshots carry message and transaction times (as /fapi/v1/depth does).
    const std::string t = std::to_string(now_ms());
    s += ",\"E\":" + t + ",\"T\":" + t;
  }
  s += ",\"bids\":[";
  auto side = [&](const std::vector<feed::Level>& lv) {
    for (std::size_t i = 0; i < lv.size(); ++i) {
      if (i) s.push_back(',');
      s += "[\"" + lv[i].price.to_string() + "\",\"" + lv[i].qty.to_string() + "\"]";
    }
  };
  side(bids);
  s += "],\"asks\":[";
  side(asks);
  s += "]}";
  r.body = std::move(s);
  return r;
}

// One replay handler: streams every line that is due (at most kBatch), then re-arms the timer
// for the next line's due time (speed > 0) or yields (speed 0, with client backpressure).
void VenueServer::Impl::replay_step() {
  if (stopping || !md_open) return;
  const bool max_speed = cfg.speed <= 0.0;
  if (max_speed && !md_preroll) {
    // As fast as possible means as fast as the clients read: the replay starts when the first
    // market-data subscriber arrives and waits while any subscriber has a long queue.
    std::size_t worst = 0;
    bool any = false;
    for (WsSession* s : ws_sessions)
      if (s->kind == WsSession::Kind::market && !s->subs.empty()) {
        any = true;
        worst = std::max(worst, s->queued());
      }
    if (!any || worst > cfg.max_pace_queue) {
      md_timer.expires_after(std::chrono::milliseconds(1));
      md_timer.async_wait([this](beast::error_code ec) {
        if (!ec) replay_step();
      });
      return;
    }
  }
  for (std::size_t n = 0; n < kBatch || md_preroll; ++n) {
    // The lane whose head was handled last reads its next line only now (its view stayed valid).
    if (md_advance != kNoLane) {
      (void)md_fill(md_lanes[md_advance]);
      md_advance = kNoLane;
    }
    // k-way merge: the earliest head next (ties: the capture listed first).
    std::size_t li = kNoLane;
    for (std::size_t i = 0; i < md_lanes.size(); ++i)
      if (md_lanes[i].has_head && (li == kNoLane || md_lanes[i].head_ts_ns < md_lanes[li].head_ts_ns)) li = i;
    if (li == kNoLane) {
      md_open = false;
      counters.replay_done = true;
      return;
    }
    MdLane& lane = md_lanes[li];
    const std::string_view line = lane.head;
    // Pacing: the line's recorded receive stamp decides when it is due.
    if (!md_preroll && !max_speed) {
      const std::int64_t ts = lane.head_ts_ns;
      if (!md_have_t0) {
        md_have_t0 = true;
        md_t0_cap_ns = ts;
        md_t0_wall = std::chrono::steady_clock::now();
      }
      const auto due = md_t0_wall + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                        static_cast<double>(ts - md_t0_cap_ns) / cfg.speed));
      if (due > std::chrono::steady_clock::now()) {
        md_timer.expires_at(due);
        md_timer.async_wait([this](beast::error_code ec) {
          if (!ec) replay_step();
        });
        return;
      }
    }
    md_advance = li;  // handled from here on, whatever the outcome
    // The line is due: parse, mirror, engine, stream.
    ++counters.md_lines;
    const feed::LineError le = md_parser->parse(line, lane.fctx, md_ev);
    if (le != feed::LineError::ok) {
      ++counters.md_bad_lines;
      continue;
    }
    const feed::SymbolId id = md_ev.symbol;
    if (id >= md_syms.size()) md_syms.resize(static_cast<std::size_t>(id) + 1);
    MdSymbol& ms = md_syms[id];
    if (ms.upper.empty()) {
      ms.upper = upper(md_parser->symbols().name(id));
      ms.lower = lower(ms.upper);
      ms.wanted = cfg.symbols.empty() ||
                  std::find(cfg.symbols.begin(), cfg.symbols.end(), ms.upper) != cfg.symbols.end();
      if (ms.wanted) {
        book::L2Book::Config bc;
        ms.mirror = std::make_unique<book::L2Book>(md_parser->symbols().market(id), bc);
        // The engine's symbol must follow the same book rules (a futures capture never drives a
        // spot symbol of the same name: their diff chains differ).
        const sim::SymbolIndex ei = engine.find_symbol(ms.upper);
        if (ei != sim::kNoSymbolIndex && engine.spec(ei).market == md_parser->symbols().market(id))
          ms.mapped = engine.map_feed_symbol(id, ms.upper).ok();
      }
    }
    if (!ms.wanted) continue;
    if (md_ev.kind == feed::EventKind::depth_snapshot) {
      (void)ms.mirror->on_snapshot(md_ev.snapshot.last_update_id, md_ev.snapshot.bids, md_ev.snapshot.asks);
    } else if (md_ev.kind == feed::EventKind::depth_update) {
      (void)ms.mirror->on_diff(md_ev.depth);
    }
    if (ms.mapped) {
      md_ev.local_ts_ns = now_ns();  // the engine runs on the server's clock (reports' E/T)
      call_now_ns = md_ev.local_ts_ns;
      touched_accounts.clear();
      touched_delay_ms = 0;
      (void)engine.on_market_event(md_ev);
      flush_account_positions(touched_delay_ms);
    }
    if (md_preroll) {
      ++md_preroll_lines;
      bool all_synced = true;
      std::size_t synced = 0;
      for (const MdSymbol& m : md_syms) {
        if (!m.wanted || !m.mirror) continue;
        if (m.mirror->state() != book::BookState::synced) all_synced = false;
        else ++synced;
      }
      // Interleaved captures: every file's symbol must have its snapshot (a symbol whose first line is
      // later than another's snapshot is not in md_syms yet).
      if ((all_synced && synced >= md_expect_syms && md_ev.kind == feed::EventKind::depth_snapshot) ||
          md_preroll_lines >= cfg.preroll_max_lines)
        md_preroll = false;
      if (!md_preroll) {
        // Yield once so clients waiting for the first message get a consistent start.
        net::post(ioc, [this] { replay_step(); });
        return;
      }
      continue;
    }
    if (md_ev.kind == feed::EventKind::depth_snapshot || md_ev.kind == feed::EventKind::none) continue;

    // Faults decided once per recorded message (every client sees the same stream).
    if (md_ev.kind == feed::EventKind::depth_update && engine.faults().gap > 0.0 && engine.should_gap()) {
      ++counters.md_gaps_fault;
      continue;  // this diff's id range is missing from the stream: clients must resync
    }
    if (engine.faults().drop_md > 0.0 && engine.should_drop_md()) {
      ++counters.md_dropped_fault;
      continue;
    }
    // Split "<ts> <json>"; take the envelope's data (or the whole object for unwrapped lines).
    const std::size_t sp = line.find(' ');
    std::string_view json = sp == std::string_view::npos ? line : line.substr(sp + 1);
    while (!json.empty() && (json.back() == ' ' || json.back() == '\r')) json.remove_suffix(1);
    std::string_view data = json;
    static constexpr std::string_view kStream = "{\"stream\":\"";
    if (json.substr(0, kStream.size()) == kStream) {
      const std::size_t d = json.find("\"data\":");
      if (d == std::string_view::npos || json.back() != '}') continue;
      data = json.substr(d + 7, json.size() - (d + 7) - 1);
    }
    const std::string key = ms.lower + "@" + std::string(kind_suffix(md_ev.kind));
    std::shared_ptr<const std::string> raw;
    std::vector<std::pair<std::string_view, std::shared_ptr<const std::string>>> wrapped;
    for (WsSession* s : ws_sessions) {
      if (s->kind != WsSession::Kind::market) continue;
      for (const Subscription& sub : s->subs) {
        if (sub.key != key) continue;
        std::shared_ptr<const std::string> msg;
        if (!s->combined) {
          if (!raw) raw = std::make_shared<const std::string>(data);
          msg = raw;
        } else {
          for (auto& [nm, m] : wrapped)
            if (nm == sub.name) msg = m;
          if (!msg) {
            std::string w;
            w.reserve(data.size() + sub.name.size() + 24);
            w += "{\"stream\":";
            append_json_string(w, sub.name);
            w += ",\"data\":";
            w += data;
            w += "}";
            msg = std::make_shared<const std::string>(std::move(w));
            wrapped.emplace_back(sub.name, msg);
          }
        }
        ++counters.md_messages_sent;
        s->send(std::move(msg));
        break;  // one copy per session even if subscribed under two names
      }
    }
  }
  net::post(ioc, [this] { replay_step(); });
}

}  // namespace tickrt::venue
