#include "app/model_module.h"

#include <filesystem>
#include <mutex>

#include <dlfcn.h>

#include "app/model_module_api.h"
#include "core/error.h"
#include "core/log.h"

#ifndef PICTOR_MODULE_INSTALL_DIR
#define PICTOR_MODULE_INSTALL_DIR ""
#endif

namespace pictor::app {
namespace {

constexpr const char* kModuleName = "pictor_models.so";
using Entry = ModelModuleEntry;

// Beside the executable (the build tree), then the installed lib/pictor folder.
std::vector<std::filesystem::path> candidates()
{
    std::vector<std::filesystem::path> out;
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        out.push_back(self.parent_path() / kModuleName);
        out.push_back(self.parent_path().parent_path() / "lib" / "pictor" / kModuleName);
    }
    if (*PICTOR_MODULE_INSTALL_DIR)
        out.push_back(std::filesystem::path(PICTOR_MODULE_INSTALL_DIR) / kModuleName);
    return out;
}

// The module's entry point, after checking that it was built against this executable's API.
Entry entryOf(void* handle, const std::filesystem::path& file)
{
    const auto version = reinterpret_cast<ModelModuleVersion>(dlsym(handle, kModelModuleVersionSymbol));
    PICTOR_CHECK(version, "the model module ", file.string(), " has no API version (",
        kModelModuleVersionSymbol,
        "): it is older than this pictor; reinstall Pictor so that both come from one build");
    const int found = version();
    PICTOR_CHECK(found == kModelModuleApiVersion, "the model module ", file.string(), " has API version ",
        found, " but this pictor needs ", kModelModuleApiVersion,
        ": reinstall Pictor so that both come from one build");
    const auto entry = reinterpret_cast<Entry>(dlsym(handle, kModelModuleEntryPoint));
    PICTOR_CHECK(entry, "the model module ", file.string(), " has no ", kModelModuleEntryPoint);
    return entry;
}

Entry loadEntry()
{
    static std::mutex mutex;
    static Entry entry = nullptr;
    std::lock_guard lock(mutex);
    if (entry)
        return entry;
    std::string reasons;
    for (const auto& file : candidates()) {
        std::error_code error;
        if (!std::filesystem::is_regular_file(file, error))
            continue;
        // Never closed: the embedders it makes outlive any scope here.
        void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            reasons += std::string("; ") + dlerror();
            continue;
        }
        entry = entryOf(handle, file);
        return entry;
    }
    PICTOR_FAIL("cannot load the model module ", kModuleName,
        " (looked beside the executable and in lib/pictor", reasons, "): reinstall Pictor");
}

} // namespace

void loadModelFamilies(ModelRegistry& registry)
{
    loadEntry()(registry, &logMessage);
}

void loadModelFamiliesFrom(const std::filesystem::path& moduleFile, ModelRegistry& registry)
{
    void* handle = dlopen(moduleFile.c_str(), RTLD_NOW | RTLD_LOCAL);
    PICTOR_CHECK(handle, "cannot load the model module ", moduleFile.string(), ": ", dlerror());
    // Never closed, as above.
    entryOf(handle, moduleFile)(registry, &logMessage);
}

} // namespace pictor::app
