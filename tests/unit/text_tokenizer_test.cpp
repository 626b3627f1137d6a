// The language-model tokenizers against Hugging Face's slow LlamaTokenizer (legacy=false) and
// Qwen2Tokenizer: every string of the llava-tiny-llama and llava-tiny-qwen2 tokenizer cases and every
// prompt of their cases.json must give exactly the same ids, and decoding the same text. Also streaming
// decode (no partial UTF-8 ever printed), the factory, the vocabulary-size check and broken files.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "core/text/chat_template.h"
#include "core/text/text_tokenizer.h"
#include "core/text/unicode_text.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using Json = nlohmann::json;

const fs::path& llamaDir()
{
    static const fs::path dir = test::fixtureDir("llava-tiny-llama");
    return dir;
}

const fs::path& qwenDir()
{
    static const fs::path dir = test::fixtureDir("llava-tiny-qwen2");
    return dir;
}

const TextTokenizer& llama()
{
    static const std::unique_ptr<TextTokenizer> tokenizer = TextTokenizer::fromFolder(llamaDir());
    return *tokenizer;
}

const TextTokenizer& qwen()
{
    static const std::unique_ptr<TextTokenizer> tokenizer = TextTokenizer::fromFolder(qwenDir());
    return *tokenizer;
}

std::vector<TokenId> ids(const Json& value)
{
    return value.get<std::vector<TokenId>>();
}

// Streams ids one by one; every released piece must be complete UTF-8 with no trailing U+FFFD, and the
// pieces must add up to decode(ids).
std::string streamed(const TextTokenizer& tokenizer, const std::vector<TokenId>& tokenIds)
{
    TokenStreamDecoder stream(tokenizer);
    std::string text;
    for (TokenId id : tokenIds) {
        const std::string piece = stream.push(id);
        EXPECT_TRUE(text::isValidUtf8(piece)) << "piece after id " << id;
        EXPECT_FALSE(piece.ends_with("\xEF\xBF\xBD") && !tokenizer.decode(tokenIds).ends_with(piece))
            << "a partial character was released after id " << id;
        text += piece;
    }
    text += stream.finish();
    EXPECT_EQ(stream.text(), text);
    return text;
}

TEST(LlamaTokenizer, TokenizerCasesMatchHuggingFace)
{
    const Json cases = readJsonFile(llamaDir() / "tokenizer_cases.json").at("strings");
    ASSERT_EQ(cases.size(), 22U);
    for (const Json& entry : cases) {
        const std::string text = entry.at("text").get<std::string>();
        SCOPED_TRACE(text);
        EXPECT_EQ(llama().encode(text), ids(entry.at("hf_ids")));
        // Without special-token parsing the text is one SentencePiece input: BOS + sp.encode(text).
        std::vector<TokenId> plain {1};
        for (TokenId id : ids(entry.at("sp_encode_ids")))
            plain.push_back(id);
        EXPECT_EQ(llama().encode(text, SpecialTokens::AsText), plain);
        const std::string expectedDecode = entry.at("hf_decode_skip_special").get<std::string>();
        EXPECT_EQ(llama().decode(ids(entry.at("hf_ids"))), expectedDecode);
        EXPECT_EQ(llama().decode(ids(entry.at("sp_encode_ids"))),
            entry.at("sp_decode_of_sp_ids").get<std::string>());
        EXPECT_EQ(streamed(llama(), ids(entry.at("hf_ids"))), expectedDecode);
        std::vector<std::string> tokens;
        for (TokenId id : ids(entry.at("hf_ids")))
            tokens.push_back(llama().tokenText(id).value_or("?"));
        EXPECT_EQ(tokens, entry.at("hf_tokens").get<std::vector<std::string>>());
    }
}

