// The safetensors reader and writer, model files, and atomic writes: round trips, exact bytes, and every
// kind of bad file rejected with one line naming the file.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "formats/atomic_file.hpp"
#include "formats/layer_tensors.hpp"
#include "formats/safetensors.hpp"
#include "safetensors_bytes.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::TempDir;

std::vector<std::uint8_t> with_header(const std::string& header, std::vector<std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(std::uint64_t(header.size()) >> (8 * i)));
  for (char c : header) out.push_back(static_cast<std::uint8_t>(c));
  for (std::uint8_t b : data) out.push_back(b);
  return out;
}

// Expects InputError whose one-line message starts with "name:" and contains `says`.
void expect_rejected(const std::vector<std::uint8_t>& bytes, const std::string& says) {
  try {
    decode_safetensors(bytes, "model.st");
    ADD_FAILURE() << "accepted a bad file; expected: " << says;
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("model.st: ", 0), 0u) << m;
    EXPECT_NE(m.find(says), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

Parameters small_network(std::uint64_t seed) {
  Rng rng(seed);
  return init_parameters({6, 4, 3}, Init::standard, rng);
}

// A network whose values are floats, so an F32 file holds them exactly.
Parameters float_valued(Parameters p) {
  for (auto* layer : {&p.weights, &p.biases})
    for (auto& values : *layer)
      for (double& v : values) v = static_cast<float>(v);
  return p;
}

TEST(SafeTensors, EncodesTheDocumentedLayout) {
  SafeTensors f;
  f.metadata["epochs"] = "3";
  const float values[] = {1.5f, -2.0f};
  f.tensors["b"] = Tensor::from_doubles(std::vector<double>{1.5, -2.0}, {2}, Dtype::f32);
  f.tensors["a"] = Tensor::from_u64(std::vector<std::uint64_t>{7}, {1});
  const std::vector<std::uint8_t> bytes = encode_safetensors(f);

  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u) << "data should start 8-byte aligned";
  ASSERT_EQ(bytes.size(), 8 + header_len + 8 + 8);
  const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(header_len));
  EXPECT_EQ(header["__metadata__"]["epochs"], "3");
  EXPECT_EQ(header["a"]["dtype"], "U64");
  EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json({0, 8}));
  EXPECT_EQ(header["b"]["dtype"], "F32");
  EXPECT_EQ(header["b"]["shape"], nlohmann::json({2}));
  EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json({8, 16}));
  const std::uint8_t* data = bytes.data() + 8 + header_len;
  std::uint64_t a = 0;
  std::memcpy(&a, data, 8);
  EXPECT_EQ(a, 7u);
  EXPECT_EQ(std::memcmp(data + 8, values, 8), 0);
}

