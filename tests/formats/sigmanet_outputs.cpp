// sigmanet's own output-layer values for the first records of MNIST's test set, for scripts that compare another
// runtime with them (tests/formats/check_onnx.py): the model on the CPU in float32, as `sigmanet predict` runs it.
//
// usage: sigmanet_outputs MODEL MNIST_DIR COUNT OUT
// OUT: COUNT x classes float64 values, row-major, little-endian, no header.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "formats/atomic_file.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/model_file.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: sigmanet_outputs MODEL MNIST_DIR COUNT OUT\n");
    return 2;
  }
  try {
    const sigmanet::Model model = sigmanet::load_model(argv[1]);
    const sigmanet::Mnist mnist = sigmanet::load_mnist(argv[2]);
    const std::size_t count = std::stoul(argv[3]);
    if (count > mnist.test.size()) throw std::runtime_error("COUNT is larger than the test set");
    auto backend = sigmanet::make_backend(sigmanet::Device::cpu, sigmanet::Precision::f32);
    backend->set_parameters(model.parameters);
    const std::vector<double> out = backend->outputs(mnist.test, 0, count);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(out.data());
    sigmanet::write_file_atomically(argv[4], {bytes, out.size() * sizeof(double)});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sigmanet_outputs: %s\n", e.what());
    return 1;
  }
  return 0;
}
