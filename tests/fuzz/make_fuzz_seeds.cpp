// Writes the seed corpora the fuzzers start from: small valid inputs of every kind the readers accept,
// plus a few near misses, so the fuzzer begins inside the interesting code instead of at the magic number.
//   make_fuzz_seeds OUT   ->  OUT/idx/... (IDX files), OUT/checkpoint/... (checkpoints, models, safetensors),
//                         OUT/data/... (CSV and NPZ, each after the byte that picks the reader)
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../formats/npz_bytes.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/model_file.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write(const fs::path& file, const Bytes& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

Bytes gzip(const Bytes& raw) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  Bytes out(deflateBound(&z, static_cast<uLong>(raw.size())) + 64);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void put_u32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put_u32(b, 2051);
  put_u32(b, count);
  put_u32(b, rows);
  put_u32(b, cols);
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) b.push_back(static_cast<std::uint8_t>(i * 37));
  return b;
}

Bytes idx_labels(std::uint32_t count) {
  Bytes b;
  put_u32(b, 2049);
  put_u32(b, count);
  for (std::uint32_t i = 0; i < count; ++i) b.push_back(static_cast<std::uint8_t>(i % 10));
  return b;
}

void idx_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const Bytes images = idx_images(3, 4, 5), labels = idx_labels(7);
  write(dir / "images", images);
  write(dir / "images.gz", gzip(images));
  write(dir / "images-1x1", idx_images(1, 1, 1));
  write(dir / "images-28x28", idx_images(2, 28, 28));
  write(dir / "labels", labels);
  write(dir / "labels.gz", gzip(labels));
  write(dir / "labels-empty", idx_labels(0));
  Bytes twice = gzip(labels), second = gzip(labels);
  twice.insert(twice.end(), second.begin(), second.end());
  write(dir / "labels-two-members.gz", twice);
  write(dir / "images-truncated", Bytes(images.begin(), images.end() - 3));
  Bytes gz = gzip(images);
  write(dir / "images-truncated.gz", Bytes(gz.begin(), gz.end() - 5));
}

// The data fuzzer's first byte chooses the reader (odd: NPZ) and a CSV's options (fuzz_data.cpp).
void data_seeds(const fs::path& dir) {
  namespace t = sigmanet::test;
  fs::create_directories(dir);
  const auto text = [](std::uint8_t choice, const std::string& csv) {
    Bytes b{choice};
    b.insert(b.end(), csv.begin(), csv.end());
    return b;
  };
  write(dir / "csv-pixels", text(0, "label,a,b,c,d\n3,0,255,7,8\n1,1,2,3,4\n"));
  write(dir / "csv-floats", text(0, "0,5.1,3.5,1.4\n2,6.3,-2.5,1e2\n"));
  write(dir / "csv-named-label", text(0x40, "x,y,species\n0.5,1.5,2\n0.25,3,1\n"));
  write(dir / "csv-unlabelled", text(0x20, "1,2,3\n4,5,6\n"));
  const auto npz = [](const Bytes& x, const Bytes& y) {
    Bytes b{1};
    const Bytes zip = t::zip_bytes({{"x_train.npy", x}, {"y_train.npy", y}});
    b.insert(b.end(), zip.begin(), zip.end());
    return b;
  };
  write(dir / "npz-pixels", npz(t::npy_bytes("|u1", "(2, 2, 3)", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
                                t::npy_bytes("<i8", "(2,)", t::raw_bytes<std::int64_t>({4, 0}))));
  write(dir / "npz-floats", npz(t::npy_bytes("<f4", "(2, 2)", t::raw_bytes<float>({0.5f, -1, 2, 3})),
                                t::npy_bytes("|u1", "(2,)", {1, 0})));
}

// Small networks keep the seeds (and so the fuzzer's inputs) short: a few hundred bytes each.
void checkpoint_seeds(const fs::path& dir) {
  using namespace sigmanet;
  fs::create_directories(dir);
  Rng rng(7);
  for (const Precision precision : {Precision::f32, Precision::f64}) {
    const std::string kind = precision == Precision::f32 ? "float" : "double";
    Checkpoint c;
    c.config.sizes = {4, 3, 10};
    c.config.precision = precision;
    c.config.split = {5, 2, 3};
    c.config.epochs = 3;
    c.parameters = init_parameters(c.config.sizes, Init::standard, rng);
    c.state.epochs_done = 1;
    c.state.rng = rng.snapshot();
    save_checkpoint(dir / ("between-epochs-" + kind + ".safetensors"), c);
    c.state.order = rng.permutation(5);
    c.state.position = 2;
    c.state.rng = rng.snapshot();
    save_checkpoint(dir / ("mid-epoch-" + kind + ".safetensors"), c);
  }
  const Parameters p = init_parameters({3, 2, 2}, Init::scaled, rng);
  save_model(dir / "model.safetensors", p, {{"epochs", "2"}, {"accuracy", "0.5"}});
  SafeTensors plain;
  const double values[3] = {1.5, -2, 0};
  plain.tensors["x"] = Tensor::from_doubles(values, {3}, Dtype::f32);
  plain.metadata["note"] = "not a sigmanet file";
  write(dir / "plain.safetensors", encode_safetensors(plain));
  write(dir / "empty-header.safetensors", encode_safetensors({}));
  // The same files without checksums, as sigmanet wrote them before: mutations of their data reach the
  // layer and checkpoint readers, where in the files above the checksum stops nearly every one.
  for (const std::string name : {"mid-epoch-float", "mid-epoch-double", "model", "plain"}) {
    SafeTensors old = read_safetensors(dir / (name + ".safetensors"));
    old.checksums = false;
    write(dir / (name + "-no-checksums.safetensors"), encode_safetensors(old));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds OUT\n");
    return 2;
  }
  try {
    const fs::path out = argv[1];
    idx_seeds(out / "idx");
    checkpoint_seeds(out / "checkpoint");
    data_seeds(out / "data");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
