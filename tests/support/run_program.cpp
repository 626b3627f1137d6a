#include "tests/support/run_program.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <sys/wait.h>

#include "tests/support/paths.h"

namespace pictor::test {
namespace {

std::string quote(const std::string& arg)
{
    std::string quoted = "'";
    for (char c : arg)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

} // namespace

std::string readFileBytes(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ProgramRun runProgram(const std::string& binary, const std::vector<std::string>& args)
{
    const auto errFile = scratchDir("program-stderr") / "stderr.txt";
    std::string command = quote(binary);
    for (const auto& arg : args)
        command += " " + quote(arg);
    command += " 2>" + quote(errFile.string());
    ProgramRun result;
    FILE* pipe = popen(command.c_str(), "r");
    std::array<char, 4096> buffer {};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
        result.out.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = readFileBytes(errFile);
    return result;
}

} // namespace pictor::test
