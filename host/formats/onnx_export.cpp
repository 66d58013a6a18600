#include "sigmanet/formats/onnx_export.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include <onnx/onnx_pb.h>

#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/version.hpp"
#include "training/number_text.hpp"

namespace sigmanet {
namespace {

// IR version 8 (ONNX 1.10 and later) with the default domain's opset 13: every operator used here (Gemm, Sigmoid,
// Softmax with its axis attribute) has its present meaning from opset 13 on, and every onnxruntime since 1.7 runs it.
constexpr std::int64_t kIrVersion = 8;
constexpr std::int64_t kOpset = 13;

static_assert(std::endian::native == std::endian::little, "TensorProto raw_data is little-endian");

// A float32 tensor named `name` of `shape` holding the values, rounded to float (exact for a model file's F32).
void add_initializer(onnx::GraphProto& graph, const std::string& name, const std::vector<double>& values,
                     std::vector<std::int64_t> shape) {
  std::vector<float> floats(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::abs(values[i]) > std::numeric_limits<float>::max())
      throw Error(name + " holds " + exact_text(values[i]) + ", too large for ONNX's float32");
    floats[i] = static_cast<float>(values[i]);
  }
  onnx::TensorProto* tensor = graph.add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (std::int64_t d : shape) tensor->add_dims(d);
  std::string bytes(floats.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), floats.data(), bytes.size());
  tensor->set_raw_data(std::move(bytes));
}

// A graph input or output: float32 [N, width] with N free.
void describe_value(onnx::ValueInfoProto& value, const std::string& name, int width) {
  value.set_name(name);
  onnx::TypeProto_Tensor* tensor = value.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  onnx::TensorShapeProto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  shape->add_dim()->set_dim_value(width);
}

onnx::NodeProto* add_node(onnx::GraphProto& graph, const std::string& op, const std::string& name,
                          std::initializer_list<std::string> inputs, const std::string& output) {
  onnx::NodeProto* node = graph.add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const std::string& input : inputs) node->add_input(input);
  node->add_output(output);
  return node;
}

void add_int_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  onnx::AttributeProto* attribute = node.add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INT);
  attribute->set_i(value);
}

}  // namespace

std::vector<std::uint8_t> encode_onnx(const Model& model) {
  const Parameters& p = model.parameters;
  validate_parameters(p, "ONNX export");
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("sigmanet");
  proto.set_producer_version(version());
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  for (const auto& [key, value] : model.metadata) {
    onnx::StringStringEntryProto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }

  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name("sigmanet");
  graph.set_doc_string("A fully connected network trained by sigmanet (" + sizes_text(p.sizes, '-') + ", " +
                       to_string(p.output) + " output). input: the features as the network takes them, pixel "
                       "bytes divided by 255 for image data; output: the output layer's activations.");
  describe_value(*graph.add_input(), "input", p.sizes.front());
  describe_value(*graph.add_output(), "output", p.sizes.back());
  std::string activation = "input";
  for (std::size_t l = 0; l < p.layers(); ++l) {
    const std::string layer = "layers." + std::to_string(l);
    const std::int64_t in = p.sizes[l], out = p.sizes[l + 1];
    add_initializer(graph, layer + ".weight", p.weights[l], {out, in});
    add_initializer(graph, layer + ".bias", p.biases[l], {out});
    onnx::NodeProto* gemm = add_node(graph, "Gemm", layer + ".gemm",
                                     {activation, layer + ".weight", layer + ".bias"}, layer + ".z");
    add_int_attribute(*gemm, "transB", 1);
    const bool last = l + 1 == p.layers();
    const std::string next = last ? "output" : layer + ".activation";
    if (last && p.output == Activation::softmax) {
      add_int_attribute(*add_node(graph, "Softmax", layer + ".softmax", {layer + ".z"}, next), "axis", 1);
    } else {
      add_node(graph, "Sigmoid", layer + ".sigmoid", {layer + ".z"}, next);
    }
    activation = next;
  }

  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw Error("ONNX export: protobuf could not serialize the model (a file holds at most 2 GiB)");
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

void write_onnx(const std::filesystem::path& file, const Model& model) {
  write_file_atomically(file, encode_onnx(model));
}

}  // namespace sigmanet
