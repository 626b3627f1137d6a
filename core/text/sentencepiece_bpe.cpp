// SentencePiece's BPE model (the algorithm of sentencepiece's bpe_model.cc and the normaliser / decoder of
// sentencepiece_processor.cc, version 0.1.97, reimplemented): a linked list of symbols and a priority queue
// of adjacent pairs whose concatenation is a piece, best score first and leftmost on ties. A queued pair
// is stale once either side has merged into something else, which its recorded length detects.
#include <algorithm>
#include <array>
#include <queue>

#include "core/error.h"
#include "core/text/sentencepiece_model.h"

namespace pictor::text {
namespace {

using PieceType = SentencePieceModel::PieceType;

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81"; // U+2581 "▁"
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD"; // U+FFFD

std::string_view modelTypeName(std::int64_t type)
{
    switch (type) {
    case 1:
        return "UNIGRAM";
    case 2:
        return "BPE";
    case 3:
        return "WORD";
    case 4:
        return "CHAR";
    default:
        return "unknown";
    }
}

std::string bytePieceName(unsigned byte)
{
    constexpr std::string_view kHex = "0123456789ABCDEF";
    return std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + '>';
}

bool isTrail(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

// The length of the well-formed UTF-8 character at the start of text (shortest form, no surrogates, at
// most U+10FFFF), or 0 when it is not one: sentencepiece's DecodeUTF8 rules.
std::size_t validCharLength(std::string_view text)
{
    const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = at(0);
    if (lead < 0x80)
        return 1;
    char32_t cp = 0;
    std::size_t length = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
    } else {
        return 0;
    }
    if (text.size() < length)
        return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if (!isTrail(at(i)))
            return 0;
        cp = (cp << 6) | (at(i) & 0x3F);
    }
    constexpr std::array<char32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF)
        return 0;
    return length;
}

// sentencepiece's OneCharLen: the length its lead byte announces, cut at the end of the text.
std::size_t oneCharLength(std::string_view text)
{
    constexpr std::array<std::uint8_t, 16> kLength = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return std::min<std::size_t>(kLength[static_cast<unsigned char>(text[0]) >> 4], text.size());
}

struct Symbol {
    std::string_view text; // a view into the normalised text; empty once merged into its left neighbour
    int prev = -1;
    int next = -1;
    bool frozen = false; // a user-defined piece: never merged
};

struct Pair {
    float score = 0.0F;
    int left = 0;
    int right = 0;
    std::size_t length = 0; // bytes of the merged piece when the pair was queued

    // Lower priority: a lower score, or the same score further right.
    bool operator<(const Pair& other) const
    {
        return score < other.score || (score == other.score && left > other.left);
    }
};

} // namespace

