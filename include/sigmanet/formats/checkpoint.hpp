#pragma once
// A training run saved so that it can continue exactly where it stopped, also in the middle of an epoch:
// the parameters, the trainer's state (epochs done, the current epoch's order and position, the
// generator) and the settings the run was made with. It is a safetensors file like a model (so
// `sigmanet evaluate --model` reads it too): layers.N.* in the run's precision (F32 or F64),
// trainer.order (U32), trainer.rng (U64 [4], the xoshiro state), trainer.spare_normal (F64 [1]),
// and the rest as strings in __metadata__.
#include <filesystem>

#include "sigmanet/parameters.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet {

struct Checkpoint {
  TrainConfig config;  // every setting but device; epochs is the run's target
  Parameters parameters;
  TrainerState state;
  int ranks = 1;  // the processes of the job that trained it (collective.hpp)
};

// Written atomically; a float run's parameters as F32 (exact), a double run's as F64.
void save_checkpoint(const std::filesystem::path& file, const Checkpoint& checkpoint);

// Throws InputError naming the file for anything unreadable or inconsistent, and the tensor where one is
// damaged (its bytes do not match its CRC32; checkpoints from before checksums load unchecked).
Checkpoint load_checkpoint(const std::filesystem::path& file);

}  // namespace sigmanet
