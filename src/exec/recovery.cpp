// exec/recovery.cpp — see recovery.hpp.
#include "exec/recovery.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "core/clock.hpp"

namespace tickrt::exec {

namespace {

std::string q8(std::int64_t raw) { return format_decimal(raw, 8); }

// Applies a report, waiting for room in the journal ring (setup path: the writer drains it).
void apply_wait(Oms& oms, const ExecReport& r) {
  OmsEvent ev;
  for (int i = 0; !oms.apply(r, ev); ++i) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void journal_wait(Journal* j, const JournalRecord& rec) {
  if (j == nullptr) return;
  while (!j->try_append(rec)) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

struct JournalIndex {
  std::set<std::tuple<std::string, std::uint64_t, int>> fills;  // (symbol, trade_id, side)
  std::map<std::string, std::uint64_t> max_trade;            // symbol -> max trade id
  std::unordered_map<std::uint64_t, std::string> by_xid;     // exchange order id -> client id
  std::set<std::string> orders;                              // client ids of journaled orders
  std::map<std::uint32_t, std::uint64_t> max_seq;            // session -> max seq used
  std::set<std::uint32_t> sessions;
  std::map<std::tuple<std::string, std::uint64_t, int>, std::pair<std::int64_t, std::int64_t>> fill_px_qty;
};

JournalIndex index_journal(const JournalContents& jc, const Oms& oms) {
  JournalIndex ix;
  for (std::uint32_t s : jc.sessions) ix.sessions.insert(s);
  auto note_id = [&](std::string_view id) {
    std::uint32_t s;
    std::uint64_t q;
    if (oms.parse_id(id, s, q)) ix.max_seq[s] = std::max(ix.max_seq[s], q);
  };
  for (const JournalRecord& r : jc.records) {
    switch (r.kind) {
      case JournalKind::order_new:
      case JournalKind::adopt:
        ix.orders.insert(std::string(r.order.client_order_id.view()));
        note_id(r.order.client_order_id.view());
        if (r.report.exchange_order_id != 0)
          ix.by_xid[r.report.exchange_order_id] = std::string(r.order.client_order_id.view());
        break;
      case JournalKind::cancel: note_id(r.cancel.client_order_id.view()); break;
      case JournalKind::fill:
        if (r.report.trade_id != 0) {
          const auto key = std::make_tuple(std::string(r.report.symbol.view()), r.report.trade_id, static_cast<int>(r.report.side));
          ix.fills.insert(key);
          ix.fill_px_qty[key] = {r.report.last_price.raw, r.report.last_qty.raw};
          auto& m = ix.max_trade[std::string(r.report.symbol.view())];
          m = std::max(m, r.report.trade_id);
        }
        [[fallthrough]];
      case JournalKind::report:
        if (r.report.exchange_order_id != 0) {
          const ClientOrderId& id = r.report.orig_client_order_id.empty() ? r.report.client_order_id
                                                                          : r.report.orig_client_order_id;
          if (!id.empty()) ix.by_xid[r.report.exchange_order_id] = std::string(id.view());
        }
        break;
      default: break;
    }
  }
  return ix;
}

}  // namespace

std::string RecoveryReport::summary() const {
  std::string s = ok ? "recovery ok" : "recovery FAILED CLOSED (trading halted)";
  s += ": journal records " + std::to_string(journal_records) + ", orders replayed " +
       std::to_string(orders_replayed) + ", fills replayed " + std::to_string(fills_replayed) +
       ", fills recovered from the exchange " + std::to_string(fills_recovered) + ", orders adopted " +
       std::to_string(orders_adopted) + ", orders resolved " + std::to_string(orders_resolved);
  for (const auto& m : mismatches) s += "\n  MISMATCH: " + m;
  for (const auto& n : notes) s += "\n  note: " + n;
  return s;
}

Status replay_journal(const JournalContents& jc, Oms& oms, RecoveryReport& rep) {
  // Detach the journal: replayed rows are already in it.
  struct Detach {
    Oms& o;
    Journal* j;
    ~Detach() { o.set_journal(j); }
  } d{oms, oms.journal()};
  oms.set_journal(nullptr);
  rep.journal_records = jc.records.size();
  for (const JournalRecord& r : jc.records) {
    switch (r.kind) {
      case JournalKind::order_new:
      case JournalKind::adopt: {
        Status st = oms.restore_order(r.order, r.local_ns);
        if (!st.ok()) return st.with_context("replay: order " + std::string(r.order.client_order_id.view()));
        if (r.kind == JournalKind::adopt && r.report.exchange_order_id != 0) {
          // The adoption row carries the exchange's status as of adoption; reports follow it.
        }
        ++rep.orders_replayed;
        break;
      }
      case JournalKind::cancel: oms.restore_cancel(r.cancel.orig_client_order_id.view()); break;
      case JournalKind::report:
      case JournalKind::fill: {
        OmsEvent ev;
        if (!oms.apply(r.report, ev)) return Status(Code::internal, "replay: apply refused with the journal detached");
        if (r.kind == JournalKind::fill) ++rep.fills_replayed;
        break;
      }
      default: break;  // query, anomaly (a copy of a report row), note
    }
  }
  return Status::Ok();
}

Status reconcile(const JournalContents& jc, Oms& oms, Gateway& gw, Journal* journal, const RecoveryConfig& cfg,
                 RecoveryReport& rep) {
  JournalIndex ix = index_journal(jc, oms);
  auto mismatch = [&](std::string m) {
    rep.ok = false;
    rep.mismatches.push_back(std::move(m));
  };
  auto fail_transport = [&](const Status& st) {
    rep.ok = false;
    rep.mismatches.push_back("exchange could not be asked: " + st.to_string());
    oms.halt();
    return st;
  };
  auto explainable = [&](std::string_view cid) {
    std::uint32_t s;
    std::uint64_t q;
    if (!oms.parse_id(cid, s, q)) return false;
    if (!ix.sessions.count(s)) return false;
    auto it = ix.max_seq.find(s);
    return it == ix.max_seq.end() || q > it->second;
  };
  auto adopt = [&](const ExecReport& x) -> bool {
    OrderRequest o;
    o.symbol = x.symbol;
    o.client_order_id = x.client_order_id;
    o.side = x.side;
    o.type = x.type;
    o.tif = x.tif;
    o.price = x.price;
    o.qty = x.qty;
    Status st = oms.restore_order(o, 0);
    if (!st.ok()) {
      mismatch("adopting " + std::string(x.client_order_id.view()) + ": " + st.to_string());
      return false;
    }
    JournalRecord rec;
    rec.kind = JournalKind::adopt;
    rec.local_ns = now_ns();
    rec.order = o;
    rec.report.exchange_order_id = x.exchange_order_id;
    journal_wait(journal, rec);
    ix.orders.insert(std::string(x.client_order_id.view()));
    ix.by_xid[x.exchange_order_id] = std::string(x.client_order_id.view());
    ++rep.orders_adopted;
    rep.notes.push_back("adopted " + std::string(x.symbol.view()) + " " + std::string(x.client_order_id.view()) +
                        " (exchange order " + std::to_string(x.exchange_order_id) +
                        "): sent but its journal row was lost in the crash");
    return true;
  };

  // (a) trades the journal lacks.
  std::set<std::tuple<std::string, std::uint64_t, int>> exch_trades;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> exch_bought_sold;
  for (std::size_t si = 0; si < oms.symbol_count(); ++si) {
    const std::string sym(oms.position(static_cast<int>(si)).symbol.view());
    std::uint64_t from = 0;
    if (!cfg.full_trade_history) {
      auto it = ix.max_trade.find(sym);
      if (it != ix.max_trade.end()) from = it->second > cfg.trade_lookback ? it->second - cfg.trade_lookback : 0;
    }
    auto tr = gw.trades(sym, from);
    if (!tr.ok()) {
      if (tr.status().code() == Code::unsupported) {
        rep.notes.push_back(sym + ": the gateway cannot list trades; fills are reconciled through order status only");
        continue;
      }
      return fail_transport(tr.status());
    }
    std::vector<ExecReport> trades = std::move(tr.value());
    std::sort(trades.begin(), trades.end(), [](const ExecReport& a, const ExecReport& b) { return a.trade_id < b.trade_id; });
    for (ExecReport t : trades) {
      exch_trades.insert(std::make_tuple(sym, t.trade_id, static_cast<int>(t.side)));
      auto& bs = exch_bought_sold[sym];
      (t.side == Side::buy ? bs.first : bs.second) += t.last_qty.raw;
      const auto key = std::make_tuple(sym, t.trade_id, static_cast<int>(t.side));
      if (ix.fills.count(key)) {
        auto pq = ix.fill_px_qty[key];
        if (pq.first != t.last_price.raw || pq.second != t.last_qty.raw)
          mismatch(sym + " trade " + std::to_string(t.trade_id) + ": journal has " + q8(pq.second) + " @ " + q8(pq.first) +
                   ", exchange " + q8(t.last_qty.raw) + " @ " + q8(t.last_price.raw));
        continue;
      }
      std::string cid;
      auto it = ix.by_xid.find(t.exchange_order_id);
      if (it != ix.by_xid.end()) cid = it->second;
      ExecReport ord;
      bool have_ord = false;
      if (cid.empty()) {
        auto q = gw.query_order(sym, "", t.exchange_order_id);
        if (!q.ok()) return fail_transport(q.status());
        ord = q.value();
        have_ord = true;
        cid = std::string(ord.client_order_id.view());
      }
      std::uint32_t s;
      std::uint64_t sq;
      if (!oms.parse_id(cid, s, sq)) {
        if (cfg.allow_foreign_orders) continue;
        mismatch(sym + " trade " + std::to_string(t.trade_id) + " (" + std::string(side_name(t.side)) + " " +
                 q8(t.last_qty.raw) + " @ " + q8(t.last_price.raw) + ") belongs to order '" + cid +
                 "' that is not ours (prefix " + std::string(oms.prefix()) + ")");
        continue;
      }
      if (!ix.orders.count(cid)) {
        if (!explainable(cid)) {
          mismatch(sym + " trade " + std::to_string(t.trade_id) + " belongs to order " + cid +
                   " with our prefix that the journal never saw (not a lost journal tail)");
          continue;
        }
        if (!have_ord) {
          auto q = gw.query_order(sym, cid);
          if (!q.ok()) return fail_transport(q.status());
          ord = q.value();
        }
        if (!adopt(ord)) continue;
      }
      const OrderEntry* e = oms.find(cid);
      if (e == nullptr) {
        mismatch(sym + " trade " + std::to_string(t.trade_id) + " (" + q8(t.last_qty.raw) + " @ " + q8(t.last_price.raw) +
                 ") of order " + cid + " that the journal shows finished without it");
        continue;
      }
      t.client_order_id = ClientOrderId::from(cid);
      t.type = e->req.type;
      t.tif = e->req.tif;
      t.price = e->req.price;
      t.qty = e->req.qty;
      t.cum_qty = Qty::from_raw(e->cum_qty.raw + t.last_qty.raw);
      t.status = t.cum_qty.raw >= e->req.qty.raw ? OrderStatus::filled : OrderStatus::partially_filled;
      t.local_ns = now_ns();
      apply_wait(oms, t);
      ix.fills.insert(key);
      ++rep.fills_recovered;
      rep.notes.push_back("fill recovered: " + sym + " trade " + std::to_string(t.trade_id) + " " + cid + " " +
                          std::string(side_name(t.side)) + " " + q8(t.last_qty.raw) + " @ " + q8(t.last_price.raw));
    }
  }

  // (b) every non-terminal order: ask.
  std::vector<std::pair<std::string, std::string>> live;  // (symbol, id)
  oms.for_each_open([&](const OrderEntry& e) {
    live.emplace_back(std::string(e.req.symbol.view()), std::string(e.req.client_order_id.view()));
  });
  for (const auto& [sym, cid] : live) {
    auto q = gw.query_order(sym, cid);
    if (!q.ok()) return fail_transport(q.status());
    ExecReport x = q.value();
    const OrderEntry* e = oms.find(cid);
    if (e == nullptr) continue;
    const OrderStatus before = e->status;
    if (x.reject == RejectCode::no_such_order) {
      if (before == OrderStatus::new_ || before == OrderStatus::partially_filled) {
        mismatch(sym + " order " + cid + " is " + std::string(order_status_name(before)) +
                 " in the journal but the exchange does not know it");
        continue;
      }
      x.client_order_id = ClientOrderId::from(cid);
      x.exec_type = ExecType::status;
      apply_wait(oms, x);
      rep.notes.push_back(sym + " " + cid + ": exchange never saw it (request lost before it left) -> " +
                          std::string(order_status_name(before == OrderStatus::pending_cancel ? OrderStatus::canceled
                                                                                               : OrderStatus::rejected)));
      ++rep.orders_resolved;
      continue;
    }
    if (x.cum_qty.raw > e->cum_qty.raw) {
      mismatch(sym + " order " + cid + ": exchange executed " + q8(x.cum_qty.raw) + ", journal + recovered fills " +
               q8(e->cum_qty.raw) + " (trades missing)");
      continue;
    }
    if (x.cum_qty.raw < e->cum_qty.raw) {
      mismatch(sym + " order " + cid + ": journal has fills for " + q8(e->cum_qty.raw) + ", exchange executed only " +
               q8(x.cum_qty.raw));
      continue;
    }
    if (before == OrderStatus::pending_cancel && !is_terminal(x.status)) oms.cancel_lost(cid);
    x.exec_type = ExecType::status;
    apply_wait(oms, x);
    const OrderEntry* after = oms.find(cid);
    if (after == nullptr || after->status != before) ++rep.orders_resolved;
  }

  // (c) open orders on the exchange must all be live in the OMS.
  for (std::size_t si = 0; si < oms.symbol_count(); ++si) {
    const std::string sym(oms.position(static_cast<int>(si)).symbol.view());
    auto oo = gw.open_orders(sym);
    if (!oo.ok()) return fail_transport(oo.status());
    for (const ExecReport& x : oo.value()) {
      const std::string cid(x.client_order_id.view());
      if (oms.find(cid) != nullptr) continue;
      std::uint32_t s;
      std::uint64_t sq;
      if (!oms.parse_id(cid, s, sq)) {
        if (!cfg.allow_foreign_orders)
          mismatch(sym + " open order '" + cid + "' (" + std::string(side_name(x.side)) + " " + q8(x.qty.raw) + " @ " +
                   q8(x.price.raw) + ") is not ours");
        continue;
      }
      if (ix.orders.count(cid)) {
        mismatch(sym + " open order " + cid + " is open on the exchange but finished in the journal");
        continue;
      }
      if (!explainable(cid)) {
        mismatch(sym + " open order " + cid + " has our prefix but the journal never saw it");
        continue;
      }
      if (x.cum_qty.raw > 0) {
        mismatch(sym + " open order " + cid + " (unjournaled) has executed " + q8(x.cum_qty.raw) +
                 " but its trades were not in myTrades");
        continue;
      }
      if (!adopt(x)) continue;
      ExecReport st = x;
      st.exec_type = ExecType::status;
      apply_wait(oms, st);
    }
  }

  // (d) the whole ledger.
  if (cfg.full_trade_history) {
    for (const auto& key : ix.fills) {
      if (!exch_trades.count(key))
        mismatch(std::get<0>(key) + " trade " + std::to_string(std::get<1>(key)) + " (" +
                 std::string(side_name(static_cast<Side>(std::get<2>(key)))) + ") is in the journal but not on the exchange");
    }
    for (std::size_t si = 0; si < oms.symbol_count(); ++si) {
      const Position& p = oms.position(static_cast<int>(si));
      const auto bs = exch_bought_sold[std::string(p.symbol.view())];
      if (bs.first != p.bought_raw || bs.second != p.sold_raw)
        mismatch(std::string(p.symbol.view()) + " position: exchange bought " + q8(bs.first) + " sold " + q8(bs.second) +
                 ", journal bought " + q8(p.bought_raw) + " sold " + q8(p.sold_raw));
    }
  }

  if (!rep.ok) oms.halt();
  if (journal != nullptr) {
    JournalRecord rec;
    rec.kind = JournalKind::note;
    rec.local_ns = now_ns();
    rec.text = FixedString<95>::from(rep.ok ? "recovery ok" : "recovery failed closed: " + rep.mismatches.front());
    journal_wait(journal, rec);
    TICKRT_RETURN_IF_ERROR(journal->flush());
  }
  return Status::Ok();
}

}  // namespace tickrt::exec
