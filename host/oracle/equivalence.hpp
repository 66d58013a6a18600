#pragma once
// Checks that a backend trains the same network as the oracle, ReferenceNetwork<double>
// (oracle/reference_network.hpp): shared by `sigmanet verify` and the test suites, so a user's GPU and CPU
// are held to exactly what the tests demand.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

// How far `got` is from `ref`: the largest absolute difference, and ||got - ref|| / ||ref||
// (0 when both are zero, infinite when only ref is). A NaN or Inf anywhere makes both NaN.
struct Comparison {
  double max_abs = 0.0;
  double relative = 0.0;
};
Comparison compare(std::span<const double> got, std::span<const double> ref);
Comparison compare(std::span<const float> got, std::span<const double> ref);
Comparison compare(const Parameters& got, const Parameters& ref);  // shapes must match

// One line of the verification table. The check passes when the measure it is judged by (the relative
// error, or the absolute one for accuracy in percentage points) is finite and within tolerance.
struct StageCheck {
  std::string stage;
  Comparison result;
  double tolerance = 0.0;
  bool judged_by_abs = false;
  bool ok() const;
};

// The table: stage, max abs error, relative error, tolerance, OK / NOT OK.
std::string format_checks(const std::vector<StageCheck>& checks);
bool all_ok(const std::vector<StageCheck>& checks);

// Tolerances, float arithmetic against the double oracle. One step's update lands near 3e-6 (the
// float a (1 - a) of a saturated sigmoid loses digits); an epoch of 5,000 steps from scaled weights
// compounds rounding to near 2e-5 (both measured with FastCpuNetwork<float>). A fault gives 1e-2 or more.
constexpr double kStepTolerance = 5e-5;
constexpr double kEpochTolerance = 1e-4;
constexpr double kAccuracyTolerancePoints = 0.2;
// A double candidate (the fast CPU network in double) differs from the oracle only in summation order:
// measured 2e-15 after one step and 3.5e-14 after a 784-30-10 MNIST epoch, so an update off by a part in
// a billion already fails.
constexpr double kDoubleStepTolerance = 1e-12;
constexpr double kDoubleEpochTolerance = 1e-10;

// One SGD step of `candidate` on the first m records of train (in order), from parameters drawn from
// seed, against the oracle, both minimising `objective` (its cost's output layer, L2 with n = train.size()).
// Compares the parameters after the step.
StageCheck check_one_step(Backend& candidate, const Dataset& train, const std::vector<int>& sizes, std::size_t m,
                          std::uint64_t seed, const Objective& objective = {});

// One epoch over train in one seeded order, batch by batch, from parameters drawn from seed (scaled
// initialisation, see host/oracle/equivalence.cpp), against the oracle: the parameters afterwards
// (relative), and test accuracy (points) and cost on test.
// With samples > 0, trains only the first `samples` of the order: deeper nets at small batches are chaotic
// at eta 3 (784-17-13-10 at batch 7: float and double agree to 2e-6 after 1,000 batches, then part ways
// to 0.1 by 2,000), so their check stops where agreement still means something.
// The objective is as for check_one_step; the cost compared is its cost (without the L2 term).
std::vector<StageCheck> check_epoch(Backend& candidate, const Dataset& train, const Dataset& test,
                                    const std::vector<int>& sizes, std::size_t batch, std::uint64_t seed,
                                    std::size_t samples = 0, const Objective& objective = {});

// "quadratic", "cross-entropy", "log-likelihood L2 5": an objective as the checks' stage names give it.
std::string objective_text(const Objective& objective);

// a - b, element by element, of two lists of one length (else Error): the change a step made.
std::vector<double> minus(std::span<const double> a, std::span<const double> b);

// A labelled set of rows x cols images with a learnable pattern (each digit lights its own band of
// pixels, plus noise), for checks where MNIST is not at hand.
Dataset synthetic_dataset(std::string name, std::size_t count, std::size_t rows, std::size_t cols,
                          std::uint64_t seed);

// A labelled set of `features`-wide records (1 x features) in `classes` classes (2 to 256, at most one a
// feature): class c lights its own band of the features, plus noise. As float values, the lit ones in [1, 2)
// and the rest in [-0.5, 0.5) (negative and past 1, as float features are and pixels never); without `values`,
// as pixel bytes the way synthetic_dataset draws them.
Dataset synthetic_records(std::string name, std::size_t count, std::size_t features, std::size_t classes,
                          bool values, std::uint64_t seed);

}  // namespace sigmanet
