// Image preprocessing for vision towers, on decoded RGB buffers, exactly as Hugging Face's
// image processors do it (PIL resampling), with parameters from the model's preprocessor_config.json.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/image.h"

namespace pictor {

// The fields of a CLIPImageProcessor-style preprocessor_config.json that Pictor honours.
struct ImagePreprocessConfig {
    bool doResize = true;
    int shortestEdge = 224; // size.shortest_edge
    int resizeHeight = 0; // size.height/width when the processor resizes to a fixed size (SigLIP)
    int resizeWidth = 0;
    int resample = 3; // PIL filter id; 3 = BICUBIC (CLIP, SigLIP); 1, 2, 4, 5 also work
    bool doCenterCrop = true;
    int cropHeight = 224;
    int cropWidth = 224;
    bool doRescale = true;
    double rescaleFactor = 1.0 / 255.0;
    bool doNormalize = true;
    std::array<float, 3> mean {0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> std {0.26862954f, 0.26130258f, 0.27577711f};
    bool doConvertRgb = true;

    int outputHeight() const; // height of the tensor the vision tower receives
    int outputWidth() const;
};

// Reads preprocessor_config.json; unknown resample filters or malformed fields are errors naming the file.
ImagePreprocessConfig loadPreprocessConfig(const std::filesystem::path& file);

// Size after a shortest-edge resize: short side = edge, long side = int(edge * long / short) (truncated).
std::array<int, 2> shortestEdgeSize(int width, int height, int edge); // {width, height}

// PIL's Image.resize(..., BICUBIC) with antialiasing (support scaled by the downscale factor, a = -0.5,
// 22-bit fixed-point coefficients, horizontal pass then vertical, uint8 rounding and clamping per pass).
RgbImage resizeBicubicPil(const RgbImage& image, int width, int height);

// The same resampler with another PIL filter id: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING
// (0 NEAREST is a different algorithm and is refused, as is any other id).
RgbImage resizePil(const RgbImage& image, int width, int height, int pilFilter);

// The last step of preprocessing, shared with the CUDA kernel as its CPU reference:
// crop the window (top, left, cropHeight, cropWidth) of an interleaved uint8 RGB image, rescale,
// normalise per channel and write planar float CHW. Pixels of the window outside the image are 0
// before normalisation (as HF's center_crop pads).
void cropNormalizeToChw(const std::uint8_t* rgb, int width, int height, int top, int left, int cropHeight,
    int cropWidth, float rescale, const std::array<float, 3>& mean, const std::array<float, 3>& std,
    float* chw);

// The whole pipeline for one image: resize, centre crop (top = (h - ch) / 2, floor), rescale,
// normalise. Returns 3 * outputHeight() * outputWidth() floats in CHW order.
std::vector<float> preprocessImage(const RgbImage& image, const ImagePreprocessConfig& config);

} // namespace pictor
