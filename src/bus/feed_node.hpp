// bus/feed_node.hpp — `tickrt feed --publish nats://...`: the market-data bus's publisher.
//
//   capture file ──► LineParser ──► encode (bus/wire.hpp) ──SpscRing<OutMsg>──► publisher thread ──► JetStream
//   (CaptureSource,    normalised      per-symbol seq                           js_PublishAsync      stream MD
//    paced or not)     feed::Event                                               (md.<venue>.<SYM>.<kind>)
//
// Who calls: the CLI (apps/tickrt/cmd_bus.cpp) and the tests: create() (setup: opens the capture,
// connects, makes the stream when absent), run(stop) on the calling thread (the feed thread),
// which starts and joins the publisher thread.
//
// Publishing never blocks the feed thread on the network: the feed thread only encodes into a
// ring slot; the publisher thread hands each message to cnats' async JetStream publish (acks
// collected in the background; a lost ack is resent with the same Nats-Msg-Id, so the stream
// stores it once). A full ring makes the feed thread wait (counted: ring_full_waits): a replayed
// capture is slowed, never thinned (a dropped message would be a gap on every consumer).
//
// What is published: every parsed event (trade, bookTicker, depth diff, depth snapshot, markPrice)
// with a per-symbol sequence number 1, 2, ... (all kinds of a symbol share it). A strategy node
// rebuilds the exact book and features from them (the same event sequence the single process
// applies). The stamp is now_ns() when the feed thread took the line (hop latency).
//
// Hot path: no allocation except messages larger than a slot (depth snapshots: rare, one
// std::vector per message), no locks, no logging.
// Source url: one WebSocket connection (pipeline::WsFeed) and the REST snapshot fetcher thread
// (pipeline::SnapshotFetcher); each frame is parsed with the frame's receive time as its stamp and
// published like a capture line; each symbol's snapshot is published when it arrives (the shards'
// books buffer the diffs that came before it, as the single process's book does). A disconnect is
// not reconnected: the node stops (the venue's replay ended).
// Limits: one feed process per stream run (a restarted feed starts every symbol's seq at 1 again;
// consumers count that as a `reset`). Symbols are upper case, at most 23 characters.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/nats_client.hpp"
#include "core/latency_histogram.hpp"
#include "core/status.hpp"

namespace tickrt::bus {

struct FeedOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string stream = "MD";          // JetStream stream (subjects md.>), created when absent
  std::string venue = "binance";      // the subject's venue token
  std::vector<std::string> captures;  // replayed one after the other
  double speed = 0;                   // x recorded time (0 = as fast as possible); source url: the speed
                                      // the venue replays at (feature time = speed x wall time)
  std::size_t max_lines = 0;          // per capture, 0 = all
  int copies = 1;                     // > 1: also replay each capture under copies - 1 renamed symbols
                                      // (pipeline/capture_source.hpp: B000001, ...)
  std::int64_t max_age_s = 0;         // stream MaxAge when it is created (0 = keep)
  // Source url (`--source url`): instead of replaying captures, read the venue's own market data
  // (WebSocket combined stream at ws_url for `symbols`, REST depth snapshots from rest_url, as
  // `tickrt run` with feed.source = url does) and publish what arrives. Against `tickrt sim` this is
  // what makes the shards decide on exactly the venue's book (a second replay of the same capture
  // is only as close as the two replays' start offset: docs/SCALING.md weak spots).
  std::string ws_url, rest_url;       // ws_url non-empty = source url
  std::vector<std::string> symbols;   // upper case, source url only
  double idle_exit_s = 3;             // source url: stop after this long without a frame (0 = never)
  // Source url: when the venue closes the WebSocket, reconnect after this many ms and fetch every
  // symbol's depth snapshot again (consumers' books resync on it, as `tickrt run`'s url source does).
  // 0 = stop instead (a replaying simulator closes at its end). A live exchange needs it: Binance
  // closes every connection after 24 h.
  int reconnect_ms = 0;
  double duration_s = 0;              // source url: stop after this long (0 = until stop / idle)
};

struct FeedCounters {
  std::uint64_t lines = 0, malformed = 0, published = 0, publish_errors = 0, ring_full_waits = 0, large = 0;
  std::uint64_t snapshots_fetched = 0;  // source url: REST snapshots taken (startup, reconnect)
  std::uint64_t ws_reconnects = 0;      // source url: WebSocket connections re-opened (reconnect_ms > 0)
  std::uint64_t gaps = 0;               // source url: depth diffs that broke the update-id chain (a snapshot re-fetched)
  std::uint64_t by_kind[6] = {};
  std::uint64_t symbols = 0;
  double seconds = 0;
};

class FeedNode {
 public:
  static Result<std::unique_ptr<FeedNode>> create(const FeedOptions& o);
  ~FeedNode();
  FeedNode(const FeedNode&) = delete;
  FeedNode& operator=(const FeedNode&) = delete;

  // Replays every capture, publishing each event; returns when done (all acks in) or on stop.
  Status run(const std::atomic<bool>& stop);
  const FeedCounters& counters() const noexcept { return c_; }
  std::string report() const;

  struct Impl;

 private:
  explicit FeedNode(std::unique_ptr<Impl> i);
  std::unique_ptr<Impl> impl_;
  FeedCounters c_;
};

// The subject of one market-data message: md.<venue>.<SYMBOL>.<kind> (kind: trade, ticker,
// depth, mark, snapshot).
std::string md_subject(const std::string& venue, std::string_view symbol, std::string_view kind);

}  // namespace tickrt::bus
