// Image preprocessing as Hugging Face image processors do it. The resampler reproduces Pillow's
// ImagingResample (src/libImaging/Resample.c, 8-bit path) bit for bit: same filters, same coefficient
// precompute in double, same 22-bit fixed-point rounding and clamping after each pass. Only the order of
// the integer additions differs (to let the compiler vectorise), which cannot change an exact integer sum.
#include "core/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numbers>

#include "core/error.h"
#include "core/json_file.h"

// The build targets baseline x86-64; the inner loops get AVX2 versions picked at run time.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PICTOR_X86_DISPATCH 1
#define PICTOR_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PICTOR_X86_DISPATCH 0
#define PICTOR_VECTOR_CLONES
#endif

namespace pictor {
namespace {

// ---------------------------------------------------------------------------------------------------
// Pillow's filters, indexed by PIL's resample ids.

struct ResampleFilter {
    double (*weight)(double x);
    double support;
};

double boxWeight(double x)
{
    return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

double bilinearWeight(double x)
{
    x = std::abs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

double hammingWeight(double x)
{
    x = std::abs(x);
    if (x == 0.0)
        return 1.0;
    if (x >= 1.0)
        return 0.0;
    x = x * std::numbers::pi;
    // Pillow writes the constants as float literals; keep their float values.
    return std::sin(x) / x * (static_cast<double>(0.54f) + static_cast<double>(0.46f) * std::cos(x));
}

double bicubicWeight(double x)
{
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * std::numbers::pi;
    return std::sin(x) / x;
}

double lanczosWeight(double x)
{
    return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
}

bool isSupportedPilFilter(int id)
{
    return id >= 1 && id <= 5;
}

ResampleFilter pilFilter(int id)
{
    switch (id) {
    case 1:
        return {lanczosWeight, 3.0};
    case 2:
        return {bilinearWeight, 1.0};
    case 3:
        return {bicubicWeight, 2.0};
    case 4:
        return {boxWeight, 0.5};
    case 5:
        return {hammingWeight, 1.0};
    default:
        PICTOR_FAIL("unsupported PIL resample filter ", id,
            " (supported: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)");
    }
}

// ---------------------------------------------------------------------------------------------------
// Coefficients of one axis (Pillow's precompute_coeffs + normalize_coeffs_8bpc).

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr std::int32_t kRoundingHalf = 1 << (kPrecisionBits - 1);

struct AxisWeights {
    int maxTaps = 0; // Pillow's ksize: the row stride of `weights`
    std::vector<int> first; // per output index: first input index used (xmin)
    std::vector<int> taps; // per output index: number of inputs used (xmax - xmin)
    std::vector<std::int32_t> weights; // outSize x maxTaps fixed-point weights, zero past `taps`
};

std::int32_t toFixedPoint(double weight)
{
    // Rounds half away from zero, as Pillow does.
    const double scaled = weight * (1 << kPrecisionBits);
    return static_cast<std::int32_t>(weight < 0 ? scaled - 0.5 : scaled + 0.5);
}

// Weights of outputs [firstOut, firstOut + count) of an inSize -> outSize resize. Each output depends only
// on its own index, so computing a window of outputs equals resizing fully and cropping.
AxisWeights computeAxisWeights(int inSize, int outSize, int firstOut, int count, const ResampleFilter& filter)
{
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0); // antialiasing: widen the filter when reducing
    const double support = filter.support * filterScale;
    const double invFilterScale = 1.0 / filterScale;

    AxisWeights axis;
    axis.maxTaps = static_cast<int>(std::ceil(support)) * 2 + 1;
    axis.first.resize(count);
    axis.taps.resize(count);
    axis.weights.assign(static_cast<std::size_t>(count) * axis.maxTaps, 0);
    std::vector<double> k(axis.maxTaps);
    for (int i = 0; i < count; ++i) {
        const double center = (firstOut + i + 0.5) * scale;
        const int xmin = std::max(static_cast<int>(center - support + 0.5), 0); // truncation, as Pillow
        const int xmax = std::min(static_cast<int>(center + support + 0.5), inSize);
        const int taps = xmax - xmin;
        double sum = 0.0;
        for (int x = 0; x < taps; ++x) {
            k[x] = filter.weight((x + xmin - center + 0.5) * invFilterScale);
            sum += k[x];
        }
        std::int32_t* fixed = axis.weights.data() + static_cast<std::size_t>(i) * axis.maxTaps;
        for (int x = 0; x < taps; ++x)
            fixed[x] = toFixedPoint(sum != 0.0 ? k[x] / sum : k[x]);
        axis.first[i] = xmin;
        axis.taps[i] = taps;
    }
    return axis;
}

std::uint8_t clip8(std::int32_t accumulator)
{
    return static_cast<std::uint8_t>(std::clamp(accumulator >> kPrecisionBits, 0, 255));
}

// ---------------------------------------------------------------------------------------------------
// Horizontal pass. One output pixel is a dot product over the 3 * taps contiguous bytes of its input
// span, with the weights repeated per channel (w[3t + c] = k[t]) and padded to whole blocks of 8 pixels.
// Blocks of 24 bytes (a multiple of 3 and of the vector width) let lane j accumulate channel j % 3.

constexpr int kBlockPixels = 8;
constexpr int kBlockBytes = 3 * kBlockPixels;
constexpr int kRowOverreadBytes = kBlockBytes; // a span's last block may run past the row end

struct HorizontalPlan {
    int outWidth = 0;
    int stride = 0; // weights per output pixel (whole blocks)
    std::vector<int> firstByte; // 3 * xmin
    std::vector<int> blocks; // ceil(taps / 8)
    std::vector<std::int32_t> weights; // outWidth x stride, channel-repeated
};

HorizontalPlan planHorizontal(const AxisWeights& axis, int outWidth)
{
    HorizontalPlan plan;
    plan.outWidth = outWidth;
    plan.stride = (axis.maxTaps + kBlockPixels - 1) / kBlockPixels * kBlockBytes;
    plan.firstByte.resize(outWidth);
    plan.blocks.resize(outWidth);
    plan.weights.assign(static_cast<std::size_t>(outWidth) * plan.stride, 0);
    for (int x = 0; x < outWidth; ++x) {
        plan.firstByte[x] = 3 * axis.first[x];
        plan.blocks[x] = (axis.taps[x] + kBlockPixels - 1) / kBlockPixels;
        const std::int32_t* k = axis.weights.data() + static_cast<std::size_t>(x) * axis.maxTaps;
        std::int32_t* w = plan.weights.data() + static_cast<std::size_t>(x) * plan.stride;
        for (int t = 0; t < axis.taps[x]; ++t)
            w[3 * t] = w[3 * t + 1] = w[3 * t + 2] = k[t];
    }
    return plan;
}

// Portable version. `row` must stay readable kRowOverreadBytes past its end (the weights there are 0).
void resampleRowHorizontalScalar(const std::uint8_t* row, const HorizontalPlan& plan, std::uint8_t* out)
{
    for (int x = 0; x < plan.outWidth; ++x) {
        const std::uint8_t* in = row + plan.firstByte[x];
        const std::int32_t* w = plan.weights.data() + static_cast<std::size_t>(x) * plan.stride;
        std::int32_t sums[3] = {kRoundingHalf, kRoundingHalf, kRoundingHalf};
        for (int j = 0; j < plan.blocks[x] * kBlockBytes; j += 3)
            for (int c = 0; c < 3; ++c)
                sums[c] += in[j + c] * w[j + c];
        for (int c = 0; c < 3; ++c)
            out[3 * x + c] = clip8(sums[c]);
    }
}

#if PICTOR_X86_DISPATCH
// Same sums with AVX2: three 8-lane accumulators cover a 24-byte block, lane j holding channel j % 3.
__attribute__((target("avx2"))) void resampleRowHorizontalAvx2(
    const std::uint8_t* row, const HorizontalPlan& plan, std::uint8_t* out)
{
    for (int x = 0; x < plan.outWidth; ++x) {
        const std::uint8_t* in = row + plan.firstByte[x];
        const std::int32_t* w = plan.weights.data() + static_cast<std::size_t>(x) * plan.stride;
        __m256i lanes[3] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int b = 0; b < plan.blocks[x]; ++b, in += kBlockBytes, w += kBlockBytes) {
            for (int v = 0; v < 3; ++v) {
                const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + 8 * v));
                const __m256i weights = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 8 * v));
                lanes[v]
                    = _mm256_add_epi32(lanes[v], _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bytes), weights));
            }
        }
        alignas(32) std::int32_t block[kBlockBytes];
        for (int v = 0; v < 3; ++v)
            _mm256_store_si256(reinterpret_cast<__m256i*>(block + 8 * v), lanes[v]);
        for (int c = 0; c < 3; ++c) {
            std::int32_t sum = kRoundingHalf;
            for (int j = c; j < kBlockBytes; j += 3)
                sum += block[j];
            out[3 * x + c] = clip8(sum);
        }
    }
}
#endif

