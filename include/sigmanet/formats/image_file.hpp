#pragma once
// 8-bit images in and out: PNG (stb_image / stb_image_write) and PGM (P2 or P5, parsed here).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace sigmanet {

struct Image {
  std::size_t width = 0, height = 0;
  std::size_t channels = 1;          // 1 grey, 3 RGB
  std::vector<std::uint8_t> pixels;  // row-major, channels bytes per pixel

  Image() = default;
  Image(std::size_t w, std::size_t h, std::size_t c, std::uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(w * h * c, fill) {}
  std::uint8_t* at(std::size_t x, std::size_t y) { return &pixels[(y * width + x) * channels]; }
  const std::uint8_t* at(std::size_t x, std::size_t y) const { return &pixels[(y * width + x) * channels]; }
};

// PGM, plain (P2) or binary (P5), any maxval up to 65535, scaled to 0..255. Throws InputError starting with what.
Image decode_pgm(std::span<const std::uint8_t> bytes, const std::string& what);
// PNG of any colour type, converted to grey. Transparency is composited over the ground the picture was
// drawn for: white under dark ink, black under light ink (a fully transparent image is refused). Throws
// InputError starting with what.
Image decode_png_grey(std::span<const std::uint8_t> bytes, const std::string& what);
// A PNG or PGM file (told apart by their first bytes) as grey. Throws InputError naming the file.
Image read_grey_image(const std::filesystem::path& file);

std::vector<std::uint8_t> encode_png(const Image& image);
// Written atomically. Throws Error naming the file.
void write_png(const std::filesystem::path& file, const Image& image);

}  // namespace sigmanet
