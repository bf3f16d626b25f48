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
  md_reader = std::make_unique<feed::CaptureReader>();
  md_parser = std::make_unique<feed::LineParser>();
  for (const std::string& f : cfg.captures) {
    // Fail early on a missing file rather than in the middle of a session.
    std::FILE* fp = std::fopen(f.c_str(), "rb");
    if (!fp) return Status(Code::not_found, "venue: capture file '" + f + "' cannot be opened");
    std::fclose(fp);
  }
  TICKRT_RETURN_IF_ERROR(md_reader->open(cfg.captures[0]).with_context("venue"));
  md_fctx.reset();
  md_file = 0;
  md_open = true;
  return Status::Ok();
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
    std::string_view line;
    if (md_has_pending) {
      line = md_pending;
    } else {
      if (!md_reader->next(line)) {
        if (!md_reader->status().ok()) {
          std::fprintf(stderr, "venue: replay stopped: %s\n", md_reader->status().to_string().c_str());
          md_open = false;
          counters.replay_done = true;
          return;
        }
        if (++md_file >= cfg.captures.size()) {
          md_open = false;
          counters.replay_done = true;
          return;
        }
        Status st = md_reader->open(cfg.captures[md_file]);
        if (!st.ok()) {
          std::fprintf(stderr, "venue: replay stopped: %s\n", st.to_string().c_str());
          md_open = false;
          counters.replay_done = true;
          return;
        }
        md_fctx.reset();
        continue;
      }
    }
    // Pacing: the line's recorded receive stamp decides when it is due.
    if (!md_preroll && !max_speed) {
      std::int64_t ts = 0;
      for (char c : line) {
        if (c < '0' || c > '9') break;
        ts = ts * 10 + (c - '0');
      }
      // Normalise the stamp to ns the way the parser does (digits decide the unit).
      const std::size_t digits = line.find(' ');
      if (digits != std::string_view::npos && digits <= 16 && digits >= 15) ts *= 1000;
      else if (digits != std::string_view::npos && digits <= 13) ts *= 1'000'000;
      if (!md_have_t0) {
        md_have_t0 = true;
        md_t0_cap_ns = ts;
        md_t0_wall = std::chrono::steady_clock::now();
      }
      const auto due = md_t0_wall + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                        static_cast<double>(ts - md_t0_cap_ns) / cfg.speed));
      if (due > std::chrono::steady_clock::now()) {
        if (!md_has_pending) {
          md_pending.assign(line);
          md_has_pending = true;
        }
        md_timer.expires_at(due);
        md_timer.async_wait([this](beast::error_code ec) {
          if (!ec) replay_step();
        });
        return;
      }
    }
    // The line is due: parse, mirror, engine, stream.
    ++counters.md_lines;
    const feed::LineError le = md_parser->parse(line, md_fctx, md_ev);
    if (le != feed::LineError::ok) {
      ++counters.md_bad_lines;
      md_has_pending = false;
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
    if (!ms.wanted) {
      md_has_pending = false;
      continue;
    }
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
      for (const MdSymbol& m : md_syms)
        if (m.wanted && m.mirror && m.mirror->state() != book::BookState::synced) all_synced = false;
      if ((all_synced && md_ev.kind == feed::EventKind::depth_snapshot) || md_preroll_lines >= cfg.preroll_max_lines)
        md_preroll = false;
      md_has_pending = false;
      if (!md_preroll) {
        // Yield once so clients waiting for the first message get a consistent start.
        net::post(ioc, [this] { replay_step(); });
        return;
      }
      continue;
    }
    md_has_pending = false;
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
