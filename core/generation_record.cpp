#include "core/generation_record.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace pictor {
namespace {

std::string formatNumber(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

std::string parametersText(const GenerationRecord& r)
{
    const GenerationRequest& s = r.settings;
    const bool fromPhoto = !r.sourceImage.empty();
    std::string text = r.prompt + "\n";
    text += "Steps: " + std::to_string(s.decoderSteps) + ", Sampler: UnCLIP, CFG scale: "
        + formatNumber(s.decoderGuidance) + ", Seed: " + std::to_string(s.seed);
    text += ", Model hash: " + r.modelId + ", Model: " + r.modelDir.lexically_normal().filename().string();
    if (!fromPhoto)
        text += ", Prior steps: " + std::to_string(s.priorSteps)
            + ", Prior guidance: " + formatNumber(s.priorGuidance);
    text += ", Decoder steps: " + std::to_string(s.decoderSteps) + ", Decoder guidance: "
        + formatNumber(s.decoderGuidance) + ", Super-res steps: " + std::to_string(s.superResSteps);
    if (fromPhoto) {
        text += ", Source image: " + r.sourceImage.filename().string();
        if (!r.prompt.empty())
            text += ", Change strength: " + formatNumber(s.changeStrength)
                + ", Base caption: " + s.baseCaption;
    }
    if (r.batchSize > 1)
        text += ", Batch size: " + std::to_string(r.batchSize)
            + ", Batch pos: " + std::to_string(r.batchIndex);
    if (r.replayedNoise)
        text += ", Noise: replayed";
    return text;
}

nlohmann::json pictorJson(const GenerationRecord& r)
{
    const GenerationRequest& s = r.settings;
    nlohmann::json json = {{"generator", "unclip"}, {"prompt", r.prompt}, {"seed", s.seed},
        {"model", std::filesystem::absolute(r.modelDir).lexically_normal().string()}, {"model_id", r.modelId},
        {"decoder_steps", s.decoderSteps}, {"decoder_guidance", s.decoderGuidance},
        {"super_res_steps", s.superResSteps}, {"batch_size", r.batchSize}, {"batch_index", r.batchIndex},
        {"replayed_noise", r.replayedNoise}};
    if (!r.sourceImage.empty()) {
        json["source_image"] = std::filesystem::absolute(r.sourceImage).lexically_normal().string();
        if (!r.prompt.empty()) {
            json["change_strength"] = s.changeStrength;
            json["base_caption"] = s.baseCaption;
        }
    } else {
        json["prior_steps"] = s.priorSteps;
        json["prior_guidance"] = s.priorGuidance;
    }
    return json;
}

} // namespace

std::vector<std::pair<std::string, std::string>> generationTextChunks(const GenerationRecord& record)
{
    return {{"parameters", parametersText(record)},
        {"pictor", pictorJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
}

} // namespace pictor
