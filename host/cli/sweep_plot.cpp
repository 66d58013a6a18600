#include "cli/sweep_plot.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

#include "formats/image_file.hpp"
#include "reports/drawings.hpp"

namespace sigmanet::cli {
namespace {

constexpr std::size_t kScale = 2;  // font pixels
constexpr std::size_t kPlot = 480;  // each panel's side
constexpr std::size_t kMargin = 60;
const Colour kInk{230, 230, 230};
const Colour kGrid{70, 70, 70};

// Distinct colours for up to eight values, then around again.
Colour palette(std::size_t i) {
  static const Colour colours[] = {{230, 80, 80},  {80, 160, 240}, {110, 210, 90},  {240, 190, 60},
                                   {190, 110, 230}, {60, 210, 200}, {240, 130, 200}, {200, 200, 200}};
  return colours[i % 8];
}

std::string upper(std::string text) {
  for (char& c : text) c = char(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void put(Image& img, long x, long y, Colour c) {
  if (x < 0 || y < 0 || std::size_t(x) >= img.width || std::size_t(y) >= img.height) return;
  std::uint8_t* p = img.at(std::size_t(x), std::size_t(y));
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

// A line two pixels thick.
void line(Image& img, long x0, long y0, long x1, long y1, Colour c) {
  const long steps = std::max(std::labs(x1 - x0), std::labs(y1 - y0));
  for (long s = 0; s <= steps; ++s) {
    const double t = steps ? double(s) / double(steps) : 0.0;
    const long x = std::lround(double(x0) + t * double(x1 - x0)), y = std::lround(double(y0) + t * double(y1 - y0));
    put(img, x, y, c), put(img, x + 1, y, c), put(img, x, y + 1, c);
  }
}

void box(Image& img, std::size_t x0, std::size_t y0, std::size_t w, std::size_t h, Colour c) {
  for (std::size_t y = y0; y < y0 + h && y < img.height; ++y)
    for (std::size_t x = x0; x < x0 + w && x < img.width; ++x) put(img, long(x), long(y), c);
}

std::string percent(double v) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * v);
  return text;
}

// The run's accuracy per epoch, from its runs.jsonl lines.
std::vector<double> curve(const RunRecord& r, bool on_validation) {
  std::vector<double> out;
  for (const std::string& text : r.lines) {
    const nlohmann::json line = nlohmann::json::parse(text);
    const nlohmann::json& v = line.at(on_validation ? "validation_accuracy" : "test_accuracy");
    out.push_back(v.is_null() ? 0.0 : v.get<double>());
  }
  return out;
}

std::string setting(const SweepRun& run, const std::string& key) {
  for (const auto& [k, v] : run.settings)
    if (k == key) return v;
  return "";
}

// The values a setting takes across the grid, in the grid's order.
std::vector<std::string> values_of(const std::vector<SweepRun>& runs, const std::string& key) {
  std::vector<std::string> out;
  for (const SweepRun& run : runs)
    if (const std::string v = setting(run, key); std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

void draw_curves(Image& img, const std::vector<SweepRun>& runs, const std::map<std::string, RunRecord>& records,
                 const std::string& colour_by, bool on_validation) {
  std::vector<std::vector<double>> curves;
  double low = 1.0, high = 0.0;
  std::size_t epochs = 1;
  for (const SweepRun& run : runs) {
    curves.push_back(curve(records.at(run.name), on_validation));
    for (double v : curves.back()) low = std::min(low, v), high = std::max(high, v);
    epochs = std::max(epochs, curves.back().size());
  }
  if (low > high) low = 0, high = 1;
  low = std::floor(low * 20) / 20, high = std::min(1.0, std::ceil(high * 20) / 20);
  if (high <= low) high = low + 0.05;
  const long x0 = long(kMargin), y0 = long(kMargin), w = long(kPlot), h = long(kPlot);
  const auto px = [&](std::size_t epoch) {
    return x0 + (epochs > 1 ? long(double(epoch - 1) / double(epochs - 1) * double(w)) : w / 2);
  };
  const auto py = [&](double v) { return y0 + h - long((v - low) / (high - low) * double(h)); };
  for (int i = 0; i <= 4; ++i) {
    const double v = low + (high - low) * i / 4;
    line(img, x0, py(v), x0 + w, py(v), kGrid);
    draw_text(img, 4, std::size_t(py(v) - 5), percent(v), kInk, kScale);
  }
  line(img, x0, y0, x0, y0 + h, kInk), line(img, x0, y0 + h, x0 + w, y0 + h, kInk);
  draw_text(img, std::size_t(x0), std::size_t(y0 + h + 8), "1", kInk, kScale);
  draw_text(img, std::size_t(x0 + w) - text_width(std::to_string(epochs), kScale), std::size_t(y0 + h + 8),
            std::to_string(epochs), kInk, kScale);
  draw_text(img, std::size_t(x0 + w / 2 - 20), std::size_t(y0 + h + 8), "EPOCH", kInk, kScale);
  draw_text(img, std::size_t(x0), 12, on_validation ? "VALIDATION ACCURACY" : "TEST ACCURACY", kInk, kScale);
  const std::vector<std::string> values = colour_by.empty() ? std::vector<std::string>{""} : values_of(runs, colour_by);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const std::size_t k = colour_by.empty()
                              ? r
                              : std::size_t(std::find(values.begin(), values.end(), setting(runs[r], colour_by)) -
                                            values.begin());
    for (std::size_t e = 1; e < curves[r].size(); ++e)
      line(img, px(e), py(curves[r][e - 1]), px(e + 1), py(curves[r][e]), palette(k));
  }
  // The key, below the axis.
  if (colour_by.empty()) return;
  std::size_t kx = kMargin, ky = std::size_t(y0 + h + 30);
  draw_text(img, kx, ky, upper(colour_by), kInk, kScale);
  kx += text_width(upper(colour_by), kScale) + 12;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (kx + 100 > kMargin + kPlot) kx = kMargin + 40, ky += 16;
    box(img, kx, ky, 10, 10, palette(i));
    draw_text(img, kx + 14, ky, upper(values[i]), kInk, kScale);
    kx += 14 + text_width(upper(values[i]), kScale) + 16;
  }
}

void draw_heat_map(Image& img, std::size_t left, const std::vector<SweepRun>& runs,
                   const std::map<std::string, RunRecord>& records, const std::string& rows_key,
                   const std::string& cols_key) {
  const std::vector<std::string> rows = values_of(runs, rows_key), cols = values_of(runs, cols_key);
  double low = 1, high = 0;
  for (const auto& [name, r] : records)
    low = std::min(low, std::max(0.0, r.best_score)), high = std::max(high, r.best_score);
  const std::size_t cw = kPlot / cols.size(), ch = kPlot / rows.size();
  for (const SweepRun& run : runs) {
    const std::size_t i = std::size_t(std::find(rows.begin(), rows.end(), setting(run, rows_key)) - rows.begin());
    const std::size_t j = std::size_t(std::find(cols.begin(), cols.end(), setting(run, cols_key)) - cols.begin());
    const double v = std::max(0.0, records.at(run.name).best_score);
    const double t = high > low ? (v - low) / (high - low) : 1.0;  // dark blue (worst) to yellow (best)
    const Colour c{std::uint8_t(40 + 210 * t), std::uint8_t(40 + 180 * t), std::uint8_t(140 - 100 * t)};
    box(img, left + j * cw, kMargin + i * ch, cw - 2, ch - 2, c);
    draw_text(img, left + j * cw + 6, kMargin + i * ch + ch / 2 - 5, percent(v), Colour{0, 0, 0}, kScale);
  }
  draw_text(img, left, 12, "BEST: " + upper(rows_key) + " DOWN, " + upper(cols_key) + " ACROSS", kInk, kScale);
  for (std::size_t j = 0; j < cols.size(); ++j)
    draw_text(img, left + j * cw + 6, kMargin - 16, upper(cols[j]), kInk, kScale);
  for (std::size_t i = 0; i < rows.size(); ++i)
    draw_text(img, left + kPlot + 6, kMargin + i * ch + ch / 2 - 5, upper(rows[i]), kInk, kScale);
}

}  // namespace

void plot_sweep(const std::filesystem::path& file, const std::vector<SweepRun>& runs,
                const std::map<std::string, RunRecord>& records, const std::vector<std::string>& varying,
                bool on_validation) {
  // Colour by the setting with the most values (the first such in the lists' order).
  std::string colour_by;
  std::size_t most = 1;
  for (const std::string& key : varying)
    if (const std::size_t n = values_of(runs, key).size(); n > most) most = n, colour_by = key;
  const bool heat = varying.size() == 2;
  Image img(heat ? 2 * kPlot + 3 * kMargin + 160 : kPlot + 2 * kMargin, kPlot + 2 * kMargin + 40, 3, 32);
  draw_curves(img, runs, records, colour_by, on_validation);
  if (heat) draw_heat_map(img, kPlot + 2 * kMargin, runs, records, varying[0], varying[1]);
  write_png(file, img);
}

}  // namespace sigmanet::cli
