// bus/nats_client.hpp — the thin owner of a cnats connection (libnats, Debian libnats-dev 3.4)
// and its JetStream context, plus the one hand-off every node uses: NATS callbacks push the
// received natsMsg* into an SPSC ring that the node's own thread drains.
//
// Who calls: setup path (connect, ensure_stream, ensure_consumer, subscribe) from a node's main
// thread; MsgRing::try_pop from the node's work thread; the NATS delivery thread pushes.
//
// Threads: a connection made with `single_delivery` uses cnats' global message-delivery pool
// sized to ONE thread, so every async subscription of that connection (market data, account
// views, control) is delivered by one thread: the ring has exactly one producer, as SpscRing
// requires. A connection that makes requests (natsConnection_Request) must NOT use it (the reply
// would wait behind the blocked delivery thread): nodes open a second connection for that.
//
// Reconnect: connections retry for ever (100 ms apart) and buffer up to 64 MiB of publishes
// while disconnected; a JetStream push consumer (durable, server-side state) keeps its position
// across a nats-server restart (file storage), so a restart loses nothing stored.
//
// Limits: the consumer's durable name may not contain '.', '*', '>' (NATS rule).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/spsc_ring.hpp"
#include "core/status.hpp"

namespace tickrt::bus {

// cnats status -> tickrt Status naming what was being done.
Status nats_status(natsStatus s, const std::string& what, jsErrCode jerr = static_cast<jsErrCode>(0));

struct ConnCounters {
  std::atomic<std::uint64_t> disconnects{0}, reconnects{0}, async_errors{0};
  std::atomic<std::uint64_t> pub_errors{0}, pub_resent{0};   // JetStream async publish: errors, resent
  std::atomic<std::uint64_t> ring_full{0};                  // delivery thread waited on a full ring
};

// Received messages, one producer (the delivery thread), one consumer (the node thread). The
// consumer owns each popped message: ack (JetStream) if needed, then natsMsg_Destroy.
struct Delivered {
  natsMsg* msg = nullptr;
  std::uint8_t tag = 0;             // which subscription (the node's own numbering)
  std::int64_t recv_ns = 0;         // now_ns() in the delivery callback (hop latency)
};
using MsgRing = SpscRing<Delivered>;

class NatsConn {
 public:
  // url: nats://host:port[,nats://...]. name shows in the server's connz.
  static Result<std::unique_ptr<NatsConn>> connect(const std::string& url, const std::string& name, bool single_delivery);
  ~NatsConn();
  NatsConn(const NatsConn&) = delete;
  NatsConn& operator=(const NatsConn&) = delete;

  natsConnection* nc() const noexcept { return nc_; }
  jsCtx* js() const noexcept { return js_; }
  ConnCounters& counters() noexcept { return c_; }
  const std::string& url() const noexcept { return url_; }

  // A stream with `subjects` (creates it when absent; an existing one is left as it is).
  // work_queue: WorkQueue retention (each message consumed once, removed on ack).
  Status ensure_stream(const std::string& name, const std::vector<std::string>& subjects, bool work_queue,
                       std::int64_t max_age_s = 0);
  // A durable push consumer on `stream` filtered on `filter`, delivering to `deliver_subject`
  // (created when absent; an existing one keeps its position). Explicit acks.
  // start_seq > 0: a new consumer starts at that stream sequence (restart: ack floor + 1).
  Status ensure_push_consumer(const std::string& stream, const std::string& durable, const std::string& filter,
                              const std::string& deliver_subject, std::int64_t ack_wait_ms, std::uint64_t start_seq = 0);
  // Deletes a consumer (absent: ok).
  Status delete_consumer(const std::string& stream, const std::string& durable);
  // Ephemeral ordered consumer on `filter` from the stream's start, read synchronously (no acks):
  // calls fn(msg) for every message with stream sequence <= last_seq, then returns. For rebuilding
  // state; the caller destroys nothing (fn must not keep msg).
  template <class F>
  Status replay(const std::string& filter, std::uint64_t last_seq, F&& fn);
  // Subscribes to a consumer created by ensure_push_consumer; messages go to `ring` tagged `tag`.
  // Unsubscribing would delete nothing (the consumer was not created by the library).
  Status bind_push(const std::string& stream, const std::string& durable, MsgRing& ring, std::uint8_t tag);
  // Plain NATS subscription (core, not JetStream) into `ring`.
  Status subscribe(const std::string& subject, MsgRing& ring, std::uint8_t tag);
  // Stream sequence acknowledged by a durable consumer (0: none or no such consumer).
  std::uint64_t ack_floor(const std::string& stream, const std::string& durable);

  // JetStream async publish with a de-duplication id (Nats-Msg-Id): never waits on the network
  // unless 4096 publishes await their acks (then up to 200 ms, cnats' stall wait). A publish whose
  // ack does not come back in 2 s, or that the server refuses, sets the failed flag: the caller
  // sends its whole window again, in order (the id makes the stored copies no-ops).
  Status publish_async(const char* subject, const void* data, int len, const char* msg_id) noexcept;
  // Waits until every async publish is acknowledged or failed (or timeout).
  Status flush_async(std::int64_t timeout_ms);
  // True (and cleared) when a publish failed since the last call.
  bool take_pub_failed() noexcept { return pub_failed_.exchange(false, std::memory_order_acq_rel); }

 private:
  NatsConn() = default;
  struct Sub {
    NatsConn* self = nullptr;
    MsgRing* ring = nullptr;
    std::uint8_t tag = 0;
    natsSubscription* sub = nullptr;
  };
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_pub_err(jsCtx* js, jsPubAckErr* pae, void* closure);

  std::string url_;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::vector<std::unique_ptr<Sub>> subs_;
  ConnCounters c_;
  std::atomic<bool> pub_failed_{false};
};

Status subscribe_ordered(jsCtx* js, natsSubscription** sub, const std::string& filter);
std::uint64_t stream_seq(natsMsg* m) noexcept;

template <class F>
Status NatsConn::replay(const std::string& filter, std::uint64_t last_seq, F&& fn) {
  if (last_seq == 0) return Status::Ok();
  natsSubscription* sub = nullptr;
  TICKRT_RETURN_IF_ERROR(subscribe_ordered(js_, &sub, filter));
  Status st = Status::Ok();
  for (;;) {
    natsMsg* m = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK) {
      st = nats_status(s, "replay " + filter + " up to stream seq " + std::to_string(last_seq));
      break;
    }
    const std::uint64_t seq = stream_seq(m);
    if (seq <= last_seq) fn(m);
    natsMsg_Destroy(m);
    if (seq >= last_seq) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return st;
}

// Stream sequence and delivery count of a JetStream message (0 when it has no metadata).
std::uint64_t stream_seq(natsMsg* m) noexcept;
std::uint64_t delivered_count(natsMsg* m) noexcept;

}  // namespace tickrt::bus
