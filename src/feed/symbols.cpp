#include "feed/symbols.hpp"

#include <cstring>

namespace tickrt::feed {

SymbolTable::SymbolTable() { entries_.reserve(kMaxSymbols); }

static inline bool same(const char* a, std::size_t alen, std::string_view b) noexcept {
  return alen == b.size() && std::memcmp(a, b.data(), alen) == 0;
}

SymbolId SymbolTable::find(Market market, std::string_view nm) const noexcept {
  if (last_ != kNoSymbol) {
    const Entry& e = entries_[last_];
    if (e.market == market && same(e.name, e.len, nm)) return last_;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.market == market && same(e.name, e.len, nm)) return static_cast<SymbolId>(i);
  }
  return kNoSymbol;
}

SymbolId SymbolTable::intern(Market market, std::string_view nm) noexcept {
  SymbolId id = find(market, nm);
  if (id == kNoSymbol) {
    if (nm.empty() || nm.size() > kMaxName || entries_.size() >= kMaxSymbols) return kNoSymbol;
    Entry e{};
    std::memcpy(e.name, nm.data(), nm.size());
    e.len = static_cast<std::uint8_t>(nm.size());
    e.market = market;
    entries_.push_back(e);  // capacity reserved in the constructor: no reallocation
    id = static_cast<SymbolId>(entries_.size() - 1);
  }
  last_ = id;
  return id;
}

std::string_view SymbolTable::name(SymbolId id) const noexcept {
  if (id >= entries_.size()) return {};
  return {entries_[id].name, entries_[id].len};
}

Market SymbolTable::market(SymbolId id) const noexcept {
  return id < entries_.size() ? entries_[id].market : Market::unknown;
}

void SymbolTable::clear() noexcept {
  entries_.clear();
  last_ = kNoSymbol;
}

}  // namespace tickrt::feed
