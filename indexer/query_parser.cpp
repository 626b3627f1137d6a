#include "indexer/query_parser.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace pictor {
namespace {

std::vector<std::string> words(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string word; in >> word;)
        out.push_back(word);
    return out;
}

std::string unquoted(std::string text)
{
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front())
        return text.substr(1, text.size() - 2);
    return text;
}

bool looksLikePath(const std::string& text)
{
    if (text.starts_with("./") || text.starts_with("../") || text.starts_with("/") || text.starts_with("~/"))
        return true;
    std::error_code error;
    return std::filesystem::is_regular_file(text, error);
}

std::filesystem::path expandHome(const std::string& text)
{
    const char* home = std::getenv("HOME");
    return text.starts_with("~/") && home ? std::filesystem::path(home) / text.substr(2)
                                          : std::filesystem::path(text);
}

// "2:snow" -> {2, "snow"}; "snow" -> {1, "snow"}; a colon not preceded by a number stays text.
QueryTerm makeTerm(const std::string& rawTerm, double sign)
{
    std::string term = unquoted(rawTerm);
    double weight = 1.0;
    if (const auto colon = term.find(':'); colon != std::string::npos && colon > 0) {
        char* end = nullptr;
        const std::string number = term.substr(0, colon);
        const double parsed = std::strtod(number.c_str(), &end);
        if (end == number.c_str() + number.size()) {
            PICTOR_CHECK(std::isfinite(parsed) && std::abs(parsed) <= kMaxTermWeight, "the weight ", number,
                " of '", term.substr(colon + 1), "' is out of range: a term's weight goes from -",
                kMaxTermWeight, " to ", kMaxTermWeight);
            weight = parsed;
            term = unquoted(term.substr(colon + 1));
        }
    }
    PICTOR_CHECK(!term.empty(), "empty term in the query");
    QueryTerm result;
    result.weight = sign * weight;
    if (looksLikePath(term))
        result.image = expandHome(term);
    else
        result.text = term;
    return result;
}

} // namespace

std::optional<std::vector<QueryTerm>> parseArithmeticQuery(const std::string& text)
{
    const auto tokens = words(text);
    bool hasOperator = false;
    for (const auto& token : tokens)
        hasOperator = hasOperator || token == "+" || token == "-";
    if (!hasOperator)
        return std::nullopt;

    std::vector<QueryTerm> terms;
    double sign = 1.0;
    std::string current;
    auto finish = [&](const char* where) {
        PICTOR_CHECK(!current.empty(), "the query has an operator ", where, " without a term");
        terms.push_back(makeTerm(current, sign));
        current.clear();
    };
    for (const auto& token : tokens) {
        if (token == "+" || token == "-") {
            finish(terms.empty() ? "at its start" : "after another operator");
            sign = token == "+" ? 1.0 : -1.0;
            continue;
        }
        current += (current.empty() ? "" : " ") + token;
    }
    finish("at its end");
    return terms;
}

HybridParts splitQuotedPhrases(const std::string& text)
{
    HybridParts parts;
    bool inQuote = false;
    std::string phrase;
    for (char c : text) {
        if (c == '"') {
            if (inQuote && !phrase.empty())
                parts.phrases.push_back(phrase);
            phrase.clear();
            inQuote = !inQuote;
            continue;
        }
        parts.vectorText += c;
        if (inQuote)
            phrase += c;
    }
    if (inQuote && !phrase.empty()) // an unclosed quote still means "match this"
        parts.phrases.push_back(phrase);
    return parts;
}

} // namespace pictor
