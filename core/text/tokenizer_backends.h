// The concrete tokenizers behind TextTokenizer::fromFolder (internal to pictor_text).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/text/text_tokenizer.h"

namespace pictor::text {

// Qwen2's byte-level BPE from vocab.json + merges.txt (byte_level_bpe_tokenizer.cpp).
std::unique_ptr<TextTokenizer> makeByteLevelBpeTokenizer(const std::filesystem::path& modelDir);

// Llama's SentencePiece from tokenizer.model (sentencepiece_tokenizer.cpp, or no_sentencepiece.cpp when
// the library is not available: then it throws an error saying so).
std::unique_ptr<TextTokenizer> makeSentencePieceTokenizer(const std::filesystem::path& modelDir);

// The serialized SentencePiece model with normalizer_spec.add_dummy_prefix = false (the model that
// transformers' LlamaTokenizer loads with legacy=false). Throws, naming the file, when the bytes are not
// a well-formed protobuf message (a truncated tokenizer.model).
std::string withoutDummyPrefix(std::string_view modelProto, const std::filesystem::path& file);

} // namespace pictor::text
