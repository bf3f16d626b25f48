// feed/feed.hpp — the feed stage: Binance capture lines -> normalized events. The contract.
//
// Data flow: CaptureReader (gzip/plain file -> lines) -> LineParser (line -> Event) -> the book
// (book/l2_book.hpp) or any consumer. book/replay.hpp wires them for `tickrt replay`/`demo`.
//
// Who calls, when: one thread per reader/parser pair (neither is thread-safe; run one pair per
// thread if you need more). Setup: construct (allocates buffers), CaptureReader::open() (Status).
// Hot path (per line): CaptureReader::next(), LineParser::parse(): noexcept, no heap allocation in
// steady state, no locks, no virtual calls, no logging; every bad line comes back as a LineError
// reason for the caller to count and report with reader.path():reader.line_number().
//
// Invariants:
//  * Timestamps are int64 ns everywhere (the file's unit — ns or µs — detected per file by
//    FileContext from the first line's digit count, and multiplied out).
//  * Prices/quantities are exact fixed point (1e-8); a value needing more digits is rejected.
//  * Symbol ids are interned per (market, name), dense, stable for the parser's lifetime.
//  * An Event's depth levels point into the parser's buffers: valid until the next parse().
//  * Files are read in the order given; a file without a snapshot continues the previous file's
//    book (the book/ stage keeps state across files of one session; the parser keeps only the
//    symbol table across files — FileContext is per file).
//
// Limits: Binance combined-stream JSON and REST /depth snapshot lines only (trade, bookTicker,
// depthUpdate, markPriceUpdate). Lines up to 64 MiB, 2^20 levels per side per message, 1024
// symbols, 31-character symbol names. "stream" must precede "data" in the envelope.
#pragma once

#include "feed/capture_reader.hpp"
#include "feed/events.hpp"
#include "feed/line_parser.hpp"
#include "feed/symbols.hpp"