using RowResampler = void (*)(const std::uint8_t* row, const HorizontalPlan& plan, std::uint8_t* out);

// AVX2 when the CPU has it, unless PICTOR_DISABLE_AVX2 is set (for tests of the portable path, and
// for debugging). Read per resize, which costs nothing next to the resize.
RowResampler horizontalRowResampler()
{
#if PICTOR_X86_DISPATCH
    static const bool supported = __builtin_cpu_supports("avx2");
    const char* disabled = std::getenv("PICTOR_DISABLE_AVX2");
    if (supported && !(disabled && *disabled && std::strcmp(disabled, "0") != 0))
        return resampleRowHorizontalAvx2;
#endif
    return resampleRowHorizontalScalar;
}

// Resamples rows [firstRow, lastRow) of `image` horizontally (Pillow also skips rows the vertical pass
// ignores), for the output columns described by `axis`.
RgbImage resampleHorizontal(const RgbImage& image, const AxisWeights& axis, int firstRow, int lastRow)
{
    const int outWidth = static_cast<int>(axis.first.size());
    const HorizontalPlan plan = planHorizontal(axis, outWidth);
    const RowResampler resampleRow = horizontalRowResampler();
    RgbImage out(outWidth, lastRow - firstRow);
    const std::size_t rowBytes = static_cast<std::size_t>(image.width) * 3;
    std::vector<std::uint8_t> paddedLastRow(rowBytes + kRowOverreadBytes, 0);
    for (int y = firstRow; y < lastRow; ++y) {
        const std::uint8_t* row = image.row(y);
        if (y == image.height - 1) { // no next row to over-read into
            std::memcpy(paddedLastRow.data(), row, rowBytes);
            row = paddedLastRow.data();
        }
        resampleRow(row, plan, out.row(y - firstRow));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Vertical pass: every output row is a weighted sum of whole input rows, contiguous and vectorisable.

PICTOR_VECTOR_CLONES
void resampleRowVertical(const std::uint8_t* firstInputRow, std::size_t rowBytes, int taps,
    const std::int32_t* k, std::int32_t* sums, std::uint8_t* out)
{
    std::fill(sums, sums + rowBytes, kRoundingHalf);
    for (int t = 0; t < taps; ++t) {
        const std::uint8_t* in = firstInputRow + static_cast<std::size_t>(t) * rowBytes;
        const std::int32_t weight = k[t];
        for (std::size_t j = 0; j < rowBytes; ++j)
            sums[j] += in[j] * weight;
    }
    for (std::size_t j = 0; j < rowBytes; ++j)
        out[j] = clip8(sums[j]);
}

// `image` holds input rows [rowOffset, rowOffset + image.height) of the original.
RgbImage resampleVertical(const RgbImage& image, const AxisWeights& axis, int rowOffset)
{
    const int outHeight = static_cast<int>(axis.first.size());
    RgbImage out(image.width, outHeight);
    const std::size_t rowBytes = static_cast<std::size_t>(image.width) * 3;
    std::vector<std::int32_t> sums(rowBytes);
    for (int y = 0; y < outHeight; ++y) {
        const std::int32_t* k = axis.weights.data() + static_cast<std::size_t>(y) * axis.maxTaps;
        resampleRowVertical(
            image.row(axis.first[y] - rowOffset), rowBytes, axis.taps[y], k, sums.data(), out.row(y));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Resizing a window of the output.

struct Window {
    int left = 0;
    int top = 0;
    int width = 0;
    int height = 0;
};

RgbImage cropImage(const RgbImage& image, const Window& window)
{
    RgbImage out(window.width, window.height);
    for (int y = 0; y < window.height; ++y)
        std::memcpy(out.row(y), image.row(window.top + y) + 3 * window.left,
            static_cast<std::size_t>(window.width) * 3);
    return out;
}

// Pillow's resize to width x height, but only the output pixels inside `window` (within the output).
// As Pillow, a pass is skipped when its dimension does not change.
RgbImage resizeWindow(
    const RgbImage& image, int width, int height, const ResampleFilter& filter, const Window& window)
{
    const bool needHorizontal = width != image.width;
    const bool needVertical = height != image.height;
    if (!needHorizontal && !needVertical)
        return cropImage(image, window);
    if (!needVertical) {
        const AxisWeights horizontal
            = computeAxisWeights(image.width, width, window.left, window.width, filter);
        return resampleHorizontal(image, horizontal, window.top, window.top + window.height);
    }
    const AxisWeights vertical = computeAxisWeights(image.height, height, window.top, window.height, filter);
    const int firstRow = vertical.first.front(); // rows the vertical pass reads
    const int lastRow = vertical.first.back() + vertical.taps.back();
    const RgbImage rows = needHorizontal
        ? resampleHorizontal(image, computeAxisWeights(image.width, width, window.left, window.width, filter),
            firstRow, lastRow)
        : cropImage(image, {window.left, firstRow, window.width, lastRow - firstRow});
    return resampleVertical(rows, vertical, firstRow);
}

// ---------------------------------------------------------------------------------------------------
// Configuration helpers.

int floorDiv(int a, int b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::array<float, 3> channelTriple(const nlohmann::json& config, const std::string& key,
    const std::array<float, 3>& fallback, const std::filesystem::path& file)
{
    auto it = config.find(key);
    if (it == config.end() || it->is_null())
        return fallback;
    if (it->is_number()) { // HF accepts one value for all channels
        const float value = it->get<float>();
        return {value, value, value};
    }
    const auto values = jsonField<std::vector<float>>(config, key, file);
    PICTOR_CHECK(values.size() == 3, file.string(), ": '", key, "' must have 3 values, not ", values.size());
    return {values[0], values[1], values[2]};
}

// HF's size dicts: a bare number, {"shortest_edge": n} or {"height": h, "width": w}.
void readResizeSize(
    const nlohmann::json& config, const std::filesystem::path& file, ImagePreprocessConfig& out)
{
    auto it = config.find("size");
    if (it == config.end() || it->is_null())
        return; // the CLIP default: shortest_edge 224
    if (it->is_number_integer()) {
        out.shortestEdge = it->get<int>(); // CLIP reads a bare size as the shortest edge
        return;
    }
    PICTOR_CHECK(it->is_object(), file.string(), ": 'size' must be a number or an object");
    if (it->contains("shortest_edge")) {
        out.shortestEdge = jsonField<int>(*it, "shortest_edge", file);
        return;
    }
    PICTOR_CHECK(it->contains("height") && it->contains("width"), file.string(),
        ": 'size' needs 'shortest_edge' or 'height' and 'width'");
    out.resizeHeight = jsonField<int>(*it, "height", file);
    out.resizeWidth = jsonField<int>(*it, "width", file);
    out.shortestEdge = 0;
}

void readCropSize(const nlohmann::json& config, const std::filesystem::path& file, ImagePreprocessConfig& out)
{
    auto it = config.find("crop_size");
    if (it == config.end() || it->is_null())
        return;
    if (it->is_number_integer()) {
        out.cropHeight = out.cropWidth = it->get<int>();
        return;
    }
    PICTOR_CHECK(it->is_object(), file.string(), ": 'crop_size' must be a number or an object");
    out.cropHeight = jsonField<int>(*it, "height", file);
    out.cropWidth = jsonField<int>(*it, "width", file);
}

void validateConfig(const ImagePreprocessConfig& config, const std::filesystem::path& file)
{
    const auto fail = [&](const auto&... what) { PICTOR_FAIL(file.string(), ": ", what...); };
    if (config.doResize && !isSupportedPilFilter(config.resample))
        fail("unsupported resample filter ", config.resample,
            " (supported PIL filters: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)");
    const bool fixedResize = config.shortestEdge <= 0;
    if (config.doResize && fixedResize && (config.resizeHeight <= 0 || config.resizeWidth <= 0))
        fail("size must be positive");
    if (config.doCenterCrop && (config.cropHeight <= 0 || config.cropWidth <= 0))
        fail("crop_size must be positive");
    if (config.outputHeight() <= 0 || config.outputWidth() <= 0)
        fail("the output size would depend on the image (no center crop and no fixed resize size)");
    for (float s : config.std)
        if (s == 0.0f || !std::isfinite(s))
            fail("image_std must be finite and non-zero");
}

void checkImage(const RgbImage& image, const char* what)
{
    PICTOR_CHECK(
        !image.empty() && image.pixels.size() == static_cast<std::size_t>(image.width) * image.height * 3,
        what, ": invalid input image ", image.width, "x", image.height);
}

} // namespace

int ImagePreprocessConfig::outputHeight() const
{
    if (doCenterCrop)
        return cropHeight;
    return doResize && shortestEdge <= 0 ? resizeHeight : 0;
}

int ImagePreprocessConfig::outputWidth() const
{
    if (doCenterCrop)
        return cropWidth;
    return doResize && shortestEdge <= 0 ? resizeWidth : 0;
}

ImagePreprocessConfig loadPreprocessConfig(const std::filesystem::path& file)
{
    const nlohmann::json json = readJsonFile(file);
    PICTOR_CHECK(json.is_object(), file.string(), ": expected a JSON object");
    ImagePreprocessConfig config;
    config.doResize = jsonFieldOr<bool>(json, "do_resize", true, file);
    readResizeSize(json, file, config);
    config.resample = jsonFieldOr<int>(json, "resample", config.resample, file);
    // CLIP crops by default; processors without crop_size (SigLIP) have no crop step at all.
    config.doCenterCrop = jsonFieldOr<bool>(json, "do_center_crop", json.contains("crop_size"), file);
    readCropSize(json, file, config);
    config.doRescale = jsonFieldOr<bool>(json, "do_rescale", true, file);
    config.rescaleFactor = jsonFieldOr<double>(json, "rescale_factor", config.rescaleFactor, file);
    config.doNormalize = jsonFieldOr<bool>(json, "do_normalize", true, file);
    config.mean = channelTriple(json, "image_mean", config.mean, file);
    config.std = channelTriple(json, "image_std", config.std, file);
    config.doConvertRgb = jsonFieldOr<bool>(json, "do_convert_rgb", true, file);
    validateConfig(config, file);
    return config;
}

std::array<int, 2> shortestEdgeSize(int width, int height, int edge)
{
    PICTOR_CHECK(width > 0 && height > 0 && edge > 0, "shortestEdgeSize: invalid sizes ", width, "x", height,
        " edge ", edge);
    const bool landscape = width > height; // HF: short, long = (w, h) if w <= h else (h, w)
    const std::int64_t shortSide = landscape ? height : width;
    const std::int64_t longSide = landscape ? width : height;
    // Python: int(edge * long / short), a true (double) division truncated.
    const int newLong
        = static_cast<int>(static_cast<double>(edge * longSide) / static_cast<double>(shortSide));
    return landscape ? std::array<int, 2> {newLong, edge} : std::array<int, 2> {edge, newLong};
}

RgbImage resizePil(const RgbImage& image, int width, int height, int pilFilterId)
{
    checkImage(image, "resizePil");
    PICTOR_CHECK(width > 0 && height > 0, "resizePil: invalid target size ", width, "x", height);
    return resizeWindow(image, width, height, pilFilter(pilFilterId), {0, 0, width, height});
}

RgbImage resizeBicubicPil(const RgbImage& image, int width, int height)
{
    return resizePil(image, width, height, 3);
}

void cropNormalizeToChw(const std::uint8_t* rgb, int width, int height, int top, int left, int cropHeight,
    int cropWidth, float rescale, const std::array<float, 3>& mean, const std::array<float, 3>& std,
    float* chw)
{
    const std::size_t plane = static_cast<std::size_t>(cropHeight) * cropWidth;
    for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < cropHeight; ++y) {
            for (int x = 0; x < cropWidth; ++x) {
                const int sourceY = top + y;
                const int sourceX = left + x;
                const bool inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width;
                const std::uint8_t value
                    = inside ? rgb[(static_cast<std::size_t>(sourceY) * width + sourceX) * 3 + c] : 0;
                chw[c * plane + static_cast<std::size_t>(y) * cropWidth + x]
                    = (static_cast<float>(value) * rescale - mean[c]) / std[c];
            }
        }
    }
}

std::vector<float> preprocessImage(const RgbImage& image, const ImagePreprocessConfig& config)
{
    checkImage(image, "preprocessImage");
    const int outHeight = config.outputHeight();
    const int outWidth = config.outputWidth();
    PICTOR_CHECK(
        outHeight > 0 && outWidth > 0, "preprocessImage: the configuration has no fixed output size");
    std::array<int, 2> size {image.width, image.height};
    if (config.doResize)
        size = config.shortestEdge > 0 ? shortestEdgeSize(image.width, image.height, config.shortestEdge)
                                       : std::array<int, 2> {config.resizeWidth, config.resizeHeight};
    const auto [width, height] = size;
    PICTOR_CHECK(config.doCenterCrop || (width == outWidth && height == outHeight),
        "preprocessImage: the image is ", width, "x", height, " but the model expects ", outWidth, "x",
        outHeight, " and there is no crop");

    // HF's center_crop: floor division also when the image is smaller than the crop (zero padding).
    const int top = floorDiv(height - outHeight, 2);
    const int left = floorDiv(width - outWidth, 2);
    // Only the part of the resized image that the crop keeps is computed (exact, and spares panoramas).
    const Window kept {std::max(left, 0), std::max(top, 0),
        std::min(left + outWidth, width) - std::max(left, 0),
        std::min(top + outHeight, height) - std::max(top, 0)};
    RgbImage resized;
    if (config.doResize)
        resized = resizeWindow(image, width, height, pilFilter(config.resample), kept);
    const RgbImage& source = config.doResize ? resized : image;
    const int sourceTop = config.doResize ? top - kept.top : top;
    const int sourceLeft = config.doResize ? left - kept.left : left;

    const float rescale = config.doRescale ? static_cast<float>(config.rescaleFactor) : 1.0f;
    const std::array<float, 3> mean = config.doNormalize ? config.mean : std::array<float, 3> {0, 0, 0};
    const std::array<float, 3> std = config.doNormalize ? config.std : std::array<float, 3> {1, 1, 1};
    std::vector<float> chw(static_cast<std::size_t>(3) * outHeight * outWidth);
    cropNormalizeToChw(source.pixels.data(), source.width, source.height, sourceTop, sourceLeft, outHeight,
        outWidth, rescale, mean, std, chw.data());
    return chw;
}

} // namespace pictor
