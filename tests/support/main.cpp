// Shared main for the test executables: fails loudly when the golden data is missing instead of
// letting tests skip silently.
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/paths.h"

int main(int argc, char** argv)
{
    testing::InitGoogleTest(&argc, argv);
    if (!std::filesystem::is_directory(pictor::test::fixturesDir())) {
        std::fprintf(
            stderr, "fixtures not found at %s (set PICTOR_FIXTURES)\n", pictor::test::fixturesDir().c_str());
        return 1;
    }
    return RUN_ALL_TESTS();
}