TEST(SafeTensors, RoundTripsEveryDtypeExactly) {
  SafeTensors f;
  f.metadata = {{"sizes", "6,4,3"}, {"note", "x"}};
  const std::vector<double> d{0.1, -1e-300, 3.0, std::numeric_limits<double>::max()};
  f.tensors["d"] = Tensor::from_doubles(d, {2, 2}, Dtype::f64);
  f.tensors["f"] = Tensor::from_doubles(std::vector<double>{0.25, -8.0, 1.0 / 3.0}, {3}, Dtype::f32);
  f.tensors["u"] = Tensor::from_u32(std::vector<std::uint32_t>{4, 0, 4294967295u}, {3});
  f.tensors["empty"] = Tensor::from_u32(std::vector<std::uint32_t>{}, {0});
  const SafeTensors back = decode_safetensors(encode_safetensors(f), "x");
  EXPECT_EQ(back.metadata, f.metadata);
  EXPECT_EQ(back.tensors.at("d").shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(back.tensors.at("d").as_doubles("d"), d);
  EXPECT_EQ(back.tensors.at("f").as_doubles("f"), (std::vector<double>{0.25, -8.0, double(1.0f / 3.0f)}));
  EXPECT_EQ(back.tensors.at("u").as_u32("u"), (std::vector<std::uint32_t>{4, 0, 4294967295u}));
  EXPECT_TRUE(back.tensors.at("empty").as_u32("e").empty());
  EXPECT_THROW(back.tensors.at("u").as_doubles("u"), InputError);
  EXPECT_THROW(back.tensors.at("d").as_u64("d"), InputError);
}

TEST(SafeTensors, RejectsEveryKindOfBadFileWithOneLine) {
  const std::vector<std::uint8_t> eight(8, 0);
  const std::string good_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  expect_rejected({}, "truncated");
  expect_rejected({1, 0, 0}, "truncated");
  expect_rejected(with_header("{", {}), "not plausible");
  std::vector<std::uint8_t> huge(16, 0);
  huge[6] = 1;  // 2^48-byte header
  expect_rejected(huge, "header length");
  auto past_end = with_header("{" + good_entry + "}", eight);
  past_end[0] += 100;
  expect_rejected(past_end, "truncated");
  expect_rejected(with_header("{\"t\":", eight), "not valid JSON");
  expect_rejected(with_header("[1,2]   ", {}), "not a JSON object");
  expect_rejected(with_header(R"({"__metadata__":{"epochs":3}})", {}), "'epochs' is not a string");
  expect_rejected(with_header(R"({"__metadata__":[1]})", {}), "__metadata__ is not a JSON object");
  expect_rejected(with_header(R"({"t":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight), "F16");
  expect_rejected(with_header(R"({"t":{"dtype":3,"shape":[2],"data_offsets":[0,8]}})", eight), "dtype");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight), "shape");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[2]}})", eight), "data_offsets");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", eight), "past the end");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight), "end before");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight), "needs 12 bytes");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight),
                  "impossibly large");
  expect_rejected(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                              eight),
                  "overlaps");
  expect_rejected(with_header(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "belong to no tensor");
  expect_rejected(with_header("{" + good_entry + "}", std::vector<std::uint8_t>(12, 0)), "at the end of the file");
  // And the good one is accepted.
  EXPECT_NO_THROW(decode_safetensors(with_header("{" + good_entry + "}", eight), "ok"));
}

// Two tensors with a checksum each, as encode writes them.
SafeTensors two_tensors() {
  SafeTensors f;
  f.metadata["note"] = "x";
  f.tensors["a"] = Tensor::from_u32(std::vector<std::uint32_t>{1, 2, 3}, {3});
  f.tensors["b"] = Tensor::from_doubles(std::vector<double>{0.5, -0.25, 1e-3, 7.0}, {2, 2}, Dtype::f32);
  return f;
}

TEST(SafeTensorsChecksums, EveryTensorCarriesTheCrc32ThatZlibAndPythonCompute) {
  // The standard CRC-32 check value: what zlib.crc32(b"123456789") gives in Python.
  const std::string check = "123456789";
  EXPECT_EQ(crc32_of(std::span(reinterpret_cast<const std::uint8_t*>(check.data()), check.size())), 0xcbf43926u);
  SafeTensors f = two_tensors();
  f.tensors["empty"] = Tensor::from_u32(std::vector<std::uint32_t>{}, {0});
  const auto header = test::header_of(encode_safetensors(f));
  const auto& metadata = header.at("__metadata__");
  EXPECT_EQ(metadata.size(), 4u) << metadata;  // "note" and one per tensor
  // 01 00 00 00 02 00 00 00 03 00 00 00, whose CRC32 Python gives as 0xb0e02293.
  EXPECT_EQ(metadata.at("crc32:a"), "b0e02293");
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc32_of(f.tensors.at("b").data));
  EXPECT_EQ(metadata.at("crc32:b"), hex);
  EXPECT_EQ(metadata.at("crc32:empty"), "00000000");
  EXPECT_EQ(checksum_key("layers.0.weight"), "crc32:layers.0.weight");
  // The reader checks them and keeps them out of the caller's metadata.
  const SafeTensors back = decode_safetensors(encode_safetensors(f), "x");
  EXPECT_TRUE(back.checksums);
  EXPECT_EQ(back.metadata, f.metadata);
}

