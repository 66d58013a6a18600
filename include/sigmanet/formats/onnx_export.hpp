#pragma once
// A trained network as an ONNX model (https://onnx.ai), for onnxruntime, TensorRT, the browser and every other
// runtime that reads ONNX. The graph computes what sigmanet computes, in float32:
//   input  "input"  [N, sizes[0]] (N left free): the features as the network takes them, pixel bytes divided
//          by 255 for image data;
//   per layer l: Gemm(x, layers.l.weight, layers.l.bias, transB=1), the weight [out, in] as torch.nn.Linear and
//          the model file hold it, then Sigmoid (Softmax over the classes on a softmax output layer);
//   output "output" [N, classes]: the output layer's activations.
// The initializers are named as the model file's tensors; the model's metadata becomes the ONNX model's
// metadata_props, and the producer is sigmanet with its version. Opset 13, IR version 8.
//
// Built only where ONNX's protobuf classes are installed (Debian: libonnx-dev, libprotobuf-dev): the library
// target sigmanet_onnx.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "sigmanet/formats/model_file.hpp"

namespace sigmanet {

// The serialized ModelProto. Weights and biases are stored as float32 (a model file's F32 values exactly).
// Throws InputError when the parameters are not a network (validate_parameters), Error when a value is too large
// for float32.
std::vector<std::uint8_t> encode_onnx(const Model& model);

// Encodes and writes atomically (formats/atomic_file.hpp): a failed write leaves no half-written file.
void write_onnx(const std::filesystem::path& file, const Model& model);

}  // namespace sigmanet
