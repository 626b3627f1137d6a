// The LLaVA family behind core's VisionChat interface: the checkpoint's chat template and tokenizer
// (core/text) around LlavaEngine / LlavaChatSession. Registered for model_type "llava".
#pragma once

#include <filesystem>
#include <memory>

#include "core/embedder.h"
#include "core/vision_chat.h"

namespace pictor::llava {

// Checks what is cheap first (chat template, tokenizer against the embedding size, the image token),
// then loads the weights. Every refusal is a one-line pictor::Error naming the file.
std::unique_ptr<VisionChat> loadLlavaVisionChat(
    const std::filesystem::path& modelDir, const VisionChatOptions& options = {});

void registerLlavaFamily(ModelRegistry& registry);

} // namespace pictor::llava
