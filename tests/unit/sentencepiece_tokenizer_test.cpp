// Our SentencePiece model reader and BPE (core/text/sentencepiece_model.h) on crafted models: the
// protobuf wire-format reader on truncated, malformed and extended bytes, and the encoder's rules (best
// score first, leftmost on ties, user-defined pieces, byte fallback, unknown runs, the dummy prefix). The
// Llama fixture's exact cases are in text_tokenizer_test.cpp.
#include <cstring>
#include <tuple>

#include <gtest/gtest.h>

#include "core/text/sentencepiece_model.h"
#include "tests/support/error_text.h"

namespace pictor::text {
namespace {

using test::errorOf;
using Type = SentencePieceModel::PieceType;

const std::filesystem::path kFile = "crafted/tokenizer.model";

// --- A small protobuf writer ---------------------------------------------------------------------------

void varint(std::string& out, std::uint64_t value)
{
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

void key(std::string& out, int field, int wireType)
{
    varint(out, (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wireType));
}

void bytesField(std::string& out, int field, std::string_view value)
{
    key(out, field, 2);
    varint(out, value.size());
    out += value;
}

void intField(std::string& out, int field, std::int64_t value)
{
    key(out, field, 0);
    varint(out, static_cast<std::uint64_t>(value));
}

void floatField(std::string& out, int field, float value)
{
    key(out, field, 5);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>(bits >> (8 * i)));
}

std::string pieceMessage(std::string_view text, float score, Type type)
{
    std::string piece;
    bytesField(piece, 1, text);
    floatField(piece, 2, score);
    intField(piece, 3, static_cast<int>(type));
    return piece;
}

struct Options {
    bool byteFallback = true;
    bool addDummyPrefix = false;
    std::int64_t modelType = 2;
    std::string trainerExtra; // appended to the trainer spec
    std::string normalizerExtra; // appended to the normalizer spec
};

std::string bytePiece(unsigned byte)
{
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    return name;
}

constexpr int kFirstNormal = 259; // <unk>, <s>, </s>, then the 256 byte pieces

// <unk> <s> </s> <0x00>..<0xFF>, then the given pieces from id 259 on.
std::string craftedModel(
    const std::vector<std::tuple<std::string, float, Type>>& pieces, const Options& options = {})
{
    std::string model;
    bytesField(model, 1, pieceMessage("<unk>", 0, Type::Unknown));
    bytesField(model, 1, pieceMessage("<s>", 0, Type::Control));
    bytesField(model, 1, pieceMessage("</s>", 0, Type::Control));
    for (unsigned byte = 0; byte < 256; ++byte)
        bytesField(
            model, 1, pieceMessage(bytePiece(byte), 0, options.byteFallback ? Type::Byte : Type::Unused));
    for (const auto& [text, score, type] : pieces)
        bytesField(model, 1, pieceMessage(text, score, type));
    std::string trainer;
    intField(trainer, 3, options.modelType);
    intField(trainer, 35, options.byteFallback ? 1 : 0);
    trainer += options.trainerExtra;
    bytesField(model, 2, trainer);
    std::string normalizer;
    bytesField(normalizer, 1, "identity");
    intField(normalizer, 3, options.addDummyPrefix ? 1 : 0);
    intField(normalizer, 4, 0);
    intField(normalizer, 5, 1);
    normalizer += options.normalizerExtra;
    bytesField(model, 3, normalizer);
    return model;
}

SentencePieceBpe load(const std::string& bytes)
{
    return SentencePieceBpe(parseSentencePieceModel(bytes, kFile), kFile);
}

std::string loadError(const std::string& bytes)
{
    return errorOf([&] { load(bytes); });
}

template <typename Change> Options options(Change change)
{
    Options result;
    change(result);
    return result;
}

const std::string kSpace = "\xE2\x96\x81"; // ▁

// --- The wire-format reader ----------------------------------------------------------------------------

TEST(SentencePieceModel, ReadsPiecesAndSpecs)
{
    std::string trainerExtra;
    intField(trainerExtra, 40, 0);
    intField(trainerExtra, 43, -1); // int32 -1: a ten-byte varint
    const SentencePieceModel model
        = parseSentencePieceModel(craftedModel({{"ab", -1.5F, Type::Normal}},
                                      options([&](Options& o) { o.trainerExtra = trainerExtra; })),
            kFile);
    ASSERT_EQ(model.pieces.size(), 260U);
    EXPECT_EQ(model.pieces[259].text, "ab");
    EXPECT_EQ(model.pieces[259].score, -1.5F);
    EXPECT_EQ(model.pieces[0].type, Type::Unknown);
    EXPECT_EQ(model.pieces[3].type, Type::Byte);
    EXPECT_EQ(model.modelType, 2);
    EXPECT_TRUE(model.byteFallback);
    EXPECT_EQ(model.padId, -1);
    EXPECT_EQ(model.bosId, 1);
    EXPECT_EQ(model.normalizerName, "identity");
    EXPECT_FALSE(model.addDummyPrefix);
    EXPECT_FALSE(model.removeExtraWhitespaces);
    EXPECT_TRUE(model.escapeWhitespaces);
}

TEST(SentencePieceModel, SkipsUnknownFields)
{
    std::string extra;
    intField(extra, 99, 12345); // varint
    key(extra, 98, 1); // fixed64
    extra += std::string(8, '\x7F');
    bytesField(extra, 97, "ignored");
    key(extra, 96, 5); // fixed32
    extra += std::string(4, '\x01');
    std::string model = craftedModel(
        {{"ab", -1, Type::Normal}}, options([&](Options& o) { o.trainerExtra = o.normalizerExtra = extra; }));
    model += extra;
    bytesField(model, 5, "denormalizer spec, not read");
    std::string piece = pieceMessage("cd", -2, Type::Normal);
    piece += extra;
    bytesField(model, 1, piece);
    const SentencePieceBpe bpe = load(model);
    EXPECT_EQ(bpe.size(), 261);
    EXPECT_EQ(bpe.pieceId("cd"), 260);
}

TEST(SentencePieceModel, EveryTruncationIsAnErrorNamingTheFile)
{
    const std::string model = craftedModel({{"ab", -1, Type::Normal}});
    for (std::size_t size = 0; size < model.size(); ++size) {
        const std::string error = errorOf([&] { parseSentencePieceModel(model.substr(0, size), kFile); });
        ASSERT_NE(error.find("crafted/tokenizer.model: not a valid SentencePiece model"), std::string::npos)
            << size << ": " << error;
    }
    EXPECT_NO_THROW(parseSentencePieceModel(model, kFile));
}

TEST(SentencePieceModel, MalformedBytesAreErrorsSayingWhat)
{
    const std::string valid = craftedModel({});
    const auto errorFor
        = [](const std::string& bytes) { return errorOf([&] { parseSentencePieceModel(bytes, kFile); }); };
    std::string group = valid;
    key(group, 7, 3); // a start-group wire type
    EXPECT_NE(errorFor(group).find("wire type 3 for field 7"), std::string::npos) << errorFor(group);

    EXPECT_NE(errorFor(valid + std::string(1, '\0')).find("a field number out of range"), std::string::npos);
    EXPECT_NE(
        errorFor(valid + std::string(11, '\xFF')).find("a number longer than 10 bytes"), std::string::npos);

    std::string pastEnd = valid;
    key(pastEnd, 1, 2);
    varint(pastEnd, 1000);
    pastEnd += "short";
    EXPECT_NE(errorFor(pastEnd).find("field 1 running past the end"), std::string::npos) << errorFor(pastEnd);

    std::string fixedCut = valid;
    key(fixedCut, 9, 1);
    fixedCut += "abc";
    EXPECT_NE(errorFor(fixedCut).find("a fixed-size value cut off"), std::string::npos) << errorFor(fixedCut);

    std::string wrongType = valid;
    std::string piece;
    bytesField(piece, 1, "x");
    intField(piece, 2, 3); // score as a varint
    bytesField(wrongType, 1, piece);
    EXPECT_NE(
        errorFor(wrongType).find("a piece has field 2 with wire type 0 instead of 5"), std::string::npos)
        << errorFor(wrongType);

    std::string badType = valid;
    bytesField(badType, 1, pieceMessage("x", 0, static_cast<Type>(9)));
    EXPECT_NE(errorFor(badType).find("piece 'x' has type 9"), std::string::npos) << errorFor(badType);

    std::string onlyPieces;
    bytesField(onlyPieces, 1, pieceMessage("<unk>", 0, Type::Unknown));
    EXPECT_NE(errorFor(onlyPieces).find("no trainer_spec"), std::string::npos) << errorFor(onlyPieces);
}

TEST(SentencePieceModel, RefusesWhatItDoesNotImplement)
{
    std::string error = loadError(craftedModel({}, options([](Options& o) { o.modelType = 1; })));
    EXPECT_NE(
        error.find("crafted/tokenizer.model: the SentencePiece model type is 1 (UNIGRAM); only BPE (2)"),
        std::string::npos)
        << error;
    std::string charsMap;
    bytesField(charsMap, 2, "\x01\x02\x03");
    error = loadError(craftedModel({}, options([&](Options& o) { o.normalizerExtra = charsMap; })));
    EXPECT_NE(error.find("normalizer 'identity' has a precompiled character map"), std::string::npos)
        << error;

    error = loadError(craftedModel({{"a", 0, Type::Normal}, {"a", 0, Type::UserDefined}}));
    EXPECT_NE(error.find("piece 'a' is defined twice"), std::string::npos) << error;

    std::string noUnk;
    bytesField(noUnk, 1, pieceMessage("a", 0, Type::Normal));
    std::string trainer;
    intField(trainer, 3, 2);
    bytesField(noUnk, 2, trainer);
    bytesField(noUnk, 3, "");
    error = loadError(noUnk);
    EXPECT_NE(error.find("no unknown piece"), std::string::npos) << error;

    // Byte fallback without all 256 byte pieces.
    std::string missingByte;
    bytesField(missingByte, 1, pieceMessage("<unk>", 0, Type::Unknown));
    bytesField(missingByte, 1, pieceMessage("<0x00>", 0, Type::Byte));
    std::string fallback;
    intField(fallback, 3, 2);
    intField(fallback, 35, 1);
    bytesField(missingByte, 2, fallback);
    bytesField(missingByte, 3, "");
    error = loadError(missingByte);
    EXPECT_NE(error.find("byte_fallback but no piece <0x01>"), std::string::npos) << error;
}

// --- Encoding and decoding -----------------------------------------------------------------------------

TEST(SentencePieceBpe, BestScoreMergesFirstAndTiesGoLeftmost)
{
    const std::vector<std::tuple<std::string, float, Type>> base
        = {{"a", -1, Type::Normal}, {"b", -1, Type::Normal}, {"c", -1, Type::Normal}};
    const int a = kFirstNormal, c = a + 2, ab = a + 3, bc = a + 4;

    auto pieces = base;
    pieces.emplace_back("ab", -2, Type::Normal);
    pieces.emplace_back("bc", -2, Type::Normal);
    EXPECT_EQ(load(craftedModel(pieces)).encode("abc"), (std::vector<int> {ab, c})); // equal: leftmost
    EXPECT_EQ(load(craftedModel(pieces)).encode("abcbc"), (std::vector<int> {ab, c, bc}));

    pieces = base;
    pieces.emplace_back("ab", -2, Type::Normal);
    pieces.emplace_back("bc", -1.5F, Type::Normal);
    EXPECT_EQ(load(craftedModel(pieces)).encode("abc"), (std::vector<int> {a, bc})); // the better score

    pieces.emplace_back("abc", -9, Type::Normal); // a low score, but "a" + "bc" is the only pair left
    EXPECT_EQ(load(craftedModel(pieces)).encode("abc"), (std::vector<int> {a + 5}));
}

TEST(SentencePieceBpe, ByteFallbackAndUnknownRuns)
{
    const std::vector<std::tuple<std::string, float, Type>> pieces = {{"a", -1, Type::Normal}};
    const SentencePieceBpe withBytes = load(craftedModel(pieces));
    // "é" is C3 A9; an ill-formed byte becomes U+FFFD (EF BF BD) first.
    EXPECT_EQ(withBytes.encode("a\xC3\xA9"), (std::vector<int> {kFirstNormal, 3 + 0xC3, 3 + 0xA9}));
    EXPECT_EQ(withBytes.encode("\xFF"), (std::vector<int> {3 + 0xEF, 3 + 0xBF, 3 + 0xBD}));
    EXPECT_EQ(withBytes.decode(withBytes.encode("a\xC3\xA9")), "a\xC3\xA9");
    const std::vector<int> cutOff = {3 + 0xC3};
    EXPECT_EQ(withBytes.decode(cutOff), "\xEF\xBF\xBD");

    const SentencePieceBpe withoutBytes
        = load(craftedModel(pieces, options([](Options& o) { o.byteFallback = false; })));
    EXPECT_EQ(withoutBytes.encode("a\xC3\xA9\xC3\xA9"
                                  "a\xC3\xA9"),
        (std::vector<int> {kFirstNormal, 0, kFirstNormal, 0}));
    EXPECT_EQ(withoutBytes.decode(std::vector<int> {kFirstNormal, 0}), "a \xE2\x81\x87 ");
}

TEST(SentencePieceBpe, UserDefinedPiecesAreMatchedFirstAndNeverMerged)
{
    const SentencePieceBpe bpe = load(
        craftedModel({{"a", -1, Type::Normal}, {"b", -1, Type::Normal}, {"<sep>", 0, Type::UserDefined},
            {"<sep>x", 0, Type::UserDefined}, {"b<", 5, Type::Normal}, {"ab", -2, Type::Normal}}));
    const int a = kFirstNormal, sep = a + 2, sepx = a + 3, ab = a + 5;
    EXPECT_EQ(bpe.encode("ab<sep>a"), (std::vector<int> {ab, sep, a})); // "b<" would score better
    EXPECT_EQ(bpe.encode("<sep>x<sep>"), (std::vector<int> {sepx, sep})); // longest first
    std::vector<int> partial = {3 + '<', 3 + 's', 3 + 'e'};
    EXPECT_EQ(bpe.encode("<se"), partial);
    EXPECT_EQ(bpe.decode(bpe.encode("ab<sep>a")), "ab<sep>a");
}

TEST(SentencePieceBpe, DummyPrefixAndSpaces)
{
    const std::vector<std::tuple<std::string, float, Type>> pieces = {{kSpace, -1, Type::Normal},
        {"a", -1, Type::Normal}, {"b", -1, Type::Normal}, {kSpace + "a", -2, Type::Normal}};
    const int space = kFirstNormal, a = space + 1, b = space + 2, spaceA = space + 3;
    const SentencePieceBpe bpe
        = load(craftedModel(pieces, options([](Options& o) { o.addDummyPrefix = true; })));
    EXPECT_EQ(bpe.encode("a b"), (std::vector<int> {spaceA, space, b}));
    EXPECT_EQ(bpe.encode("a b", false), (std::vector<int> {a, space, b}));
    EXPECT_TRUE(bpe.encode("").empty());
    EXPECT_EQ(bpe.decode(std::vector<int> {spaceA, space, b}), "a b"); // the dummy prefix goes
    EXPECT_EQ(bpe.decode(std::vector<int> {spaceA, space, b}, false), " a b");
    EXPECT_EQ(bpe.decode(std::vector<int> {1, space, spaceA}), " a"); // only the first "▁" goes
    EXPECT_EQ(bpe.decode(std::vector<int> {3 + 'x', spaceA}), "x a"); // text before it: nothing goes
    EXPECT_EQ(bpe.bosId(), 1);
    EXPECT_EQ(bpe.eosId(), 2);
    EXPECT_EQ(bpe.pieceId("<0x41>"), 3 + 0x41);
    EXPECT_EQ(bpe.pieceId("zz"), std::nullopt);
}

} // namespace
} // namespace pictor::text
