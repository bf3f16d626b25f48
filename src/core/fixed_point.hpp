// core/fixed_point.hpp — exact fixed-point prices and quantities.
//
// Exchange decimal strings ("61837.63000000", "0.014", "1001") are parsed into
// int64 counts of 1e-8 units without any floating-point step, so equality and
// ordering of prices are exact (a book keyed by Price never sees 0.1+0.2 issues).
//
// Range: |value| < 9.2e10 (int64 / 1e8): ample for crypto prices and contract
// counts. Scale: 8 fractional digits, the most Binance sends. A string with more
// significant fractional digits is rejected (Code-like ParseError::too_precise)
// rather than rounded; trailing zeros beyond 8 digits are accepted.
//
// Hot path: parse_decimal() is noexcept, allocation-free, branch-light.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickrt {

inline constexpr int kDecimalDigits = 8;
inline constexpr std::int64_t kDecimalScale = 100'000'000;

enum class DecimalError : std::uint8_t {
  ok = 0,
  empty,         // "" or just a sign / just "."
  bad_char,      // anything but [+-]digits[.digits]
  too_precise,   // a non-zero digit beyond the 8th fractional digit
  overflow,      // integer part too large for int64 at scale 1e8
};

constexpr std::string_view decimal_error_name(DecimalError e) noexcept {
  switch (e) {
    case DecimalError::ok: return "ok";
    case DecimalError::empty: return "empty";
    case DecimalError::bad_char: return "bad character";
    case DecimalError::too_precise: return "more than 8 fractional digits";
    case DecimalError::overflow: return "overflow";
  }
  return "unknown";
}

// Parses [+-]?[0-9]*(\.[0-9]*)? with at least one digit into value*1e8.
[[nodiscard]] constexpr DecimalError parse_decimal(std::string_view s, std::int64_t& out) noexcept {
  const char* p = s.data();
  const char* end = p + s.size();
  bool neg = false;
  if (p != end && (*p == '-' || *p == '+')) { neg = (*p == '-'); ++p; }
  // Integer part: at most 11 digits fit below 9.2e10 safely; check precisely below.
  std::uint64_t ip = 0;
  int ndigits = 0;
  while (p != end && static_cast<unsigned>(*p - '0') <= 9u) {
    if (ip > 92'233'720'368ull) return DecimalError::overflow;  // (INT64_MAX / 1e8) / 10 bound
    ip = ip * 10 + static_cast<unsigned>(*p - '0');
    ++p; ++ndigits;
  }
  std::uint64_t frac = 0;
  int fdigits = 0;
  if (p != end && *p == '.') {
    ++p;
    while (p != end && static_cast<unsigned>(*p - '0') <= 9u) {
      const unsigned d = static_cast<unsigned>(*p - '0');
      if (fdigits < kDecimalDigits) {
        frac = frac * 10 + d;
        ++fdigits;
      } else if (d != 0) {
        return DecimalError::too_precise;
      }
      ++p; ++ndigits;
    }
  }
  if (p != end) return DecimalError::bad_char;
  if (ndigits == 0) return DecimalError::empty;
  for (int i = fdigits; i < kDecimalDigits; ++i) frac *= 10;
  constexpr std::uint64_t kMaxInt = static_cast<std::uint64_t>(INT64_MAX) / kDecimalScale;
  if (ip > kMaxInt) return DecimalError::overflow;
  const std::uint64_t mag = ip * static_cast<std::uint64_t>(kDecimalScale) + frac;
  if (mag > static_cast<std::uint64_t>(INT64_MAX)) return DecimalError::overflow;
  out = neg ? -static_cast<std::int64_t>(mag) : static_cast<std::int64_t>(mag);
  return DecimalError::ok;
}

// Formats value*1e-8 with `digits` fractional digits (trailing zeros kept), exact.
inline std::string format_decimal(std::int64_t raw, int digits = kDecimalDigits) {
  std::string s;
  std::uint64_t mag = raw < 0 ? static_cast<std::uint64_t>(-(raw + 1)) + 1 : static_cast<std::uint64_t>(raw);
  std::uint64_t ip = mag / kDecimalScale, fp = mag % kDecimalScale;
  if (raw < 0) s.push_back('-');
  s += std::to_string(ip);
  if (digits > 0) {
    char buf[kDecimalDigits];
    for (int i = kDecimalDigits - 1; i >= 0; --i) { buf[i] = static_cast<char>('0' + fp % 10); fp /= 10; }
    s.push_back('.');
    s.append(buf, static_cast<std::size_t>(digits < kDecimalDigits ? digits : kDecimalDigits));
  }
  return s;
}

// Strongly typed fixed-point value; Tag keeps prices and quantities apart.
template <class Tag>
struct Fixed {
  std::int64_t raw = 0;  // value * 1e8

  static constexpr Fixed from_raw(std::int64_t r) noexcept { return Fixed{r}; }
  static constexpr Fixed from_int(std::int64_t units) noexcept { return Fixed{units * kDecimalScale}; }
  constexpr double to_double() const noexcept { return static_cast<double>(raw) / static_cast<double>(kDecimalScale); }
  constexpr bool is_zero() const noexcept { return raw == 0; }
  std::string to_string(int digits = kDecimalDigits) const { return format_decimal(raw, digits); }

  [[nodiscard]] static constexpr DecimalError parse(std::string_view s, Fixed& out) noexcept {
    return parse_decimal(s, out.raw);
  }
  friend constexpr auto operator<=>(Fixed, Fixed) noexcept = default;
  friend constexpr Fixed operator+(Fixed a, Fixed b) noexcept { return Fixed{a.raw + b.raw}; }
  friend constexpr Fixed operator-(Fixed a, Fixed b) noexcept { return Fixed{a.raw - b.raw}; }
};

struct PriceTag {};
struct QtyTag {};
using Price = Fixed<PriceTag>;
using Qty = Fixed<QtyTag>;

}  // namespace tickrt
