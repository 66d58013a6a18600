#include "reports/drawings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

// 3x5 glyphs: five rows, three bits each, the high bit on the left.
struct Glyph {
  char c;
  std::array<std::uint8_t, 5> rows;
};
constexpr Glyph kFont[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 2, 2}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'A', {2, 5, 7, 5, 5}}, {'B', {6, 5, 6, 5, 6}},
    {'C', {3, 4, 4, 4, 3}}, {'D', {6, 5, 5, 5, 6}}, {'E', {7, 4, 6, 4, 7}}, {'F', {7, 4, 6, 4, 4}},
    {'G', {3, 4, 5, 5, 3}}, {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}}, {'J', {1, 1, 1, 5, 2}},
    {'K', {5, 5, 6, 5, 5}}, {'L', {4, 4, 4, 4, 7}}, {'M', {5, 7, 7, 5, 5}}, {'N', {6, 5, 5, 5, 5}},
    {'O', {2, 5, 5, 5, 2}}, {'P', {6, 5, 6, 4, 4}}, {'Q', {2, 5, 5, 6, 3}}, {'R', {6, 5, 6, 5, 5}},
    {'S', {3, 4, 2, 1, 6}}, {'T', {7, 2, 2, 2, 2}}, {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}},
    {'W', {5, 5, 7, 7, 5}}, {'X', {5, 5, 2, 5, 5}}, {'Y', {5, 5, 2, 2, 2}}, {'Z', {7, 1, 2, 4, 7}},
    {':', {0, 2, 0, 2, 0}}, {'-', {0, 0, 7, 0, 0}}, {'.', {0, 0, 0, 0, 2}}, {'/', {1, 1, 2, 4, 4}},
};

