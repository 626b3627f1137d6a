#include "core/nn/cpu_fused_ops.h"

#include <cmath>
#include <numbers>
#include <optional>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "kernels/gated_activation.h"
#include "kernels/residual_layer_norm.h"
#include "kernels/stacked_attention.h"

namespace pictor::nn {
namespace {

std::optional<kernels::SigmoidGate> sigmoidGateOf(Activation activation)
{
    switch (activation) {
    case Activation::QuickGelu:
        return kernels::SigmoidGate {1.702f, 0.0f};
    case Activation::Silu:
        return kernels::SigmoidGate {1.0f, 0.0f};
    case Activation::GeluTanh: {
        const float linear = static_cast<float>(2.0 * std::sqrt(2.0 / std::numbers::pi));
        return kernels::SigmoidGate {linear, linear * 0.044715f};
    }
    case Activation::Gelu:
    case Activation::Relu:
        return std::nullopt;
    }
    return std::nullopt;
}

// Enough work per task (numbers of an activation, rows of a layer norm) that a thread's share outweighs
// handing it out.
constexpr std::int64_t kNumbersPerTask = 16384;
constexpr std::int64_t kRowsPerTask = 16;

// A contiguous bfloat16 tensor's numbers as the kernels take them: bit patterns.
const std::uint16_t* bitsOf(const at::Tensor& bfloat16)
{
    return reinterpret_cast<const std::uint16_t*>(bfloat16.data_ptr<c10::BFloat16>());
}
std::uint16_t* mutableBitsOf(at::Tensor& bfloat16)
{
    return reinterpret_cast<std::uint16_t*>(bfloat16.data_ptr<c10::BFloat16>());
}

} // namespace

bool hasOnePassBfloat16Form(Activation activation)
{
    return sigmoidGateOf(activation).has_value();
}

at::Tensor activateBfloat16InOnePass(const at::Tensor& x, Activation activation)
{
    const std::optional<kernels::SigmoidGate> gate = sigmoidGateOf(activation);
    PICTOR_CHECK(gate && x.scalar_type() == at::kBFloat16 && x.is_cpu(),
        "the one-pass activation takes a bfloat16 CPU tensor and quick_gelu, silu or the tanh gelu");
    const at::Tensor input = x.contiguous();
    at::Tensor output = at::empty_like(input);
    const std::uint16_t* source = bitsOf(input);
    std::uint16_t* destination = mutableBitsOf(output);
    const kernels::VectorKernel kernel = kernels::bestVectorKernel();
    at::parallel_for(0, input.numel(), kNumbersPerTask, [&](std::int64_t begin, std::int64_t end) {
        kernels::gatedActivationBf16(source + begin, destination + begin, end - begin, *gate, kernel);
    });
    return output;
}

at::Tensor attendStackedBfloat16(const at::Tensor& qkv, std::int64_t heads, double scale)
{
    PICTOR_CHECK(qkv.scalar_type() == at::kBFloat16 && qkv.is_cpu() && qkv.dim() == 3 && heads > 0
            && qkv.size(2) % (3 * heads) == 0,
        "stacked attention takes a bfloat16 CPU tensor [batch, tokens, 3 * hidden] with hidden a multiple "
        "of ",
        heads, " heads, not ", qkv.scalar_type(), " ", qkv.sizes());
    const at::Tensor input = qkv.contiguous();
    const kernels::StackedQkvShape shape {input.size(0), input.size(1), heads, input.size(2) / (3 * heads)};
    at::Tensor output = at::empty({shape.batch, shape.tokens, heads * shape.headDim}, input.options());
    const std::uint16_t* source = bitsOf(input);
    std::uint16_t* destination = mutableBitsOf(output);
    const kernels::VectorKernel kernel = kernels::bestVectorKernel();
    at::parallel_for(0, shape.pairs(), 1, [&](std::int64_t begin, std::int64_t end) {
        kernels::attendStackedBf16(source, destination, shape, static_cast<float>(scale), begin, end, kernel);
    });
    return output;
}

at::Tensor addAndLayerNormBfloat16(at::Tensor& stream, const at::Tensor& update, const LayerNorm& norm)
{
    const std::int64_t width = norm.weight.size(0);
    PICTOR_CHECK(stream.scalar_type() == at::kFloat && stream.is_cpu() && stream.is_contiguous()
            && stream.dim() >= 1 && stream.size(-1) == width,
        "the residual stream must be a contiguous float32 CPU tensor of rows of ", width, ", not ",
        stream.scalar_type(), " ", stream.sizes());
    PICTOR_CHECK(
        !update.defined() || (update.scalar_type() == at::kBFloat16 && update.sizes() == stream.sizes()),
        "a sublayer's output must be bfloat16 of the stream's shape ", stream.sizes(), ", not ",
        update.scalar_type(), " ", update.sizes());
    const at::Tensor added = update.defined() ? update.contiguous() : at::Tensor();
    const at::Tensor gamma = norm.weight.to(at::kFloat).contiguous(),
                     beta = norm.bias.to(at::kFloat).contiguous();
    at::Tensor normalized = at::empty(stream.sizes(), stream.options().dtype(at::kBFloat16));
    float* rows = stream.data_ptr<float>();
    const std::uint16_t* updates = added.defined() ? bitsOf(added) : nullptr;
    std::uint16_t* destination = mutableBitsOf(normalized);
    const kernels::VectorKernel kernel = kernels::bestVectorKernel();
    const float epsilon = static_cast<float>(norm.eps);
    at::parallel_for(0, stream.numel() / width, kRowsPerTask, [&](std::int64_t begin, std::int64_t end) {
        const std::int64_t offset = begin * width;
        kernels::addAndLayerNormBf16(rows + offset, updates ? updates + offset : nullptr,
            gamma.data_ptr<float>(), beta.data_ptr<float>(), epsilon, destination + offset, end - begin,
            width, kernel);
    });
    return normalized;
}

} // namespace pictor::nn
