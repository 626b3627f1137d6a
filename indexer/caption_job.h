// Batch captioning of library photos (`pictor caption --library`, the app's Caption actions): the photos
// without a caption from this model id and prompt are decoded at reduced size, captioned one at a time on
// the compute worker at Chat priority, one slice of the answer per job (interactive queries run between
// slices), and stored at once with provenance, so a cancel loses at most the photo in progress and the
// next run resumes. No Qt and no Torch here.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/imageio/decode.h"
#include "core/vision_chat.h"
#include "indexer/catalog.h"

namespace pictor {

class ComputeWorker;

struct CaptionCounts {
    std::int64_t total = 0; // photos asked for
    std::int64_t done = 0; // photos tried this run (captioned or failed)
    std::int64_t captioned = 0;
    std::int64_t skipped = 0; // already captioned by this model with this prompt
    std::int64_t failed = 0;
};

// After every photo tried: the counts, and the photo (with its caption when one was stored).
struct CaptionEvent {
    CaptionCounts counts;
    std::int64_t photoId = 0;
    std::filesystem::path path;
    std::string caption; // empty: the photo failed
};

struct CaptionJobOptions {
    int maxNewTokens = 96;
    ComputeWorker* worker = nullptr; // the slices run there at JobPriority::Chat; null: the calling thread
    const std::atomic<bool>* cancel = nullptr; // checked before every photo and every token
    std::function<void(const CaptionEvent&)> progress;
};

struct CaptionSummary {
    CaptionCounts counts;
    bool cancelled = false;
    std::string modelId;
};

// Photos are decoded at reduced size (JPEG DCT scaling) down to a short edge of 768: at least twice the
// input of the LLaVA vision towers (336 px CLIP, 384 px SigLIP).
DecodeOptions captionDecodeOptions();

// Captions the photos among `ids` that have no caption from `chat`'s model id and captionPrompt().
// Per-photo problems are recorded as failures of job kind "caption" (the previous run's are cleared).
CaptionSummary captionPhotos(Catalog& catalog, VisionChat& chat, const std::vector<std::int64_t>& ids,
    const CaptionJobOptions& options);

} // namespace pictor
