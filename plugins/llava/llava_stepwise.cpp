#include "plugins/llava/llava_stepwise.h"

#include <algorithm>

#include <c10/core/InferenceMode.h>

#include "core/error.h"

namespace pictor::llava {

ImageEncoding::ImageEncoding(const LlavaModel& model, const at::Tensor& pixel_values)
    : model_(model),
      pixel_values_(pixel_values),
      indices_(model.config().featureLayerIndices()),
      deepest_(*std::max_element(indices_.begin(), indices_.end())),
      chosen_(indices_.size())
{
}

int ImageEncoding::stepsLeft() const
{
    return done_ ? 0 : deepest_ + 2 - next_;
}

bool ImageEncoding::step()
{
    if (done_)
        return true;
    c10::InferenceMode guard;
    if (next_ <= deepest_) {
        // hidden_states[i] is the output of encoder layer i - 1 ([0]: the embeddings); only the ones read
        // are kept, and the layers after the deepest one read are not run.
        if (next_ == 0) {
            hidden_states_ = model_.visionTower().embed(pixel_values_.to(model_.device().device));
            pixel_values_ = at::Tensor();
        } else {
            hidden_states_
                = model_.visionTower().encoder().layers[static_cast<std::size_t>(next_ - 1)].forward(
                    hidden_states_, std::nullopt);
        }
        for (std::size_t k = 0; k < indices_.size(); ++k)
            if (indices_[k] == next_)
                chosen_[k] = hidden_states_;
        ++next_;
        return false;
    }
    at::Tensor selected = chosen_.size() == 1 ? chosen_.front() : at::cat(chosen_, -1);
    if (model_.config().dropClassToken)
        selected = selected.slice(1, 1);
    features_ = {selected, model_.project(selected)};
    chosen_.clear();
    hidden_states_ = at::Tensor();
    done_ = true;
    return true;
}

const VisionFeatures& ImageEncoding::features() const
{
    PICTOR_CHECK(done_, "the image encoding has ", stepsLeft(), " step(s) left");
    return features_;
}

ChunkedPrefill::ChunkedPrefill(LlavaSession& session, at::Tensor inputs_embeds, std::int64_t chunk)
    : session_(session), inputs_embeds_(std::move(inputs_embeds)), chunk_(chunk)
{
    PICTOR_CHECK(inputs_embeds_.dim() == 3 && inputs_embeds_.size(0) == 1 && inputs_embeds_.size(1) > 0,
        "prompt embeddings must be [1, tokens, hidden] with at least one token, not ",
        inputs_embeds_.sizes());
    PICTOR_CHECK(chunk_ > 0, "a prefill chunk needs at least one position, not ", chunk_);
    total_ = inputs_embeds_.size(1);
    session_.checkFits(total_);
}

bool ChunkedPrefill::step()
{
    if (done())
        return true;
    const std::int64_t end = std::min(next_ + chunk_, total_);
    const bool last = end == total_;
    const at::Tensor logits = session_.prefillEmbeddings(inputs_embeds_.slice(1, next_, end), last);
    next_ = end;
    if (last) {
        logits_ = logits;
        inputs_embeds_ = at::Tensor();
    }
    return last;
}

} // namespace pictor::llava
