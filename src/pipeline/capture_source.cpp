// pipeline/capture_source.cpp — in-memory capture replay (see capture_source.hpp).
#include "pipeline/capture_source.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "core/clock.hpp"
#include "feed/capture_reader.hpp"

namespace tickrt::pipeline {

namespace {

// Receive stamp of a capture line in ns (19/18 digits ns, 16/15 µs, 13/12 ms); -1 if none.
std::int64_t line_ts_ns(std::string_view l) {
  std::size_t n = 0;
  std::int64_t v = 0;
  while (n < l.size() && n < 20 && l[n] >= '0' && l[n] <= '9') v = v * 10 + (l[n++] - '0');
  if (n >= 18) return v;
  if (n >= 15) return v * 1000;
  if (n >= 12) return v * 1'000'000;
  return -1;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string CaptureSource::copy_symbol(int k) const {
  if (k == 0) return symbol_;
  std::string s = symbol_;
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%0*d", static_cast<int>(s.size() - 1), k);
  return s.substr(0, 1) + digits;
}

Result<std::unique_ptr<CaptureSource>> CaptureSource::open(const std::string& path, int copies, double speed,
                                                           std::size_t max_lines) {
  using R = Result<std::unique_ptr<CaptureSource>>;
  if (copies < 1 || copies > 1000) return R(Code::invalid_argument, path + ": copies must be in [1, 1000]");
  feed::CaptureReader rd;
  TICKRT_RETURN_IF_ERROR(rd.open(path));
  std::unique_ptr<CaptureSource> s(new CaptureSource());
  s->copies_ = copies;
  s->speed_ = speed;
  std::vector<std::string> raw;
  std::string_view l;
  while (rd.next(l)) {
    if (l.empty()) continue;
    raw.emplace_back(l);
    if (max_lines && raw.size() >= max_lines) break;
  }
  if (!rd.status().ok()) return rd.status();
  if (raw.empty()) return R(Code::not_found, path + ": no lines");
  // The file's symbol: the first "s":"..." value.
  for (const std::string& x : raw) {
    const std::size_t p = x.find("\"s\":\"");
    if (p == std::string::npos) continue;
    const std::size_t e = x.find('"', p + 5);
    if (e == std::string::npos) continue;
    s->symbol_ = x.substr(p + 5, e - p - 5);
    break;
  }
  if (s->symbol_.empty() || s->symbol_.size() > 20)
    return R(Code::parse_error, path + ": no symbol (\"s\") found in any line");
  if (copies > 1 && std::to_string(copies - 1).size() + 1 > s->symbol_.size())
    return R(Code::invalid_argument, path + ": too many copies for the symbol length");
  const std::string up = s->symbol_, lo = lower(s->symbol_);
  std::size_t max_len = 0;
  for (std::string& x : raw) {
    const std::int64_t ts = line_ts_ns(x);
    if (ts < 0) continue;  // the parser would reject it anyway; pacing needs a stamp
    const std::size_t sp = x.find(' ');
    if (sp != std::string::npos && x.compare(sp + 1, 15, "{\"lastUpdateId\"") == 0 && x.find("\"symbol\"") == std::string::npos)
      x.insert(sp + 2, "\"symbol\":\"" + up + "\",");
    Line ln;
    ln.off = static_cast<std::uint32_t>(s->text_.size());
    ln.len = static_cast<std::uint32_t>(x.size());
    ln.ts_ns = ts;
    ln.sym_begin = static_cast<std::uint32_t>(s->sym_pos_.size());
    if (copies > 1) {
      for (const std::string* needle : {&up, &lo})
        for (std::size_t p = x.find(*needle); p != std::string::npos; p = x.find(*needle, p + 1))
          s->sym_pos_.push_back(static_cast<std::uint32_t>(p));
    }
    ln.sym_count = static_cast<std::uint32_t>(s->sym_pos_.size()) - ln.sym_begin;
    s->text_ += x;
    s->lines_.push_back(ln);
    max_len = std::max(max_len, x.size());
  }
  s->scratch_.resize(max_len + 1);
  return s;
}

std::int64_t CaptureSource::market_now_ns() const noexcept {
  if (speed_ <= 0 || t0_wall_ == 0 || pos_ >= lines_.size()) return -1;
  const double elapsed = static_cast<double>(now_ns() - t0_wall_) * speed_;
  const std::int64_t t = lines_.front().ts_ns + static_cast<std::int64_t>(elapsed);
  return std::min(t, lines_[pos_].ts_ns);
}

bool CaptureSource::next(std::string_view& line) noexcept {
  if (pos_ >= lines_.size()) return false;
  const Line& ln = lines_[pos_];
  if (speed_ > 0) {
    const std::int64_t now = now_ns();
    if (t0_wall_ == 0) t0_wall_ = now;
    const double due = static_cast<double>(ln.ts_ns - lines_.front().ts_ns) / speed_;
    if (static_cast<double>(now - t0_wall_) < due) return false;
  }
  const char* src = text_.data() + ln.off;
  if (copy_ == 0) {
    line = std::string_view(src, ln.len);
  } else {
    std::memcpy(scratch_.data(), src, ln.len);
    // Same-length rename: first character kept (case as found), then the copy number.
    const std::size_t n = symbol_.size();
    int k = copy_;
    char digits[24];
    for (std::size_t i = n - 1; i >= 1; --i) {
      digits[i] = static_cast<char>('0' + k % 10);
      k /= 10;
    }
    for (std::uint32_t j = 0; j < ln.sym_count; ++j) {
      char* p = scratch_.data() + sym_pos_[ln.sym_begin + j];
      std::memcpy(p + 1, digits + 1, n - 1);
    }
    line = std::string_view(scratch_.data(), ln.len);
  }
  if (++copy_ >= copies_) {
    copy_ = 0;
    ++pos_;
  }
  return true;
}

}  // namespace tickrt::pipeline
