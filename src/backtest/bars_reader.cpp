// backtest/bars_reader.cpp — bar files -> BarSeries (backtest/bars.hpp). Setup path: every error
// names the file and the line (or the zip structure) that failed.
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "backtest/bars.hpp"

namespace tickrt::backtest {
namespace {

Status err(const std::string& origin, std::size_t line, const std::string& what) {
  return Status(Code::parse_error, origin + ":" + std::to_string(line) + ": " + what);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

bool parse_int(std::string_view s, std::int64_t& out) {
  s = trim(s);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, std::int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD HH:MM:SS[.f{1,9}]" (also 'T' as the separator) -> ns since the epoch, UTC.
bool parse_timestamp(std::string_view s, std::int64_t& ns) {
  s = trim(s);
  std::int64_t y, mo, d, h, mi, se;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
      s[16] != ':')
    return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, se))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  std::int64_t frac = 0;
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() == 20 || s.size() > 29) return false;
    std::int64_t f;
    const std::size_t n = s.size() - 20;
    if (!digits(s, 20, n, f)) return false;
    frac = f;
    for (std::size_t i = n; i < 9; ++i) frac *= 10;
  }
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  ns = ((days * 86400 + h * 3600 + mi * 60 + se) * 1'000'000'000LL) + frac;
  return true;
}

// Split a line on commas into at most `max` fields; returns the count (max + 1 when more).
std::size_t split(std::string_view line, std::string_view* f, std::size_t max) {
  std::size_t n = 0;
  while (true) {
    const std::size_t c = line.find(',');
    if (n == max) return max + 1;
    f[n++] = line.substr(0, c);
    if (c == std::string_view::npos) return n;
    line.remove_prefix(c + 1);
  }
}

Status check_bar(const Bar& b, const Bar* prev, const std::string& origin, std::size_t line) {
  if (!(b.open > 0 && b.high > 0 && b.low > 0 && b.close > 0))
    return err(origin, line, "prices must be > 0");
  if (b.low > std::min(b.open, b.close) || b.high < std::max(b.open, b.close) || b.low > b.high)
    return err(origin, line, "inconsistent bar: need low <= open,close <= high");
  if (b.volume < 0) return err(origin, line, "volume must be >= 0");
  if (prev != nullptr && b.ts_ns <= prev->ts_ns)
    return err(origin, line, "timestamp not after the previous bar's");
  return Status::Ok();
}

// The most common step between consecutive bars (the period; gaps are multiples of it).
std::int64_t infer_period(const std::vector<Bar>& bars) {
  std::map<std::int64_t, std::size_t> n;
  for (std::size_t i = 1; i < bars.size() && i < 10'000; ++i) ++n[bars[i].ts_ns - bars[i - 1].ts_ns];
  std::int64_t best = 0;
  std::size_t cnt = 0;
  for (auto& [k, v] : n)
    if (v > cnt) best = k, cnt = v;
  return best;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::not_found, path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return Status(Code::io_error, path + ": read failed");
  return ss.str();
}

std::uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

std::string base_name(const std::string& path) {
  const std::size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Both CSV forms' line loop: row(line number from 1, the line trimmed) for each non-empty line of
// `text`, until the first row that is not ok (returned).
template <class Row>
Status each_line(const std::string& text, Row&& row) {
  std::size_t line = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    const std::string_view l = trim(std::string_view(text).substr(pos, e - pos));
    pos = e + 1;
    ++line;
    if (l.empty()) continue;
    TICKRT_RETURN_IF_ERROR(row(line, l));
  }
  return Status::Ok();
}

// Lean crypto bars: "<ms since midnight>,o,h,l,c,v", no header; day_ns = midnight UTC.
Result<BarSeries> parse_lean_trade_csv(const std::string& text, const std::string& origin, std::int64_t day_ns) {
  BarSeries out;
  TICKRT_RETURN_IF_ERROR(each_line(text, [&](std::size_t line, std::string_view l) -> Status {
    std::string_view f[6];
    if (split(l, f, 6) != 6) return err(origin, line, "expected 6 fields: ms,open,high,low,close,volume");
    std::int64_t ms;
    if (!parse_int(f[0], ms) || ms < 0 || ms >= 86'400'000) return err(origin, line, "bad ms since midnight");
    Bar b;
    b.ts_ns = day_ns + ms * 1'000'000;
    if (!parse_double(f[1], b.open) || !parse_double(f[2], b.high) || !parse_double(f[3], b.low) ||
        !parse_double(f[4], b.close) || !parse_double(f[5], b.volume))
      return err(origin, line, "bad number");
    TICKRT_RETURN_IF_ERROR(check_bar(b, out.bars.empty() ? nullptr : &out.bars.back(), origin, line));
    out.bars.push_back(b);
    return Status::Ok();
  }));
  return out;
}

}  // namespace

