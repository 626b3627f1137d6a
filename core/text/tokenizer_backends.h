// The concrete tokenizers behind TextTokenizer::fromFolder (internal to pictor_text).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/text/text_tokenizer.h"

namespace pictor::text {

// Qwen2's byte-level BPE from vocab.json + merges.txt (byte_level_bpe_tokenizer.cpp).
std::unique_ptr<TextTokenizer> makeByteLevelBpeTokenizer(const std::filesystem::path& modelDir);

// Llama's SentencePiece BPE from tokenizer.model (sentencepiece_tokenizer.cpp, on sentencepiece_model.h).
std::unique_ptr<TextTokenizer> makeSentencePieceTokenizer(const std::filesystem::path& modelDir);

} // namespace pictor::text
