#include "errors.hpp"

namespace nb = nanobind;

namespace sigmanet::python {
namespace {

PyObject* g_error = nullptr;
PyObject* g_input_error = nullptr;
PyObject* g_divergence_error = nullptr;

// A new exception class of the module, kept alive by it.
PyObject* add_class(nb::module_& m, const char* name, PyObject* base, const char* doc) {
  const std::string qualified = std::string("sigmanet.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base, nullptr);
  if (!type) throw nb::python_error();
  m.attr(name) = nb::handle(type);
  return type;
}

// DivergenceError carries the epoch and the batch, as the library's does.
void raise_divergence(const DivergenceError& e) {
  const std::string text = e.message().render(argument_for);
  nb::object error = nb::steal(PyObject_CallFunction(g_divergence_error, "s", text.c_str()));
  if (!error.is_valid()) return;  // the call left its own exception set
  error.attr("epoch") = e.epoch();
  error.attr("batch") = e.batch();
  PyErr_SetObject(g_divergence_error, error.ptr());
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const DivergenceError& e) {
    raise_divergence(e);
  } catch (const SettingError& e) {
    PyErr_SetString(g_input_error, e.message().render(argument_for).c_str());
  } catch (const InputError& e) {
    PyErr_SetString(g_input_error, e.what());
  } catch (const Error& e) {
    PyErr_SetString(g_error, e.what());
  }
}

}  // namespace

std::string argument_for(Setting s) {
  switch (s) {
    case Setting::lambda: return "lam";
    case Setting::train_size: return "x";
    case Setting::validation_size: return "validation";
    case Setting::test_size: return "test";
    case Setting::data: return "path";
    default: return setting_name(s);
  }
}

void register_errors(nb::module_& m) {
  g_error = add_class(m, "Error", PyExc_RuntimeError,
                      "sigmanet failed at run time: I/O, a device, a library call.");
  g_input_error = add_class(m, "InputError", PyExc_ValueError,
                            "Unusable input: an argument, a data file, a model file. The message is one line naming "
                            "it and what is wrong.");
  g_divergence_error = add_class(m, "DivergenceError", g_error,
                                 "Training went numerically wrong (NaN or Inf, or an epoch that moved no weight). "
                                 "`epoch` and `batch` (both from 1) say where; the network keeps the weights it had "
                                 "before that epoch.");
  nb::register_exception_translator(translate);
}

}  // namespace sigmanet::python