Result<BarSeries> parse_bars_csv(const std::string& text, const std::string& origin) {
  BarSeries out;
  bool header = false;
  TICKRT_RETURN_IF_ERROR(each_line(text, [&](std::size_t line, std::string_view l) -> Status {
    std::string_view f[6];
    const std::size_t n = split(l, f, 6);
    if (!header) {
      if (n != 6 || trim(f[0]) != "timestamp" || trim(f[1]) != "open" || trim(f[2]) != "high" ||
          trim(f[3]) != "low" || trim(f[4]) != "close" || trim(f[5]) != "volume")
        return err(origin, line, "expected the header timestamp,open,high,low,close,volume");
      header = true;
      return Status::Ok();
    }
    if (n != 6) return err(origin, line, "expected 6 fields, got " + std::to_string(n > 6 ? 7 : n) +
                                             (n > 6 ? "+" : ""));
    Bar b;
    if (!parse_timestamp(f[0], b.ts_ns)) return err(origin, line, "bad timestamp '" + std::string(trim(f[0])) + "'");
    const char* names[5] = {"open", "high", "low", "close", "volume"};
    double* dst[5] = {&b.open, &b.high, &b.low, &b.close, &b.volume};
    for (int k = 0; k < 5; ++k)
      if (!parse_double(f[k + 1], *dst[k]))
        return err(origin, line, std::string("bad ") + names[k] + " '" + std::string(trim(f[k + 1])) + "'");
    TICKRT_RETURN_IF_ERROR(check_bar(b, out.bars.empty() ? nullptr : &out.bars.back(), origin, line));
    out.bars.push_back(b);
    return Status::Ok();
  }));
  if (!header) return Status(Code::parse_error, origin + ": empty file (no header)");
  out.period_ns = infer_period(out.bars);
  out.files.push_back(origin);
  return out;
}

