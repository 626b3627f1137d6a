#include "indexer/generation_provenance.h"

#include <cstring>

#include "core/error.h"
#include "core/generation_record.h"
#include "core/imageio/png_text.h"
#include "core/log.h"
#include "indexer/catalog.h"

namespace pictor {

std::optional<std::string> generationChunkOf(
    std::span<const std::uint8_t> bytes, const std::filesystem::path& file)
{
    static constexpr std::uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() < sizeof kPngSignature
        || std::memcmp(bytes.data(), kPngSignature, sizeof kPngSignature) != 0)
        return std::nullopt;
    try {
        auto texts = readPngText(bytes, file);
        const auto it = texts.find("pictor");
        if (it == texts.end())
            return std::nullopt;
        return std::move(it->second);
    } catch (const Error&) {
        return std::nullopt;
    }
}

bool catalogGeneration(Catalog& catalog, std::int64_t photoId, const std::string& chunk)
{
    const auto record = readGenerationJson(chunk);
    if (!record) {
        PICTOR_LOG_WARN(
            "photo ", photoId, ": a \"pictor\" PNG chunk that is not a generation record; ignored");
        return false;
    }
    GenerationRow row;
    row.photoId = photoId;
    row.prompt = record->prompt;
    row.modelId = record->modelId;
    row.query = record->query;
    row.paramsJson = chunk;
    row.sourcePath = record->sourceImage; // linked now, or once the source is catalogued
    catalog.addGeneration(row);
    return true;
}

} // namespace pictor
