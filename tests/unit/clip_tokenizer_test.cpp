// The CLIP tokenizer against Hugging Face's slow CLIPTokenizer (with ftfy): the 40 golden texts of
// clip-tiny-a must give exactly the same 77 ids and attention mask. Also the edge cases around them
// (literal special tokens, truncation, empty and invalid input, broken model folders) and the pieces
// of the text cleanup, checked against ftfy's and Python's documented behaviour.
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "core/text/clip_pretokenizer.h"
#include "core/text/clip_tokenizer.h"
#include "core/text/html_entities.h"
#include "core/text/text_cleanup.h"
#include "core/text/unicode_text.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kStartOfText = 49406;
constexpr std::int64_t kEndOfText = 49407;

fs::path modelDir()
{
    return test::fixtureDir("clip-tiny-a");
}

const ClipTokenizer& fixtureTokenizer()
{
    static const std::unique_ptr<ClipTokenizer> tokenizer = ClipTokenizer::fromFolder(modelDir());
    return *tokenizer;
}

struct GoldenCase {
    std::string text;
    std::vector<std::int64_t> inputIds;
    std::vector<std::int64_t> attentionMask;
    std::vector<std::string> tokens; // BOS and EOS included
    int numTokens = 0;
};

std::vector<GoldenCase> goldenCases()
{
    const auto texts = readJsonFile(modelDir() / "cases" / "texts.json");
    const auto expected = readJsonFile(modelDir() / "cases" / "expected_tokens.json").at("cases");
    EXPECT_EQ(texts.size(), expected.size());
    std::vector<GoldenCase> cases;
    for (std::size_t i = 0; i < texts.size() && i < expected.size(); ++i) {
        const auto& entry = expected[i];
        EXPECT_EQ(entry.at("text").get<std::string>(), texts[i].get<std::string>());
        cases.push_back(
            {texts[i].get<std::string>(), entry.at("hf_input_ids").get<std::vector<std::int64_t>>(),
                entry.at("hf_attention_mask").get<std::vector<std::int64_t>>(),
                entry.at("hf_tokens").get<std::vector<std::string>>(), entry.at("num_tokens").get<int>()});
    }
    return cases;
}

std::string joined(const std::vector<std::int64_t>& ids)
{
    std::ostringstream out;
    for (std::size_t i = 0; i < ids.size(); ++i)
        out << (i ? " " : "") << ids[i];
    return out.str();
}

using test::errorOf;

void writeFile(const fs::path& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A scratch model folder holding the fixture's vocab.json and merges.txt, plus what the test adds.
fs::path folderWithFixtureBpeFiles(const std::string& tag)
{
    const fs::path dir = test::scratchDir(tag);
    fs::copy_file(modelDir() / "vocab.json", dir / "vocab.json");
    fs::copy_file(modelDir() / "merges.txt", dir / "merges.txt");
    return dir;
}

std::vector<std::string> concatenated(const std::vector<std::vector<std::string>>& parts)
{
    std::vector<std::string> out;
    for (const auto& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

std::vector<std::int64_t> idsBeforePadding(const TokenizedText& tokens)
{
    return {tokens.inputIds.begin(), tokens.inputIds.begin() + tokens.numTokens};
}

// --- Golden data --------------------------------------------------------------------------------------

TEST(ClipTokenizer, ReadsTheFixtureConfiguration)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    EXPECT_EQ(tokenizer.contextLength(), 77);
    EXPECT_EQ(tokenizer.vocabSize(), 49408);
    EXPECT_EQ(tokenizer.bosId(), kStartOfText);
    EXPECT_EQ(tokenizer.eosId(), kEndOfText);
    EXPECT_EQ(tokenizer.padId(), kEndOfText);
}

TEST(ClipTokenizer, MatchesHuggingFaceOnEveryGoldenText)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    const std::vector<GoldenCase> cases = goldenCases();
    ASSERT_EQ(cases.size(), 40u);
    int exact = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const GoldenCase& golden = cases[i];
        const TokenizedText actual = tokenizer.encode(golden.text);
        const bool sameIds = actual.inputIds == golden.inputIds;
        const bool sameMask = actual.attentionMask == golden.attentionMask;
        exact += sameIds && sameMask ? 1 : 0;
        EXPECT_TRUE(sameIds) << "text " << i << " " << nlohmann::json(golden.text).dump()
                             << "\n  expected: " << joined(golden.inputIds)
                             << "\n  actual:   " << joined(actual.inputIds);
        EXPECT_TRUE(sameMask) << "text " << i
                              << " attention mask\n  expected: " << joined(golden.attentionMask)
                              << "\n  actual:   " << joined(actual.attentionMask);
        EXPECT_EQ(actual.numTokens, golden.numTokens) << "text " << i;
    }
    EXPECT_EQ(exact, 40) << exact << " of 40 golden texts tokenized exactly";
}

