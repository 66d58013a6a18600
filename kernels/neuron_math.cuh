#pragma once
// The neuron's arithmetic, written once for every kernel: the logistic function, its derivative from the
// activation, each cost's output error, and a softmax row. Each is the CPU networks' arithmetic in the same
// order of operations, so the GPU's results differ from the oracle's by float rounding alone.
#include "sigmanet/cost.hpp"

namespace sigmanet::kernels {

// sigma(z) = 1 / (1 + e^-z), as the CPU reference writes it. expf and the IEEE division are the accurate
// versions (this project never builds with --use_fast_math).
__device__ inline float sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

// sigma'(z) = a (1 - a), from the activation a = sigma(z).
__device__ inline float sigmoid_prime(float a) { return a * (1.0f - a); }

// The output layer's error dC/dz for activation `out` and target y (1 for the label's neuron, else 0):
// (a - y) a (1 - a) for the quadratic cost, (a - y) for cross-entropy (sigma' cancels) and for log-likelihood
// over a softmax layer (84).
__device__ inline float output_error(Cost cost, float out, float y) {
  return cost == Cost::quadratic ? (out - y) * out * (1.0f - out) : out - y;
}

// A sample's softmax in place, from its weighted inputs z (bias included), in the CPU networks' order: the row's
// largest value found first and subtracted before exp, as Nielsen's (78) in value (e^{z - max} is at most 1, so
// z of +-1000 neither overflows nor turns the row to 0/0); each e^{z_j - max} stored as it is added in, left to
// right; then each divided by the sum. One thread walks the whole row: a fixed order, so the same bits every
// run, and the one arithmetic of both training paths (bias_softmax.cu, persistent_train.cu).
__device__ inline void softmax_in_place(float* row, int n) {
  float top = row[0];
#pragma unroll 1
  for (int j = 1; j < n; ++j) top = fmaxf(top, row[j]);  // model: row
  float sum = 0.0f;
#pragma unroll 1
  for (int j = 0; j < n; ++j) sum += row[j] = expf(row[j] - top);  // model: row
#pragma unroll 1
  for (int j = 0; j < n; ++j) row[j] /= sum;  // model: row
}

}  // namespace sigmanet::kernels