SentencePieceBpe::SentencePieceBpe(SentencePieceModel model, const std::filesystem::path& file)
    : model_(std::move(model))
{
    const std::string name = file.string();
    PICTOR_CHECK(model_.modelType == 2, name, ": the SentencePiece model type is ", model_.modelType, " (",
        modelTypeName(model_.modelType), "); only BPE (2), what Llama uses, is supported");
    PICTOR_CHECK(!model_.hasCharsMap, name, ": the SentencePiece normalizer '", model_.normalizerName,
        "' has a precompiled character map; only the identity normalizer (Llama's) is supported");
    PICTOR_CHECK(!model_.treatWhitespaceAsSuffix, name,
        ": SentencePiece models with treat_whitespace_as_suffix are not supported");
    std::fill(std::begin(byteIds_), std::end(byteIds_), -1);
    userDefined_.emplace_back();
    for (std::size_t i = 0; i < model_.pieces.size(); ++i) {
        const auto& piece = model_.pieces[i];
        const int id = static_cast<int>(i);
        PICTOR_CHECK(!piece.text.empty(), name, ": SentencePiece piece ", id, " is empty");
        const bool mergeable = piece.type == PieceType::Normal || piece.type == PieceType::UserDefined
            || piece.type == PieceType::Unused;
        const bool fresh = !mergeable_.contains(piece.text) && !reserved_.contains(piece.text);
        PICTOR_CHECK(fresh, name, ": SentencePiece piece '", piece.text, "' is defined twice");
        (mergeable ? mergeable_ : reserved_).emplace(piece.text, id);
        if (piece.type == PieceType::Unknown)
            unkId_ = id;
        if (piece.type == PieceType::Byte) {
            PICTOR_CHECK(model_.byteFallback, name, ": byte piece '", piece.text,
                "' in a SentencePiece model without byte_fallback");
            unsigned value = 256;
            for (unsigned b = 0; b < 256 && value == 256; ++b)
                if (piece.text == bytePieceName(b))
                    value = b;
            PICTOR_CHECK(value < 256, name, ": byte piece '", piece.text, "' is not of the form <0xNN>");
            byteIds_[value] = id;
        }
        if (piece.type == PieceType::UserDefined) {
            int node = 0;
            for (const char c : piece.text) {
                const auto byte = static_cast<unsigned char>(c);
                auto& children = userDefined_[static_cast<std::size_t>(node)].children;
                const auto it = std::lower_bound(children.begin(), children.end(), std::pair(byte, 0),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
                if (it != children.end() && it->first == byte) {
                    node = it->second;
                } else {
                    const int child = static_cast<int>(userDefined_.size());
                    children.insert(it, {byte, child});
                    userDefined_.emplace_back();
                    node = child;
                }
            }
            userDefined_[static_cast<std::size_t>(node)].terminal = true;
        }
    }
    PICTOR_CHECK(unkId_ >= 0, name, ": the SentencePiece model has no unknown piece (<unk>)");
    if (model_.byteFallback)
        for (unsigned b = 0; b < 256; ++b)
            PICTOR_CHECK(byteIds_[b] >= 0, name, ": the SentencePiece model has byte_fallback but no piece ",
                bytePieceName(b));
}

std::optional<int> SentencePieceBpe::controlId(std::int32_t id) const
{
    if (id >= 0 && id < size() && type(id) == PieceType::Control)
        return id;
    return std::nullopt;
}

std::optional<int> SentencePieceBpe::pieceId(std::string_view piece) const
{
    if (const auto it = reserved_.find(piece); it != reserved_.end())
        return it->second;
    if (const auto it = mergeable_.find(piece); it != mergeable_.end())
        return it->second;
    return std::nullopt;
}

int SentencePieceBpe::idOrUnk(std::string_view piece) const
{
    return pieceId(piece).value_or(unkId_);
}

std::size_t SentencePieceBpe::userDefinedPrefix(std::string_view text) const
{
    std::size_t longest = 0;
    int node = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto& children = userDefined_[static_cast<std::size_t>(node)].children;
        const auto byte = static_cast<unsigned char>(text[i]);
        const auto it = std::lower_bound(children.begin(), children.end(), std::pair(byte, 0),
            [](const auto& a, const auto& b) { return a.first < b.first; });
        if (it == children.end() || it->first != byte)
            break;
        node = it->second;
        if (userDefined_[static_cast<std::size_t>(node)].terminal)
            longest = i + 1;
    }
    return longest;
}

// The normaliser with no character map: user-defined pieces are kept as they are, ill-formed UTF-8
// becomes U+FFFD byte by byte, spaces become "▁"; the dummy prefix and the removal of extra white space
// as the spec says.
std::string SentencePieceBpe::normalize(std::string_view text, bool dummyPrefix) const
{
    const bool removeExtra = model_.removeExtraWhitespaces;
    const auto prefix = [&](std::string_view input) -> std::pair<std::string_view, std::size_t> {
        if (const std::size_t matched = userDefinedPrefix(input); matched > 0)
            return {input.substr(0, matched), matched};
        if (const std::size_t length = validCharLength(input); length > 0)
            return {input.substr(0, length), length};
        return {kReplacementCharacter, 1};
    };
    if (removeExtra)
        while (!text.empty() && prefix(text).first == " ")
            text.remove_prefix(1);
    std::string out;
    if (text.empty())
        return out;
    const std::string_view space = model_.escapeWhitespaces ? kSpaceSymbol : " ";
    if (dummyPrefix && model_.addDummyPrefix)
        out += space;
    bool previousSpace = removeExtra;
    while (!text.empty()) {
        auto [piece, consumed] = prefix(text);
        if (previousSpace)
            while (piece.starts_with(' '))
                piece.remove_prefix(1);
        if (!piece.empty()) {
            for (const char c : piece) {
                if (c == ' ')
                    out += space;
                else
                    out += c;
            }
            previousSpace = piece.ends_with(' ');
        }
        text.remove_prefix(consumed);
        if (!removeExtra)
            previousSpace = false;
    }
    if (removeExtra)
        while (out.ends_with(space))
            out.resize(out.size() - space.size());
    return out;
}

