#pragma once
// NumPy arrays in and out. Records come in as a 2-D C-contiguous array, one row per record, of uint8 pixels or of
// float32/float64 pixel values (p / 255, which is what the network computes from a pixel p); labels as a 1-D array of
// any integer type. Arrays go out as NumPy arrays that own a copy of the values.
#include <cstddef>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "sigmanet_api.hpp"

namespace sigmanet::python {

using Records = nanobind::ndarray<nanobind::ro, nanobind::c_contig, nanobind::device::cpu, nanobind::ndim<2>>;
using Labels = nanobind::ndarray<nanobind::ro, nanobind::c_contig, nanobind::device::cpu, nanobind::ndim<1>>;

// The records of x (named `name` in messages) and their labels y as a Dataset of rows x cols images; without y (a
// null array), labels 0. Throws InputError naming x or y: an unsupported dtype, NaN or Inf, a float that is not a
// pixel value, labels that are not one per record or not in 0..classes-1 (at most 255: a Dataset holds bytes).
Dataset to_dataset(const std::string& name, const Records& x, std::size_t rows, std::size_t cols,
                   const std::string& y_name, const Labels* y, std::size_t classes);

// A new NumPy array of the given shape holding values (moved, not copied).
template <class T>
nanobind::object to_numpy(std::vector<T>&& values, std::initializer_list<std::size_t> shape);

// A NumPy array of `count` values of T converted from doubles (exact for a float network's values).
template <class T>
nanobind::object to_numpy(const std::vector<double>& values, std::initializer_list<std::size_t> shape);

}  // namespace sigmanet::python
