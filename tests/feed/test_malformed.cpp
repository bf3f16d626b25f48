// Malformed and unexpected lines: each comes back as its LineError reason, never a crash; the
// replay counts them by reason and reports file:line.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "book/replay.hpp"
#include "feed/feed.hpp"

using namespace tickrt;
using namespace tickrt::feed;

namespace {

const std::string kTs = "1723161254087896568 ";
const std::string kTrade =
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})";
const std::string kDepth =
    R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"]]}})";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

LineError parse1(const std::string& line) {
  LineParser p;
  FileContext fc;
  Event ev;
  return p.parse(line, fc, ev);
}

TEST(Malformed, BaselinesParse) {
  EXPECT_EQ(parse1(kTs + kTrade), LineError::ok);
  EXPECT_EQ(parse1(kTs + kDepth), LineError::ok);
}

struct Case {
  const char* what;
  std::string line;
  LineError want;
};

TEST(Malformed, EachReason) {
  const std::vector<Case> cases = {
      {"empty line", "", LineError::empty_line},
      {"blank line", "  \r", LineError::empty_line},
      {"garbage", "hello world", LineError::bad_timestamp},
      {"stamp only", "1723161254087896568", LineError::bad_timestamp},
      {"stamp and blank", kTs, LineError::bad_timestamp},
      {"5-digit stamp", "12345 " + kTrade, LineError::bad_timestamp},
      {"20-digit stamp", "99999999999999999999 " + kTrade, LineError::bad_timestamp},
      {"not json", kTs + "{not json at all", LineError::bad_json},
      {"truncated json", kTs + kTrade.substr(0, kTrade.size() / 2), LineError::bad_json},
      {"array root", kTs + "[1,2,3]", LineError::not_object},
      {"unknown stream", kTs + replace(kTrade, "@trade", "@aggTrade"), LineError::unknown_stream},
      {"partial depth stream", kTs + replace(kDepth, "@depth@100ms", "@depth5@100ms"), LineError::unknown_stream},
      {"stream without @", kTs + replace(kTrade, "btcusdt@trade", "btcusdt"), LineError::unknown_stream},
      {"unknown object", kTs + R"({"foo":1,"bar":[1]})", LineError::unknown_message},
      {"price as number", kTs + replace(kTrade, R"("61837.63000000")", "61837.63"), LineError::wrong_type},
      {"id as string", kTs + replace(kTrade, "3735683259", R"("3735683259")"), LineError::wrong_type},
      {"maker as string", kTs + replace(kTrade, R"("m":true)", R"("m":"true")"), LineError::wrong_type},
      {"missing qty", kTs + replace(kTrade, R"("q":"0.02000000",)", ""), LineError::missing_field},
      {"missing symbol", kTs + replace(kTrade, R"("s":"BTCUSDT",)", ""), LineError::missing_field},
      {"huge id", kTs + replace(kDepth, "50093239202", "123456789012345678901234567890"), LineError::bad_number},
      {"negative id", kTs + replace(kDepth, "50093239202", "-5"), LineError::bad_number},
      {"float id", kTs + replace(kDepth, "50093239202", "5.5"), LineError::bad_number},
      {"U > u", kTs + replace(kDepth, "50093239189", "60093239189"), LineError::bad_number},
      {"huge E", kTs + replace(kTrade, "1723161255343", "99999999999999999"), LineError::bad_number},
      {"exponent price", kTs + replace(kTrade, "61837.63000000", "6.1e4"), LineError::bad_decimal},
      {"9 decimals", kTs + replace(kTrade, "0.02000000", "0.000000001"), LineError::bad_decimal},
      {"huge price", kTs + replace(kTrade, "61837.63000000", "99999999999999999999.5"), LineError::bad_decimal},
      {"empty price", kTs + replace(kTrade, "61837.63000000", ""), LineError::bad_decimal},
      {"escaped price", kTs + replace(kTrade, "61837.63000000", R"(6\u0031837.6)"), LineError::bad_decimal},
      {"negative qty", kTs + replace(kTrade, "0.02000000", "-0.02"), LineError::negative_value},
      {"e mismatch", kTs + replace(kTrade, R"("e":"trade")", R"("e":"aggTrade")"), LineError::event_type_mismatch},
      {"3-element level", kTs + replace(kDepth, R"(["61737.63000000","0.00000000"])", R"(["1","2","3"])"),
       LineError::wrong_type},
      {"1-element level", kTs + replace(kDepth, R"(["61737.63000000","0.00000000"])", R"(["1"])"), LineError::wrong_type},
      {"level not array", kTs + replace(kDepth, R"(["61737.63000000","0.00000000"])", R"("x")"), LineError::wrong_type},
      {"levels not array", kTs + replace(kDepth, R"([["61837.64000000","1.54698000"]])", "{}"), LineError::wrong_type},
      {"data not object", kTs + R"({"stream":"btcusdt@trade","data":5})", LineError::not_object},
      {"data before stream", kTs + R"({"data":{},"stream":"btcusdt@trade"})", LineError::data_before_stream},
      {"stream without data", kTs + R"({"stream":"btcusdt@trade"})", LineError::missing_field},
      {"trailing brace", kTs + kTrade + "}", LineError::trailing_content},
      {"symbol too long", kTs + replace(kTrade, R"("BTCUSDT")", R"("ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ")"),
       LineError::bad_symbol},
      {"snapshot without asks", kTs + R"({"lastUpdateId":5,"bids":[["1","2"]]})", LineError::missing_field},
      {"snapshot with stream", kTs + kTrade.substr(0, kTrade.size() - 1) + R"(,"lastUpdateId":5})",
       LineError::unknown_message},
      {"snapshot first in file", kTs + R"({"lastUpdateId":5,"bids":[["1","2"]],"asks":[]})",
       LineError::snapshot_symbol_unknown},
  };
  for (const Case& c : cases) EXPECT_EQ(parse1(c.line), c.want) << c.what << ": " << c.line;
}