TEST(ClipTokenizer, TokenStringsMatchHuggingFace)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    for (const GoldenCase& golden : goldenCases()) {
        const std::vector<std::string> expected(golden.tokens.begin() + 1, golden.tokens.end() - 1);
        std::vector<std::string> actual = tokenizer.tokenize(golden.text);
        actual.resize(std::min(actual.size(), expected.size())); // the golden strings are truncated
        EXPECT_EQ(actual, expected) << nlohmann::json(golden.text).dump();
    }
}

// --- Special tokens, truncation, empty input -----------------------------------------------------------

TEST(ClipTokenizer, LiteralSpecialTokensBecomeSpecialIds)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    const TokenizedText tokens = tokenizer.encode("<|startoftext|> literal special tokens <|endoftext|>");
    ASSERT_EQ(tokens.numTokens, 7);
    EXPECT_EQ(tokens.inputIds[0], kStartOfText);
    EXPECT_EQ(tokens.inputIds[1], kStartOfText);
    EXPECT_EQ(tokens.inputIds[5], kEndOfText);
    EXPECT_EQ(tokens.inputIds[6], kEndOfText);
    EXPECT_EQ(tokenizer.tokenize("<|startoftext|> literal special tokens <|endoftext|>"),
        (std::vector<std::string> {
            "<|startoftext|>", "literal</w>", "special</w>", "tokens</w>", "<|endoftext|>"}));
}

TEST(ClipTokenizer, SpecialTokensInOtherCaseGoThroughThePattern)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    // Not an added token (those match case-sensitively), but lower-cased it is the pattern's first
    // alternative, and CLIP's BPE cache maps it to itself.
    EXPECT_EQ(tokenizer.tokenize("a <|EndOfText|> b"),
        (std::vector<std::string> {"a</w>", "<|endoftext|>", "b</w>"}));
    EXPECT_EQ(idsBeforePadding(tokenizer.encode("<|EndOfText|>")),
        (std::vector<std::int64_t> {kStartOfText, kEndOfText, kEndOfText}));
    // Glued to punctuation, the exact spelling is still cut out first; another spelling is not.
    EXPECT_EQ(tokenizer.tokenize("!<|endoftext|>"), (std::vector<std::string> {"!</w>", "<|endoftext|>"}));
    EXPECT_EQ(tokenizer.tokenize("!<|ENDOFTEXT|>"),
        concatenated({tokenizer.tokenize("!<|"), tokenizer.tokenize("endoftext"), tokenizer.tokenize("|>")}));
}

TEST(ClipTokenizer, TruncatesToBosSeventyFiveTokensEos)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    std::string text;
    for (int i = 0; i < 100; ++i)
        text += "cat ";
    ASSERT_EQ(tokenizer.tokenize("cat").size(), 1u);
    ASSERT_EQ(tokenizer.tokenize(text).size(), 100u); // tokenize() does not truncate
    const TokenizedText tokens = tokenizer.encode(text);
    EXPECT_EQ(tokens.numTokens, 77);
    ASSERT_EQ(tokens.inputIds.size(), 77u);
    EXPECT_EQ(tokens.inputIds.front(), kStartOfText);
    EXPECT_EQ(tokens.inputIds.back(), kEndOfText);
    const std::int64_t cat = tokenizer.encode("cat").inputIds[1];
    for (int i = 1; i < 76; ++i)
        EXPECT_EQ(tokens.inputIds[static_cast<std::size_t>(i)], cat) << i;
    EXPECT_EQ(tokens.attentionMask, std::vector<std::int64_t>(77, 1));
}

