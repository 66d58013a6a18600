#pragma once
// A network's layers as safetensors tensors, the part of a file that models and checkpoints share.
#include <string>
#include <vector>

#include "formats/safetensors.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

// The layers.N.* tensors of p in the given dtype (F32 or F64), and p's output layer as the metadata entry
// "output_activation" (sigmoid or softmax).
void add_layer_tensors(SafeTensors& file, const Parameters& p, Dtype dtype);

// The network in a file's layers.N.* tensors (F32 or F64; other tensors are left alone). Checks that every
// layer has both tensors of the right rank, that shapes chain (layer N+1's inputs are layer N's outputs),
// that they agree with a "sizes" metadata entry if there is one, and that every value is finite. The output
// layer is the "output_activation" entry's (sigmoid when there is none, as in files made before softmax).
// Throws InputError starting with `what`.
Parameters layer_parameters(const SafeTensors& file, const std::string& what);

// "784,30,10" (sizes_text, in parameters.hpp) back to sizes; throws InputError starting with `what`.
std::vector<int> parse_sizes(const std::string& text, const std::string& what);

}  // namespace sigmanet