TEST(Malformed, NonJsonRejected) {
  EXPECT_NE(parse1(kTs + kTrade + " x"), LineError::ok);
  EXPECT_NE(parse1(kTs + "not json at all"), LineError::ok);
  EXPECT_NE(parse1(kTs + "null"), LineError::ok);
  EXPECT_NE(parse1(kTs + "\"str\""), LineError::ok);
}

TEST(Malformed, MarketMismatchWithinFile) {
  LineParser p;
  FileContext fc;
  Event ev;
  const std::string fut =
      R"({"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[],"a":[]}})";
  ASSERT_EQ(p.parse(kTs + fut, fc, ev), LineError::ok);
  EXPECT_EQ(fc.market, Market::futures);
  // The same diff without "pu" in a futures file: a futures diff that lost its chain link.
  EXPECT_EQ(p.parse(kTs + replace(fut, R"("pu":9,)", ""), fc, ev), LineError::market_mismatch);
}

TEST(Malformed, SnapshotAmbiguousInMultiSymbolFile) {
  LineParser p;
  FileContext fc;
  Event ev;
  ASSERT_EQ(p.parse(kTs + kTrade, fc, ev), LineError::ok);
  ASSERT_EQ(p.parse(kTs + replace(kTrade, R"("s":"BTCUSDT")", R"("s":"ETHUSDT")"), fc, ev), LineError::ok);
  EXPECT_EQ(p.parse(kTs + R"({"lastUpdateId":5,"bids":[],"asks":[]})", fc, ev), LineError::snapshot_symbol_ambiguous);
}

TEST(Malformed, EveryPrefixOfRealLinesFailsCleanly) {
  // Real lines from the golden files, cut at every length: never ok (until complete), never crash.
  std::ifstream f("tests/data/feed/usdm_2023.lines");
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  ASSERT_FALSE(lines.empty());
  LineParser p;
  Event ev;
  for (const std::string& l : lines) {
    const std::size_t step = l.size() > 4000 ? 97 : 1;  // the 47 KB snapshot: a sample of cuts
    const std::size_t json_start = l.find(' ') + 1;
    for (std::size_t n = json_start + 1; n < l.size(); n += step) {
      FileContext fc;
      fc.file_symbol = 0;  // let a cut snapshot through to the JSON checks
      EXPECT_NE(p.parse(std::string_view(l).substr(0, n), fc, ev), LineError::ok) << n;
    }
  }
}