TEST(Qwen2Tokenizer, TokenizerCasesMatchHuggingFace)
{
    const Json cases = readJsonFile(qwenDir() / "tokenizer_cases.json").at("strings");
    ASSERT_EQ(cases.size(), 23U);
    for (const Json& entry : cases) {
        const std::string text = entry.at("text").get<std::string>();
        SCOPED_TRACE(text);
        EXPECT_EQ(qwen().encode(text), ids(entry.at("hf_ids")));
        const std::string expectedDecode = entry.at("hf_decode_skip_special").get<std::string>();
        EXPECT_EQ(qwen().decode(ids(entry.at("hf_ids"))), expectedDecode);
        EXPECT_EQ(streamed(qwen(), ids(entry.at("hf_ids"))), expectedDecode);
        std::vector<std::string> tokens;
        for (TokenId id : ids(entry.at("hf_ids")))
            tokens.push_back(qwen().tokenText(id).value_or("?"));
        EXPECT_EQ(tokens, entry.at("hf_tokens").get<std::vector<std::string>>());
    }
}

std::vector<ChatMessage> messagesOf(const Json& messages)
{
    std::vector<ChatMessage> out;
    for (const Json& message : messages) {
        ChatMessage chat;
        const std::string role = message.at("role").get<std::string>();
        chat.role = role == "system" ? ChatMessage::Role::System
            : role == "assistant"    ? ChatMessage::Role::Assistant
                                     : ChatMessage::Role::User;
        for (const Json& content : message.at("content")) {
            if (content.at("type") == "image")
                ++chat.numImages;
            else
                chat.text += content.at("text").get<std::string>();
        }
        out.push_back(chat);
    }
    return out;
}

void checkCases(const fs::path& dir, const TextTokenizer& tokenizer, ChatTemplate::Format format)
{
    const ChatTemplate chat = ChatTemplate::fromFolder(dir);
    EXPECT_EQ(chat.format(), format);
    const TokenId imageId = *tokenizer.tokenId(ChatTemplate::kImageToken);
    for (const Json& entry : readJsonFile(dir / "cases.json").at("cases")) {
        SCOPED_TRACE(entry.at("name").get<std::string>());
        const std::string prompt = chat.render(messagesOf(entry.at("messages")));
        EXPECT_EQ(prompt, entry.at("prompt").get<std::string>());
        const std::vector<TokenId> collapsed = tokenizer.encode(prompt);
        EXPECT_EQ(collapsed, ids(entry.at("input_ids_collapsed")));
        // The processor's expansion: each <image> id repeated image_tokens_per_image times.
        std::vector<TokenId> expanded;
        for (TokenId id : collapsed)
            expanded.insert(expanded.end(),
                id == imageId ? entry.at("image_tokens_per_image").get<std::size_t>() : 1, id);
        EXPECT_EQ(expanded, ids(entry.at("input_ids")));
        const std::vector<TokenId> generated = ids(entry.at("generated_ids"));
        const std::string expected = entry.at("generated_text_hf_decode_skip_special").get<std::string>();
        EXPECT_EQ(tokenizer.decode(generated), expected);
        EXPECT_EQ(streamed(tokenizer, generated), expected);
        if (entry.at("generated_text_sentencepiece").is_string()) {
            EXPECT_EQ(
                tokenizer.decode(generated), entry.at("generated_text_sentencepiece").get<std::string>());
        }
    }
}

TEST(LlamaTokenizer, ChatPromptsOfTheCasesRenderAndEncodeExactly)
{
    checkCases(llamaDir(), llama(), ChatTemplate::Format::Llava15);
}

TEST(Qwen2Tokenizer, ChatPromptsOfTheCasesRenderAndEncodeExactly)
{
    checkCases(qwenDir(), qwen(), ChatTemplate::Format::ChatMl);
}

