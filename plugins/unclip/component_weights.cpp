#include "plugins/unclip/component_weights.h"

#include "core/log.h"
#include "core/nn/binder.h"

namespace pictor::unclip {

ComponentWeights bindComponent(
    const nn::ParameterTable& table, const std::filesystem::path& weights, const nn::ComputeDevice& device)
{
    ComponentWeights result;
    result.checkpoint = Checkpoint::open(weights);
    nn::BindOptions options;
    options.dtype = device.dtype;
    options.device = device.device;
    const nn::BindReport report = nn::bindParameters(table, result.checkpoint, options);
    result.parameters = table.parameterCount();
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
    nn::fillWithRandomValues(table, device, seed);
    ComponentWeights result;
    result.parameters = table.parameterCount();
    result.bytes = static_cast<std::uint64_t>(result.parameters) * c10::elementSize(device.dtype);
    return result;
}

} // namespace pictor::unclip
