// book/book.hpp — the book stage: L2 books kept in sync with Binance diffs. The contract.
//
// L2Book (l2_book.hpp): one symbol's book; snapshot + diff sync rules, gap -> resync, crossed
// detection, top-N readout; one owning thread, no allocation per diff in steady state.
// ReplaySession (replay.hpp): reads capture files (feed/) into per-symbol books and checks them
// against bookTicker; the library behind `tickrt replay` and `tickrt demo`.
// The book depends on feed/ only for its event and level types (feed/events.hpp).
#pragma once

#include "book/l2_book.hpp"
#include "book/replay.hpp"