TEST(Malformed, RandomByteFlipsNeverCrash) {
  std::ifstream f("tests/data/feed/spot_2023.lines");
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  ASSERT_FALSE(lines.empty());
  LineParser p;
  Event ev;
  std::mt19937 rng(12345);
  int ok = 0, bad = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string l = lines[rng() % lines.size()];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) l[rng() % l.size()] = static_cast<char>(rng() % 256);
    FileContext fc;
    (p.parse(l, fc, ev) == LineError::ok ? ok : bad)++;
  }
  EXPECT_GT(bad, 0);
  EXPECT_EQ(ok + bad, 20000);
}

TEST(Malformed, ReplayCountsAndReportsFileAndLine) {
  book::ReplayOptions opt;
  opt.max_reports = 2;
  book::ReplaySession s(opt);
  s.begin_file("mem.txt");
  s.process_line(kTs + kTrade, 1);
  s.process_line("", 2);
  s.process_line(kTs + "{oops", 3);
  s.process_line(kTs + replace(kTrade, "@trade", "@aggTrade"), 4);
  s.process_line(kTs + kTrade, 5);
  s.end_file();
  const auto& st = s.stats();
  EXPECT_EQ(st.lines, 5u);
  EXPECT_EQ(st.events[static_cast<int>(EventKind::trade)], 2u);
  EXPECT_EQ(st.malformed, 3u);
  EXPECT_EQ(st.malformed_by_reason[static_cast<int>(LineError::empty_line)], 1u);
  EXPECT_EQ(st.malformed_by_reason[static_cast<int>(LineError::bad_json)], 1u);
  EXPECT_EQ(st.malformed_by_reason[static_cast<int>(LineError::unknown_stream)], 1u);
  ASSERT_EQ(st.reports.size(), 2u);  // first N kept
  EXPECT_EQ(st.reports[0].file, "mem.txt");
  EXPECT_EQ(st.reports[0].line, 2u);
  EXPECT_EQ(st.reports[0].reason, LineError::empty_line);
  EXPECT_EQ(st.reports[1].line, 3u);
  const std::string sum = s.summary();
  EXPECT_NE(sum.find("mem.txt:2: empty_line"), std::string::npos) << sum;
  EXPECT_NE(sum.find("(1 more not shown)"), std::string::npos) << sum;
}

TEST(Malformed, SnapshotBeforeStreamsIsHeldUntilSymbolKnown) {
  book::ReplaySession s;
  s.begin_file("mem.txt");
  s.process_line(kTs + R"({"lastUpdateId":50093239100,"bids":[["61837.63","1"]],"asks":[["61837.64","2"]]})", 1);
  s.process_line(kTs + kDepth, 2);  // names the file's symbol; the held snapshot is applied next
  s.end_file();
  EXPECT_EQ(s.stats().malformed, 0u);
  EXPECT_EQ(s.stats().events[static_cast<int>(EventKind::depth_snapshot)], 1u);
  const book::L2Book* b = s.book(0);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->counters().snapshots, 1u);
}

TEST(Malformed, UnresolvedSnapshotReportedAtEndOfFile) {
  book::ReplaySession s;
  s.begin_file("only_snapshot.txt");
  s.process_line(kTs + R"({"lastUpdateId":5,"bids":[],"asks":[]})", 7);
  s.end_file();
  ASSERT_EQ(s.stats().malformed, 1u);
  EXPECT_EQ(s.stats().reports.at(0).line, 7u);
  EXPECT_EQ(s.stats().reports.at(0).reason, LineError::snapshot_symbol_unknown);
}

}  // namespace

