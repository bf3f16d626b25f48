// Status / Result basics (core/status.hpp).
#include "core/status.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <variant>
#include <string>

namespace tickrt {
namespace {

Status fails_at(int line) { return Status(Code::parse_error, "cfg.toml:" + std::to_string(line) + ": bad key"); }
Status chain(bool fail) {
  TICKRT_RETURN_IF_ERROR(fail ? fails_at(7) : Status::Ok());
  return Status(Code::internal, "reached the end");
}

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.code(), Code::ok);
  EXPECT_EQ(ok.to_string(), "ok");

  Status e = fails_at(12);
  EXPECT_FALSE(e.ok());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.code(), Code::parse_error);
  EXPECT_EQ(e.message(), "cfg.toml:12: bad key");
  EXPECT_EQ(e.to_string(), "parse_error: cfg.toml:12: bad key");
}

TEST(Status, WithContext) {
  EXPECT_EQ(fails_at(3).with_context("loading config").to_string(),
            "parse_error: loading config: cfg.toml:3: bad key");
  EXPECT_TRUE(Status::Ok().with_context("ignored").ok());
  EXPECT_EQ(Status::Ok().with_context("ignored").message(), "");
}

TEST(Status, ReturnIfError) {
  EXPECT_EQ(chain(true).code(), Code::parse_error);
  EXPECT_EQ(chain(true).message(), "cfg.toml:7: bad key");
  EXPECT_EQ(chain(false).code(), Code::internal);
}

TEST(Status, CodeNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(Code::internal); ++c) {
    const auto n = code_name(static_cast<Code>(c));
    EXPECT_NE(n, "unknown") << c;
    EXPECT_TRUE(names.insert(n).second) << n;
  }
  EXPECT_EQ(code_name(static_cast<Code>(200)), "unknown");
}

Result<int> half(int x) {
  if (x % 2) return Result<int>(Code::invalid_argument, "half: " + std::to_string(x) + " is odd");
  return x / 2;
}

TEST(Result, ValueOrStatus) {
  auto r = half(10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 5);
  EXPECT_EQ(*r, 5);
  EXPECT_TRUE(r.status().ok());

  auto e = half(3);
  EXPECT_FALSE(e.ok());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.status().code(), Code::invalid_argument);
  EXPECT_EQ(e.status().message(), "half: 3 is odd");
  EXPECT_THROW((void)e.value(), std::bad_variant_access);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<std::string>> r(std::make_unique<std::string>("abc"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r.value(), "abc");
  EXPECT_EQ(r->get()->size(), 3u);
  std::unique_ptr<std::string> taken = std::move(r).value();
  EXPECT_EQ(*taken, "abc");

  Result<std::unique_ptr<std::string>> e(Status(Code::not_found, "x"));
  EXPECT_EQ(e.status().code(), Code::not_found);
}

}  // namespace
}  // namespace tickrt
