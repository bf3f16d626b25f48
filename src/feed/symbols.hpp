// feed/symbols.hpp — interning of (market, symbol name) into dense SymbolIds.
//
// Who calls: LineParser on every message ("s" field or snapshot "symbol"); replay/summary code to
// print names. Hot path: intern() of a name already seen is a compare against the last hit, then
// a linear scan (a capture has a handful of symbols); it never allocates: names live in fixed
// 32-byte slots of an array reserved at construction (Binance symbols are <= 20 characters).
// Limits: kMaxSymbols symbols, names of 1..kMaxName characters; beyond that intern() returns
// kNoSymbol and the parser counts the line as malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "feed/events.hpp"

namespace tickrt::feed {

class SymbolTable {
 public:
  static constexpr std::size_t kMaxSymbols = 1024;
  static constexpr std::size_t kMaxName = 31;

  SymbolTable();

  // Id for (market, name), interned on first sight. kNoSymbol if the table is full or the name
  // is empty / longer than kMaxName.
  [[nodiscard]] SymbolId intern(Market market, std::string_view name) noexcept;
  [[nodiscard]] SymbolId find(Market market, std::string_view name) const noexcept;

  std::string_view name(SymbolId id) const noexcept;
  Market market(SymbolId id) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }
  void clear() noexcept;

 private:
  struct Entry {
    char name[kMaxName + 1];
    std::uint8_t len;
    Market market;
  };
  std::vector<Entry> entries_;  // capacity kMaxSymbols reserved: push_back never reallocates
  SymbolId last_ = kNoSymbol;   // last hit: consecutive messages are usually the same symbol
};

}  // namespace tickrt::feed
