#include "arrays.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <algorithm>

namespace nb = nanobind;

namespace sigmanet::python {
namespace {

[[noreturn]] void refuse_value(const std::string& name, const std::string& what, std::size_t i, std::size_t features) {
  throw InputError(name + ": " + what + " at record " + std::to_string(i / features) + ", feature " +
                   std::to_string(i % features));
}

// Float records back to the pixels they are: x = p / 255 rounded to T, as the network computes it from p (the CPU
// and the GPU both take the correctly rounded quotient), so a pixel array divided by 255 trains the same bits as
// the pixels themselves. A Dataset holds bytes; a value that is no such quotient would be trained as another.
// The shortest text that reads back as x, as the library quotes numbers in its messages.
std::string shortest_text(double x) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, x).ptr);
}

template <class T>
void pixels_from_values(const std::string& name, const T* values, std::size_t count, std::size_t features,
                        std::uint8_t* pixels) {
  const char* type = sizeof(T) == 4 ? "float32" : "float64";
  for (std::size_t i = 0; i < count; ++i) {
    const T x = values[i];
    if (!std::isfinite(x)) refuse_value(name, std::isnan(x) ? "NaN" : "Inf", i, features);
    const T p = std::nearbyint(x * T(255));
    if (!(p >= 0 && p <= 255) || p / T(255) != x)
      refuse_value(name,
                   "value " + shortest_text(double(x)) + " is not a pixel value p/255 (p = 0..255, rounded to " + type +
                       "); sigmanet trains on 8-bit pixels: pass uint8 images, or their values / 255,",
                   i, features);
    pixels[i] = std::uint8_t(p);
  }
}

template <class T>
bool is(const nb::dlpack::dtype& d) {
  return d == nb::dtype<T>();
}

template <class T>
void labels_from(const std::string& name, const T* values, std::size_t count, std::size_t classes,
                 std::vector<std::uint8_t>& labels) {
  labels.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const T v = values[i];
    if (std::uint64_t(v) >= classes)  // a negative label wraps past every class
      throw InputError(name + ": label " + std::to_string(v) + " at record " + std::to_string(i) +
                       "; labels must be 0.." + std::to_string(classes - 1));
    labels[i] = std::uint8_t(v);
  }
}

template <class... T>
bool labels_of_any(const std::string& name, const Labels& y, std::size_t classes, std::vector<std::uint8_t>& labels) {
  return ((is<T>(y.dtype()) &&
           (labels_from(name, static_cast<const T*>(y.data()), y.shape(0), classes, labels), true)) ||
          ...);
}

}  // namespace

Dataset to_dataset(const std::string& name, const Records& x, std::size_t rows, std::size_t cols,
                   const std::string& y_name, const Labels* y, std::size_t classes) {
  Dataset d;
  d.name = name;
  d.rows = rows;
  d.cols = cols;
  const std::size_t records = x.shape(0), features = x.shape(1);
  if (rows * cols != features) throw Error(name + ": " + std::to_string(features) + " features per record, not " +
                                           std::to_string(rows) + "x" + std::to_string(cols));
  if (records == 0) throw InputError(name + ": holds no records");
  const std::size_t count = records * features;
  d.pixels.resize(count);
  if (is<std::uint8_t>(x.dtype()))
    std::copy_n(static_cast<const std::uint8_t*>(x.data()), count, d.pixels.data());
  else if (is<float>(x.dtype()))
    pixels_from_values(name, static_cast<const float*>(x.data()), count, features, d.pixels.data());
  else if (is<double>(x.dtype()))
    pixels_from_values(name, static_cast<const double*>(x.data()), count, features, d.pixels.data());
  else
    throw InputError(name + ": expected uint8, float32 or float64 values");
  if (!y) {
    d.labels.assign(records, 0);
    return d;
  }
  if (y->shape(0) != records)
    throw InputError(y_name + ": " + std::to_string(y->shape(0)) + " labels for " + std::to_string(records) +
                     " records of " + name);
  const std::size_t bound = std::min<std::size_t>(classes, 256);
  if (!labels_of_any<std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t, std::uint16_t,
                     std::uint32_t, std::uint64_t>(y_name, *y, bound, d.labels))
    throw InputError(y_name + ": expected integer labels");
  return d;
}

template <class T>
nb::object to_numpy(std::vector<T>&& values, std::initializer_list<std::size_t> shape) {
  // The capsule owns the vector (never null, even when empty) and frees it with the array.
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(owned->data(), shape, owner));
}

template <class T>
nb::object to_numpy(const std::vector<double>& values, std::initializer_list<std::size_t> shape) {
  return to_numpy(std::vector<T>(values.begin(), values.end()), shape);
}

template nb::object to_numpy(std::vector<std::uint8_t>&&, std::initializer_list<std::size_t>);
template nb::object to_numpy<float>(const std::vector<double>&, std::initializer_list<std::size_t>);
template nb::object to_numpy<double>(const std::vector<double>&, std::initializer_list<std::size_t>);

}  // namespace sigmanet::python
