// The ONNX writer: its bytes parsed back with ONNX's own protobuf classes (the graph's nodes, shapes and
// initializers, the metadata), and the initializers equal to a model file's F32 tensors bit for bit. That the graph
// computes what sigmanet computes is checked in onnxruntime (tests/formats/check_onnx.py).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include <onnx/onnx_pb.h>

#include "formats/atomic_file.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/formats/onnx_export.hpp"
#include "sigmanet/random.hpp"
#include "sigmanet/version.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

// A network with seeded values, rounded to float as a model file holds them.
Model model_of(const std::vector<int>& sizes, Activation output) {
  Rng rng(7);
  Model m;
  m.parameters = init_parameters(sizes, Init::standard, rng);
  m.parameters.output = output;
  for (auto* layers : {&m.parameters.weights, &m.parameters.biases})
    for (auto& values : *layers)
      for (double& v : values) v = static_cast<float>(v);
  m.metadata = {{"format", "sigmanet-model"}, {"sizes", sizes_text(sizes)}, {"cost", "quadratic"}, {"seed", "7"}};
  return m;
}

onnx::ModelProto parsed(const std::vector<std::uint8_t>& bytes) {
  onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return proto;
}

// A tensor's values as the floats it holds.
std::vector<float> floats_of(const onnx::TensorProto& tensor) {
  std::vector<float> values(tensor.raw_data().size() / sizeof(float));
  std::memcpy(values.data(), tensor.raw_data().data(), values.size() * sizeof(float));
  return values;
}

std::vector<std::int64_t> dims_of(const onnx::TensorProto& tensor) {
  return {tensor.dims().begin(), tensor.dims().end()};
}