TEST(SafeTensorsChecksums, AFlippedBitIsRefusedNamingTheFileAndTheTensor) {
  const std::vector<std::uint8_t> good = encode_safetensors(two_tensors());
  for (const std::string tensor : {"a", "b"}) {
    for (const auto& [byte, bit] : std::vector<std::pair<std::size_t, int>>{{0, 0}, {5, 7}, {11, 3}}) {
      auto bad = good;
      test::flip_bit(bad, tensor, byte, bit);
      expect_rejected(bad, "tensor '" + tensor + "' is damaged: its bytes have CRC32 ");
    }
  }
}

TEST(SafeTensorsChecksums, AMissingMalformedOrStrayChecksumIsRefused) {
  const std::vector<std::uint8_t> good = encode_safetensors(two_tensors());
  auto edited = [&](const std::function<void(nlohmann::json&)>& edit) { return test::with_header_edited(good, edit); };
  expect_rejected(edited([](auto& h) { h["__metadata__"].erase("crc32:b"); }),
                  "tensor 'b' has no checksum (__metadata__ \"crc32:b\") though other tensors have one");
  const std::string right = test::header_of(good)["__metadata__"]["crc32:a"];
  std::string upper = right;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, right) << "the test needs a checksum with a letter in it";
  for (const std::string& bad : {upper, right.substr(1), right + "0", std::string("0x") + right.substr(2),
                                 std::string("-") + right.substr(1), std::string(" ") + right.substr(1),
                                 std::string("")}) {
    expect_rejected(edited([&](auto& h) { h["__metadata__"]["crc32:a"] = bad; }),
                    "tensor 'a': checksum \"" + bad + "\" in __metadata__ is not a CRC32 (8 lowercase hex digits)");
  }
  expect_rejected(edited([](auto& h) { h["__metadata__"]["crc32:a"] = 1; }), "'crc32:a' is not a string");
  expect_rejected(edited([](auto& h) { h["__metadata__"]["crc32:c"] = "00000000"; }),
                  "__metadata__ \"crc32:c\" is the checksum of tensor 'c', which the file does not hold");
  // A right checksum on the wrong tensor is damage too.
  expect_rejected(edited([](auto& h) { std::swap(h["__metadata__"]["crc32:a"], h["__metadata__"]["crc32:b"]); }),
                  "is damaged");
  EXPECT_NO_THROW(decode_safetensors(good, "ok"));
}

// Files written before sigmanet kept checksums still load, unchecked (a flipped bit there goes unseen).
TEST(SafeTensorsChecksums, AFileWithoutAnyLoadsAsBefore) {
  SafeTensors f = two_tensors();
  f.checksums = false;
  const std::vector<std::uint8_t> old = encode_safetensors(f);
  EXPECT_EQ(test::header_of(old)["__metadata__"], nlohmann::json({{"note", "x"}}));
  EXPECT_EQ(old, test::without_checksums(encode_safetensors(two_tensors())));
  SafeTensors back = decode_safetensors(old, "old");
  EXPECT_FALSE(back.checksums);
  EXPECT_EQ(back.metadata, f.metadata);
  EXPECT_EQ(back.tensors.at("b").data, f.tensors.at("b").data);
  auto flipped = old;
  test::flip_bit(flipped, "b", 0, 0);
  back = decode_safetensors(flipped, "old");
  EXPECT_NE(back.tensors.at("b").data, f.tensors.at("b").data);
  // Re-encoded, it gets checksums again.
  back.checksums = true;
  EXPECT_TRUE(test::header_of(encode_safetensors(back))["__metadata__"].contains("crc32:b"));
}

