// exec/send_warm.hpp: the private loopback connection takes every warm-up send and gives it back
// (nothing accumulates, nothing fails), requests longer than kMaxBytes are cut, instances are independent.
#include <gtest/gtest.h>

#include <string>

#include "exec/send_warm.hpp"

namespace tickrt::exec {
namespace {

TEST(SendPathWarmer, EverySendIsDrainedWithoutErrors) {
  auto w = SendPathWarmer::open();
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  const std::string req(400, 'x');
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.value()->warm(req.data(), req.size())) << "warm-up " << i;
  EXPECT_EQ(w.value()->sends(), 1000u);
  EXPECT_EQ(w.value()->errors(), 0u);
  EXPECT_EQ(w.value()->bytes_drained(), 400'000u);  // loopback delivers inside send(): all read back
}

TEST(SendPathWarmer, LongRequestsAreCutAndTwoWarmersAreIndependent) {
  auto a = SendPathWarmer::open(), b = SendPathWarmer::open();
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string big(SendPathWarmer::kMaxBytes * 3, 'y');
  ASSERT_TRUE(a.value()->warm(big.data(), big.size()));
  ASSERT_TRUE(b.value()->warm(big.data(), 10));
  EXPECT_EQ(a.value()->bytes_drained(), SendPathWarmer::kMaxBytes);
  EXPECT_EQ(b.value()->bytes_drained(), 10u);
  ASSERT_TRUE(a.value()->warm(nullptr, 0));  // nothing to send: only the drain
  EXPECT_EQ(a.value()->sends(), 1u);
}

}  // namespace
}  // namespace tickrt::exec
