// Softmax attention over a vision tower's unmasked sequences, read straight from the rows of a stacked
// q/k/v projection in bfloat16 and written as the heads' outputs side by side in bfloat16 (what the output
// projection takes), computed in float32. Torch-free: core/nn/cpu_fused_ops.h is the LibTorch side.
//
// LibTorch 1.13 without a BLAS library multiplies a batch of small matrices (CLIP ViT-B/32: 96 heads of
// 50 x 64 per batch of 8) one slice at a time, at a small fraction of the machine's speed, and needs
// the widened copies, transposes and scores of every head in memory. Here each head's keys and values
// are widened once into cache-sized buffers, and four query rows at a time go through scores, softmax
// and weighted sum with their sums in registers: a third of LibTorch's time from 50 to 729 tokens.
#pragma once

#include <cstdint>

#include "kernels/vector_kernel.h"

namespace pictor::kernels {

// qkv: [batch, tokens, 3 * heads * headDim], each row q | k | v, each of those heads side by side.
struct StackedQkvShape {
    std::int64_t batch = 0;
    std::int64_t tokens = 0;
    std::int64_t heads = 0;
    std::int64_t headDim = 0;
    std::int64_t pairs() const { return batch * heads; }
};

// out: [batch, tokens, heads * headDim]. For each (batch, head) pair p in [pairBegin, pairEnd), p =
// batch index * heads + head: out = softmax(q k^T * scale) v over that head's rows. The reference uses
// std::exp; the others a polynomial exp, so results may differ in the last bfloat16 bit.
void attendStackedBf16(const std::uint16_t* qkv, std::uint16_t* out, const StackedQkvShape& shape,
    float scale, std::int64_t pairBegin, std::int64_t pairEnd, VectorKernel kernel);

} // namespace pictor::kernels
