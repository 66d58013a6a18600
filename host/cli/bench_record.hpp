#pragma once
// What `sigmanet bench` records of a run beside its table: each case as JSON in the schema bench/pytorch_mlp.py also
// writes (bench/compare.py reads both), the machine it ran on, and the CPU's measured peak for the fraction of it
// each CPU case reached.
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/benchmark.hpp"

namespace sigmanet::cli {

// One core's measured multiply-add peak per precision, for the CPU backends being measured (0: not measured).
struct CpuPeaks {
  double f32 = 0, f64 = 0;
  std::size_t vector_bits = 0;
  double of(Precision p) const { return p == Precision::f64 ? f64 : f32; }
};

CpuPeaks measure_cpu_peaks(const std::vector<BenchBackend>& backends);

// The median repetition's FLOP rate, and its fraction of the peak of the threads the backend had; the
// fraction is 0 where no peak was measured (GPU backends).
double train_flop_rate(const BenchResult& r);
double fraction_of_peak(const BenchResult& r, const CpuPeaks& peaks);

// The 1-minute load average, or -1 where the system does not say: numbers measured on a busy machine are
// slower than it can do, and the record should show it.
double load_average();

nlohmann::ordered_json machine_json(const MachineInfo& m, double load_before, double load_after);
nlohmann::ordered_json result_json(const BenchResult& r, std::size_t train_size, const CpuPeaks& peaks);

}  // namespace sigmanet::cli
