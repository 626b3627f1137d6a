#include "core/text/byte_level_bpe.h"

#include <queue>

#include "core/text/unicode_text.h"

namespace pictor::text {
namespace {

// The cache holds the words of recent queries; it is cleared when full rather than tracking recency.
constexpr std::size_t kMaxCachedWords = 16384;
constexpr std::size_t kMaxCachedWordBytes = 128;

} // namespace

char32_t ByteLevelBpe::byteToUnicode(std::uint8_t byte)
{
    const auto isPrintable = [](unsigned b) {
        return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    if (isPrintable(byte))
        return byte;
    char32_t next = 0x100; // the non-printable bytes take U+0100, U+0101, ... in byte order
    for (unsigned b = 0; b < byte; ++b)
        if (!isPrintable(b))
            ++next;
    return next;
}

std::optional<std::uint8_t> ByteLevelBpe::unicodeToByte(char32_t c)
{
    static const std::unordered_map<char32_t, std::uint8_t> kBytes = [] {
        std::unordered_map<char32_t, std::uint8_t> bytes;
        for (unsigned byte = 0; byte < 256; ++byte)
            bytes.emplace(byteToUnicode(static_cast<std::uint8_t>(byte)), static_cast<std::uint8_t>(byte));
        return bytes;
    }();
    const auto it = kBytes.find(c);
    return it == kBytes.end() ? std::nullopt : std::optional<std::uint8_t>(it->second);
}

ByteLevelBpe::ByteLevelBpe(const std::vector<MergeRule>& merges, std::string_view endOfWordSuffix)
{
    for (unsigned byte = 0; byte < 256; ++byte) {
        std::string symbol;
        appendUtf8(symbol, byteToUnicode(static_cast<std::uint8_t>(byte)));
        byteSymbol_[byte] = intern(symbol);
        // Without a suffix this is the same symbol as byteSymbol_[byte].
        byteEndSymbol_[byte] = intern(symbol + std::string(endOfWordSuffix));
    }
    for (const MergeRule& rule : merges) {
        const SymbolId first = intern(rule.first);
        const SymbolId second = intern(rule.second);
        const SymbolId result = intern(rule.first + rule.second);
        merges_.insert_or_assign(pairKey(first, second), Merge {rule.rank, result});
    }
}

ByteLevelBpe::SymbolId ByteLevelBpe::intern(const std::string& text)
{
    const auto [it, inserted] = symbolIds_.try_emplace(text, static_cast<SymbolId>(symbols_.size()));
    if (inserted)
        symbols_.push_back(text);
    return it->second;
}

std::uint64_t ByteLevelBpe::pairKey(SymbolId first, SymbolId second)
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(first)) << 32)
        | static_cast<std::uint32_t>(second);
}

// CLIP's and GPT-2's bpe(): repeatedly take the lowest-ranked adjacent pair and merge all its occurrences,
// left to right, until no adjacent pair has a rank. Done with a linked list and a heap of (rank, left
// position) so that long words cost O(n log n) instead of O(n^2): all occurrences of the lowest rank are
// taken out of the heap first and merged in position order, exactly like one round of the Python loop (a
// merge cannot create another occurrence of the pair it merges, so the round is complete).
void ByteLevelBpe::mergeWord(std::vector<SymbolId>& word) const
{
    struct Node {
        SymbolId symbol;
        int prev;
        int next;
        bool alive;
    };
    using Candidate = std::pair<int, int>; // rank, index of the pair's left node
    std::vector<Node> nodes(word.size());
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> candidates;
    const auto rankedMerge = [&](int left) -> const Merge* {
        const int right = nodes[static_cast<std::size_t>(left)].next;
        if (right < 0)
            return nullptr;
        const auto it = merges_.find(pairKey(
            nodes[static_cast<std::size_t>(left)].symbol, nodes[static_cast<std::size_t>(right)].symbol));
        return it == merges_.end() ? nullptr : &it->second;
    };
    const auto pushCandidate = [&](int left) {
        if (left >= 0)
            if (const Merge* merge = rankedMerge(left))
                candidates.emplace(merge->rank, left);
    };
    const int size = static_cast<int>(word.size());
    for (int i = 0; i < size; ++i)
        nodes[static_cast<std::size_t>(i)]
            = {word[static_cast<std::size_t>(i)], i - 1, i + 1 < size ? i + 1 : -1, true};
    for (int i = 0; i + 1 < size; ++i)
        pushCandidate(i);

    std::vector<int> round;
    while (!candidates.empty()) {
        const int rank = candidates.top().first;
        round.clear();
        for (; !candidates.empty() && candidates.top().first == rank; candidates.pop())
            round.push_back(candidates.top().second); // ascending positions
        for (int left : round) {
            Node& node = nodes[static_cast<std::size_t>(left)];
            const Merge* merge = node.alive ? rankedMerge(left) : nullptr;
            if (merge == nullptr || merge->rank != rank)
                continue; // stale: a neighbour was merged since this pair was queued
            Node& right = nodes[static_cast<std::size_t>(node.next)];
            right.alive = false;
            node.symbol = merge->result;
            node.next = right.next;
            if (node.next >= 0)
                nodes[static_cast<std::size_t>(node.next)].prev = left;
            pushCandidate(node.prev);
            pushCandidate(left);
        }
    }
    word.clear();
    for (int i = 0; i >= 0; i = nodes[static_cast<std::size_t>(i)].next)
        word.push_back(nodes[static_cast<std::size_t>(i)].symbol);
}

std::vector<ByteLevelBpe::SymbolId> ByteLevelBpe::computeWord(std::string_view wordUtf8) const
{
    std::vector<SymbolId> word;
    word.reserve(wordUtf8.size());
    for (std::size_t i = 0; i < wordUtf8.size(); ++i) {
        const auto byte = static_cast<std::uint8_t>(wordUtf8[i]);
        word.push_back(i + 1 == wordUtf8.size() ? byteEndSymbol_[byte] : byteSymbol_[byte]);
    }
    mergeWord(word);
    return word;
}

void ByteLevelBpe::encodeWord(std::string_view wordUtf8, std::vector<SymbolId>& out) const
{
    if (wordUtf8.empty())
        return;
    const bool cacheable = wordUtf8.size() <= kMaxCachedWordBytes;
    if (cacheable) {
        const std::lock_guard lock(cacheMutex_);
        if (const auto it = cache_.find(wordUtf8); it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<SymbolId> word = computeWord(wordUtf8);
    out.insert(out.end(), word.begin(), word.end());
    if (cacheable) {
        const std::lock_guard lock(cacheMutex_);
        if (cache_.size() >= kMaxCachedWords)
            cache_.clear();
        cache_.try_emplace(std::string(wordUtf8), std::move(word));
    }
}

} // namespace pictor::text