TEST(ClipTokenizer, EmptyAndBlankTextGiveBosEosAndPadding)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    std::vector<std::int64_t> expectedIds(77, kEndOfText);
    expectedIds[0] = kStartOfText;
    std::vector<std::int64_t> expectedMask(77, 0);
    expectedMask[0] = expectedMask[1] = 1;
    for (const std::string& text :
        std::vector<std::string> {"", " ", "\t\n \r\n", "\u3000\u00a0", std::string("\0\x01\x7f", 3)}) {
        const TokenizedText tokens = tokenizer.encode(text);
        EXPECT_EQ(tokens.numTokens, 2) << nlohmann::json(text).dump();
        EXPECT_EQ(tokens.inputIds, expectedIds) << nlohmann::json(text).dump();
        EXPECT_EQ(tokens.attentionMask, expectedMask) << nlohmann::json(text).dump();
        EXPECT_TRUE(tokenizer.tokenize(text).empty());
    }
}

// --- Invalid UTF-8 -------------------------------------------------------------------------------------

TEST(ClipTokenizer, InvalidUtf8IsDecodedLikePythonWithReplacement)
{
    // bytes.decode("utf-8", errors="replace"): one U+FFFD per maximal ill-formed subsequence.
    const std::u32string fffd = U"\uFFFD";
    EXPECT_EQ(text::decodeUtf8Lossy("caf\xC3"), U"caf" + fffd);
    EXPECT_EQ(text::decodeUtf8Lossy("\xFF\xFE"), fffd + fffd);
    EXPECT_EQ(text::decodeUtf8Lossy("\xED\xA0\x80"), fffd + fffd + fffd); // an encoded surrogate
    EXPECT_EQ(text::decodeUtf8Lossy("\xC0\x80"), fffd + fffd); // overlong NUL
    EXPECT_EQ(text::decodeUtf8Lossy("\xE2\x82"), fffd); // truncated sequence
    EXPECT_EQ(text::decodeUtf8Lossy("\xF0\x9F\x98"), fffd);
    EXPECT_EQ(text::decodeUtf8Lossy("a\x80"
                                    "b"),
        U"a" + fffd + U"b");
    EXPECT_EQ(text::decodeUtf8Lossy("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd); // above U+10FFFF

    const ClipTokenizer& tokenizer = fixtureTokenizer();
    EXPECT_EQ(
        tokenizer.encode("caf\xC3 cr\xE8me").inputIds, tokenizer.encode("caf\uFFFD cr\uFFFDme").inputIds);
    EXPECT_EQ(tokenizer.encode("\xFF\xFE\xFD").inputIds, tokenizer.encode("\uFFFD\uFFFD\uFFFD").inputIds);
}

TEST(ClipTokenizer, SurvivesHostileBytes)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    std::string allBytes;
    for (int byte = 0; byte < 256; ++byte)
        allBytes.push_back(static_cast<char>(byte));
    for (const std::string& text : {allBytes, std::string(5000, '\xC3'), std::string(3000, 'a'),
             std::string("&amp;amp;amp;amp;amp;amp;amp;"), std::string("\x1B[", 2)}) {
        const TokenizedText tokens = tokenizer.encode(text);
        EXPECT_EQ(tokens.inputIds.size(), 77u);
        EXPECT_GE(tokens.numTokens, 2);
    }
}

// --- Broken model folders ------------------------------------------------------------------------------

TEST(ClipTokenizer, MissingFilesAreErrorsNamingTheFile)
{
    const fs::path noVocab = test::scratchDir("tok-novocab");
    fs::copy_file(modelDir() / "merges.txt", noVocab / "merges.txt");
    EXPECT_NE(errorOf([&] { ClipTokenizer::fromFolder(noVocab); }).find("vocab.json"), std::string::npos);

    const fs::path noMerges = test::scratchDir("tok-nomerges");
    fs::copy_file(modelDir() / "vocab.json", noMerges / "vocab.json");
    EXPECT_NE(errorOf([&] { ClipTokenizer::fromFolder(noMerges); }).find("merges.txt"), std::string::npos);

    EXPECT_NE(errorOf([&] { ClipTokenizer::fromFolder(test::scratchDir("tok-empty")); }).find("vocab.json"),
        std::string::npos);
}

TEST(ClipTokenizer, MalformedFilesAreErrorsNamingTheFile)
{
    for (const std::string& vocab :
        std::vector<std::string> {"{\"a\": 1, ", "[\"a\", \"b\"]", "{\"a\": \"one\"}", "{\"a\": -1}", "{}"}) {
        const fs::path dir = test::scratchDir("tok-badvocab");
        writeFile(dir / "vocab.json", vocab);
        fs::copy_file(modelDir() / "merges.txt", dir / "merges.txt");
        EXPECT_NE(errorOf([&] { ClipTokenizer::fromFolder(dir); }).find("vocab.json"), std::string::npos)
            << vocab;
    }
    {
        const fs::path dir = folderWithFixtureBpeFiles("tok-badmerges");
        writeFile(dir / "merges.txt", "#version: 0.2\nt h\n\xFF\xFE\n");
        EXPECT_NE(errorOf([&] { ClipTokenizer::fromFolder(dir); }).find("merges.txt"), std::string::npos);
    }
    for (const std::string& config : std::vector<std::string> {"{\"model_max_length\": ",
             "{\"model_max_length\": \"77\"}", "{\"model_max_length\": 1}", "{\"bos_token\": 5}",
             "{\"pad_token\": null}", "{\"added_tokens_decoder\": {\"x\": {\"content\": \"a\"}}}"}) {
        const fs::path dir = folderWithFixtureBpeFiles("tok-badconfig");
        writeFile(dir / "tokenizer_config.json", config);
        EXPECT_NE(
            errorOf([&] { ClipTokenizer::fromFolder(dir); }).find("tokenizer_config.json"), std::string::npos)
            << config;
    }
}

TEST(ClipTokenizer, FolderWithoutTokenizerConfigUsesClipDefaults)
{
    const fs::path dir = folderWithFixtureBpeFiles("tok-noconfig");
    const auto tokenizer = ClipTokenizer::fromFolder(dir);
    EXPECT_EQ(tokenizer->contextLength(), 77);
    EXPECT_EQ(tokenizer->bosId(), kStartOfText);
    EXPECT_EQ(tokenizer->eosId(), kEndOfText);
    EXPECT_EQ(tokenizer->padId(), kEndOfText);
    for (const GoldenCase& golden : goldenCases())
        EXPECT_EQ(tokenizer->encode(golden.text).inputIds, golden.inputIds) << golden.text;
}

TEST(ClipTokenizer, UnlimitedModelMaxLengthMeansClipContext)
{
    const fs::path dir = folderWithFixtureBpeFiles("tok-maxlen");
    writeFile(dir / "tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");
    EXPECT_EQ(ClipTokenizer::fromFolder(dir)->contextLength(), 77);
    writeFile(dir / "tokenizer_config.json", "{\"model_max_length\": 16}");
    const auto shortContext = ClipTokenizer::fromFolder(dir);
    EXPECT_EQ(shortContext->contextLength(), 16);
    const TokenizedText tokens
        = shortContext->encode(std::string(100, 'x') + " a b c d e f g h i j k l m n o p");
    EXPECT_EQ(tokens.inputIds.size(), 16u);
    EXPECT_EQ(tokens.numTokens, 16);
    EXPECT_EQ(tokens.inputIds.back(), kEndOfText);
}

TEST(ClipTokenizer, StripFlagsOfAddedTokensApply)
{
    const fs::path dir = folderWithFixtureBpeFiles("tok-strip");
    writeFile(dir / "tokenizer_config.json", R"({"added_tokens_decoder": {
        "49406": {"content": "<|startoftext|>", "special": true},
        "49407": {"content": "<|endoftext|>", "special": true},
        "49408": {"content": "[img]", "lstrip": true, "rstrip": true, "special": false}}})");
    const auto tokenizer = ClipTokenizer::fromFolder(dir);
    EXPECT_EQ(tokenizer->tokenize("a  [img]  b"), (std::vector<std::string> {"a</w>", "[img]", "b</w>"}));
    EXPECT_EQ(tokenizer->encode("[img]").inputIds[1], 49408);
    EXPECT_EQ(tokenizer->tokenize("[IMG]"),
        concatenated({tokenizer->tokenize("["), tokenizer->tokenize("img"), tokenizer->tokenize("]")}));
}

