// tests/pipeline/journal_view.hpp — what a pipeline run left in its SQLite journal, counted: orders, cancels,
// fills (and fills of an order the journal never recorded: must be 0), per symbol (orders, fills, net filled
// quantity). Shared by the end-to-end and multi-symbol pipeline tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "exec/journal.hpp"

namespace tickrt::pipeline::test {

struct JournalSymbol {
  std::uint64_t orders = 0, fills = 0;
  std::int64_t net_qty_raw = 0;  // buys - sells, base 1e-8
};
struct JournalView {
  std::map<std::string, JournalSymbol> sym;
  std::uint64_t orders = 0, cancels = 0, fills = 0, fills_of_unknown = 0;
};

inline JournalView read_journal(const std::string& path) {
  JournalView v;
  auto j = exec::Journal::open(path);
  EXPECT_TRUE(j.ok()) << j.status().to_string();
  if (!j.ok()) return v;
  auto c = j.value()->load();
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  if (!c.ok()) return v;
  std::set<std::string> ids;
  for (const exec::JournalRecord& r : c.value().records) {
    if (r.kind == exec::JournalKind::order_new) {
      ++v.orders;
      ++v.sym[std::string(r.order.symbol.view())].orders;
      ids.insert(std::string(r.order.client_order_id.view()));
    } else if (r.kind == exec::JournalKind::cancel) {
      ++v.cancels;
    } else if (r.kind == exec::JournalKind::fill) {
      ++v.fills;
      JournalSymbol& p = v.sym[std::string(r.report.symbol.view())];
      ++p.fills;
      p.net_qty_raw += (r.report.side == exec::Side::buy ? 1 : -1) * r.report.last_qty.raw;
      if (!ids.count(std::string(r.report.client_order_id.view()))) ++v.fills_of_unknown;
    }
  }
  return v;
}

}  // namespace tickrt::pipeline::test
