#include "core/model_id.h"

#define XXH_INLINE_ALL
#include <algorithm>
#include <cstdio>

#include <xxhash.h>

#include "core/json_file.h"

namespace pictor {

std::string computeModelId(
    const std::string& family, const std::filesystem::path& configFile, const Checkpoint& checkpoint)
{
    constexpr std::size_t kSampledBytes = 256;
    XXH3_state_t* state = XXH3_createState();
    XXH3_64bits_reset(state);
    // nlohmann's dump sorts keys, so formatting differences in config.json do not change the id.
    const std::string config = readJsonFile(configFile).dump();
    XXH3_64bits_update(state, config.data(), config.size());
    for (const TensorView* view : checkpoint.tensors()) {
        const std::string entry
            = view->name + '|' + std::string(dtypeName(view->dtype)) + '|' + view->shapeString();
        XXH3_64bits_update(state, entry.data(), entry.size());
        XXH3_64bits_update(state, view->data, std::min(view->nbytes, kSampledBytes));
    }
    const XXH64_hash_t hash = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return family + "-" + hex;
}

} // namespace pictor
