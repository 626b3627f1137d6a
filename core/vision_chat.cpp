#include "core/vision_chat.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace pictor {
namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char lower(char c)
{
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool startsWithNoCase(std::string_view text, std::string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(text[i]) != lower(prefix[i]))
            return false;
    return true;
}

std::size_t findNoCase(std::string_view text, std::string_view needle)
{
    for (std::size_t i = 0; i + needle.size() <= text.size(); ++i)
        if (startsWithNoCase(text.substr(i), needle))
            return i;
    return std::string_view::npos;
}

// Markdown markers: emphasis and code characters anywhere; headings, bullets and numbered-list markers at
// the start of a line.
std::string stripMarkdown(std::string_view raw)
{
    std::string out;
    bool lineStart = true;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (lineStart) {
            if (c == ' ' || c == '\t')
                continue;
            if (c == '#' || c == '>') {
                while (i + 1 < raw.size() && (raw[i + 1] == '#' || raw[i + 1] == '>'))
                    ++i;
                continue;
            }
            if ((c == '-' || c == '+' || c == '*') && i + 1 < raw.size() && raw[i + 1] == ' ') {
                ++i;
                continue;
            }
            std::size_t digits = i;
            while (digits < raw.size() && std::isdigit(static_cast<unsigned char>(raw[digits])))
                ++digits;
            if (digits > i && digits + 1 < raw.size() && (raw[digits] == '.' || raw[digits] == ')')
                && raw[digits + 1] == ' ') {
                i = digits + 1;
                continue;
            }
        }
        lineStart = c == '\n';
        if (c == '*' || c == '`')
            continue;
        if (c == '_' && i + 1 < raw.size() && raw[i + 1] == '_') {
            ++i;
            continue;
        }
        out += c;
    }
    return out;
}

std::string collapseSpaces(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (isSpace(c)) {
            if (!out.empty() && out.back() != ' ')
                out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

std::string stripLeadIn(std::string sentence)
{
    static constexpr std::array<std::string_view, 4> kSubjects {"this ", "the ", "in this ", "in the "};
    static constexpr std::array<std::string_view, 5> kNouns {
        "image", "photograph", "photo", "picture", "pic"};
    static constexpr std::array<std::string_view, 11> kVerbs {" shows", " depicts", " features", " contains",
        " captures", " displays", " presents", " is of", " is showing", " we see", " there is"};
    for (std::string_view subject : kSubjects) {
        if (!startsWithNoCase(sentence, subject))
            continue;
        std::string_view rest = std::string_view(sentence).substr(subject.size());
        for (std::string_view noun : kNouns) {
            if (!startsWithNoCase(rest, noun))
                continue;
            std::string_view afterNoun = rest.substr(noun.size());
            std::size_t cut = std::string_view::npos;
            if (!afterNoun.empty() && afterNoun[0] == ',')
                cut = subject.size() + noun.size() + 1; // "In this image, a dog ..."
            for (std::string_view verb : kVerbs)
                if (startsWithNoCase(afterNoun, verb)
                    && (afterNoun.size() == verb.size() || afterNoun[verb.size()] == ' '
                        || afterNoun[verb.size()] == ':' || afterNoun[verb.size()] == ','))
                    cut = subject.size() + noun.size() + verb.size();
            if (cut == std::string_view::npos)
                continue;
            sentence.erase(0, cut);
            while (!sentence.empty() && (sentence[0] == ' ' || sentence[0] == ':' || sentence[0] == ','))
                sentence.erase(0, 1);
            if (!sentence.empty())
                sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
            return sentence;
        }
    }
    return sentence;
}

// Keeps every complete sentence; a trailing incomplete one goes when a complete one precedes it.
std::string dropIncompleteTail(std::string sentence)
{
    std::size_t lastEnd = std::string::npos;
    for (std::size_t i = 0; i < sentence.size(); ++i) {
        const char c = sentence[i];
        if ((c == '.' || c == '!' || c == '?') && (i + 1 == sentence.size() || sentence[i + 1] == ' '))
            lastEnd = i;
    }
    if (lastEnd != std::string::npos)
        sentence.erase(lastEnd + 1);
    return sentence;
}

std::string trim(std::string_view text)
{
    std::size_t begin = 0, end = text.size();
    while (begin < end && isSpace(text[begin]))
        ++begin;
    while (end > begin && isSpace(text[end - 1]))
        --end;
    return std::string(text.substr(begin, end - begin));
}

} // namespace

std::string_view captionPrompt()
{
    return "Describe this photo for a search index. Write one plain, factual sentence about what it shows, "
           "then a new line starting with \"Keywords:\" followed by five to ten comma-separated keywords. "
           "Do not begin with \"This image\" or \"The photo\", and do not use markdown.";
}

std::string cleanCaption(std::string_view raw, bool truncated)
{
    const std::string plain = stripMarkdown(raw);
    const std::size_t keywordsAt = findNoCase(plain, "keywords:");
    std::string sentence = collapseSpaces(std::string_view(plain).substr(0, keywordsAt));
    sentence = dropIncompleteTail(stripLeadIn(sentence));

    std::vector<std::string> keywords;
    if (keywordsAt != std::string::npos) {
        const std::string list = collapseSpaces(std::string_view(plain).substr(keywordsAt + 9));
        std::size_t start = 0;
        while (start <= list.size()) {
            std::size_t comma = list.find(',', start);
            if (comma == std::string::npos)
                comma = list.size();
            std::string keyword = trim(std::string_view(list).substr(start, comma - start));
            while (!keyword.empty() && (keyword.back() == '.' || keyword.back() == ';'))
                keyword.pop_back();
            if (!keyword.empty())
                keywords.push_back(keyword);
            start = comma + 1;
        }
        if (truncated && !keywords.empty())
            keywords.pop_back();
    }
    std::string caption = sentence;
    if (!keywords.empty()) {
        caption += caption.empty() ? "Keywords: " : " Keywords: ";
        for (std::size_t i = 0; i < keywords.size(); ++i)
            caption += (i ? ", " : "") + keywords[i];
    }
    return caption;
}

ChatAnswer VisionChat::ask(const std::vector<RgbImage>& images, const std::string& question,
    const std::vector<ChatTurn>& history, const AnswerOptions& options)
{
    const std::unique_ptr<AnswerStream> stream = startAnswer(images, question, history, options);
    while (!stream->step(std::chrono::steady_clock::duration::max())) { }
    return stream->answer();
}

ChatAnswer VisionChat::describe(const RgbImage& image, const AnswerOptions& options)
{
    const std::unique_ptr<AnswerStream> stream = startDescribe(image, options);
    while (!stream->step(std::chrono::steady_clock::duration::max())) { }
    return captionFromAnswer(stream->answer());
}

std::unique_ptr<AnswerStream> VisionChat::startDescribe(const RgbImage& image, const AnswerOptions& options)
{
    return startAnswer({image}, std::string(captionPrompt()), {}, options);
}

ChatAnswer captionFromAnswer(ChatAnswer answer)
{
    answer.text = cleanCaption(answer.text, answer.truncated);
    return answer;
}

} // namespace pictor