const Glyph* find_glyph(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

void fill_rect(Image& img, std::size_t x0, std::size_t y0, std::size_t w, std::size_t h, Colour c) {
  for (std::size_t y = y0; y < std::min(y0 + h, img.height); ++y)
    for (std::size_t x = x0; x < std::min(x0 + w, img.width); ++x) {
      std::uint8_t* p = img.at(x, y);
      p[0] = c.r, p[1] = c.g, p[2] = c.b;
    }
}

// Blue (-1) through white (0) to red (+1).
Colour diverging(double v) {
  v = std::clamp(v, -1.0, 1.0);
  const auto fade = static_cast<std::uint8_t>(std::lround(255.0 * (1.0 - std::abs(v))));
  return v >= 0 ? Colour{255, fade, fade} : Colour{fade, fade, 255};
}

constexpr Colour kBackground{48, 48, 48};

// a * b + c, or none when it wraps.
std::optional<std::size_t> mul_add(std::size_t a, std::size_t b, std::size_t c = 0) {
  std::size_t out = 0;
  if (__builtin_mul_overflow(a, b, &out) || __builtin_add_overflow(out, c, &out)) return std::nullopt;
  return out;
}

// A grid of columns x rows cells with a gap around each: gap + n * (cell + gap) each way; none when it wraps.
std::optional<PictureSize> grid(std::size_t columns, std::size_t rows, std::optional<std::size_t> cell_w,
                                std::optional<std::size_t> cell_h, std::size_t gap) {
  if (!cell_w || !cell_h) return std::nullopt;
  const auto step_w = mul_add(*cell_w, 1, gap), step_h = mul_add(*cell_h, 1, gap);
  if (!step_w || !step_h) return std::nullopt;
  const auto width = mul_add(columns, *step_w, gap), height = mul_add(rows, *step_h, gap);
  if (!width || !height) return std::nullopt;
  return PictureSize{*width, *height};
}

bool fits(const std::optional<PictureSize>& s) {
  if (!s) return false;
  const auto pixels = mul_add(s->width, s->height);
  return pixels && *pixels <= kMaxPictureBytes / 3;
}

// The largest n in [1, most] for which fits(size(n)), or 0 when none does; size grows with n.
std::size_t largest_fitting(std::size_t most, const std::function<std::optional<PictureSize>(std::size_t)>& size) {
  std::size_t lo = 0, hi = most;  // fits(lo) (or lo = 0), and nothing above hi is known to fit
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(size(mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// "38080x38080 pixels (4.1 GiB)", or what is left to say when the size does not even fit a size_t.
std::string picture_text(const std::optional<PictureSize>& s) {
  if (!s) return "a picture larger than memory can address";
  const double bytes = 3.0 * double(s->width) * double(s->height);
  char text[96];
  if (bytes >= double(std::size_t{1} << 30))
    std::snprintf(text, sizeof text, "%zux%zu pixels (%.1f GiB)", s->width, s->height, bytes / double(1u << 30));
  else
    std::snprintf(text, sizeof text, "%zux%zu pixels (%.0f MiB)", s->width, s->height, bytes / double(1u << 20));
  return text;
}

std::string limit_text() { return "more than the " + std::to_string(kMaxPictureBytes >> 20) + " MiB a picture may have"; }

// The input layer's side as a square image.
std::size_t input_side(const std::vector<int>& sizes) {
  if (sizes.size() < 2) throw InputError("show-weights: the network has no layers");
  const auto n_in = static_cast<std::size_t>(sizes[0]);
  const auto side = static_cast<std::size_t>(std::lround(std::sqrt(double(n_in))));
  if (side * side != n_in)
    throw InputError("show-weights: the input layer has " + std::to_string(n_in) +
                     " neurons, not a square image to draw the weights as");
  return side;
}

struct TileGrid {
  std::size_t side, tiles, columns, rows;
};

TileGrid tile_grid(const std::vector<int>& sizes) {
  TileGrid g;
  g.side = input_side(sizes);
  g.tiles = static_cast<std::size_t>(sizes[1]);
  g.columns = static_cast<std::size_t>(std::ceil(std::sqrt(double(g.tiles))));
  g.rows = (g.tiles + g.columns - 1) / g.columns;
  return g;
}

std::optional<PictureSize> tiles_size(const TileGrid& g, std::size_t scale) {
  const auto tile = mul_add(g.side, scale);
  return grid(g.columns, g.rows, tile, tile, std::max<std::size_t>(2, scale));
}

// The label under a mistake, "P<predicted> T<true>": its widest text for this many classes ("P0 T0" for 10,
// "P61 T61" for 62), in the font's 4-pixel advance.
std::size_t label_chars(std::size_t classes) {
  std::size_t digits = 1;
  for (std::size_t largest = std::max<std::size_t>(classes, 1) - 1; largest >= 10; largest /= 10) ++digits;
  return 3 + 2 * digits;
}

std::optional<PictureSize> mistakes_size(std::size_t rows, std::size_t cols, std::size_t count, std::size_t columns,
                                         std::size_t scale, std::size_t classes) {
  columns = std::max<std::size_t>(1, std::min(columns, count));
  const std::size_t grid_rows = (count + columns - 1) / columns;
  const auto image_w = mul_add(cols, scale), label_w = mul_add(4 * label_chars(classes) - 1, scale);
  const auto label_h = mul_add(7, scale), gap = mul_add(2, scale);
  if (!image_w || !label_w || !label_h || !gap) return std::nullopt;
  return grid(columns, grid_rows, std::max(*image_w, *label_w), mul_add(rows, scale, *label_h), *gap);
}

}  // namespace

PictureSize weight_tiles_size(const std::vector<int>& sizes, std::size_t scale) {
  const TileGrid g = tile_grid(sizes);
  const std::optional<PictureSize> size = tiles_size(g, scale);
  if (fits(size)) return *size;
  const std::size_t best = largest_fitting(scale, [&](std::size_t s) { return tiles_size(g, s); });
  const std::string advice = best > 0 ? std::to_string(best) + " or less fits" : "1 is too large already";
  throw SettingError(Setting::scale,
                     {Setting::scale, " " + std::to_string(scale) + ": the tiles of " + std::to_string(g.tiles) +
                                          " first-layer neurons would make " + picture_text(size) + ", " +
                                          limit_text() + "; ",
                      Setting::scale, " " + advice},
                     std::to_string(scale));
}

PictureSize mistakes_grid_size(std::size_t rows, std::size_t cols, std::size_t count, std::size_t columns,
                               std::size_t scale, std::size_t classes) {
  const std::optional<PictureSize> size = mistakes_size(rows, cols, count, columns, scale, classes);
  if (fits(size)) return *size;
  const std::size_t best =
      largest_fitting(count, [&](std::size_t n) { return mistakes_size(rows, cols, n, columns, scale, classes); });
  throw SettingError(Setting::mistakes_count,
                     {Setting::mistakes_count, " and ", Setting::scale,
                      " " + std::to_string(scale) + ": a picture of " + std::to_string(count) + " mistakes would be " +
                          picture_text(size) + ", " + limit_text() + "; at ",
                      Setting::scale, " " + std::to_string(scale) + " it holds " +
                          (best > 0 ? "up to " + std::to_string(best) : std::string("none"))},
                     std::to_string(count));
}

std::size_t text_width(const std::string& text, std::size_t scale) {
  return text.empty() ? 0 : (4 * text.size() - 1) * scale;
}

void draw_text(Image& rgb, std::size_t x, std::size_t y, const std::string& text, Colour colour, std::size_t scale) {
  if (rgb.channels != 3) throw Error("draw_text: needs an RGB image");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const Glyph* g = find_glyph(text[i]);
    if (!g) continue;
    for (std::size_t row = 0; row < 5; ++row)
      for (std::size_t col = 0; col < 3; ++col)
        if (g->rows[row] & (4 >> col)) fill_rect(rgb, x + (4 * i + col) * scale, y + row * scale, scale, scale, colour);
  }
}

Image weight_tiles(const Parameters& p, std::size_t scale) {
  const PictureSize size = weight_tiles_size(p.sizes, scale);
  const TileGrid g = tile_grid(p.sizes);
  const std::size_t n_in = g.side * g.side, side = g.side, columns = g.columns;
  const std::size_t gap = std::max<std::size_t>(2, scale), tile = side * scale;
  Image img(size.width, size.height, 3);
  fill_rect(img, 0, 0, img.width, img.height, kBackground);
  const std::vector<double>& w = p.weights[0];
  for (std::size_t t = 0; t < g.tiles; ++t) {
    const double* row = &w[t * n_in];
    double largest = 0;
    for (std::size_t i = 0; i < n_in; ++i) largest = std::max(largest, std::abs(row[i]));
    const std::size_t x0 = gap + (t % columns) * (tile + gap), y0 = gap + (t / columns) * (tile + gap);
    for (std::size_t i = 0; i < n_in; ++i)
      fill_rect(img, x0 + (i % side) * scale, y0 + (i / side) * scale, scale, scale,
                diverging(largest > 0 ? row[i] / largest : 0.0));
  }
  return img;
}

Image mistakes_grid(const Dataset& data, std::span<const Mistake> mistakes, std::size_t columns, std::size_t scale,
                    std::size_t classes) {
  if (mistakes.empty()) throw Error("mistakes_grid: no mistakes to draw");
  for (const Mistake& m : mistakes)
    if (m.predicted < 0 || m.truth < 0 || std::size_t(m.predicted) >= classes || std::size_t(m.truth) >= classes)
      throw Error("mistakes_grid: a class past the " + std::to_string(classes) + " classes");
  const PictureSize size = mistakes_grid_size(data.rows, data.cols, mistakes.size(), columns, scale, classes);
  // Within the size just checked, none of these products wraps.
  columns = std::max<std::size_t>(1, std::min(columns, mistakes.size()));
  const std::size_t gap = 2 * scale, label = 7 * scale;
  const std::size_t cell_w = std::max(data.cols * scale, (4 * label_chars(classes) - 1) * scale);
  const std::size_t cell_h = data.rows * scale + label;
  Image img(size.width, size.height, 3);
  fill_rect(img, 0, 0, img.width, img.height, kBackground);
  for (std::size_t k = 0; k < mistakes.size(); ++k) {
    const Mistake& m = mistakes[k];
    if (m.index >= data.size()) throw Error("mistakes_grid: record past the end of " + data.name);
    const std::size_t x0 = gap + (k % columns) * (cell_w + gap), y0 = gap + (k / columns) * (cell_h + gap);
    const std::uint8_t* pixels = data.image(m.index);
    for (std::size_t y = 0; y < data.rows; ++y)
      for (std::size_t x = 0; x < data.cols; ++x) {
        const std::uint8_t v = pixels[y * data.cols + x];
        fill_rect(img, x0 + x * scale, y0 + y * scale, scale, scale, Colour{v, v, v});
      }
    const std::size_t ty = y0 + data.rows * scale + scale;
    // append, not "P" + to_string: GCC 12's -Wrestrict misfires on the latter at -O3.
    const std::string predicted = std::string("P").append(std::to_string(m.predicted));
    draw_text(img, x0, ty, predicted, Colour{255, 90, 90}, scale);
    draw_text(img, x0 + text_width(predicted, scale) + 5 * scale, ty,  // a blank's advance further
              std::string("T").append(std::to_string(m.truth)),
              Colour{90, 230, 90}, scale);
  }
  return img;
}

}  // namespace sigmanet
