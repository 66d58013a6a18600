#pragma once
// The CUDA backend held to the oracle, ReferenceNetwork<double>, for `sigmanet verify` and the gpu tests: each
// kernel and cuBLAS call on random inputs (kernel_checks.cpp, layer_checks.cpp, chapter3_checks.cpp), and
// training with each objective through the whole backend (objective_checks.cpp). These checks sit above both the
// CUDA backend and the reports' comparisons: they include each, and neither includes them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/cuda_backend.hpp"
#include "oracle/equivalence.hpp"

namespace sigmanet {

// Each kernel and each cuBLAS call of the backend against the oracle ReferenceNetwork<double> on random
// inputs, for layer sizes that are not multiples of the block size and batches 1, 7, 10 and 1000 (for
// `sigmanet verify` and the gpu tests). Needs a usable device.
std::vector<StageCheck> cuda_kernel_checks(std::uint64_t seed);

// Training with `objective` on a CUDA backend made with `options`, against the oracle ReferenceNetwork<double>
// built with the same objective (L2's n is train's size): from scaled parameters drawn from seed (with the
// cost's output layer), the first `samples` records of a seeded order of train at `batch`, learning rate eta.
// One batch is judged by the change it made (kStepTolerance), more by the parameters afterwards
// (kEpochTolerance); with a test set, also its accuracy (points) and the objective's cost on it. A run that
// stopped on NaN/Inf is one failing row.
std::vector<StageCheck> check_objective_training(const CudaOptions& options, const Objective& objective,
                                                 const Dataset& train, const Dataset* test,
                                                 const std::vector<int>& sizes, std::size_t batch, std::size_t samples,
                                                 double eta, std::uint64_t seed);

// Chapter 3 on the whole backend, for `sigmanet verify` and the gpu tests: quadratic with L2 (lambda 5),
// cross-entropy and log-likelihood each without and with L2, on the persistent kernel (pixel data: it trains no
// float values) and the graph path, one SGD step of `sizes` (784-30-10 on MNIST) at batch 10 and 100 batches of 10
// from train, at eta 0.5. Needs a usable device.
std::vector<StageCheck> cuda_objective_checks(const Dataset& train, const std::vector<int>& sizes,
                                              std::uint64_t seed);

}  // namespace sigmanet
