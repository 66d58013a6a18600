// Trains a tiny network on a made-up dataset through the installed library and checks that it learns.
#include <cstdio>

#include <sigmanet/backends/factory.hpp>
#include <sigmanet/trainer.hpp>

int main() {
  sigmanet::Dataset d;
  d.name = "stripes";
  d.rows = 2;
  d.cols = 2;
  for (int i = 0; i < 200; ++i) {
    const bool top = i % 2 == 0;  // label 0: top row lit, label 1: bottom row lit
    d.pixels.insert(d.pixels.end(), {std::uint8_t(top ? 255 : 0), std::uint8_t(top ? 255 : 0),
                                     std::uint8_t(top ? 0 : 255), std::uint8_t(top ? 0 : 255)});
    d.labels.push_back(top ? 0 : 1);
  }
  sigmanet::TrainConfig config;
  config.sizes = {4, 3, 10};
  auto backend = sigmanet::make_backend(sigmanet::Device::cpu, sigmanet::Precision::f32);
  sigmanet::Trainer trainer(config, *backend, d);
  for (int e = 0; e < 20; ++e) trainer.train_epoch();
  const auto result = backend->evaluate(d);
  std::printf("consumer: %zu/%zu correct\n", result.correct, result.total);
  return result.correct == result.total ? 0 : 1;
}