TEST(ClipTokenizer, EncodesConcurrently)
{
    const ClipTokenizer& tokenizer = fixtureTokenizer();
    const std::vector<GoldenCase> cases = goldenCases();
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (std::size_t t = 0; t < mismatches.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 20; ++round)
                for (const GoldenCase& golden : cases)
                    mismatches[t] += tokenizer.encode(golden.text).inputIds == golden.inputIds ? 0 : 1;
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// --- Text cleanup (ftfy.fix_text, whitespace_clean, str.lower) -----------------------------------------

TEST(ClipTextCleanup, DecodesHtmlOnlyBeforeTheFirstLineWithATag)
{
    EXPECT_EQ(text::ftfyFixText(U"fish &amp; chips"), U"fish & chips");
    EXPECT_EQ(text::ftfyFixText(U"x < y &amp; y > z"), U"x < y &amp; y > z");
    EXPECT_EQ(text::ftfyFixText(U"&amp;\n<html>\n&amp;"), U"&\n<html>\n&amp;"); // ftfy's own test
    EXPECT_EQ(text::ftfyFixText(U"&lt;b&gt;bold&lt;/b&gt;"), U"<b>bold</b>");
    EXPECT_EQ(text::ftfyFixText(U"Tom &amp;amp;amp; Jerry"), U"Tom & Jerry"); // repeated until stable
}

TEST(ClipTextCleanup, DecodesHtmlReferencesLikeFtfy)
{
    // Examples from ftfy's unescape_html documentation.
    EXPECT_EQ(text::unescapeHtml(U"&lt;tag&gt;"), U"<tag>");
    EXPECT_EQ(text::unescapeHtml(U"&Jscr;ohn &HilbertSpace;ancock"), U"\U0001D4A5ohn \u210Bancock");
    EXPECT_EQ(text::unescapeHtml(U"&checkmark;"), U"\u2713");
    EXPECT_EQ(text::unescapeHtml(U"P&eacute;rez"), U"P\u00E9rez");
    EXPECT_EQ(text::unescapeHtml(U"P&EACUTE;REZ"), U"P\u00C9REZ");
    EXPECT_EQ(text::unescapeHtml(U"BUNDESSTRA&SZLIG;E"), U"BUNDESSTRASSE");
    EXPECT_EQ(text::unescapeHtml(U"&ntilde; &Ntilde; &NTILDE; &nTILDE;"), U"\u00F1 \u00D1 \u00D1 &nTILDE;");
    // Numeric references follow html.unescape; a result containing ';' keeps the reference.
    EXPECT_EQ(text::unescapeHtml(U"&#65;&#x42;&#X43;&#x1F600;"), U"ABC\U0001F600");
    EXPECT_EQ(text::unescapeHtml(U"&#128;&#x85;&#0;&#x110000;&#xD800;"), U"\u20AC\u2026\uFFFD\uFFFD\uFFFD");
    EXPECT_EQ(text::unescapeHtml(U"a&#1;b&#x7f;c"), U"abc");
    EXPECT_EQ(text::unescapeHtml(U"&#59; &#x3b; &#12ab; &#xZZ; &#;"), U"&#59; &#x3b; &#12ab; &#xZZ; &#;");
    // No ';', unknown names, names longer than 24 characters: left alone.
    EXPECT_EQ(text::unescapeHtml(U"&amp &bogus; &CounterClockwiseContourIntegral; &&amp;"),
        U"&amp &bogus; &CounterClockwiseContourIntegral; &&");
}

TEST(ClipTextCleanup, AppliesTheOtherFtfyFixers)
{
    EXPECT_EQ(text::ftfyFixText(U"\uFF2C\uFF2F\uFF35\uFF24\u3000\uFF2E\uFF2F\uFF29\uFF33\uFF25\uFF33"),
        U"LOUD NOISES");
    EXPECT_EQ(text::ftfyFixText(U"\uFF35\uFF80\uFF70\uFF9D"), U"U\u30BF\u30FC\u30F3");
    EXPECT_EQ(text::ftfyFixText(U"\uFB02u\uFB03e\uFB06"), U"fluffiest");
    EXPECT_EQ(text::ftfyFixText(U"\u201Chere\u2019s a test\u201D \u02BC"), U"\"here's a test\" '");
    EXPECT_EQ(text::ftfyFixText(U"\x1B[36;44mI'm blue, da ba dee da ba doo...\x1B[0m"),
        U"I'm blue, da ba dee da ba doo...");
    EXPECT_EQ(text::ftfyFixText(U"a\u0085b\u0080c\u0081"), U"a\u2026b\u20ACc\u0081"); // C1 as Windows-1252
    EXPECT_EQ(
        text::ftfyFixText(std::u32string(U"\uFEFFa\0b\u0007c\u200Dd", 8)), U"abc\u200Dd"); // joiners stay
    EXPECT_EQ(text::ftfyFixText(U"e\u0301 \u1100\u1161"), U"\u00E9 \uAC00"); // NFC
    EXPECT_EQ(text::ftfyFixText(U"a\r\nb\rc\u2028d"), U"a\nb\nc\nd");
}

TEST(ClipTextCleanup, CleansWhitespaceAndLowerCasesLikePython)
{
    EXPECT_EQ(text::whitespaceClean(U"  multiple \t\n spaces\u00A0\u2003here  "), U"multiple spaces here");
    EXPECT_EQ(text::pythonLower(U"\u039F\u0394\u039F\u03A3 \u039F\u0394\u039F\u03A3."),
        U"\u03BF\u03B4\u03BF\u03C2 \u03BF\u03B4\u03BF\u03C2."); // final sigma
    EXPECT_EQ(text::pythonLower(U"\u0130"), U"i\u0307");
    EXPECT_EQ(text::pythonLower(U"\u1E9E"), U"\u00DF");
    EXPECT_EQ(text::clipCleanText(U" IT\u2019S  Caf&eacute; \n"), U"it's caf\u00E9");
}

TEST(ClipPreTokenizer, SplitsLikeTheRegex)
{
    using Words = std::vector<std::u32string_view>;
    EXPECT_EQ(text::clipPreTokenize(U"it's ''s 'red"), (Words {U"it", U"'s", U"''", U"s", U"'re", U"d"}));
    EXPECT_EQ(text::clipPreTokenize(U"word2024 3.14"),
        (Words {U"word", U"2", U"0", U"2", U"4", U"3", U".", U"1", U"4"}));
    EXPECT_EQ(
        text::clipPreTokenize(U"hello, world!!! ;-)"), (Words {U"hello", U",", U"world", U"!!!", U";-)"}));
    EXPECT_EQ(
        text::clipPreTokenize(U"'\u017F x"), (Words {U"'\u017F", U"x"})); // IGNORECASE: long s folds to s
    EXPECT_EQ(text::clipPreTokenize(U"a\u0345b .\u0345."), (Words {U"a", U"b", U".", U"."}));
}

} // namespace
} // namespace pictor
