// Files written atomically: on a full disk the old file stays whole (library.json used to be left
// truncated, and every later command failed on "not valid JSON").
#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "indexer/atomic_file.h"
#include "indexer/library.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

std::string readFile(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs `work` in a child whose files may not grow past `limitBytes` (writes past it fail with EFBIG, as
// on a full disk); the child's exit code: 0 when `work` threw a pictor::Error, 1 when it returned, 2 for
// another exception.
int runOnFullDisk(
    std::size_t limitBytes, const std::function<void()>& work, const std::function<void()>& before = {})
{
    const pid_t child = fork();
    if (child == 0) {
        if (before)
            before(); // with room
        const rlimit limit {limitBytes, limitBytes};
        setrlimit(RLIMIT_FSIZE, &limit);
        signal(SIGXFSZ, SIG_IGN);
        try {
            work();
            _exit(1);
        } catch (const Error&) {
            _exit(0);
        } catch (...) {
            _exit(2);
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AtomicFile, AFailedWriteKeepsTheOldFile)
{
    const auto dir = test::scratchDir("atomic-file");
    const auto file = dir / "settings.json";
    writeFileAtomically(file, "settings", std::string("{\"old\": true}\n"));
    EXPECT_EQ(readFile(file), "{\"old\": true}\n");
    EXPECT_EQ(runOnFullDisk(16, [&] { writeFileAtomically(file, "settings", std::string(4096, 'x')); }), 0);
    EXPECT_EQ(readFile(file), "{\"old\": true}\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "settings.json.tmp"));
    try {
        writeFileAtomically(dir / "no-such-folder" / "f", "settings", std::string("x"));
        FAIL() << "a write into a missing folder succeeded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-folder/f.tmp"), std::string::npos) << e.what();
    }
}

TEST(AtomicFile, LibraryJsonSurvivesAFullDisk)
{
    const auto dir = test::scratchDir("atomic-library");
    const auto before = [&] {
        Library library = Library::openForWriting(dir);
        library.setModelDir("/models/first");
        return readFile(dir / "library.json");
    }();
    ASSERT_NE(before.find("/models/first"), std::string::npos);
    std::optional<Library> library;
    EXPECT_EQ(runOnFullDisk(
                  8, [&] { library->setModelDir("/models/a-second-model-with-a-long-name"); },
                  [&] { library.emplace(Library::openForWriting(dir)); }),
        0)
        << "the write failed and said so";
    EXPECT_EQ(readFile(dir / "library.json"), before) << "the library still names its model";
    EXPECT_EQ(Library::rememberedModelDir(dir), std::filesystem::path("/models/first"));
}

} // namespace
} // namespace pictor
