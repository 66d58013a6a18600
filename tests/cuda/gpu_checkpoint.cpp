// Checkpoint and resume on the GPU: a run stopped mid-epoch, written to a file and resumed on a fresh backend
// ends with the same bits as a run never stopped (the parameters go from the device to the file and back, and
// the device's arithmetic gives the same bits when run again from the same state).
#include <gtest/gtest.h>

#include "sigmanet/backends/factory.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

TEST(GpuCheckpoint, MidEpochResumeIsBitIdentical) {
  SIGMANET_SKIP_WITHOUT_GPU();
  TrainConfig c;
  c.sizes = {100, 12, 10};
  c.epochs = 2;
  c.batch = 10;
  c.eta = 3.0;
  c.seed = 42;
  c.device = Device::gpu;
  c.precision = Precision::f32;
  c.split.train = 205;  // not a multiple of the batch: each epoch ends with a short batch
  const Dataset train = synthetic_dataset("synthetic 10x10", c.split.train, 10, 10, 11);

  auto straight = make_backend(Device::gpu, c.precision);
  Trainer a(c, *straight, train);
  a.train_epoch();
  a.train_epoch();

  test::TempDir dir;
  {
    auto first = make_backend(Device::gpu, c.precision);
    Trainer b(c, *first, train);
    int batches = 0;
    EXPECT_FALSE(b.train_epoch([&](std::size_t) { return ++batches < 5; }));
    EXPECT_EQ(b.state().position, 50u);
    save_checkpoint(dir / "ck", Checkpoint{c, first->parameters(), b.state()});
  }
  const Checkpoint ck = load_checkpoint(dir / "ck");
  auto second = make_backend(Device::gpu, c.precision);
  Trainer resumed(ck.config, *second, train);
  resumed.resume(ck.parameters, ck.state);
  EXPECT_TRUE(resumed.train_epoch());
  EXPECT_TRUE(resumed.train_epoch());
  EXPECT_EQ(resumed.epochs_done(), 2);
  const Parameters x = second->parameters(), y = straight->parameters();
  ASSERT_EQ(x.sizes, y.sizes);
  for (std::size_t l = 0; l < x.layers(); ++l) {
    EXPECT_EQ(x.weights[l], y.weights[l]) << "layer " << l << " weights differ";
    EXPECT_EQ(x.biases[l], y.biases[l]) << "layer " << l << " biases differ";
  }
  // And the run did learn something: a resume that silently restarted from scratch would also match itself.
  EXPECT_GT(relative_difference(x, ck.parameters), 0.0);
}

}  // namespace
}  // namespace sigmanet
