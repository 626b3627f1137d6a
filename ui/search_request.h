// What the search bar and the filter bar ask for, and its translation into the library's SearchQuery.
// A composed query with one photo is exactly `pictor search --image F --weight W TEXT` (or --photo ID);
// negated or several photos become an arithmetic query (`W:TEXT + (1-W):/a.jpg - (1-W):/b.jpg`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "indexer/search.h"

namespace pictor::ui {

struct PhotoTerm {
    std::filesystem::path file;
    std::optional<std::int64_t> photoId; // set when the photo is in the library (dragged from the grid)
    bool negated = false; // "not like this"
};

struct SearchRequest {
    std::string text;
    std::vector<PhotoTerm> photos;
    double textWeight = 0.5; // share of the words against the photos
    std::optional<double> minScore;
    bool sortByDate = false;
    int limit = 200;
    PhotoFilter filter;

    bool empty() const;
    SearchQuery toQuery() const;
};

} // namespace pictor::ui