Result<std::string> read_zip_member(const std::string& path, std::string* member_name) {
  auto data = read_file(path);
  if (!data.ok()) return data.status();
  const std::string& z = *data;
  const auto* u = reinterpret_cast<const unsigned char*>(z.data());
  // End of central directory: 22 bytes + comment (<= 65535), searched from the end.
  if (z.size() < 22) return Status(Code::parse_error, path + ": not a zip archive (too short)");
  std::size_t eocd = std::string::npos;
  for (std::size_t i = z.size() - 22 + 1; i-- > 0 && z.size() - i <= 22 + 65535;)
    if (le32(u + i) == 0x06054b50u) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) return Status(Code::parse_error, path + ": not a zip archive (no end of central directory)");
  const std::uint16_t entries = le16(u + eocd + 10);
  const std::uint32_t cd_off = le32(u + eocd + 16);
  if (entries != 1) return Status(Code::unsupported, path + ": zip has " + std::to_string(entries) + " members, expected 1");
  if (static_cast<std::size_t>(cd_off) + 46 > z.size() || le32(u + cd_off) != 0x02014b50u)
    return Status(Code::parse_error, path + ": zip central directory header damaged");
  const unsigned char* cd = u + cd_off;
  const std::uint16_t method = le16(cd + 10);
  const std::uint32_t crc = le32(cd + 16);
  const std::uint16_t nlen = le16(cd + 28), xlen = le16(cd + 30);
  std::uint64_t csize = le32(cd + 20), usize = le32(cd + 24), lh_off = le32(cd + 42);
  if (static_cast<std::size_t>(cd_off) + 46 + nlen + xlen > z.size())
    return Status(Code::parse_error, path + ": zip central directory entry truncated");
  // Zip64: a 32-bit field of all ones is in the extra field 0x0001 (8 bytes each, in this order).
  if (usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu || lh_off == 0xFFFFFFFFu) {
    const unsigned char* x = cd + 46 + nlen;
    const unsigned char* xe = x + xlen;
    bool found = false;
    while (x + 4 <= xe) {
      const std::uint16_t tag = le16(x), len = le16(x + 2);
      if (x + 4 + len > xe) break;
      if (tag == 0x0001) {
        const unsigned char* v = x + 4;
        auto take = [&](std::uint64_t& f) {
          if (f != 0xFFFFFFFFu) return true;
          if (v + 8 > x + 4 + len) return false;
          f = static_cast<std::uint64_t>(le32(v)) | (static_cast<std::uint64_t>(le32(v + 4)) << 32);
          v += 8;
          return true;
        };
        found = take(usize) && take(csize) && take(lh_off);
        break;
      }
      x += 4 + len;
    }
    if (!found) return Status(Code::parse_error, path + ": zip64 sizes missing from the central directory");
  }
  if (usize >= (std::uint64_t{1} << 32)) return Status(Code::unsupported, path + ": zip member over 4 GiB");
  const std::string name(reinterpret_cast<const char*>(cd + 46), nlen);
  if (member_name != nullptr) *member_name = name;
  if (lh_off + 30 > z.size() || le32(u + lh_off) != 0x04034b50u)
    return Status(Code::parse_error, path + ": zip local header of '" + name + "' damaged");
  const std::uint64_t data_off = lh_off + 30 + le16(u + lh_off + 26) + le16(u + lh_off + 28);
  if (data_off + csize > z.size()) return Status(Code::parse_error, path + ": zip member '" + name + "' truncated");
  std::string out;
  if (method == 0) {
    if (csize != usize) return Status(Code::parse_error, path + ": stored member '" + name + "' with differing sizes");
    out.assign(z, static_cast<std::size_t>(data_off), static_cast<std::size_t>(csize));
  } else if (method == 8) {
    out.resize(static_cast<std::size_t>(usize));
    z_stream s{};
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) return Status(Code::internal, path + ": inflateInit2 failed");
    s.next_in = const_cast<Bytef*>(u + data_off);
    s.avail_in = static_cast<uInt>(csize);
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(usize);
    const int rc = inflate(&s, Z_FINISH);
    const std::size_t got = s.total_out;
    inflateEnd(&s);
    if (rc != Z_STREAM_END || got != usize)
      return Status(Code::parse_error, path + ": zip member '" + name + "' does not inflate (zlib " + std::to_string(rc) + ")");
  } else {
    return Status(Code::unsupported, path + ": zip member '" + name + "' compression method " + std::to_string(method) +
                                         " (only stored and deflate)");
  }
  const std::uint32_t got_crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(out.data()),
                                                                 static_cast<uInt>(out.size())));
  if (got_crc != crc) return Status(Code::corrupt, path + ": zip member '" + name + "' CRC-32 mismatch");
  return out;
}

