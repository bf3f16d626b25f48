// bus/nats_client.cpp — cnats connection, JetStream setup, delivery into rings (nats_client.hpp).
#include "bus/nats_client.hpp"

#include <thread>

#include "core/clock.hpp"

namespace tickrt::bus {

Status nats_status(natsStatus s, const std::string& what, jsErrCode jerr) {
  if (s == NATS_OK) return Status::Ok();
  std::string msg = what + ": " + natsStatus_GetText(s);
  if (jerr != 0) msg += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') msg += std::string(" [") + last + "]";
  return Status(s == NATS_TIMEOUT ? Code::resource_exhausted : Code::io_error, msg);
}

namespace {
void on_disconnected(natsConnection*, void* c) { static_cast<ConnCounters*>(c)->disconnects.fetch_add(1); }
void on_reconnected(natsConnection*, void* c) { static_cast<ConnCounters*>(c)->reconnects.fetch_add(1); }
void on_error(natsConnection*, natsSubscription*, natsStatus, void* c) { static_cast<ConnCounters*>(c)->async_errors.fetch_add(1); }
}  // namespace

Result<std::unique_ptr<NatsConn>> NatsConn::connect(const std::string& url, const std::string& name, bool single_delivery) {
  std::unique_ptr<NatsConn> c(new NatsConn());
  c->url_ = url;
  natsStatus s = natsOptions_Create(&c->opts_);
  if (s == NATS_OK) s = natsOptions_SetServers(c->opts_, nullptr, 0);
  if (s == NATS_OK) s = natsOptions_SetURL(c->opts_, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(c->opts_, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->opts_, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(c->opts_, 100);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(c->opts_, 64 * 1024 * 1024);
  if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts_, 2000);
  if (s == NATS_OK) s = natsOptions_SetNoEcho(c->opts_, false);
  // Send every publish (intent requests, their replies, acks, market data) from the calling
  // thread at once instead of handing it to cnats' flusher thread: that hand-off is one more
  // thread wake-up per message, which on a busy machine cost most of each hop's milliseconds
  // (docs/BENCHMARKS.md "## scale-out", before/after). The price is one write() per publish.
  if (s == NATS_OK) s = natsOptions_SetSendAsap(c->opts_, true);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(c->opts_, on_disconnected, &c->c_);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(c->opts_, on_reconnected, &c->c_);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(c->opts_, on_error, &c->c_);
  if (s == NATS_OK && single_delivery) {
    // One library delivery thread for every async subscription of the process that asks for it:
    // the rings these callbacks feed have one producer.
    s = nats_SetMessageDeliveryPoolSize(1);
    if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(c->opts_, true);
  }
  if (s != NATS_OK) return nats_status(s, "nats options for " + url);
  s = natsConnection_Connect(&c->nc_, c->opts_);
  if (s != NATS_OK) return nats_status(s, "nats connect " + url);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  jo.PublishAsync.ErrHandler = &NatsConn::on_pub_err;
  jo.PublishAsync.ErrHandlerClosure = c.get();
  jo.Wait = 5000;
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) return nats_status(s, "jetstream context on " + url);
  return c;
}

NatsConn::~NatsConn() {
  // Subscriptions: Destroy only (no Unsubscribe): a durable consumer stays on the server, so a
  // restarted node resumes where this one acknowledged.
  for (auto& s : subs_)
    if (s->sub != nullptr) natsSubscription_Destroy(s->sub);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_FlushTimeout(nc_, 1000);
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

void NatsConn::on_pub_err(jsCtx*, jsPubAckErr*, void* closure) {
  // A refused or unanswered publish (server restarting, ack lost): the caller's window is sent
  // again, in order (publish_async's callers check take_pub_failed()); the Nats-Msg-Id header
  // makes the stream drop the copies it already stored. Resending from here would reorder.
  auto* self = static_cast<NatsConn*>(closure);
  self->c_.pub_errors.fetch_add(1);
  self->pub_failed_.store(true, std::memory_order_release);
}

Status NatsConn::ensure_stream(const std::string& name, const std::vector<std::string>& subjects, bool work_queue,
                               std::int64_t max_age_s) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  if (s != NATS_NOT_FOUND) return nats_status(s, "stream info " + name, jerr);
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name.c_str();
  std::vector<const char*> subj;
  for (const auto& x : subjects) subj.push_back(x.c_str());
  sc.Subjects = subj.data();
  sc.SubjectsLen = static_cast<int>(subj.size());
  sc.Storage = js_FileStorage;
  sc.Retention = work_queue ? js_WorkQueuePolicy : js_LimitsPolicy;
  if (max_age_s > 0) sc.MaxAge = max_age_s * 1'000'000'000LL;
  sc.Duplicates = 120LL * 1'000'000'000LL;  // resend window for de-duplication (Nats-Msg-Id)
  sc.MaxMsgSize = 8 * 1024 * 1024;
  s = js_AddStream(&si, js_, &sc, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) return Status::Ok();  // a peer created it first
  if (s != NATS_OK) return nats_status(s, "create stream " + name, jerr);
  jsStreamInfo_Destroy(si);
  return Status::Ok();
}

Status NatsConn::ensure_push_consumer(const std::string& stream, const std::string& durable, const std::string& filter,
                                      const std::string& deliver_subject, std::int64_t ack_wait_ms, std::uint64_t start_seq) {
  for (char ch : durable)
    if (ch == '.' || ch == '*' || ch == '>' || ch == ' ')
      return Status(Code::invalid_argument, "consumer name '" + durable + "': no '.', '*', '>' or spaces (NATS rule)");
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    return Status::Ok();
  }
  if (s != NATS_NOT_FOUND) return nats_status(s, "consumer info " + stream + "/" + durable, jerr);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.DeliverSubject = deliver_subject.c_str();
  cc.DeliverPolicy = start_seq > 0 ? js_DeliverByStartSequence : js_DeliverAll;
  cc.OptStartSeq = start_seq;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = ack_wait_ms * 1'000'000;
  cc.FilterSubject = filter.c_str();
  cc.MaxAckPending = 65536;
  s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK) return nats_status(s, "create consumer " + stream + "/" + durable + " on " + filter, jerr);
  jsConsumerInfo_Destroy(ci);
  return Status::Ok();
}