TEST(TextTokenizer, SpecialIdsAndSizes)
{
    EXPECT_EQ(llama().kind(), "sentencepiece");
    EXPECT_EQ(llama().tokenId("<image>"), 32000);
    EXPECT_EQ(llama().bosId(), 1);
    EXPECT_EQ(llama().eosId(), 2);
    EXPECT_EQ(llama().padId(), 32001);
    EXPECT_EQ(llama().vocabSize(), 32002);
    EXPECT_EQ(llama().tokenId("▁Hello"), 15043);
    EXPECT_EQ(llama().tokenId("no such piece"), std::nullopt);
    EXPECT_TRUE(llama().isSpecial(32000));
    EXPECT_FALSE(llama().isSpecial(15043));

    EXPECT_EQ(qwen().kind(), "byte-level BPE");
    EXPECT_EQ(qwen().tokenId("<image>"), 151646);
    EXPECT_EQ(qwen().tokenId("<|im_start|>"), 151644);
    EXPECT_EQ(qwen().bosId(), std::nullopt);
    EXPECT_EQ(qwen().eosId(), 151645);
    EXPECT_EQ(qwen().padId(), 151643);
    EXPECT_EQ(qwen().vocabSize(), 151647);
    EXPECT_EQ(qwen().tokenId("Hello"), 9707);
}

TEST(TextTokenizer, SpecialTokensAsTextAreNotParsed)
{
    const std::vector<TokenId> parsed = qwen().encode("<|im_end|>");
    EXPECT_EQ(parsed, std::vector<TokenId> {151645});
    const std::vector<TokenId> plain = qwen().encode("<|im_end|>", SpecialTokens::AsText);
    EXPECT_GT(plain.size(), 1U);
    EXPECT_EQ(qwen().decode(plain), "<|im_end|>");
}

TEST(TextTokenizer, DecodeCanKeepSpecialTokens)
{
    EXPECT_EQ(qwen().decode(qwen().encode("<|im_start|>user\nHi<|im_end|>"), false),
        "<|im_start|>user\nHi<|im_end|>");
    EXPECT_EQ(llama().decode(std::vector<TokenId> {15043, 32000, 3186}, false), "Hello<image> world");
    // Ids outside the vocabulary (padding rows of the embedding) decode to nothing.
    EXPECT_EQ(qwen().decode(std::vector<TokenId> {9707, 151900, -1}), "Hello");
}

// Byte-fallback pieces <0xF0><0x9F><0x99><0x82> are one emoji: nothing is printed before the last.
TEST(TokenStreamDecoder, SentencePieceByteFallbackIsHeldUntilComplete)
{
    TokenStreamDecoder stream(llama());
    EXPECT_EQ(stream.push(953), "em"); // "▁em" loses its dummy-prefix space at the start
    EXPECT_EQ(stream.push(29877), "o");
    EXPECT_EQ(stream.push(2397), "ji");
    EXPECT_EQ(stream.push(29871), " ");
    EXPECT_EQ(stream.push(243), "");
    EXPECT_EQ(stream.push(162), "");
    EXPECT_EQ(stream.push(156), "");
    EXPECT_EQ(stream.push(133), "🙂");
    EXPECT_EQ(stream.push(243), "");
    EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD"); // an incomplete sequence at the end
    EXPECT_EQ(stream.text(), "emoji 🙂\xEF\xBF\xBD");
}

TEST(TokenStreamDecoder, ByteLevelPiecesAreHeldUntilComplete)
{
    // "🙂" is F0 9F 99 82: one byte token each ("ð", "Ł", "Ļ", "Ĥ" in the byte alphabet).
    const std::vector<std::string> bytes = {"ð", "Ł", "Ļ", "Ĥ"};
    TokenStreamDecoder stream(qwen());
    EXPECT_EQ(stream.push(9707), "Hello");
    for (std::size_t i = 0; i < bytes.size(); ++i)
        EXPECT_EQ(stream.push(*qwen().tokenId(bytes[i])), i + 1 < bytes.size() ? "" : "🙂");
    EXPECT_EQ(stream.push(151645), ""); // <|im_end|> is special: skipped
    EXPECT_EQ(stream.finish(), "");
    EXPECT_EQ(stream.text(), "Hello🙂");
}

