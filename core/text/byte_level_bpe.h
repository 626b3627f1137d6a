// Byte-level BPE as in GPT-2 / CLIP / Qwen2: a word's UTF-8 bytes become printable "byte characters"
// (bytes_to_unicode), an optional suffix marks the end of the word (CLIP's "</w>"; none for GPT-2 and
// Qwen2), and merges apply by rank. The merge loop is shared by the CLIP and the Qwen2 tokenizers.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pictor::text {

struct MergeRule {
    std::string first; // byte-character strings, as written in merges.txt
    std::string second;
    int rank = 0; // lower merges first; a repeated pair keeps its last rank (Python dict semantics)
};

class ByteLevelBpe {
public:
    using SymbolId = std::int32_t;

    // endOfWordSuffix is appended to the last byte symbol of each word ("</w>" for CLIP, "" for GPT-2).
    ByteLevelBpe(const std::vector<MergeRule>& merges, std::string_view endOfWordSuffix);

    // Appends the symbols of one pre-tokenized word, given as UTF-8 bytes (at least one byte).
    // Thread-safe; results of short words are cached (bounded).
    void encodeWord(std::string_view wordUtf8, std::vector<SymbolId>& out) const;

    // Every string a word can turn into: the 512 initial byte symbols and all merge results.
    std::size_t symbolCount() const { return symbols_.size(); }
    const std::string& symbolText(SymbolId id) const { return symbols_[static_cast<std::size_t>(id)]; }

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the others to U+0100 upwards.
    static char32_t byteToUnicode(std::uint8_t byte);
    // The inverse: the byte a "byte character" stands for, or nothing for other characters.
    static std::optional<std::uint8_t> unicodeToByte(char32_t c);

private:
    // Lets the cache be searched with a string_view, without building a std::string per word.
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view> {}(text); }
    };
    struct Merge {
        int rank;
        SymbolId result;
    };

    SymbolId intern(const std::string& text);
    static std::uint64_t pairKey(SymbolId first, SymbolId second);
    void mergeWord(std::vector<SymbolId>& word) const;
    std::vector<SymbolId> computeWord(std::string_view wordUtf8) const;

    std::vector<std::string> symbols_;
    std::unordered_map<std::string, SymbolId> symbolIds_;
    std::unordered_map<std::uint64_t, Merge> merges_;
    std::array<SymbolId, 256> byteSymbol_ {}; // the byte inside a word
    std::array<SymbolId, 256> byteEndSymbol_ {}; // the byte ending a word ("x</w>")

    mutable std::mutex cacheMutex_;
    mutable std::unordered_map<std::string, std::vector<SymbolId>, StringHash, std::equal_to<>> cache_;
};

} // namespace pictor::text
