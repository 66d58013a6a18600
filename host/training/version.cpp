#include "sigmanet/version.hpp"

// CMake's project(VERSION), written into this header when the build was configured (cmake/build_info.cmake).
#include <sigmanet_build_info.hpp>

namespace sigmanet {

const char* version() { return SIGMANET_VERSION; }

}  // namespace sigmanet
