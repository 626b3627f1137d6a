// Where the tests find golden data: $PICTOR_FIXTURES / $PICTOR_REAL_INPUTS, else the CMake defaults
// (../shared/fixtures and ../shared/real-inputs beside the checkout).
#pragma once

#include <filesystem>
#include <string>

namespace pictor::test {

std::filesystem::path fixturesDir();
std::filesystem::path fixtureDir(const std::string& name); // fixturesDir() / name
std::filesystem::path realInputsDir();
// A fresh empty folder under the system temp dir, removed at process exit.
std::filesystem::path scratchDir(const std::string& tag);

} // namespace pictor::test