namespace {
// The parser's fast decimal path must give exactly core's parse_decimal result (or reject
// exactly when it rejects) for any string: random decimal-ish strings in a bookTicker price.
TEST(Malformed, FastDecimalPathMatchesCoreParseDecimal) {
  const std::string tmpl =
      R"({"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"@","B":"1","a":"2","A":"1"}})";
  std::mt19937 rng(7);
  const char alphabet[] = "0123456789000000.-+xe";
  LineParser p;
  Event ev;
  int agree_ok = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 22);
    const bool canonical = rng() % 2;
    if (canonical) {  // the shapes the fast path takes, incl. boundary lengths
      const int ip = 1 + static_cast<int>(rng() % 12), fd = static_cast<int>(rng() % 10);
      for (int i = 0; i < ip; ++i) s += static_cast<char>('0' + rng() % 10);
      if (rng() % 4) { s += '.'; for (int i = 0; i < fd; ++i) s += static_cast<char>('0' + rng() % 10); }
    } else {
      for (int i = 0; i < len; ++i) s += alphabet[rng() % (sizeof(alphabet) - 1)];
    }
    std::string line = kTs + tmpl;
    line.replace(line.find('@', line.find("\"b\"")), 1, s);
    FileContext fc;
    const LineError e = p.parse(line, fc, ev);
    std::int64_t want = 0;
    const DecimalError de = parse_decimal(s, want);
    if (de != DecimalError::ok) {
      EXPECT_EQ(e, LineError::bad_decimal) << s;
    } else if (want < 0) {
      EXPECT_EQ(e, LineError::negative_value) << s;
    } else {
      ASSERT_EQ(e, LineError::ok) << s;
      EXPECT_EQ(ev.ticker.bid_price.raw, want) << s;
      ++agree_ok;
    }
  }
  EXPECT_GT(agree_ok, 50000);
}
}  // namespace

// The receive stamp is read 8 bytes at a time for 12-19 digits in lines of >= 24 bytes, else by
// a byte loop: both must agree with the plain definition (digit count -> unit, overflow checked)
// for every digit count, leading zeros, each separator, long and short lines.
TEST(Malformed, StampFastPathMatchesDefinition) {
  std::mt19937_64 rng(20261129);
  const std::string tails[] = {" " + kTrade, "\t" + kTrade, "x" + kTrade, " {}", "", " ", "5" + kTrade};
  for (int iter = 0; iter < 20000; ++iter) {
    const int n = 1 + static_cast<int>(rng() % 24);
    std::string digits;
    for (int k = 0; k < n; ++k) digits += static_cast<char>('0' + (rng() % 4 == 0 ? 0 : rng() % 10));
    const std::string& tail = tails[rng() % std::size(tails)];
    const std::string line = digits + tail;
    // Reference: digits up to the first non-digit (the "5..." tail extends the run).
    std::size_t nd = 0;
    while (nd < line.size() && line[nd] >= '0' && line[nd] <= '9') ++nd;
    unsigned __int128 v = 0;
    for (std::size_t k = 0; k < nd && k < 19; ++k) v = v * 10 + static_cast<unsigned>(line[k] - '0');
    std::uint64_t mul = 0;
    if (nd >= 18 && nd <= 19) mul = 1;
    else if (nd >= 15 && nd <= 16) mul = 1000;
    else if (nd >= 12 && nd <= 13) mul = 1000000;
    const bool sep_ok = nd < line.size() && (line[nd] == ' ' || line[nd] == '\t');
    std::size_t j = nd;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    const bool stamp_ok = nd > 0 && sep_ok && mul != 0 && v <= static_cast<unsigned __int128>(INT64_MAX / mul) &&
                          j < line.size();
    LineParser p;
    FileContext fc;
    Event ev;
    const LineError got = p.parse(line, fc, ev);
    if (!stamp_ok) {
      // Trailing blanks are trimmed first, so "<digits> " is a stamp with nothing after it.
      EXPECT_TRUE(got == LineError::bad_timestamp || got == LineError::empty_line) << line.substr(0, 40);
      continue;
    }
    EXPECT_NE(got, LineError::bad_timestamp) << line.substr(0, 40);
    if (got == LineError::ok) {
      EXPECT_EQ(ev.local_ts_ns, static_cast<std::int64_t>(v * mul)) << line.substr(0, 40);
    }
  }
}
