// Duplicates in a library: the same bytes in several files (by content hash), and near-duplicates, photos
// whose embeddings are within a cosine threshold (a resized copy, a burst, an edit). Found through the
// vector index's top-k search (batched: a BLAS product for the exact index, graph searches for HNSW), so
// not by comparing every pair in a loop; pairs are joined into groups (union-find).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "indexer/catalog.h"

namespace pictor {

class Library;

struct DuplicateOptions {
    double threshold = 0.95; // cosine similarity of near-duplicates
    int neighbours = 8; // how many nearest photos each photo looks at
};

struct DuplicateGroup {
    bool exact = false; // every photo has the same content
    double lowestScore = 1; // the weakest link that joined the group (1 for exact copies)
    std::vector<PhotoRecord> photos; // best first: most pixels, then the largest file, then the oldest
};

// Groups of two or more photos, largest first. `modelId`'s embeddings and vector index are used.
std::vector<DuplicateGroup> findDuplicates(
    Library& library, const std::string& modelId, int dimension, const DuplicateOptions& options = {});

} // namespace pictor