// "N" for a free dimension, else its value.
std::vector<std::string> shape_of(const onnx::ValueInfoProto& value) {
  std::vector<std::string> dims;
  for (const auto& d : value.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  return dims;
}

TEST(OnnxExport, ModelHeaderNamesSigmanetOpset13AndTheMetadata) {
  const Model m = model_of({4, 3, 2}, Activation::sigmoid);
  const onnx::ModelProto proto = parsed(encode_onnx(m));
  EXPECT_EQ(proto.ir_version(), 8);
  EXPECT_EQ(proto.producer_name(), "sigmanet");
  EXPECT_EQ(proto.producer_version(), version());
  ASSERT_EQ(proto.opset_import_size(), 1);
  EXPECT_EQ(proto.opset_import(0).domain(), "");
  EXPECT_EQ(proto.opset_import(0).version(), 13);
  std::map<std::string, std::string> props;
  for (const auto& entry : proto.metadata_props()) props[entry.key()] = entry.value();
  EXPECT_EQ(props, m.metadata);
}

TEST(OnnxExport, ShallowSigmoidNetworkIsGemmSigmoidPerLayer) {
  const Model m = model_of({4, 3, 2}, Activation::sigmoid);
  const onnx::ModelProto proto = parsed(encode_onnx(m));
  const onnx::GraphProto& g = proto.graph();
  ASSERT_EQ(g.input_size(), 1);
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.input(0).name(), "input");
  EXPECT_EQ(g.output(0).name(), "output");
  EXPECT_EQ(g.input(0).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(g.output(0).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(shape_of(g.input(0)), (std::vector<std::string>{"N", "4"}));
  EXPECT_EQ(shape_of(g.output(0)), (std::vector<std::string>{"N", "2"}));

  ASSERT_EQ(g.node_size(), 4);
  const std::vector<std::vector<std::string>> expected = {
      {"Gemm", "input", "layers.0.weight", "layers.0.bias", "layers.0.z"},
      {"Sigmoid", "layers.0.z", "layers.0.activation"},
      {"Gemm", "layers.0.activation", "layers.1.weight", "layers.1.bias", "layers.1.z"},
      {"Sigmoid", "layers.1.z", "output"}};
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& node = g.node(i);
    std::vector<std::string> seen{node.op_type()};
    seen.insert(seen.end(), node.input().begin(), node.input().end());
    seen.insert(seen.end(), node.output().begin(), node.output().end());
    EXPECT_EQ(seen, expected[std::size_t(i)]) << "node " << i;
    if (node.op_type() == "Gemm") {
      // transB=1 alone: alpha and beta stay 1, transA 0.
      ASSERT_EQ(node.attribute_size(), 1);
      EXPECT_EQ(node.attribute(0).name(), "transB");
      EXPECT_EQ(node.attribute(0).type(), onnx::AttributeProto_AttributeType_INT);
      EXPECT_EQ(node.attribute(0).i(), 1);
    } else {
      EXPECT_EQ(node.attribute_size(), 0);
    }
  }
}

TEST(OnnxExport, InitializersHoldTheWeightsAsTorchLinearDoes) {
  const Model m = model_of({5, 4, 3, 2}, Activation::sigmoid);
  const onnx::ModelProto proto = parsed(encode_onnx(m));
  const onnx::GraphProto& g = proto.graph();
  ASSERT_EQ(g.initializer_size(), 6);
  for (std::size_t l = 0; l < 3; ++l) {
    const onnx::TensorProto& weight = g.initializer(int(2 * l));
    const onnx::TensorProto& bias = g.initializer(int(2 * l + 1));
    const std::int64_t in = m.parameters.sizes[l], out = m.parameters.sizes[l + 1];
    EXPECT_EQ(weight.name(), "layers." + std::to_string(l) + ".weight");
    EXPECT_EQ(bias.name(), "layers." + std::to_string(l) + ".bias");
    EXPECT_EQ(weight.data_type(), onnx::TensorProto_DataType_FLOAT);
    EXPECT_EQ(dims_of(weight), (std::vector<std::int64_t>{out, in}));
    EXPECT_EQ(dims_of(bias), (std::vector<std::int64_t>{out}));
    const std::vector<float> w = floats_of(weight), b = floats_of(bias);
    EXPECT_EQ(std::vector<double>(w.begin(), w.end()), m.parameters.weights[l]) << "layer " << l;
    EXPECT_EQ(std::vector<double>(b.begin(), b.end()), m.parameters.biases[l]) << "layer " << l;
  }
}

TEST(OnnxExport, SoftmaxOutputLayerIsSoftmaxOverTheClasses) {
  const onnx::ModelProto proto = parsed(encode_onnx(model_of({6, 5, 4, 3}, Activation::softmax)));
  const onnx::GraphProto& g = proto.graph();
  std::vector<std::string> ops;
  for (const auto& node : g.node()) ops.push_back(node.op_type());
  EXPECT_EQ(ops, (std::vector<std::string>{"Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm", "Softmax"}));
  const onnx::NodeProto& softmax = g.node(5);
  EXPECT_EQ(softmax.output(0), "output");
  ASSERT_EQ(softmax.attribute_size(), 1);
  EXPECT_EQ(softmax.attribute(0).name(), "axis");
  EXPECT_EQ(softmax.attribute(0).i(), 1);
  EXPECT_EQ(shape_of(g.output(0)), (std::vector<std::string>{"N", "3"}));
}

// Through a model file as `sigmanet export` reads it: each initializer's bytes are the file's F32 tensor's bytes.
TEST(OnnxExport, InitializersAreTheModelFilesBytes) {
  test::TempDir dir;
  const Model trained = model_of({784, 30, 10}, Activation::sigmoid);
  save_model(dir / "m.safetensors", trained.parameters, trained.metadata);
  const SafeTensors file = read_safetensors(dir / "m.safetensors");
  write_onnx(dir / "m.onnx", load_model(dir / "m.safetensors"));
  const onnx::ModelProto proto = parsed(read_file_bytes(dir / "m.onnx"));
  const onnx::GraphProto& g = proto.graph();
  ASSERT_EQ(g.initializer_size(), 4);
  for (const auto& tensor : g.initializer()) {
    const Tensor& original = file.tensors.at(tensor.name());
    ASSERT_EQ(original.dtype, Dtype::f32);
    EXPECT_EQ(tensor.raw_data(), std::string(original.data.begin(), original.data.end())) << tensor.name();
  }
  // The file's __metadata__ as written (format, sizes and output_activation added), without its checksums, which are
  // the file's own.
  std::map<std::string, std::string> props;
  for (const auto& entry : proto.metadata_props()) props[entry.key()] = entry.value();
  std::map<std::string, std::string> expected = trained.metadata;
  expected["format"] = "sigmanet-model";
  expected["sizes"] = "784,30,10";
  expected["output_activation"] = "sigmoid";
  EXPECT_EQ(props, expected);
}

// A double checkpoint's values are rounded to the nearest float32, as the model file would hold them.
TEST(OnnxExport, DoubleValuesAreRoundedToTheNearestFloat) {
  Model m = model_of({2, 1}, Activation::sigmoid);
  m.parameters.weights[0] = {0.1, 1.0 / 3};
  m.parameters.biases[0] = {-0.7};
  const onnx::ModelProto proto = parsed(encode_onnx(m));
  EXPECT_EQ(floats_of(proto.graph().initializer(0)), (std::vector<float>{0.1f, 1.0f / 3}));
  EXPECT_EQ(floats_of(proto.graph().initializer(1)), (std::vector<float>{-0.7f}));
}

TEST(OnnxExport, RefusesValuesBeyondFloat32AndBrokenNetworks) {
  Model m = model_of({3, 2, 2}, Activation::sigmoid);
  m.parameters.biases[1][1] = 1e39;
  EXPECT_EQ(test::thrown<Error>([&] { encode_onnx(m); }), "layers.1.bias holds 1e+39, too large for ONNX's float32");
  m = model_of({3, 2, 2}, Activation::sigmoid);
  m.parameters.weights[0].pop_back();
  EXPECT_EQ(test::thrown<InputError>([&] { encode_onnx(m); }).rfind("ONNX export", 0), 0u);
}

}  // namespace
}  // namespace sigmanet