TEST(TextTokenizer, VocabularyMustFitTheEmbedding)
{
    EXPECT_NO_THROW(checkVocabularyFits(llama(), 32064, llamaDir()));
    EXPECT_NO_THROW(checkVocabularyFits(qwen(), 151936, qwenDir()));
    const std::string error = errorOf([] { checkVocabularyFits(llama(), 32000, llamaDir()); });
    EXPECT_NE(error.find("ids up to 32001 ('<pad>')"), std::string::npos) << error;
    EXPECT_NE(error.find("only 32000 rows"), std::string::npos) << error;
    EXPECT_NE(error.find("llava-tiny-llama"), std::string::npos) << error;
}

// --- Folders with broken or missing files ------------------------------------------------------------

void copyInto(const fs::path& dir, const fs::path& from, const std::string& name)
{
    fs::copy_file(from / name, dir / name, fs::copy_options::overwrite_existing);
}

void writeFile(const fs::path& file, std::string_view content)
{
    std::ofstream out(file, std::ios::binary);
    out << content;
}

std::string readBytes(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(TextTokenizer, FactoryNamesWhatItLookedFor)
{
    const fs::path empty = test::scratchDir("tokenizer-empty");
    const std::string error = errorOf([&] { TextTokenizer::fromFolder(empty); });
    EXPECT_NE(error.find("no tokenizer found"), std::string::npos) << error;
    EXPECT_NE(error.find("tokenizer.model"), std::string::npos) << error;
    EXPECT_NE(error.find("vocab.json + merges.txt"), std::string::npos) << error;

    const fs::path onlyVocab = test::scratchDir("tokenizer-only-vocab");
    writeFile(onlyVocab / "vocab.json", "{}");
    const std::string half = errorOf([&] { TextTokenizer::fromFolder(onlyVocab); });
    EXPECT_NE(half.find("has vocab.json but not merges.txt"), std::string::npos) << half;
}

TEST(LlamaTokenizer, TruncatedModelIsAnErrorNamingTheFile)
{
    const std::string model = readBytes(llamaDir() / "tokenizer.model");
    for (std::size_t size : {std::size_t {0}, std::size_t {7}, std::size_t {10000}, model.size() - 3}) {
        const fs::path dir = test::scratchDir("tokenizer-truncated");
        writeFile(dir / "tokenizer.model", std::string_view(model).substr(0, size));
        copyInto(dir, llamaDir(), "tokenizer_config.json");
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        SCOPED_TRACE(size);
        EXPECT_NE(error.find("tokenizer.model: not a valid SentencePiece model"), std::string::npos) << error;
    }
}

TEST(LlamaTokenizer, LegacyFolderWithoutAddedTokensDecoder)
{
    // Before transformers 4.34: added_tokens.json and special_tokens_map.json instead.
    const fs::path dir = test::scratchDir("tokenizer-llama-legacy-files");
    for (const char* name : {"tokenizer.model", "added_tokens.json", "special_tokens_map.json"})
        copyInto(dir, llamaDir(), name);
    writeFile(dir / "tokenizer_config.json", R"({"legacy": false, "add_bos_token": true})");
    const auto tokenizer = TextTokenizer::fromFolder(dir);
    const std::string prompt = "USER: <image>\nWhat is this? ASSISTANT:";
    EXPECT_EQ(tokenizer->encode(prompt), llama().encode(prompt));
    EXPECT_EQ(tokenizer->padId(), 32001);
    EXPECT_TRUE(tokenizer->isSpecial(32000));
}

TEST(LlamaTokenizer, LegacyTrueGivesEveryPieceTheDummyPrefix)
{
    const fs::path dir = test::scratchDir("tokenizer-llama-legacy-true");
    copyInto(dir, llamaDir(), "tokenizer.model");
    writeFile(dir / "tokenizer_config.json",
        R"({"legacy": true, "add_bos_token": false, "added_tokens_decoder": {"32000": {"content": "<image>"}}})");
    const auto tokenizer = TextTokenizer::fromFolder(dir);
    std::vector<TokenId> expected = {32000};
    for (TokenId id : llama().encode("\nWhat", SpecialTokens::AsText))
        if (id != 1)
            expected.push_back(id);
    EXPECT_EQ(tokenizer->encode("<image>\nWhat"), expected);
    EXPECT_EQ(expected[1], 29871); // "▁" before <0x0A>: the dummy prefix legacy=false avoids
}

// A tiny byte-level BPE folder: the 256 byte tokens, then what the test adds.
fs::path tinyBpeFolder(
    const std::string& tag, const std::string& merges, const Json& extraVocab = Json::object())
{
    const fs::path dir = test::scratchDir(tag);
    Json vocab = Json::object();
    // The real byte alphabet, taken from the Qwen2 fixture's ids 0..255.
    for (TokenId id = 0; id < 256; ++id)
        vocab[*qwen().tokenText(id)] = id;
    for (const auto& [token, id] : extraVocab.items())
        vocab[token] = id;
    writeFile(dir / "vocab.json", vocab.dump());
    writeFile(dir / "merges.txt", merges);
    return dir;
}

TEST(Qwen2Tokenizer, SmallFolderWithAddedTokenFlags)
{
    const fs::path dir = tinyBpeFolder(
        "tokenizer-tiny-bpe", "#version: 0.2\nh e\nhe l\n\nĠ w\n", {{"he", 300}, {"hel", 301}, {"Ġw", 302}});
    writeFile(dir / "tokenizer_config.json",
        R"({"added_tokens_decoder": {"400": {"content": "<x>", "lstrip": true, "rstrip": true}}, "eos_token": "<x>"})");
    const auto tokenizer = TextTokenizer::fromFolder(dir);
    EXPECT_EQ(tokenizer->encode("hello"),
        (std::vector<TokenId> {301, *tokenizer->tokenId("l"), *tokenizer->tokenId("o")}));
    // lstrip / rstrip: the spaces around <x> go away.
    EXPECT_EQ(tokenizer->encode("hel  <x>  w"), (std::vector<TokenId> {301, 400, *tokenizer->tokenId("w")}));
    EXPECT_EQ(tokenizer->encode(" w"), std::vector<TokenId> {302});
    EXPECT_EQ(tokenizer->vocabSize(), 401);
    EXPECT_EQ(tokenizer->eosId(), 400);
}

TEST(Qwen2Tokenizer, BrokenFilesAreErrorsNamingTheFile)
{
    {
        const fs::path dir
            = tinyBpeFolder("tokenizer-bad-merge-line", "h e\nthree parts here\n", {{"he", 300}});
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("merges.txt: line 2 is not a merge of two symbols"), std::string::npos) << error;
    }
    {
        const fs::path dir = tinyBpeFolder("tokenizer-merge-not-in-vocab", "h e\nhe y\n", {{"he", 300}});
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("merges.txt: line 2 ('he y') uses 'hey', which is not in vocab.json"),
            std::string::npos)
            << error;
    }
    {
        const fs::path dir = tinyBpeFolder("tokenizer-truncated-vocab", "h e\n", {{"he", 300}});
        const std::string vocab = readBytes(dir / "vocab.json");
        writeFile(dir / "vocab.json", vocab.substr(0, vocab.size() / 2));
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("vocab.json: not valid JSON"), std::string::npos) << error;
    }
    {
        const fs::path dir = tinyBpeFolder("tokenizer-vocab-bad-id", "h e\n", {{"he", "three hundred"}});
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("vocab.json: token 'he' has no valid id"), std::string::npos) << error;
    }
    {
        const fs::path dir = tinyBpeFolder("tokenizer-bad-config", "h e\n", {{"he", 300}});
        writeFile(dir / "tokenizer_config.json", R"({"added_tokens_decoder": {"x1": {"content": "<x>"}}})");
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("tokenizer_config.json: added token id 'x1'"), std::string::npos) << error;
    }
    {
        const fs::path dir = tinyBpeFolder("tokenizer-other-class", "h e\n", {{"he", 300}});
        writeFile(dir / "tokenizer_config.json", R"({"tokenizer_class": "CLIPTokenizer"})");
        const std::string error = errorOf([&] { TextTokenizer::fromFolder(dir); });
        EXPECT_NE(error.find("tokenizer_class 'CLIPTokenizer' is not supported"), std::string::npos) << error;
    }
}

