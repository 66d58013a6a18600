#pragma once
// What the kernel and cuBLAS wrappers take instead of a pointer and counts: a view of a device array with the
// shape it is meant to have, so that the wrappers can refuse a swapped size or a wrong buffer, and a weight
// matrix passed where a batch is meant does not compile. Views own nothing and are cheap to copy. C++17: the
// .cu files include this through kernels.hpp.
//
// Each layout is named by its type, and every one is dense (a row's leading dimension is its length):
// - BatchView: m samples of a layer n wide, m rows of n values, sample after sample (row-major). In cuBLAS's
//   column-major terms an n x m matrix with leading dimension n. A slice of samples is a BatchView again.
// - WeightView: a layer's weights, n_out x n_in row-major, as torch.nn.Linear (column-major: W^T, leading
//   dimension n_in).
// - VectorView: n values in a row, one per neuron (a bias) or one per sample (labels, evaluation results).
// A default-constructed view (null data, size 0) stands for an optional array that is not given.
#include <cstddef>
#include <type_traits>

namespace sigmanet::kernels {

// Throws sigmanet::Error "<view>::slice: <what> [first, first + count) past the view's <available>"
// (matrix_view.cpp).
[[noreturn]] void throw_slice_out_of_range(const char* view, const char* what, std::size_t first,
                                           std::size_t count, std::size_t available);

// A view of U converts to a view of const U (a wrapper's input), never the other way.
template <class From, class To>
constexpr bool kViewConverts = std::is_convertible_v<From (*)[], To (*)[]>;

template <class T>
struct VectorView {
  T* data = nullptr;
  std::size_t size = 0;

  constexpr VectorView() = default;
  constexpr VectorView(T* data_, std::size_t size_) : data(data_), size(size_) {}
  template <class U, class = std::enable_if_t<kViewConverts<U, T>>>
  constexpr VectorView(const VectorView<U>& other) : data(other.data), size(other.size) {}

  // Values [first, first + count); throws when they are not all in this view.
  VectorView slice(std::size_t first, std::size_t count) const {
    if (first > size || count > size - first) throw_slice_out_of_range("VectorView", "values", first, count, size);
    return {data ? data + first : data, count};
  }
};

template <class T>
struct BatchView {
  T* data = nullptr;
  std::size_t samples = 0;   // rows
  std::size_t features = 0;  // columns: the layer's width

  constexpr BatchView() = default;
  constexpr BatchView(T* data_, std::size_t samples_, std::size_t features_)
      : data(data_), samples(samples_), features(features_) {}
  template <class U, class = std::enable_if_t<kViewConverts<U, T>>>
  constexpr BatchView(const BatchView<U>& other) : data(other.data), samples(other.samples), features(other.features) {}

  constexpr std::size_t values() const { return samples * features; }

  // Samples [first, first + count), every feature of each; throws when they are not all in this view.
  BatchView slice(std::size_t first, std::size_t count) const {
    if (first > samples || count > samples - first)
      throw_slice_out_of_range("BatchView", "samples", first, count, samples);
    return {data ? data + first * features : data, count, features};
  }
};

template <class T>
struct WeightView {
  T* data = nullptr;
  std::size_t outputs = 0;  // rows: n_out
  std::size_t inputs = 0;   // columns: n_in

  constexpr WeightView() = default;
  constexpr WeightView(T* data_, std::size_t outputs_, std::size_t inputs_)
      : data(data_), outputs(outputs_), inputs(inputs_) {}
  template <class U, class = std::enable_if_t<kViewConverts<U, T>>>
  constexpr WeightView(const WeightView<U>& other) : data(other.data), outputs(other.outputs), inputs(other.inputs) {}

  constexpr std::size_t values() const { return outputs * inputs; }
};

// ---- shape checks of the wrappers ----

// One argument of a wrapper as a shape error names it: "w is 30 outputs x 784 inputs of weights".
struct ArgumentShape {
  enum class Kind { batch, weights, vector };
  const char* name;
  Kind kind;
  std::size_t rows, columns;  // a vector's columns are 1
};

template <class T>
constexpr ArgumentShape shape_of(const char* name, const BatchView<T>& v) {
  return {name, ArgumentShape::Kind::batch, v.samples, v.features};
}
template <class T>
constexpr ArgumentShape shape_of(const char* name, const WeightView<T>& v) {
  return {name, ArgumentShape::Kind::weights, v.outputs, v.inputs};
}
template <class T>
constexpr ArgumentShape shape_of(const char* name, const VectorView<T>& v) {
  return {name, ArgumentShape::Kind::vector, v.size, 1};
}

// Throws sigmanet::Error "<wrapper>: shapes do not fit (<rule>): <a>, <b>" (matrix_view.cpp: the message is
// built in host code, never in a kernel file's object code).
[[noreturn]] void throw_shape_mismatch(const char* wrapper, const char* rule, const ArgumentShape& a,
                                       const ArgumentShape& b);

}  // namespace sigmanet::kernels

// Refuses, naming the wrapper, the rule as written and both arguments' shapes, two views whose shapes do
// not fit: SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", w.inputs == in.features, w, in).
#define SIGMANET_REQUIRE_SHAPES(wrapper, rule, a, b)                                                       \
  ((rule) ? void()                                                                                         \
          : ::sigmanet::kernels::throw_shape_mismatch(wrapper, #rule, ::sigmanet::kernels::shape_of(#a, a), \
                                                      ::sigmanet::kernels::shape_of(#b, b)))
