// Decimal parsing / formatting edge cases and Price/Qty ordering (core/fixed_point.hpp).
#include "core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace tickrt {
namespace {

struct Parsed {
  DecimalError err;
  std::int64_t raw;
};
Parsed parse(std::string_view s) {
  std::int64_t raw = 0x5a5a5a5a;  // sentinel: must be left untouched on error
  const DecimalError e = parse_decimal(s, raw);
  return {e, raw};
}

void expect_ok(std::string_view s, std::int64_t raw) {
  const Parsed p = parse(s);
  EXPECT_EQ(p.err, DecimalError::ok) << '"' << s << "\": " << decimal_error_name(p.err);
  EXPECT_EQ(p.raw, raw) << '"' << s << '"';
}
void expect_err(std::string_view s, DecimalError e) {
  const Parsed p = parse(s);
  EXPECT_EQ(p.err, e) << '"' << s << "\": got " << decimal_error_name(p.err) << " want "
                      << decimal_error_name(e);
  EXPECT_EQ(p.raw, 0x5a5a5a5a) << '"' << s << "\": output written on error";
}

TEST(Decimal, BinanceShapes) {
  expect_ok("0", 0);
  expect_ok("0.00000000", 0);
  expect_ok("61837.63000000", 6'183'763'000'000);
  expect_ok("0.014", 1'400'000);
  expect_ok("1001", 100'100'000'000);
  expect_ok("0.00000001", 1);
  expect_ok("123456.78901234", 12'345'678'901'234);
}

TEST(Decimal, Signs) {
  expect_ok("-1.5", -150'000'000);
  expect_ok("+2", 200'000'000);
  expect_ok("-0", 0);
  expect_ok("-0.00000001", -1);
  expect_err("+-1", DecimalError::bad_char);
  expect_err("--1", DecimalError::bad_char);
  expect_err("1-", DecimalError::bad_char);
}

TEST(Decimal, PartialForms) {
  // A digit on either side of the point suffices (as strtod): ".5" and "5." are numbers.
  expect_ok(".5", 50'000'000);
  expect_ok("5.", 500'000'000);
  expect_ok("-.5", -50'000'000);
  expect_err("", DecimalError::empty);
  expect_err("-", DecimalError::empty);
  expect_err("+", DecimalError::empty);
  expect_err(".", DecimalError::empty);
  expect_err("-.", DecimalError::empty);
}

TEST(Decimal, BadCharacters) {
  expect_err("1e5", DecimalError::bad_char);
  expect_err("1E5", DecimalError::bad_char);
  expect_err("1,0", DecimalError::bad_char);
  expect_err(" 1", DecimalError::bad_char);
  expect_err("1 ", DecimalError::bad_char);
  expect_err("1.2.3", DecimalError::bad_char);
  expect_err("0x10", DecimalError::bad_char);
  expect_err("inf", DecimalError::bad_char);
  expect_err("nan", DecimalError::bad_char);
  expect_err("\"1\"", DecimalError::bad_char);
  expect_err(std::string_view("1\0", 2), DecimalError::bad_char);
  expect_err("١", DecimalError::bad_char);  // non-ASCII digit
}

TEST(Decimal, Precision) {
  expect_err("0.000000001", DecimalError::too_precise);
  expect_ok("0.000000010", 1);                      // 9th digit is a trailing zero
  expect_ok("1.12345678000000000000", 112'345'678);  // many trailing zeros
  expect_err("1.123456780000000000001", DecimalError::too_precise);
  expect_err("-0.123456789", DecimalError::too_precise);
}

TEST(Decimal, Limits) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  expect_ok("92233720368.54775807", kMax);
  expect_err("92233720368.54775808", DecimalError::overflow);
  expect_ok("-92233720368.54775807", -kMax);
  // INT64_MIN is rejected on purpose: the accepted range is symmetric, so negating a parsed
  // value never overflows.
  expect_err("-92233720368.54775808", DecimalError::overflow);
  expect_ok("92233720368", 9'223'372'036'800'000'000);
  expect_err("92233720369", DecimalError::overflow);
  expect_err("100000000000", DecimalError::overflow);
  expect_err("99999999999999999999999999999999", DecimalError::overflow);
}

TEST(Decimal, VeryLongDigitStrings) {
  // Leading zeros do not count towards overflow.
  expect_ok(std::string(1000, '0') + "1", 100'000'000);
  expect_ok(std::string(1000, '0') + "92233720368.54775807", std::numeric_limits<std::int64_t>::max());
  expect_ok("0." + std::string(1000, '0'), 0);
  expect_ok("7.00000001" + std::string(5000, '0'), 700'000'001);
  expect_err("7.00000001" + std::string(5000, '0') + "1", DecimalError::too_precise);
  expect_err(std::string(5000, '9'), DecimalError::overflow);
  expect_err("100000000000", DecimalError::overflow);  // 1e11: 12 integer digits
  expect_ok("10000000000", 10'000'000'000LL * 100'000'000LL);  // 1e10 fits
  expect_err("-100000000000", DecimalError::overflow);
}

TEST(Decimal, ConstexprUsable) {
  constexpr auto r = [] {
    std::int64_t v = 0;
    return parse_decimal("12.5", v) == DecimalError::ok ? v : -1;
  }();
  static_assert(r == 1'250'000'000);
}

TEST(Decimal, FormatExact) {
  EXPECT_EQ(format_decimal(0), "0.00000000");
  EXPECT_EQ(format_decimal(1), "0.00000001");
  EXPECT_EQ(format_decimal(-1), "-0.00000001");
  EXPECT_EQ(format_decimal(6'183'763'000'000, 2), "61837.63");
  EXPECT_EQ(format_decimal(-150'000'000, 1), "-1.5");
  EXPECT_EQ(format_decimal(150'000'000, 0), "1");
  EXPECT_EQ(format_decimal(150'000'000, 12), "1.50000000");  // clamped to 8 digits
  EXPECT_EQ(format_decimal(std::numeric_limits<std::int64_t>::max()), "92233720368.54775807");
  EXPECT_EQ(format_decimal(std::numeric_limits<std::int64_t>::min()), "-92233720368.54775808");
}

TEST(Decimal, FormatParseRoundTrip) {
  std::mt19937_64 rng(42);
  const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> vals = {0, 1, -1, 99'999'999, 100'000'000, -100'000'000, kMax, -kMax};
  for (int i = 0; i < 20000; ++i) {
    std::int64_t v = static_cast<std::int64_t>(rng() >> (rng() % 64));
    if (rng() & 1) v = -v;
    if (v == std::numeric_limits<std::int64_t>::min()) continue;
    vals.push_back(v);
  }
  for (std::int64_t v : vals) {
    const std::string s = format_decimal(v);
    std::int64_t back = 0;
    ASSERT_EQ(parse_decimal(s, back), DecimalError::ok) << s;
    ASSERT_EQ(back, v) << s;
    // Parse of the shortest form (trailing zeros stripped) gives the same value.
    std::string t = s;
    while (t.back() == '0') t.pop_back();
    ASSERT_EQ(parse_decimal(t, back), DecimalError::ok) << t;
    ASSERT_EQ(back, v) << t;
  }
}

TEST(Fixed, PriceQtyOrderingAndArithmetic) {
  Price a{}, b{}, c{};
  ASSERT_EQ(Price::parse("61837.63", a), DecimalError::ok);
  ASSERT_EQ(Price::parse("61837.64000000", b), DecimalError::ok);
  ASSERT_EQ(Price::parse("61837.6300", c), DecimalError::ok);
  EXPECT_LT(a, b);
  EXPECT_GT(b, a);
  EXPECT_EQ(a, c);
  EXPECT_LE(a, c);
  EXPECT_EQ(b - a, Price::from_raw(1'000'000));
  EXPECT_EQ(a + Price::from_raw(1'000'000), b);
  EXPECT_EQ(Price::from_int(3).raw, 300'000'000);
  EXPECT_DOUBLE_EQ(a.to_double(), 61837.63);
  EXPECT_EQ(a.to_string(2), "61837.63");

  Price neg{};
  ASSERT_EQ(Price::parse("-0.01", neg), DecimalError::ok);
  EXPECT_LT(neg, Price{});
  EXPECT_TRUE(Price{}.is_zero());

  Qty q1{}, q2{};
  ASSERT_EQ(Qty::parse("0.014", q1), DecimalError::ok);
  ASSERT_EQ(Qty::parse("0.0140", q2), DecimalError::ok);
  EXPECT_EQ(q1, q2);
  // Price and Qty are distinct types: no accidental mixing.
  static_assert(!std::is_same_v<Price, Qty>);
  static_assert(!std::is_convertible_v<Price, Qty>);
  // Exact decimal ordering where double arithmetic would be lossy (0.1 + 0.2 vs 0.3).
  Price p1{}, p2{}, p3{};
  ASSERT_EQ(Price::parse("0.1", p1), DecimalError::ok);
  ASSERT_EQ(Price::parse("0.2", p2), DecimalError::ok);
  ASSERT_EQ(Price::parse("0.3", p3), DecimalError::ok);
  EXPECT_EQ(p1 + p2, p3);
}

TEST(Decimal, ErrorNames) {
  EXPECT_EQ(decimal_error_name(DecimalError::ok), "ok");
  EXPECT_EQ(decimal_error_name(DecimalError::too_precise), "more than 8 fractional digits");
  EXPECT_EQ(decimal_error_name(DecimalError::overflow), "overflow");
}

}  // namespace
}  // namespace tickrt
