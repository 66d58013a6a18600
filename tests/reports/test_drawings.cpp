// The drawings' sizes: worked out before anything is drawn, without wrapping, and refused past kMaxPictureBytes
// with the setting to change and what fits.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "formats/image_file.hpp"
#include "reports/drawings.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

// The SettingError a call throws, or a failure.
template <class F>
SettingError refusal(F call) {
  try {
    call();
  } catch (const SettingError& e) {
    return e;
  }
  ADD_FAILURE() << "not refused";
  return SettingError(Setting::scale, "not refused");
}

TEST(Drawings, WeightTilesAreSizedAsDrawn) {
  // 30 tiles: 6 columns x 5 rows of 28 * 3 = 84 pixels with 3-pixel gaps.
  const PictureSize size = weight_tiles_size({784, 30, 10}, 3);
  EXPECT_EQ(size.width, 3u + 6 * (84 + 3));
  EXPECT_EQ(size.height, 3u + 5 * (84 + 3));
  Parameters p;
  p.sizes = {4, 2, 10};
  p.weights = {std::vector<double>(8, 0.5), std::vector<double>(20, 0.0)};
  p.biases = {std::vector<double>(2, 0.0), std::vector<double>(10, 0.0)};
  const Image img = weight_tiles(p, 1);
  const PictureSize small = weight_tiles_size(p.sizes, 1);
  EXPECT_EQ(img.width, small.width);
  EXPECT_EQ(img.height, small.height);
  EXPECT_EQ(img.width, 2u + 2 * (2 + 2));  // two 2x2 tiles side by side, gaps of 2
}

TEST(Drawings, WeightTilesTooLargeAreRefusedNamingTheScaleThatFits) {
  // 784-1681-10 at scale 32: 41 x 41 tiles of 896 pixels with 32-pixel gaps, 38080 pixels a side, 4.1 GiB of RGB.
  // At scale s >= 2 a side is s + 41 * 29 s = 1190 s pixels: 8330 at 7 (208 MB), 9520 at 8 (272 MB > 256 MiB).
  const SettingError e = refusal([] { weight_tiles_size({784, 1681, 10}, 32); });
  EXPECT_EQ(e.setting(), Setting::scale);
  EXPECT_EQ(std::string(e.what()),
            "scale 32: the tiles of 1681 first-layer neurons would make 38080x38080 pixels (4.1 GiB), more than the "
            "256 MiB a picture may have; scale 7 or less fits");
  EXPECT_EQ(weight_tiles_size({784, 1681, 10}, 7).width, 8330u);
  // 784-900-10 at scale 32 (27872 pixels a side, 2.2 GiB) was past what stb_image_write can encode.
  EXPECT_NE(std::string(refusal([] { weight_tiles_size({784, 900, 10}, 32); }).what())
                .find("27872x27872 pixels (2.2 GiB)"),
            std::string::npos);
}

TEST(Drawings, SizesThatWouldWrapAreRefusedNotWrapped) {
  const std::size_t huge = std::size_t{1} << 62;
  EXPECT_NE(std::string(refusal([&] { weight_tiles_size({784, 30, 10}, huge); }).what())
                .find("a picture larger than memory can address"),
            std::string::npos);
  EXPECT_NE(std::string(refusal([&] { mistakes_grid_size(28, 28, 100, 10, huge); }).what())
                .find("a picture larger than memory can address"),
            std::string::npos);
  // 46340^2 inputs (the largest square an int holds) at scale 1: one 46342-pixel tile a side is 6.0 GiB.
  EXPECT_EQ(refusal([] { weight_tiles_size({46340 * 46340, 1, 10}, 1); }).setting(), Setting::scale);
}

TEST(Drawings, MistakesTooManyForTheScaleAreRefusedSayingHowManyFit) {
  // 5010 mistakes at scale 16: 10 columns of 448 + 32 pixels and 501 rows of 448 + 112 + 32, 4.0 GiB of RGB. A
  // column of 4832 pixels holds 256 MiB / 3 / 4832 = 18518 rows of pixels: 31 rows of mistakes, 310 of them.
  const SettingError e = refusal([] { mistakes_grid_size(28, 28, 5010, 10, 16); });
  EXPECT_EQ(e.setting(), Setting::mistakes_count);
  EXPECT_EQ(e.message().mentions(), (std::vector<Setting>{Setting::mistakes_count, Setting::scale, Setting::scale}));
  EXPECT_EQ(std::string(e.what()),
            "mistakes_count and scale 16: a picture of 5010 mistakes would be 4832x296624 pixels (4.0 GiB), more "
            "than the 256 MiB a picture may have; at scale 16 it holds up to 310");
  const PictureSize fits = mistakes_grid_size(28, 28, 310, 10, 16);
  EXPECT_EQ(fits.width, 4832u);
  EXPECT_EQ(fits.height, 32u + 31 * 592);
}

// A label is "P<predicted> T<true>" in the font's 4-pixel advance: a cell is as wide as the widest label of the
// classes. 8x8 images at scale 2: 16 pixels of image; 10 classes' "P0 T0" is 19 x 2 = 38 pixels, 200 classes'
// "P199 T199" 35 x 2 = 70.
TEST(Drawings, MistakeCellsAreAsWideAsTheWidestLabelOfTheClasses) {
  Dataset data;
  data.rows = data.cols = 8;
  data.pixels.assign(3 * 64, 200);
  data.labels = {0, 1, 2};
  const std::vector<Mistake> ten{{0, 3, 9}, {1, 9, 0}, {2, 4, 5}};
  const std::vector<Mistake> two_hundred{{0, 199, 0}, {1, 0, 199}, {2, 123, 45}};
  // Three columns of the cell and a 4-pixel gap, and a gap before the first.
  EXPECT_EQ(mistakes_grid_size(8, 8, 3, 10, 2, 10).width, 4u + 3 * (38 + 4));
  EXPECT_EQ(mistakes_grid_size(8, 8, 3, 10, 2, 200).width, 4u + 3 * (70 + 4));
  EXPECT_EQ(mistakes_grid(data, ten, 10, 2, 10).width, 4u + 3 * (38 + 4));
  EXPECT_EQ(mistakes_grid(data, two_hundred, 10, 2, 200).width, 4u + 3 * (70 + 4));
  EXPECT_THROW(mistakes_grid(data, two_hundred, 10, 2, 10), Error);
}

// An image's byte count is checked like the drawings': (2^32)^2 x 3 wraps a 64-bit size to 0, and an image of
// 0 bytes that claims 2^32 x 2^32 pixels would be written far outside its memory.
TEST(Drawings, AnImageWhoseSizeWrapsIsRefused) {
  const std::size_t side = std::size_t{1} << 32;
  EXPECT_THROW(Image(side, side, 3), Error);
  EXPECT_THROW(Image(std::numeric_limits<std::size_t>::max(), 2, 1), Error);
  EXPECT_EQ(Image(3, 2, 3).pixels.size(), 18u);
}

}  // namespace
}  // namespace sigmanet
