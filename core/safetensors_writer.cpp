#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"

namespace pictor {

std::vector<std::byte> serializeSafetensors(
    const std::vector<TensorToWrite>& tensors, const std::map<std::string, std::string>& metadata)
{
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const auto& tensor : tensors) {
        std::uint64_t expected = dtypeSize(tensor.dtype);
        for (auto d : tensor.shape)
            expected *= static_cast<std::uint64_t>(d);
        PICTOR_CHECK(expected == tensor.bytes.size(), "[safetensors] writing '", tensor.name,
            "': ", tensor.bytes.size(), " bytes for a shape needing ", expected);
        header[tensor.name] = {{"dtype", dtypeName(tensor.dtype)}, {"shape", tensor.shape},
            {"data_offsets", {offset, offset + tensor.bytes.size()}}};
        offset += tensor.bytes.size();
    }
    std::string headerText = header.dump();
    // Pad with spaces to a multiple of 8 so the data section stays aligned, as the reference writer does.
    headerText.append((8 - headerText.size() % 8) % 8, ' ');

    std::vector<std::byte> out(8 + headerText.size() + offset);
    std::uint64_t length = headerText.size();
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<std::byte>((length >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, headerText.data(), headerText.size());
    std::byte* data = out.data() + 8 + headerText.size();
    for (const auto& tensor : tensors) {
        if (!tensor.bytes.empty())
            std::memcpy(data, tensor.bytes.data(), tensor.bytes.size());
        data += tensor.bytes.size();
    }
    return out;
}

void writeSafetensors(const std::filesystem::path& file, const std::vector<TensorToWrite>& tensors,
    const std::map<std::string, std::string>& metadata)
{
    const auto bytes = serializeSafetensors(tensors, metadata);
    // Write to a temporary name and rename, so a crash never leaves a half-written file behind.
    auto temporary = file;
    temporary += ".partial";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        PICTOR_CHECK(out.good(), "[safetensors] ", file.string(), ": cannot write");
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        PICTOR_CHECK(out.good(), "[safetensors] ", file.string(), ": write failed");
    }
    std::error_code error;
    std::filesystem::rename(temporary, file, error);
    PICTOR_CHECK(
        !error, "[safetensors] ", file.string(), ": cannot rename into place (", error.message(), ")");
}

} // namespace pictor