std::vector<int> SentencePieceBpe::encode(std::string_view text, bool dummyPrefix) const
{
    const std::string normalized = normalize(text, dummyPrefix);
    std::vector<int> ids;
    if (normalized.empty())
        return ids;

    std::vector<Symbol> symbols;
    for (std::string_view rest = normalized; !rest.empty();) {
        const std::size_t matched = userDefinedPrefix(rest);
        const std::size_t length = matched > 0 ? matched : oneCharLength(rest);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({rest.substr(0, length), index - 1, -1, matched > 0});
        rest.remove_prefix(length);
        if (!rest.empty())
            symbols.back().next = index + 1;
    }

    std::priority_queue<Pair> agenda;
    // Unused pieces may be formed but are not output: they are split back into the pair that made them.
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> unmerge;
    const auto queuePair = [&](int left, int right) {
        if (left < 0 || right < 0)
            return;
        const Symbol& a = symbols[static_cast<std::size_t>(left)];
        const Symbol& b = symbols[static_cast<std::size_t>(right)];
        if (a.frozen || b.frozen)
            return;
        const std::string_view merged(a.text.data(), a.text.size() + b.text.size());
        const auto it = mergeable_.find(merged);
        if (it == mergeable_.end())
            return;
        agenda.push({model_.pieces[static_cast<std::size_t>(it->second)].score, left, right, merged.size()});
        if (type(it->second) == PieceType::Unused)
            unmerge[merged] = {a.text, b.text};
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
        queuePair(static_cast<int>(i) - 1, static_cast<int>(i));

    while (!agenda.empty()) {
        const Pair top = agenda.top();
        agenda.pop();
        Symbol& left = symbols[static_cast<std::size_t>(top.left)];
        Symbol& right = symbols[static_cast<std::size_t>(top.right)];
        if (left.text.empty() || right.text.empty() || left.text.size() + right.text.size() != top.length)
            continue;
        left.text = std::string_view(left.text.data(), top.length);
        left.next = right.next;
        if (right.next >= 0)
            symbols[static_cast<std::size_t>(right.next)].prev = top.left;
        right.text = {};
        queuePair(left.prev, top.left);
        queuePair(top.left, left.next);
    }

    std::vector<std::string_view> stack;
    bool previousUnknown = false;
    for (int index = 0; index >= 0; index = symbols[static_cast<std::size_t>(index)].next) {
        stack.push_back(symbols[static_cast<std::size_t>(index)].text);
        while (!stack.empty()) {
            const std::string_view piece = stack.back();
            stack.pop_back();
            const int id = idOrUnk(piece);
            if (type(id) == PieceType::Unused) {
                if (const auto it = unmerge.find(piece); it != unmerge.end()) {
                    stack.push_back(it->second.second);
                    stack.push_back(it->second.first);
                    continue;
                }
            }
            if (type(id) == PieceType::Unknown && model_.byteFallback) {
                for (const char c : piece)
                    ids.push_back(byteIds_[static_cast<unsigned char>(c)]);
            } else if (type(id) != PieceType::Unknown || !previousUnknown) {
                ids.push_back(id); // without byte fallback a run of unknown symbols is one <unk>
            }
            previousUnknown = type(id) == PieceType::Unknown;
        }
    }
    return ids;
}

std::string SentencePieceBpe::decode(std::span<const int> ids, bool atTextStart) const
{
    std::string out;
    // Only the first piece with text loses the "▁" of the dummy prefix; control pieces do not count, and
    // after byte pieces or any text nothing is removed.
    bool atStart = atTextStart ? model_.addDummyPrefix || model_.removeExtraWhitespaces
                               : model_.removeExtraWhitespaces;
    std::string bytes;
    const auto flushBytes = [&] {
        if (!bytes.empty())
            atStart = false;
        for (std::string_view rest = bytes; !rest.empty();) {
            const std::size_t length = validCharLength(rest);
            out += length > 0 ? rest.substr(0, length) : kReplacementCharacter;
            rest.remove_prefix(std::max<std::size_t>(length, 1));
        }
        bytes.clear();
    };
    for (const int id : ids) {
        const auto& piece = model_.pieces[static_cast<std::size_t>(id)];
        if (piece.type == PieceType::Byte) {
            bytes.push_back(static_cast<char>(
                std::find(std::begin(byteIds_), std::end(byteIds_), id) - std::begin(byteIds_)));
            continue;
        }
        flushBytes();
        std::string surface;
        if (piece.type == PieceType::Control) {
            // invisible
        } else if (piece.type == PieceType::Unknown) {
            surface = model_.unkSurface;
        } else {
            std::string_view text = piece.text;
            if (atStart && text.starts_with(kSpaceSymbol)) {
                text.remove_prefix(kSpaceSymbol.size());
                atStart = false;
            }
            for (std::size_t pos = 0; pos < text.size();) {
                if (text.substr(pos).starts_with(kSpaceSymbol)) {
                    surface += ' ';
                    pos += kSpaceSymbol.size();
                } else {
                    surface += text[pos++];
                }
            }
        }
        if (!surface.empty())
            atStart = false;
        out += surface;
    }
    flushBytes();
    return out;
}

} // namespace pictor::text