Status NatsConn::delete_consumer(const std::string& stream, const std::string& durable) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_DeleteConsumer(js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK || s == NATS_NOT_FOUND) return Status::Ok();
  return nats_status(s, "delete consumer " + stream + "/" + durable, jerr);
}

Status subscribe_ordered(jsCtx* js, natsSubscription** sub, const std::string& filter) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverAll;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  return nats_status(js_SubscribeSync(sub, js, filter.c_str(), nullptr, &so, &jerr), "ordered consumer on " + filter, jerr);
}

void NatsConn::on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* sub = static_cast<Sub*>(closure);
  Delivered d{msg, sub->tag, now_ns()};
  // The node thread drains the ring; a full ring waits here (back-pressure on the delivery thread,
  // never a dropped message: JetStream flow control then slows the server).
  bool waited = false;
  while (!sub->ring->try_push(d)) {
    if (!waited) { sub->self->c_.ring_full.fetch_add(1); waited = true; }
    std::this_thread::yield();
  }
}

Status NatsConn::bind_push(const std::string& stream, const std::string& durable, MsgRing& ring, std::uint8_t tag) {
  auto s = std::make_unique<Sub>();
  s->self = this;
  s->ring = &ring;
  s->tag = tag;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  so.ManualAck = true;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus st = js_Subscribe(&s->sub, js_, nullptr, &NatsConn::on_msg, s.get(), nullptr, &so, &jerr);
  if (st != NATS_OK) return nats_status(st, "bind consumer " + stream + "/" + durable, jerr);
  // Pending limits: the ring is the buffer; let the library hold a deep backlog too.
  natsSubscription_SetPendingLimits(s->sub, 1 << 20, 1LL << 30);
  subs_.push_back(std::move(s));
  return Status::Ok();
}

Status NatsConn::subscribe(const std::string& subject, MsgRing& ring, std::uint8_t tag) {
  auto s = std::make_unique<Sub>();
  s->self = this;
  s->ring = &ring;
  s->tag = tag;
  natsStatus st = natsConnection_Subscribe(&s->sub, nc_, subject.c_str(), &NatsConn::on_msg, s.get());
  if (st != NATS_OK) return nats_status(st, "subscribe " + subject);
  natsSubscription_SetPendingLimits(s->sub, 1 << 20, 1LL << 30);
  subs_.push_back(std::move(s));
  return Status::Ok();
}

std::uint64_t NatsConn::ack_floor(const std::string& stream, const std::string& durable) {
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), nullptr, nullptr) != NATS_OK) return 0;
  const std::uint64_t f = ci->AckFloor.Stream;
  jsConsumerInfo_Destroy(ci);
  return f;
}

Status NatsConn::publish_async(const char* subject, const void* data, int len, const char* msg_id) noexcept {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id;
  po.MaxWait = 2000;  // an ack not back in 2 s counts as failed (ErrHandler): the window is resent
  const natsStatus s = js_PublishAsync(js_, subject, data, len, &po);
  if (s != NATS_OK) return Status(Code::io_error, "publish");  // rare; the caller counts it
  return Status::Ok();
}

Status NatsConn::flush_async(std::int64_t timeout_ms) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  return nats_status(js_PublishAsyncComplete(js_, &po), "waiting for publish acks");
}

std::uint64_t stream_seq(natsMsg* m) noexcept {
  jsMsgMetaData* md = nullptr;
  if (natsMsg_GetMetaData(&md, m) != NATS_OK) return 0;
  const std::uint64_t s = md->Sequence.Stream;
  jsMsgMetaData_Destroy(md);
  return s;
}

std::uint64_t delivered_count(natsMsg* m) noexcept {
  jsMsgMetaData* md = nullptr;
  if (natsMsg_GetMetaData(&md, m) != NATS_OK) return 0;
  const std::uint64_t s = md->NumDelivered;
  jsMsgMetaData_Destroy(md);
  return s;
}

}  // namespace tickrt::bus
