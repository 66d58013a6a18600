// sigmanet._sigmanet: the library's bindings. The Python API (python/sigmanet/) checks the arguments and documents
// them; this layer converts arrays and names into the library's types and calls it.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "arrays.hpp"
#include "errors.hpp"
#include "network.hpp"
#include "openblas_first.hpp"
#include "sigmanet_api.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace sigmanet::python {
namespace {

// Records as the Python layer hands them over: 2-D C-contiguous values, the image's rows and columns, labels.
using Set = std::tuple<Records, std::size_t, std::size_t, Labels>;

// A name the Python layer checked against the same list; anything else is a bug there.
template <class T>
T named(const std::string& name, const std::optional<T>& value) {
  if (!value) throw InputError(name + ": not a known name");
  return *value;
}

std::optional<Device> device_from_text(const std::string& text) {
  for (Device d : {Device::cpu, Device::gpu, Device::automatic})
    if (text == to_string(d)) return d;
  return std::nullopt;
}

Dataset set_from(const std::string& x_name, const std::string& y_name, const Set& set, std::size_t classes) {
  const auto& [x, rows, cols, y] = set;
  return to_dataset(x_name, x, rows, cols, y_name, &y, classes);
}

nb::tuple set_to_numpy(Dataset&& d) {
  const std::size_t n = d.size();
  return nb::make_tuple(to_numpy(std::move(d.pixels), {n, d.rows, d.cols}), to_numpy(std::move(d.labels), {n}));
}

nb::tuple load_mnist_arrays(const std::optional<std::filesystem::path>& path) {
  Mnist m = [&] {
    nb::gil_scoped_release released;
    return load_mnist(path ? *path : resolve_data_dir(""));
  }();
  nb::list notes;
  for (const std::string& note : m.notes) notes.append(note);
  return nb::make_tuple(set_to_numpy(std::move(m.train)), set_to_numpy(std::move(m.validation)),
                        set_to_numpy(std::move(m.test)), notes);
}

nb::tuple load_idx_arrays(const std::filesystem::path& images, const std::filesystem::path& labels) {
  Dataset d;
  {
    nb::gil_scoped_release released;
    d = load_idx_set(images, labels);
  }
  return set_to_numpy(std::move(d));
}

nb::list devices() {
  nb::list out;
  nb::dict cpu;
  cpu["device"] = "cpu";
  cpu["usable"] = true;
  cpu["reason"] = nb::none();
  cpu["name"] = make_backend(Device::cpu, Precision::f32)->describe();
  cpu["threads"] = default_threads();
  out.append(cpu);
  nb::dict gpu;
  std::string reason;
  const bool usable = gpu_available(&reason);
  gpu["device"] = "gpu";
  gpu["usable"] = usable;
  gpu["reason"] = usable ? nb::none() : nb::cast(reason);
  if (const std::optional<DeviceInfo> info = usable ? gpu_info() : std::nullopt) {
    gpu["name"] = info->name;
    gpu["compute_capability"] = info->compute_capability;
    gpu["memory_bytes"] = info->memory_bytes;
    gpu["driver_version"] = info->driver_version;
    gpu["runtime_version"] = info->runtime_version;
  }
  out.append(gpu);
  return out;
}

// The network's layers as arrays of its precision: copies, so they cannot outlive it or change under it.
nb::list layer_arrays(const Network& net, bool weights) {
  const Parameters& p = net.parameters();
  nb::list out;
  for (std::size_t l = 0; l < p.layers(); ++l) {
    const std::size_t rows = std::size_t(p.sizes[l + 1]), cols = std::size_t(p.sizes[l]);
    const std::vector<double>& values = weights ? p.weights[l] : p.biases[l];
    if (net.precision() == Precision::f32)
      out.append(weights ? to_numpy<float>(values, {rows, cols}) : to_numpy<float>(values, {rows}));
    else
      out.append(weights ? to_numpy<double>(values, {rows, cols}) : to_numpy<double>(values, {rows}));
  }
  return out;
}

nb::list train(Network& net, const Set& training, const std::optional<Set>& validation, const std::optional<Set>& test,
               int epochs, std::size_t batch, double eta, const std::string& cost, double lam, int early_stopping,
               int halve_eta_after, const std::string& device, int threads, nb::object on_batch, nb::object on_epoch,
               bool watch_sigint) {
  const std::size_t classes = std::size_t(net.parameters().sizes.back());
  auto data = std::make_unique<TrainData>();
  data->train = set_from("x", "y", training, classes);
  if (validation) data->validation = set_from("validation[0]", "validation[1]", *validation, classes);
  if (test) data->test = set_from("test[0]", "test[1]", *test, classes);
  TrainRequest r;
  r.epochs = epochs;
  r.batch = batch;
  r.eta = eta;
  r.cost = named("cost", cost_from_text(cost));
  r.lambda = lam;
  r.early_stopping = early_stopping;
  r.halve_eta_after = halve_eta_after;
  r.device = named("device", device_from_text(device));
  r.threads = threads;
  return net.train(std::move(data), r, {std::move(on_batch), std::move(on_epoch), watch_sigint});
}

nb::object outputs(Network& net, const Records& x, std::size_t rows, std::size_t cols) {
  const Dataset d = to_dataset("x", x, rows, cols, "", nullptr, 0);
  const std::vector<double> out = net.outputs(d);
  const std::size_t n = d.size(), classes = std::size_t(net.parameters().sizes.back());
  if (net.precision() == Precision::f32) return to_numpy<float>(out, {n, classes});
  return to_numpy<double>(out, {n, classes});
}

}  // namespace
}  // namespace sigmanet::python

