#include "core/nn/noise.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/nn/binder.h"

namespace pictor::nn {
namespace {

std::string shapeText(const std::vector<std::int64_t>& shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

} // namespace

std::string recordedDrawName(int index)
{
    char name[32];
    std::snprintf(name, sizeof name, "random_draw.%02d", index);
    return name;
}

std::uint64_t SeededNoise::nextBits()
{
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double SeededNoise::nextUniform()
{
    return static_cast<double>((nextBits() >> 11) + 1) * 0x1.0p-53;
}

at::Tensor SeededNoise::draw(const std::vector<std::int64_t>& shape, const std::string& /*what*/)
{
    at::Tensor values = at::empty(shape, at::kFloat);
    float* out = values.data_ptr<float>();
    const std::int64_t count = values.numel();
    const double twoPi = 2 * std::acos(-1.0);
    for (std::int64_t i = 0; i < count; i += 2) {
        const double radius = std::sqrt(-2 * std::log(nextUniform()));
        const double angle = twoPi * nextUniform();
        out[i] = static_cast<float>(radius * std::cos(angle));
        if (i + 1 < count)
            out[i + 1] = static_cast<float>(radius * std::sin(angle));
    }
    ++drawsTaken_;
    return values;
}

ReplayNoise::ReplayNoise(const std::filesystem::path& file) : file_(SafetensorsFile::open(file))
{
    PICTOR_CHECK(file_->find(recordedDrawName(0)), file.string(), ": no recorded draws (expected tensors ",
        recordedDrawName(0), ", ", recordedDrawName(1), ", ...)");
}

at::Tensor ReplayNoise::draw(const std::vector<std::int64_t>& shape, const std::string& what)
{
    const std::string name = recordedDrawName(drawsTaken_);
    const TensorView* view = file_->find(name);
    PICTOR_CHECK(view, file_->path().string(), ": the run needs draw ", drawsTaken_, " (", what, ", ",
        shapeText(shape), ") but the file has only ", drawsTaken_, " recorded draws");
    PICTOR_CHECK(view->shape == shape, file_->path().string(), ": recorded draw '", name, "' has shape ",
        view->shapeString(), " but the run needs ", shapeText(shape), " for ", what);
    ++drawsTaken_;
    return tensorFromView(*view).to(at::kFloat).clone();
}

} // namespace pictor::nn
