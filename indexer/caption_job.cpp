#include "indexer/caption_job.h"

#include <memory>

#include "core/error.h"
#include "indexer/compute_worker.h"

namespace pictor {

DecodeOptions captionDecodeOptions()
{
    DecodeOptions options;
    options.targetShortEdge = 768;
    return options;
}

CaptionSummary captionPhotos(Catalog& catalog, VisionChat& chat, const std::vector<std::int64_t>& ids,
    const CaptionJobOptions& options)
{
    CaptionSummary summary;
    summary.modelId = chat.modelId();
    const std::string prompt(captionPrompt());
    CaptionCounts& counts = summary.counts;
    counts.total = static_cast<std::int64_t>(ids.size());
    std::vector<std::int64_t> todo;
    for (std::int64_t id : ids) {
        bool done = false;
        for (const CaptionRecord& caption : catalog.captions(id))
            done = done || (caption.modelId == summary.modelId && caption.prompt == prompt);
        if (done)
            ++counts.skipped;
        else
            todo.push_back(id);
    }
    catalog.clearFailures("caption");

    AnswerOptions answerOptions;
    answerOptions.greedy = true;
    answerOptions.maxNewTokens = options.maxNewTokens;
    answerOptions.cancel = options.cancel;
    for (std::int64_t id : todo) {
        if (options.cancel && *options.cancel) {
            summary.cancelled = true;
            break;
        }
        const auto photo = catalog.photo(id);
        if (!photo)
            continue; // removed meanwhile
        CaptionEvent event;
        event.photoId = id;
        event.path = photo->path;
        ChatAnswer answer;
        try {
            const RgbImage image = decodeImageFile(photo->path, captionDecodeOptions()).image;
            // One worker job per slice (about kAnswerSlice of image encoding, prefill or tokens each), so
            // an interactive job waits for one slice, not for a whole caption.
            std::unique_ptr<AnswerStream> stream;
            runStepsAndWait(options.worker, JobPriority::Chat, nullptr, [&] {
                if (!stream)
                    stream = chat.startDescribe(image, answerOptions);
                else
                    return stream->step(kAnswerSlice);
                return false;
            });
            answer = captionFromAnswer(stream->answer()); // a cancel ends the answer: it says so
        } catch (const Error& e) {
            catalog.recordFailure(photo->path, e.what(), "caption");
            ++counts.failed;
            ++counts.done;
            event.counts = counts;
            if (options.progress)
                options.progress(event);
            continue;
        }
        if (answer.cancelled) {
            summary.cancelled = true;
            break;
        }
        ++counts.done;
        if (answer.text.empty()) {
            catalog.recordFailure(photo->path, "the model's caption was empty after clean-up", "caption");
            ++counts.failed;
        } else {
            catalog.addCaption(id, answer.text, summary.modelId, prompt);
            ++counts.captioned;
            event.caption = answer.text;
        }
        event.counts = counts;
        if (options.progress)
            options.progress(event);
    }
    return summary;
}

} // namespace pictor
