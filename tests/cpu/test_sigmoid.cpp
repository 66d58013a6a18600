// The fast CPU network's float sigmoid (host/cpu/sigmoid.hpp), which computes e^x itself in the SIMD lanes,
// against the exact value: every 8192th of a unit from -100 to 100, and the special values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "cpu/sigmoid.hpp"

namespace sigmanet {
namespace {

// sigmoid_row over zs with zero biases, in rows of an odd length so full and partial vectors both run.
std::vector<float> sigmoid_of(std::vector<float> zs) {
  const std::vector<float> biases(37, 0.0f);
  for (std::size_t first = 0; first < zs.size(); first += 37)
    sigmoid_row(&zs[first], biases.data(), std::min<std::size_t>(37, zs.size() - first));
  return zs;
}

// Against the exact value (worked out in double): float's own rounding of the result is 6e-8 of it; the
// computed e^x and the division add as much again. Measured worst: 1.5e-7.
TEST(Sigmoid, FloatIsWithinTwoRoundingsOfTheExactValue) {
  std::vector<float> zs;
  for (double z = -100; z <= 100; z += 1.0 / 8192) zs.push_back(float(z));
  const std::vector<float> got = sigmoid_of(zs);
  double worst = 0;
  for (std::size_t i = 0; i < zs.size(); ++i) {
    const double exact = 1.0 / (1.0 + std::exp(-double(zs[i])));
    if (zs[i] < -88.0f) {  // exactly 0 where the true value is below e^-88 = 6.05e-39
      EXPECT_EQ(got[i], 0.0f) << zs[i];
      EXPECT_LT(exact, 6.1e-39) << zs[i];
      continue;
    }
    const double relative = std::abs(double(got[i]) - exact) / exact;
    worst = std::max(worst, relative);
    ASSERT_LE(relative, 2e-7) << "z = " << zs[i] << ": " << got[i] << " against " << exact;
  }
  std::printf("worst relative error %.3g over %zu values\n", worst, zs.size());
}

TEST(Sigmoid, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> got = sigmoid_of({0.0f, -0.0f, inf, -inf, nan, 1e30f, -1e30f, 88.5f, -88.5f});
  EXPECT_EQ(got[0], 0.5f);
  EXPECT_EQ(got[1], 0.5f);
  EXPECT_EQ(got[2], 1.0f);
  EXPECT_EQ(got[3], 0.0f);
  EXPECT_TRUE(std::isnan(got[4])) << "a diverged run must still show as NaN";
  EXPECT_EQ(got[5], 1.0f);
  EXPECT_EQ(got[6], 0.0f);
  EXPECT_EQ(got[7], 1.0f);
  EXPECT_EQ(got[8], 0.0f);
}

TEST(Sigmoid, AddsTheBiases) {
  std::vector<float> z = {0.0f, 1.0f, -2.0f};
  const std::vector<float> b = {0.0f, -1.0f, 2.0f};
  sigmoid_row(z.data(), b.data(), 3);
  for (float v : z) EXPECT_EQ(v, 0.5f);
}

}  // namespace
}  // namespace sigmanet
