// Runs a program (the pictor executable) with arguments, capturing its exit status, stdout and stderr.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pictor::test {

struct ProgramRun {
    int status = -1; // exit status; -1 when killed by a signal
    std::string out;
    std::string err;
};

ProgramRun runProgram(const std::string& binary, const std::vector<std::string>& args);

std::string readFileBytes(const std::filesystem::path& file);

} // namespace pictor::test
