#pragma once
// The library's version: CMake's project(VERSION), the one place it is written.

namespace sigmanet {

const char* version();  // "0.1.0"

}  // namespace sigmanet
