#pragma once
// 8-bit images in and out: PNG (stb_image / stb_image_write) and PGM (P2 or P5, parsed here).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace sigmanet {

// The largest picture encode_png writes: 256 MiB of pixel bytes (an RGB picture of about 9,400 x 9,400).
// stb_image_write counts the bytes it filters and compresses in int and doubles its output buffer as it grows, so
// past 2^29 bytes its arithmetic can overflow; this bound stays clear of that, and it also keeps a picture one a
// viewer can open (encoding holds it about three times over).
constexpr std::size_t kMaxPictureBytes = std::size_t{256} << 20;

// width * height * channels, or Error when that product does not fit a size_t.
std::size_t image_bytes(std::size_t width, std::size_t height, std::size_t channels);

struct Image {
  std::size_t width = 0, height = 0;
  std::size_t channels = 1;          // 1 grey, 3 RGB
  std::vector<std::uint8_t> pixels;  // row-major, channels bytes per pixel

  Image() = default;
  Image(std::size_t w, std::size_t h, std::size_t c, std::uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(image_bytes(w, h, c), fill) {}
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

// Throws Error for a picture of more than kMaxPictureBytes.
std::vector<std::uint8_t> encode_png(const Image& image);
// Written atomically. Throws Error naming the file.
void write_png(const std::filesystem::path& file, const Image& image);

}  // namespace sigmanet
