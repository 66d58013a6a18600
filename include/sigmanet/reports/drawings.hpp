#pragma once
// Pictures of a network a person would rather look at than read: the first layer's weights as tiles, and
// misclassified digits labelled with what the network said and what they are.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sigmanet/formats/dataset.hpp"
#include "sigmanet/formats/image_file.hpp"
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

// One tile per first-layer neuron: its incoming weights as a side x side picture (the input layer must be
// a square image), red for positive, blue for negative, white for zero, each tile scaled to its own
// largest |weight|. Tiles are scale x scale pixels per weight. Throws InputError when the input is not square.
Image weight_tiles(const Parameters& p, std::size_t scale);

struct Mistake {
  std::size_t index;  // record in the set
  int predicted;
  int truth;
};
// A grid of the records' images (light digits on black as in MNIST), each labelled below with
// "P<predicted> T<true>" in red and green.
Image mistakes_grid(const Dataset& data, std::span<const Mistake> mistakes, std::size_t columns, std::size_t scale);

}  // namespace sigmanet
