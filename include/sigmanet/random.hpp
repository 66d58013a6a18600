#pragma once
// The one seeded generator every backend's randomness comes from. It is xoshiro256** with our own
// normal and bounded-integer draws, so a seed gives the same numbers with any compiler or library,
// and its whole state fits in four words (checkpoints store it).
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sigmanet {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Rng(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal, by the Box-Muller transform (both values of a pair are used).
  double normal();
  // Uniform in [0, n), unbiased (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t n);
  // A uniformly random permutation of 0..n-1 (Fisher-Yates).
  std::vector<std::uint32_t> permutation(std::size_t n);

  // Everything needed to continue the sequence exactly.
  struct Snapshot {
    State state;
    bool has_spare_normal;
    double spare_normal;
  };
  Snapshot snapshot() const;
  void restore(const Snapshot& snapshot);

 private:
  State s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace sigmanet
