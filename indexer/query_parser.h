// The search query language beyond plain words:
//  - arithmetic (as in rclip): terms joined by standalone "+" and "-", each a text or an image path,
//    optionally weighted "2:snow" or "0.5:./photo.jpg". Example: 2:snow + ./photo.jpg - people
//    The query vector is normalise(sum of sign * weight * unit(term)).
//  - hybrid: "quoted phrases" also match file names, folder names, captions and tags (SQLite FTS5).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pictor {

// A term's weight ("2:snow") beyond this is a typo, and 1e308 would overflow the sum of the embeddings.
inline constexpr double kMaxTermWeight = 100;

struct QueryTerm {
    double weight = 1.0; // negative for subtracted terms
    std::string text; // a text term, or
    std::optional<std::filesystem::path> image; // an image file term
};

// Terms of an arithmetic query, or nullopt when the text has no standalone + or - operator (then it is
// a plain text query). A term naming an existing file (or starting with "./", "../", "/" or "~/") is an
// image; surrounding quotes of a term are removed. Malformed queries ("+ snow", "snow -") are errors.
std::optional<std::vector<QueryTerm>> parseArithmeticQuery(const std::string& text);

struct HybridParts {
    std::string vectorText; // the text with the quote marks removed
    std::vector<std::string> phrases; // the quoted phrases, for full-text search
};
HybridParts splitQuotedPhrases(const std::string& text);

} // namespace pictor
