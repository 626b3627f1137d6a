#include "plugins/unclip/component_weights.h"

#include "core/log.h"
#include "core/nn/binder.h"

namespace pictor::unclip {

std::int64_t countParameters(const nn::ParameterTable& table)
{
    std::int64_t count = 0;
    for (const nn::ParameterSlot& slot : table.slots()) {
        std::int64_t n = 1;
        for (auto d : slot.shape)
            n *= d;
        count += n;
    }
    return count;
}

ComponentWeights bindComponent(
    const nn::ParameterTable& table, const std::filesystem::path& weights, const nn::ComputeDevice& device)
{
    ComponentWeights result;
    result.checkpoint = Checkpoint::open(weights);
    nn::BindOptions options;
    options.dtype = device.dtype;
    options.device = device.device;
    const nn::BindReport report = nn::bindParameters(table, result.checkpoint, options);
    result.parameters = countParameters(table);
    result.bytes = report.bytes;
    if (report.zeroCopy == 0) // every tensor was converted or copied: unmap the file, its pages leave the RSS
        result.checkpoint = Checkpoint();
    PICTOR_LOG_INFO(weights.parent_path().filename().string(), ": ", report.bound, " tensors, ",
        result.parameters, " parameters (", report.bytes / (1024 * 1024), " MiB) on ", device.describe());
    return result;
}

ComponentWeights randomComponent(
    const nn::ParameterTable& table, const nn::ComputeDevice& device, std::uint64_t seed)
{
    ComponentWeights result;
    at::manual_seed(seed);
    for (const nn::ParameterSlot& slot : table.slots()) {
        // Norm weights near 1, everything else small: activations stay finite through deep stacks.
        const bool norm = slot.shape.size() == 1 && slot.name.ends_with(".weight")
            && slot.name.find("norm") != std::string::npos;
        // Made in the working dtype, so no float32 copy passes through memory.
        const auto options = at::TensorOptions().dtype(device.dtype).device(device.device);
        *slot.tensor = norm ? at::ones(slot.shape, options) : at::randn(slot.shape, options).mul_(0.02);
        result.bytes += static_cast<std::uint64_t>(slot.tensor->nbytes());
    }
    result.parameters = countParameters(table);
    return result;
}

} // namespace pictor::unclip