NB_MODULE(_sigmanet, m) {
  using namespace sigmanet;
  using namespace sigmanet::python;
  m.doc() = "sigmanet's C++ library; the API is the sigmanet package's";
  register_errors(m);
  m.def("version", [] { return std::string(sigmanet::version()); });
  m.def("load_mnist", &load_mnist_arrays, "path"_a.none());
  m.def("load_idx", &load_idx_arrays, "images"_a, "labels"_a);
  m.def("devices", &devices);
  m.def("open_blas_first", &open_blas_first);
  m.def("halve_eta_after", [](const std::string& text) { return eta_schedule_from_text(text); });

  nb::class_<Network>(m, "Network")
      .def("__init__",
           [](Network* self, const std::vector<int>& sizes, const std::string& init, std::uint64_t seed,
              const std::string& precision) {
             new (self) Network(sizes, named("init", init_from_text(init)), seed,
                                named("precision", precision_from_text(precision)));
           })
      .def_static("load", [](const std::filesystem::path& file) { return std::make_unique<Network>(file); })
      .def("train", &train, "training"_a, "validation"_a.none(), "test"_a.none(), "epochs"_a, "batch"_a, "eta"_a,
           "cost"_a, "lam"_a, "early_stopping"_a, "halve_eta_after"_a, "device"_a, "threads"_a, "on_batch"_a.none(),
           "on_epoch"_a.none(), "watch_sigint"_a)
      .def("evaluate",
           [](Network& net, const Set& set) {
             return net.evaluate(set_from("x", "y", set, std::size_t(net.parameters().sizes.back())));
           })
      .def("output", &outputs)
      .def("save", &Network::save)
      .def_prop_ro("weights", [](const Network& net) { return layer_arrays(net, true); })
      .def_prop_ro("biases", [](const Network& net) { return layer_arrays(net, false); })
      .def_prop_ro("sizes", [](const Network& net) { return net.parameters().sizes; })
      .def_prop_ro("init", [](const Network& net) { return to_string(net.init()); })
      .def_prop_ro("seed", &Network::seed)
      .def_prop_ro("precision", [](const Network& net) { return to_string(net.precision()); })
      .def_prop_ro("cost", [](const Network& net) { return to_string(net.objective().cost); })
      .def_prop_ro("lam", [](const Network& net) { return net.objective().lambda; })
      .def_prop_ro("output_layer", [](const Network& net) { return to_string(net.parameters().output); })
      .def_prop_ro("epochs", &Network::epochs_done)
      .def_prop_ro("epoch_position", &Network::epoch_position)
      .def_prop_ro("interrupted", &Network::interrupted)
      .def_prop_ro("run_target", &Network::run_target)
      .def_prop_ro("device", &Network::device)
      .def_prop_ro("history", [](const Network& net) { return nb::steal<nb::list>(PySequence_List(net.history().ptr())); })
      .def_prop_ro("metadata", [](const Network& net) {
        nb::dict out;
        for (const auto& [key, value] : net.metadata()) out[key.c_str()] = value;
        return out;
      });
}
