#pragma once
// Pictures of a network a person would rather look at than read: the first layer's weights as tiles, and
// misclassified digits labelled with what the network said and what they are.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "formats/image_file.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

struct Colour {
  std::uint8_t r, g, b;
};

// Draws text in a built-in 3x5 pixel font, each font pixel scale x scale. It knows the digits, the upper
// case letters and a few signs; anything else is drawn as a blank. Clips at the image's edges.
void draw_text(Image& rgb, std::size_t x, std::size_t y, const std::string& text, Colour colour, std::size_t scale);
// The width in pixels draw_text uses for text.
std::size_t text_width(const std::string& text, std::size_t scale);

// A picture's size in pixels. Every size below is worked out without wrapping, before anything is drawn: a
// picture that would hold more than kMaxPictureBytes (image_file.hpp) of RGB is refused, saying its size and
// what fits.
struct PictureSize {
  std::size_t width = 0, height = 0;
};

// The picture weight_tiles draws for a network of these sizes at this scale. Throws InputError when the input
// layer is not a square image, and SettingError (Setting::scale) when the picture is too large, naming the largest
// scale that fits.
PictureSize weight_tiles_size(const std::vector<int>& sizes, std::size_t scale);

// One tile per first-layer neuron: its incoming weights as a side x side picture (the input layer must be
// a square image), red for positive, blue for negative, white for zero, each tile scaled to its own
// largest |weight|. Tiles are scale x scale pixels per weight. Throws as weight_tiles_size does.
Image weight_tiles(const Parameters& p, std::size_t scale);

struct Mistake {
  std::size_t index;  // record in the set
  int predicted;
  int truth;
};
// The picture mistakes_grid draws for `count` mistakes of rows x cols images of `classes` classes (the labels'
// width), `columns` to a row. Throws SettingError (Setting::mistakes_count, naming Setting::scale too) when the
// picture is too large, saying how many mistakes fit at this scale.
PictureSize mistakes_grid_size(std::size_t rows, std::size_t cols, std::size_t count, std::size_t columns,
                               std::size_t scale, std::size_t classes = 10);

// A grid of the records' images (light digits on black as in MNIST), each labelled below with
// "P<predicted> T<true>" in red and green, each cell wide enough for the widest label of `classes` classes. Throws
// as mistakes_grid_size does, and Error for a class past `classes`.
Image mistakes_grid(const Dataset& data, std::span<const Mistake> mistakes, std::size_t columns, std::size_t scale,
                    std::size_t classes = 10);

}  // namespace sigmanet