// --- Chat templates ----------------------------------------------------------------------------------

TEST(ChatTemplate, SystemMessagesAndGenerationPrompt)
{
    const std::vector<ChatMessage> messages
        = {{ChatMessage::Role::System, 0, "Be brief."}, {ChatMessage::Role::User, 2, "Compare."},
            {ChatMessage::Role::Assistant, 0, "Same."}, {ChatMessage::Role::User, 0, "Why?"}};
    EXPECT_EQ(ChatTemplate(ChatTemplate::Format::Llava15).render(messages),
        "Be brief. USER: <image>\n<image>\nCompare. ASSISTANT: Same. USER: Why? ASSISTANT:");
    EXPECT_EQ(ChatTemplate(ChatTemplate::Format::ChatMl).render(messages, false),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<image>\n<image>\nCompare.<|im_end|>\n"
        "<|im_start|>assistant\nSame.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n");
}

TEST(ChatTemplate, RecognisesFormattingVariantsAndRefusesUnknownTemplates)
{
    // Jinja white-space control, double quotes and line breaks between tags do not change the output.
    const std::string variant
        = "{%- for message in messages -%}\n  {{ \"<|im_start|>\" + message['role'] + \"\\n\" }}"
          "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
          "{{ '<image>\\n' }}{% endfor %}{% for content in message['content'] | selectattr('type', "
          "'equalto', 'text') %}{{ content['text'] }}{% endfor %}{{'<|im_end|>' + '\\n'}}"
          "{% endfor %}\n{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    EXPECT_EQ(ChatTemplate::fromTemplateString(variant, "test").format(), ChatTemplate::Format::ChatMl);

    const std::string error = errorOf([] {
        ChatTemplate::fromTemplateString(
            "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", "x.json");
    });
    EXPECT_NE(error.find("x.json: unknown chat template"), std::string::npos) << error;
    EXPECT_NE(error.find("llava-1.5"), std::string::npos) << error;
    EXPECT_NE(error.find("ChatML"), std::string::npos) << error;

    const fs::path dir = test::scratchDir("chat-template-missing");
    const std::string missing = errorOf([&] { ChatTemplate::fromFolder(dir); });
    EXPECT_NE(missing.find("no chat template"), std::string::npos) << missing;

    writeFile(dir / "chat_template.json",
        R"({"chat_template": "{{ bos_token }}{% for m in messages %}{% endfor %}"})");
    const std::string unknown = errorOf([&] { ChatTemplate::fromFolder(dir); });
    EXPECT_NE(unknown.find("chat_template.json: unknown chat template"), std::string::npos) << unknown;
}

TEST(StopStringFilter, CutsAtTheFirstStopStringAcrossPieces)
{
    StopStringFilter filter(ChatTemplate(ChatTemplate::Format::Llava15).stopStrings());
    EXPECT_EQ(filter.push("A red "), "A red ");
    EXPECT_EQ(filter.push("tower. US"), "tower. "); // "US" may start "USER:"
    EXPECT_EQ(filter.push("ER: next"), "");
    EXPECT_TRUE(filter.stopped());
    EXPECT_EQ(filter.push("more"), "");
    EXPECT_EQ(filter.finish(), "");

    StopStringFilter other({"<|im_end|>"});
    EXPECT_EQ(other.push("a <|im"), "a ");
    EXPECT_EQ(other.push("age"), "<|image");
    EXPECT_EQ(other.push(" <"), " ");
    EXPECT_EQ(other.finish(), "<");
    EXPECT_FALSE(other.stopped());
}

} // namespace
} // namespace pictor
