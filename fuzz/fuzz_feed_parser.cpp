// libFuzzer target: capture lines -> LineParser -> L2Book through ReplaySession (the whole
// per-line path of `tickrt replay`), plus the summary and top-N readout.
//
// Input: text, one capture line per '\n'. A line "--file--" starts a new file context (ts unit,
// market, file symbol reset; books continue), so continuation behaviour is fuzzed too.
// Each input gets a fresh session (reproducible crashes) with small book capacities, so buffer
// overflow and level-array growth paths are reached with small inputs.
// Run: scripts/fuzz.sh <build-dir> <seconds>   (see docs/FUZZING.md)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "book/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tickrt;
  book::ReplayOptions opt;
  opt.max_reports = 4;
  opt.book.level_capacity = 64;
  opt.book.buffer_events = 32;
  opt.book.buffer_levels = 2048;
  book::ReplaySession s(opt);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  s.begin_file("fuzz-0");
  std::uint64_t line_no = 0;
  int file = 0;
  while (!in.empty()) {
    const std::size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (line == "--file--") {
      s.end_file();
      s.begin_file(++file % 2 ? "fuzz-1" : "fuzz-2");
      line_no = 0;
      continue;
    }
    s.process_line(line, ++line_no);
  }
  s.end_file();
  // Book readout and the text summary must cope with whatever state the input left.
  feed::Level top[8];
  for (std::size_t id = 0; id < s.symbols().size(); ++id) {
    if (const book::L2Book* b = s.book(static_cast<feed::SymbolId>(id))) {
      const std::size_t nb = b->top_bids(top, 8), na = b->top_asks(top, 8);
      if (nb > 8 || na > 8) __builtin_trap();
      if (b->tradable() && nb && na) {
        feed::Level bb, ba;
        if (!b->best_bid(bb) || !b->best_ask(ba) || !(bb.price < ba.price)) __builtin_trap();  // invariant
      }
    }
  }
  const std::string summary = s.summary(3);
  if (summary.empty()) __builtin_trap();
  return 0;
}
