// A SentencePiece model (tokenizer.model, a serialized sentencepiece ModelProto) and the BPE encoder and
// decoder of sentencepiece's bpe_model.cc / SentencePieceProcessor, written for what Llama's model uses:
// the BPE model type, byte fallback, user-defined pieces and the "identity" normalizer (no precompiled
// character map). Internal to pictor_text; sentencepiece_tokenizer.cpp puts Hugging Face's rules on top.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pictor::text {

// The fields of sentencepiece_model.proto that encoding and decoding read (defaults as the .proto says).
struct SentencePieceModel {
    enum class PieceType : std::uint8_t {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6
    };
    struct Piece {
        std::string text;
        float score = 0.0F;
        PieceType type = PieceType::Normal;
    };
    std::vector<Piece> pieces; // ModelProto.pieces (1), in id order

    // TrainerSpec (2)
    bool hasTrainerSpec = false;
    std::int64_t modelType = 1; // 3: UNIGRAM=1 BPE=2 WORD=3 CHAR=4
    bool treatWhitespaceAsSuffix = false; // 24
    bool byteFallback = false; // 35
    std::int32_t unkId = 0, bosId = 1, eosId = 2, padId = -1; // 40..43
    std::string unkSurface = " \xE2\x81\x87 "; // 44: what decode writes for <unk>

    // NormalizerSpec (3)
    bool hasNormalizerSpec = false;
    std::string normalizerName; // 1
    bool hasCharsMap = false; // 2: precompiled_charsmap is not empty
    bool addDummyPrefix = true; // 3
    bool removeExtraWhitespaces = true; // 4
    bool escapeWhitespaces = true; // 5
};

// Parses the wire format with every length and offset bounded by the bytes that are left; unknown fields
// are skipped. A truncated or malformed file is an error naming it ("not a valid SentencePiece model").
SentencePieceModel parseSentencePieceModel(std::string_view bytes, const std::filesystem::path& file);

// sentencepiece's BPE model and processor on a parsed model. Refuses (naming the file) what it does not
// implement: another model type, a precompiled normalisation map, whitespace as a suffix.
class SentencePieceBpe {
public:
    SentencePieceBpe(SentencePieceModel model, const std::filesystem::path& file);
    // The piece maps hold views into model_'s strings: a move keeps them, a copy would not.
    SentencePieceBpe(SentencePieceBpe&&) = default;
    SentencePieceBpe& operator=(SentencePieceBpe&&) = default;
    SentencePieceBpe(const SentencePieceBpe&) = delete;
    SentencePieceBpe& operator=(const SentencePieceBpe&) = delete;

    // SentencePieceProcessor::Encode: normalise (the dummy prefix only when the model asks for it and
    // dummyPrefix is true), split into characters and user-defined pieces, merge the best-scoring pair
    // until none is in the vocabulary; unknown symbols become <0xNN> pieces with byte fallback, else unk.
    std::vector<int> encode(std::string_view text, bool dummyPrefix = true) const;
    // SentencePieceProcessor::Decode of in-range ids. atTextStart: the run starts the text, so the first
    // piece loses its "▁" when the model adds a dummy prefix.
    std::string decode(std::span<const int> ids, bool atTextStart = true) const;

    int size() const { return static_cast<int>(model_.pieces.size()); }
    const std::string& piece(int id) const { return model_.pieces[static_cast<std::size_t>(id)].text; }
    std::optional<int> pieceId(std::string_view piece) const; // exact piece, no unk fallback
    std::optional<int> bosId() const { return controlId(model_.bosId); }
    std::optional<int> eosId() const { return controlId(model_.eosId); }
    const SentencePieceModel& model() const { return model_; }

private:
    struct TrieNode {
        std::vector<std::pair<unsigned char, int>> children; // sorted by byte
        bool terminal = false;
    };

    std::optional<int> controlId(std::int32_t id) const;
    SentencePieceModel::PieceType type(int id) const
    {
        return model_.pieces[static_cast<std::size_t>(id)].type;
    }
    std::size_t userDefinedPrefix(std::string_view text) const; // longest user-defined piece, else 0
    std::string normalize(std::string_view text, bool dummyPrefix) const;
    int idOrUnk(std::string_view piece) const;

    SentencePieceModel model_;
    std::unordered_map<std::string_view, int> mergeable_; // normal, user-defined and unused pieces
    std::unordered_map<std::string_view, int> reserved_; // control, unknown and byte pieces
    std::vector<TrieNode> userDefined_; // a trie; [0] is the root
    int byteIds_[256] = {};
    int unkId_ = -1;
};

} // namespace pictor::text
