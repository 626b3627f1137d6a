// 8-bit weights for the linear layers of decoding (kernels/q8_0.h): quantized at load from the
// checkpoint's weights, multiplied by the run-time-chosen VNNI or AVX2 kernel for a few tokens at a time,
// or expanded to the working format for a long prompt, where LibTorch's matrix products are faster.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

namespace pictor::nn {

struct Q8Weight {
    at::Tensor values; // int8 [out, in]
    at::Tensor scales; // float32 [out, in / 32]

    // Whether `weight` can be quantized: a 2-D CPU matrix whose rows are whole 32-value blocks.
    static bool fits(const at::Tensor& weight);
    static Q8Weight quantize(const at::Tensor& weight);

    bool defined() const { return values.defined(); }
    std::int64_t outFeatures() const { return values.size(0); }
    std::int64_t inFeatures() const { return values.size(1); }
    at::Tensor dequantize(at::ScalarType dtype) const; // [out, in]
    // x [..., in] -> [..., out] in x's format, plus `bias` when defined.
    at::Tensor linear(const at::Tensor& x, const at::Tensor& bias) const;
};

// Up to this many tokens go through the 8-bit kernel; longer runs (a prompt's prefill) expand the weight
// and use LibTorch's matrix product (llava_bench: prefill in bfloat16 from expanded weights beats the
// 8-bit kernel there, decoding is the other way round).
inline constexpr std::int64_t kQ8KernelMaxTokens = 8;

} // namespace pictor::nn
