#pragma once
// Exceptions thrown by the library. Messages are one line and say what and where.
#include <stdexcept>
#include <string>

namespace sigmanet {

// Something went wrong at run time (I/O, a device, a library call).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user's input is unusable: a flag value, a data file, a model file.
// The command-line tool maps it to exit status 2.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace sigmanet
