#include "cli/bench_record.hpp"

#include <cstdlib>

#include "cpu/peak_rate.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet::cli {
namespace {

nlohmann::ordered_json spread_json(const Spread& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}}; }

// Rates from times: the median rate is samples over the median time, the fastest rate samples over the least.
nlohmann::ordered_json rate_json(const Spread& seconds, std::size_t samples) {
  const double n = double(samples);
  return {{"median", n / seconds.median}, {"min", n / seconds.max}, {"max", n / seconds.min}};
}

}  // namespace

double load_average() {
  double load[1];
  return getloadavg(load, 1) == 1 ? load[0] : -1.0;
}

nlohmann::ordered_json machine_json(const MachineInfo& m, double load_before, double load_after) {
  nlohmann::ordered_json gpu = nullptr;
  if (m.gpu)
    gpu = {{"name", m.gpu->name},
           {"driver_version", m.gpu->driver_version},
           {"runtime_version", m.gpu->runtime_version},
           {"compute_capability", m.gpu->compute_capability},
           {"memory_bytes", m.gpu->memory_bytes}};
  nlohmann::ordered_json j = {{"cpu_model", m.cpu_model},         {"logical_cpus", m.logical_cpus},
                              {"load_average_before", load_before}, {"load_average_after", load_after},
                              {"gpu", gpu}};
  if (!m.gpu) j["gpu_absent_reason"] = m.gpu_absent_reason;
  return j;
}

CpuPeaks measure_cpu_peaks(const std::vector<BenchBackend>& backends) {
  CpuPeaks peaks;
  for (const BenchBackend& b : backends) {
    if (b.device != Device::cpu || peaks.of(b.precision) > 0) continue;
    const PeakRate rate = measure_peak_rate(b.precision);
    (b.precision == Precision::f64 ? peaks.f64 : peaks.f32) = rate.flops_per_second;
    peaks.vector_bits = rate.vector_bits;
  }
  return peaks;
}

double train_flop_rate(const BenchResult& r) { return r.train_flops() / r.train.median; }
double fraction_of_peak(const BenchResult& r, const CpuPeaks& peaks) {
  const BenchBackend& b = r.bench_case.backend;
  const double peak = b.device == Device::cpu ? peaks.of(b.precision) * r.threads : 0;
  return peak > 0 ? train_flop_rate(r) / peak : 0;
}

nlohmann::ordered_json result_json(const BenchResult& r, std::size_t train_size, const CpuPeaks& peaks) {
  const BenchCase& c = r.bench_case;
  const double fraction = fraction_of_peak(r, peaks);
  const bool epoch = r.whole_epoch(train_size);
  return {
      {"config", sizes_text(c.sizes, '-') + "/b" + std::to_string(c.batch)},
      {"sizes", c.sizes},
      {"batch", c.batch},
      {"backend", to_string(c.backend)},
      {"device", to_string(c.backend.device)},
      {"precision", to_string(c.backend.precision)},
      {"variant", "sigmanet"},
      {"description", r.backend_description},
      {"threads", r.threads},
      {"ranks", r.ranks},
      {"sum_seconds_per_step", r.sum_seconds_per_step},
      {"timer", r.timer},
      {"train",
       {{"repetition", epoch ? "epoch" : "batches"},
        {"samples_per_repetition", c.train_samples},
        {"batches_per_repetition", r.batches_per_repetition()},
        {"repetitions", r.train_seconds.size()},
        {"seconds", spread_json(r.train)},
        {"seconds_each", r.train_seconds},
        {"samples_per_second", rate_json(r.train, c.train_samples)},
        {"cpu_seconds", spread_json(r.train_cpu)},
        {"epoch_seconds", r.epoch_seconds(train_size)},
        {"epoch_seconds_extrapolated", !epoch},
        {"flops_per_repetition", r.train_flops()},
        {"gflop_per_second", 1e-9 * train_flop_rate(r)},
        {"fraction_of_peak", fraction > 0 ? nlohmann::ordered_json(fraction) : nlohmann::ordered_json(nullptr)}}},
      {"evaluate",
       {{"records", c.eval_records},
        {"repetitions", r.eval_seconds.size()},
        {"seconds", spread_json(r.eval)},
        {"seconds_each", r.eval_seconds},
        {"samples_per_second", rate_json(r.eval, c.eval_records)},
        {"cpu_seconds", spread_json(r.eval_cpu)}}},
  };
}

}  // namespace sigmanet::cli
