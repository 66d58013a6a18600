#include "formats/image_file.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#include <stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>

namespace sigmanet {
namespace {

// Reads the whitespace- and comment-separated numbers of a PGM header (and of a P2 body).
class PgmScanner {
 public:
  PgmScanner(std::span<const std::uint8_t> bytes, std::string what) : b_(bytes), what_(std::move(what)) {}

  unsigned long number(const char* name) {
    skip_space_and_comments();
    if (pos_ >= b_.size() || !std::isdigit(b_[pos_]))
      throw InputError(what_ + ": PGM " + name + (pos_ >= b_.size() ? " is missing (file truncated?)" : " is not a number"));
    unsigned long v = 0;
    while (pos_ < b_.size() && std::isdigit(b_[pos_])) {
      v = v * 10 + (b_[pos_++] - '0');
      if (v > 1'000'000) throw InputError(what_ + ": PGM " + name + " is too large");
    }
    return v;
  }
  // The single whitespace byte that ends a binary header.
  void end_of_header() {
    if (pos_ >= b_.size() || !std::isspace(b_[pos_])) throw InputError(what_ + ": PGM header does not end in whitespace");
    ++pos_;
  }
  std::size_t position() const { return pos_; }

 private:
  void skip_space_and_comments() {
    while (pos_ < b_.size()) {
      if (std::isspace(b_[pos_])) ++pos_;
      else if (b_[pos_] == '#') while (pos_ < b_.size() && b_[pos_] != '\n') ++pos_;
      else break;
    }
  }
  std::span<const std::uint8_t> b_;
  std::string what_;
  std::size_t pos_ = 2;  // after the magic
};

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

std::size_t image_bytes(std::size_t width, std::size_t height, std::size_t channels) {
  std::size_t pixels = 0, bytes = 0;
  if (__builtin_mul_overflow(width, height, &pixels) || __builtin_mul_overflow(pixels, channels, &bytes))
    throw Error("Image: " + std::to_string(width) + "x" + std::to_string(height) + " pixels of " +
                std::to_string(channels) + " bytes do not fit in memory's address range");
  return bytes;
}

Image decode_pgm(std::span<const std::uint8_t> bytes, const std::string& what) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '2' && bytes[1] != '5'))
    throw InputError(what + ": not a PGM file (expected P2 or P5)");
  const bool binary = bytes[1] == '5';
  PgmScanner scan(bytes, what);
  const unsigned long width = scan.number("width"), height = scan.number("height"), maxval = scan.number("maxval");
  if (width == 0 || height == 0) throw InputError(what + ": PGM image is empty");
  if (width * height > 100'000'000ul) throw InputError(what + ": PGM image is too large");
  if (maxval == 0 || maxval > 65535) throw InputError(what + ": PGM maxval must be 1..65535");
  Image img(width, height, 1);
  auto store = [&](std::size_t i, unsigned long v) {
    if (v > maxval) throw InputError(what + ": PGM pixel value " + std::to_string(v) + " exceeds maxval");
    img.pixels[i] = static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
  };
  if (binary) {
    scan.end_of_header();
    const std::size_t sample = maxval < 256 ? 1 : 2;
    const std::size_t need = width * height * sample;
    if (bytes.size() - scan.position() < need)
      throw InputError(what + ": PGM truncated: " + std::to_string(bytes.size() - scan.position()) +
                       " pixel bytes, expected " + std::to_string(need));
    const std::uint8_t* p = bytes.data() + scan.position();
    for (std::size_t i = 0; i < width * height; ++i)
      store(i, sample == 1 ? p[i] : (unsigned long)(p[2 * i]) << 8 | p[2 * i + 1]);  // 16-bit PGM is big-endian
  } else {
    for (std::size_t i = 0; i < width * height; ++i) store(i, scan.number("pixel"));
  }
  return img;
}

Image decode_png_grey(std::span<const std::uint8_t> bytes, const std::string& what) {
  if (bytes.size() > 0x7fffffff) throw InputError(what + ": PNG file is too large");
  int w = 0, h = 0, channels = 0;
  // Grey and alpha: with the alpha dropped, a digit drawn on a transparent ground would be read from
  // whatever colour the transparent pixels happen to hold (often black, like dark ink).
  std::unique_ptr<stbi_uc, void (*)(void*)> data(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 2), stbi_image_free);
  if (!data) throw InputError(what + ": cannot decode PNG: " + stbi_failure_reason());
  Image img(static_cast<std::size_t>(w), static_cast<std::size_t>(h), 1);
  const stbi_uc* p = data.get();
  const std::size_t n = img.pixels.size();
  // The ground a transparent pixel shows is the one the drawing was meant to be seen on: light under dark
  // ink, dark under light ink. The ink's shade is the opacity-weighted mean of the visible pixels.
  double ink = 0, opacity = 0;
  bool translucent = false;
  for (std::size_t i = 0; i < n; ++i) {
    ink += double(p[2 * i]) * p[2 * i + 1];
    opacity += p[2 * i + 1];
    translucent = translucent || p[2 * i + 1] != 255;
  }
  if (opacity == 0) throw InputError(what + ": the image is fully transparent; there is no digit to read");
  const double ground = !translucent ? 0 : ink / opacity < 128 ? 255 : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double alpha = p[2 * i + 1] / 255.0;
    img.pixels[i] = static_cast<std::uint8_t>(std::lround(alpha * p[2 * i] + (1 - alpha) * ground));
  }
  return img;
}

Image read_grey_image(const std::filesystem::path& file) {
  // Bounded: no 28x28 picture comes near it, and a large file is no image this tool reads.
  const std::vector<std::uint8_t> bytes = read_file_bytes(file, std::size_t{64} << 20);
  const std::string what = file.string();
  static constexpr std::uint8_t png_magic[] = {0x89, 'P', 'N', 'G'};
  if (bytes.size() >= 4 && std::equal(png_magic, png_magic + 4, bytes.begin())) return decode_png_grey(bytes, what);
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) return decode_pgm(bytes, what);
  throw InputError(what + ": not a PNG or PGM image");
}

std::vector<std::uint8_t> encode_png(const Image& image) {
  if (image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != image_bytes(image.width, image.height, image.channels))
    throw Error("encode_png: the image's size does not match its pixels");
  // stb_image_write adds a filter byte a row: at most twice the pixel bytes, well inside its int.
  if (image.pixels.empty()) throw Error("encode_png: the picture has no pixels");
  if (image.pixels.size() > kMaxPictureBytes)
    throw Error("encode_png: a picture of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " pixels is larger than the " + std::to_string(kMaxPictureBytes >> 20) + " MiB a PNG may have here");
  std::vector<std::uint8_t> out;
  const int stride = static_cast<int>(image.width * image.channels);
  if (!stbi_write_png_to_func(append_bytes, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                              static_cast<int>(image.channels), image.pixels.data(), stride))
    throw Error("encode_png: stb_image_write failed");
  return out;
}

void write_png(const std::filesystem::path& file, const Image& image) { write_file_atomically(file, encode_png(image)); }

}  // namespace sigmanet