TEST(SafeTensorsChecksums, TheirMetadataKeysAreTheFormatsOwn) {
  SafeTensors f = two_tensors();
  f.metadata["crc32:a"] = "00000000";
  EXPECT_EQ(test::thrown<Error>([&] { encode_safetensors(f); }),
            "encode_safetensors: metadata key \"crc32:a\" is reserved for the format's checksums");
}

TEST(SafeTensors, AcceptsAnEmptyHeaderObject) {
  // "{}" padded to 8 bytes, as the reference writer does for a file with no tensors.
  EXPECT_TRUE(decode_safetensors(with_header("{}      ", {}), "x").tensors.empty());
}

TEST(ModelFile, SavesAsTorchLinearLayersAndLoadsBack) {
  TempDir dir;
  const Parameters p = float_valued(small_network(3));
  save_model(dir / "m.safetensors", p, {{"epochs", "7"}, {"seed", "3"}, {"accuracy", "0.5"}});
  const SafeTensors raw = read_safetensors(dir / "m.safetensors");
  EXPECT_EQ(raw.tensors.at("layers.0.weight").shape, (std::vector<std::size_t>{4, 6}));
  EXPECT_EQ(raw.tensors.at("layers.0.bias").shape, (std::vector<std::size_t>{4}));
  EXPECT_EQ(raw.tensors.at("layers.1.weight").shape, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(raw.tensors.at("layers.1.weight").dtype, Dtype::f32);
  EXPECT_EQ(raw.tensors.size(), 4u);
  const Model m = load_model(dir / "m.safetensors");
  EXPECT_EQ(m.parameters.sizes, p.sizes);
  EXPECT_EQ(m.parameters.weights, p.weights);
  EXPECT_EQ(m.parameters.biases, p.biases);
  EXPECT_EQ(m.metadata.at("sizes"), "6,4,3");
  EXPECT_EQ(m.metadata.at("epochs"), "7");
  EXPECT_EQ(m.metadata.at("format"), "sigmanet-model");
}

// Builds a model file from p with one change applied to its tensors.
std::vector<std::uint8_t> model_bytes(const Parameters& p, void (*change)(SafeTensors&)) {
  SafeTensors f;
  add_layer_tensors(f, p, Dtype::f32);
  f.metadata["sizes"] = sizes_text(p.sizes);
  change(f);
  return encode_safetensors(f);
}

TEST(ModelFile, RejectsModelsThatAreNotNetworks) {
  const Parameters p = small_network(4);
  struct Case {
    void (*change)(SafeTensors&);
    std::string says;
  };
  const std::vector<Case> cases = {
      {[](SafeTensors& f) { f.tensors.erase("layers.1.bias"); }, "layers.1.bias is missing"},
      {[](SafeTensors& f) { f.tensors.erase("layers.0.weight"); f.tensors.erase("layers.0.bias"); },
       "layers.0 is missing"},
      {[](SafeTensors& f) { f.tensors.clear(); }, "no layers.N.weight"},
      {[](SafeTensors& f) { f.tensors["layers.x.weight"] = f.tensors["layers.0.bias"]; }, "not named layers.N"},
      {[](SafeTensors& f) {
         f.tensors["layers.1.weight"] = Tensor::from_doubles(std::vector<double>(15, 0.5), {3, 5}, Dtype::f32);
         f.metadata.erase("sizes");
       },
       "shapes do not chain"},
      {[](SafeTensors& f) { f.tensors["layers.0.bias"] = Tensor::from_doubles(std::vector<double>(5), {5}, Dtype::f32); },
       "layers.0.bias has 5 values"},
      {[](SafeTensors& f) { f.tensors["layers.0.weight"].shape = {24}; }, "not a matrix"},
      {[](SafeTensors& f) { f.metadata["sizes"] = "6,5,3"; }, "__metadata__ says sizes"},
      {[](SafeTensors& f) {
         std::vector<double> w(12, 0.1);
         w[5] = std::nan("");
         f.tensors["layers.1.weight"] = Tensor::from_doubles(w, {3, 4}, Dtype::f32);
       },
       "non-finite"},
      {[](SafeTensors& f) {
         std::vector<double> b(3, 0.1);
         b[2] = -std::numeric_limits<double>::infinity();
         f.tensors["layers.1.bias"] = Tensor::from_doubles(b, {3}, Dtype::f64);
       },
       "non-finite"},
      {[](SafeTensors& f) { f.tensors["layers.1.bias"] = Tensor::from_u32(std::vector<std::uint32_t>(3), {3}); },
       "expected F32 or F64"},
  };
  TempDir dir;
  for (const Case& c : cases) {
    test::write_bytes(dir / "bad.safetensors", model_bytes(p, c.change));
    try {
      load_model(dir / "bad.safetensors");
      ADD_FAILURE() << "accepted; expected: " << c.says;
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind((dir / "bad.safetensors").string() + ": ", 0), 0u) << m;
      EXPECT_NE(m.find(c.says), std::string::npos) << m;
    }
  }
}

