#include "ui/search_request.h"

#include <cstdio>

#include "core/error.h"
#include "indexer/query_parser.h"

namespace pictor::ui {
namespace {

std::string weighted(double weight, const std::string& term)
{
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%.3g:", weight);
    return prefix + term;
}

bool blank(const std::string& text)
{
    return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

} // namespace

bool SearchRequest::empty() const
{
    return blank(text) && photos.empty();
}

SearchQuery SearchRequest::toQuery() const
{
    SearchQuery query;
    query.limit = limit;
    query.minScore = minScore;
    query.sortByDate = sortByDate;
    query.filter = filter;
    query.textWeight = textWeight;
    const bool hasText = !blank(text);
    if (photos.size() == 1 && !photos.front().negated) {
        query.text = hasText ? text : std::string();
        if (photos.front().photoId)
            query.photoId = photos.front().photoId;
        else
            query.imageFile = photos.front().file;
        return query;
    }
    if (photos.empty()) {
        query.text = text;
        return query;
    }
    // Arithmetic: the words keep their own operators when they have some.
    const double photoWeight = hasText ? 1.0 - textWeight : 1.0;
    std::string arithmetic;
    if (hasText)
        arithmetic = parseArithmeticQuery(text) ? text : weighted(textWeight, text);
    auto append = [&](const PhotoTerm& photo) {
        const std::string term = weighted(photoWeight, photo.file.string());
        PICTOR_CHECK(!arithmetic.empty() || !photo.negated,
            "a \"not like this\" photo needs words or another photo to search for");
        arithmetic += arithmetic.empty() ? term : std::string(photo.negated ? " - " : " + ") + term;
    };
    for (const auto& photo : photos)
        if (!photo.negated)
            append(photo);
    for (const auto& photo : photos)
        if (photo.negated)
            append(photo);
    query.text = arithmetic;
    return query;
}

} // namespace pictor::ui