Result<BarSeries> read_bars(const std::string& path) {
  const std::string base = base_name(path);
  if (ends_with(base, ".csv")) {
    auto text = read_file(path);
    if (!text.ok()) return text.status();
    auto s = parse_bars_csv(*text, path);
    if (!s.ok()) return s.status();
    // FTX/nautilus names: "ftx_btc-perp_1m_...": the second part is the market.
    const std::size_t a = base.find('_'), b = base.find('_', a == std::string::npos ? 0 : a + 1);
    if (a != std::string::npos && b != std::string::npos) {
      s->symbol = base.substr(a + 1, b - a - 1);
      std::transform(s->symbol.begin(), s->symbol.end(), s->symbol.begin(), ::toupper);
    }
    return s;
  }
  if (ends_with(base, "_quote.zip"))
    return Status(Code::unsupported, path + ": quote bars (bid/ask) are not trade bars; use the *_trade.zip beside it");
  if (ends_with(base, "_trade.zip")) {
    std::int64_t y, m, d;
    if (base.size() < 8 || !digits(base, 0, 4, y) || !digits(base, 4, 2, m) || !digits(base, 6, 2, d) || m < 1 ||
        m > 12 || d < 1 || d > 31)
      return Status(Code::invalid_argument, path + ": expected a name YYYYMMDD_trade.zip (the day of the bars)");
    std::string member;
    auto text = read_zip_member(path, &member);
    if (!text.ok()) return text.status();
    const std::int64_t day_ns = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86'400'000'000'000LL;
    auto s = parse_lean_trade_csv(*text, path + "!" + member, day_ns);
    if (!s.ok()) return s.status();
    if (member.find("_minute_") != std::string::npos) s->period_ns = 60'000'000'000LL;
    else if (member.find("_second_") != std::string::npos) s->period_ns = 1'000'000'000LL;
    else if (member.find("_hour_") != std::string::npos) s->period_ns = 3'600'000'000'000LL;
    else s->period_ns = infer_period(s->bars);
    // "20171217_btcusd_minute_trade.csv" -> "BTCUSD"
    const std::size_t a = member.find('_'), b = member.find('_', a == std::string::npos ? 0 : a + 1);
    if (a != std::string::npos && b != std::string::npos) {
      s->symbol = member.substr(a + 1, b - a - 1);
      std::transform(s->symbol.begin(), s->symbol.end(), s->symbol.begin(), ::toupper);
    }
    s->files.push_back(path);
    return s;
  }
  return Status(Code::unsupported, path + ": unknown bar file (expected *.csv or *_trade.zip)");
}

Result<BarSeries> read_bars_files(const std::vector<std::string>& paths) {
  if (paths.empty()) return Status(Code::invalid_argument, "no bar files given");
  BarSeries all;
  for (const std::string& p : paths) {
    auto s = read_bars(p);
    if (!s.ok()) return s.status();
    if (all.bars.empty()) {
      all.symbol = s->symbol;
      all.period_ns = s->period_ns;
    } else {
      if (s->period_ns != all.period_ns)
        return Status(Code::invalid_argument, p + ": bar period " + std::to_string(s->period_ns / 1'000'000'000) +
                                                  " s differs from the first file's " +
                                                  std::to_string(all.period_ns / 1'000'000'000) + " s");
      if (!s->bars.empty() && s->bars.front().ts_ns <= all.bars.back().ts_ns)
        return Status(Code::invalid_argument, p + ": starts before the previous file ends (give files in time order)");
    }
    all.files.push_back(p);
    all.bars.insert(all.bars.end(), s->bars.begin(), s->bars.end());
  }
  return all;
}

BarSeries slice(const BarSeries& s, std::int64_t from_ns, std::int64_t to_ns) {
  BarSeries out;
  out.symbol = s.symbol;
  out.period_ns = s.period_ns;
  out.files = s.files;
  for (const Bar& b : s.bars)
    if ((from_ns == 0 || b.ts_ns >= from_ns) && (to_ns == 0 || b.ts_ns < to_ns)) out.bars.push_back(b);
  return out;
}

}  // namespace tickrt::backtest
