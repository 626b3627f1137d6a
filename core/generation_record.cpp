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
        {"model",
            r.modelDir.empty() ? "" : std::filesystem::absolute(r.modelDir).lexically_normal().string()},
        {"model_id", r.modelId}, {"decoder_steps", s.decoderSteps}, {"decoder_guidance", s.decoderGuidance},
        {"super_res_steps", s.superResSteps}, {"batch_size", r.batchSize}, {"batch_index", r.batchIndex},
        {"replayed_noise", r.replayedNoise}};
    if (!r.query.empty())
        json["query"] = r.query;
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

std::optional<GenerationRecord> readGenerationJson(std::string_view text)
{
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_object() || json.value("generator", "") != "unclip" || !json.contains("prompt"))
        return std::nullopt;
    try {
        GenerationRecord r;
        GenerationRequest& s = r.settings;
        r.prompt = json.at("prompt").get<std::string>();
        s.seed = json.value("seed", std::uint64_t {0});
        r.modelDir = json.value("model", "");
        r.modelId = json.value("model_id", "");
        r.sourceImage = json.value("source_image", "");
        r.query = json.value("query", "");
        s.priorSteps = json.value("prior_steps", s.priorSteps);
        s.priorGuidance = json.value("prior_guidance", s.priorGuidance);
        s.decoderSteps = json.value("decoder_steps", s.decoderSteps);
        s.decoderGuidance = json.value("decoder_guidance", s.decoderGuidance);
        s.superResSteps = json.value("super_res_steps", s.superResSteps);
        s.changeStrength = json.value("change_strength", s.changeStrength);
        s.baseCaption = json.value("base_caption", s.baseCaption);
        r.batchSize = json.value("batch_size", 1);
        r.batchIndex = json.value("batch_index", 0);
        r.replayedNoise = json.value("replayed_noise", false);
        return r;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a field of the wrong type
    }
}

std::vector<std::pair<std::string, std::string>> generationTextChunks(const GenerationRecord& record)
{
    return {{"parameters", parametersText(record)},
        {"pictor", pictorJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
}

} // namespace pictor