// A flipped low mantissa bit leaves a finite weight, which nothing but the checksum can tell from the original.
TEST(ModelFile, AFlippedBitInAFiniteWeightIsRefusedNamingTheFileAndTheTensor) {
  TempDir dir;
  const Parameters p = float_valued(small_network(5));
  save_model(dir / "m.safetensors", p, {});
  auto bytes = read_file_bytes(dir / "m.safetensors");
  test::flip_bit(bytes, "layers.1.weight", 4 * 5, 0);  // element 5's lowest bit
  test::write_bytes(dir / "m.safetensors", bytes);
  try {
    load_model(dir / "m.safetensors");
    ADD_FAILURE() << "a damaged weight was loaded";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind((dir / "m.safetensors").string() + ": tensor 'layers.1.weight' is damaged: ", 0),
              0u)
        << e.what();
  }
  // The same damage in a file without checksums loads: finite and off by one unit in the last place.
  test::write_bytes(dir / "old.safetensors", test::without_checksums(bytes));
  const Model m = load_model(dir / "old.safetensors");
  EXPECT_TRUE(std::isfinite(m.parameters.weights[1][5]));
  EXPECT_NE(m.parameters.weights[1][5], p.weights[1][5]);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(static_cast<float>(m.parameters.weights[1][5])) ^
                std::bit_cast<std::uint32_t>(static_cast<float>(p.weights[1][5])),
            1u);
}

TEST(ModelFile, AModelWithoutChecksumsLoadsAsBefore) {
  TempDir dir;
  const Parameters p = float_valued(small_network(6));
  save_model(dir / "m.safetensors", p, {{"epochs", "4"}});
  test::write_bytes(dir / "old.safetensors", test::without_checksums(read_file_bytes(dir / "m.safetensors")));
  const Model old = load_model(dir / "old.safetensors");
  const Model now = load_model(dir / "m.safetensors");
  EXPECT_EQ(old.parameters.weights, p.weights);
  EXPECT_EQ(old.parameters.biases, p.biases);
  EXPECT_EQ(old.metadata, now.metadata);
  EXPECT_EQ(old.metadata.at("epochs"), "4");
}

TEST(ModelFile, SaveLoadSaveIsByteIdentical) {
  TempDir dir;
  save_model(dir / "a", float_valued(small_network(8)), {{"seed", "8"}});
  const Model m = load_model(dir / "a");
  save_model(dir / "b", m.parameters, m.metadata);
  EXPECT_EQ(read_file_bytes(dir / "a"), read_file_bytes(dir / "b"));
}

TEST(ModelFile, MissingFileIsAnInputErrorNamingIt) {
  TempDir dir;
  try {
    load_model(dir / "nope.safetensors");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.safetensors: cannot open"), std::string::npos) << e.what();
  }
}

// A sparse file of `bytes` starting with `head`; false where the file system will not make one that large.
bool sparse_file(const std::filesystem::path& file, const std::vector<std::uint8_t>& head, std::uint64_t bytes) {
  test::write_bytes(file, head);
  return truncate(file.c_str(), off_t(bytes)) == 0;
}

std::string load_error(const std::filesystem::path& file) {
  try {
    load_model(file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "loaded";
}

// The header is read first and checked against the file's size, so that a huge file is refused before its data is
// read or memory taken for it (a 64 GB sparse --model was read whole, std::bad_alloc, exit 1).
TEST(SafeTensors, AHugeFileIsJudgedByItsHeaderBeforeItsDataIsRead) {
  TempDir dir;
  const std::uint64_t gib = std::uint64_t{1} << 30;
  if (!sparse_file(dir / "zeros", {}, 64 * gib)) GTEST_SKIP() << "no 64 GiB sparse files here";
  EXPECT_EQ(load_error(dir / "zeros"),
            (dir / "zeros").string() + ": header length 0 is not plausible; is this a safetensors file?");
  // A real header for one small tensor, and 64 GiB after it that belong to no tensor.
  SafeTensors one;
  one.tensors["x"] = Tensor::from_u32(std::vector<std::uint32_t>{7}, {1});
  const std::vector<std::uint8_t> small = encode_safetensors(one);
  ASSERT_TRUE(sparse_file(dir / "tail", small, 64 * gib));
  EXPECT_NE(load_error(dir / "tail").find("bytes at the end of the file belong to no tensor"), std::string::npos);
  // A header whose one tensor fills 1 TiB, all of it there: refused by the memory it would take.
  const std::string header = R"({"layers.0.weight":{"dtype":"F32","shape":[1024,268435456],"data_offsets":[0,1099511627776]}})";
  std::string text;
  for (int i = 0; i < 8; ++i) text.push_back(char(std::uint64_t(header.size()) >> (8 * i)));
  text += header;
  const std::vector<std::uint8_t> head(text.begin(), text.end());
  if (!sparse_file(dir / "tebibyte", head, head.size() + 1024 * gib)) GTEST_SKIP() << "no 1 TiB sparse files here";
  EXPECT_NE(load_error(dir / "tebibyte")
                .find(": its tensors hold 1099511627776 bytes; reading them would need about 4096.0 GiB of memory, "
                      "more than this machine's "),
            std::string::npos)
      << load_error(dir / "tebibyte");
}

TEST(AtomicFile, WritesAndReplacesLeavingNoTemporaryFiles) {
  TempDir dir;
  write_file_atomically(dir / "f", std::vector<std::uint8_t>{1, 2, 3});
  write_file_atomically(dir / "f", std::vector<std::uint8_t>{4, 5});
  EXPECT_EQ(read_file_bytes(dir / "f"), (std::vector<std::uint8_t>{4, 5}));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, AMissingFolderIsAnErrorNamingTheFile) {
  TempDir dir;
  try {
    write_file_atomically(dir / "no" / "f", std::vector<std::uint8_t>{1});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f: creating a temporary file"), std::string::npos) << e.what();
  }
}

// A write that fails half way (here: the file-size limit, as a full disk would) leaves the old file as it
// was and no temporary file behind. Run in a child so the limit does not touch the test process.
TEST(AtomicFile, AFailedWriteLeavesTheExistingFileIntact) {
  TempDir dir;
  const std::vector<std::uint8_t> old(100, 7);
  write_file_atomically(dir / "model", old);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
    rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file_atomically(dir / "model", std::vector<std::uint8_t>(100000, 9));
    } catch (const Error& e) {
      _exit(std::string(e.what()).find("write failed") != std::string::npos ? 0 : 3);
    }
    _exit(4);  // the write should not have succeeded
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: wrong message, 4: the write went through";
  EXPECT_EQ(read_file_bytes(dir / "model"), old);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "the temporary file was left behind";
}

}  // namespace
}  // namespace sigmanet
