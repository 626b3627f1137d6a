#include "core/nn/diffusion_blocks.h"

#include <cmath>

#include "core/error.h"
#include "core/nn/torch_compat.h"

namespace pictor::nn {
namespace {

at::Tensor splitHeads(const at::Tensor& x, std::int64_t heads)
{
    return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

at::Tensor mergeHeads(const at::Tensor& x)
{
    return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

} // namespace

at::Tensor sinusoidalTimestepEmbedding(
    const at::Tensor& timesteps, std::int64_t dim, bool flipSinToCos, double downscaleFreqShift)
{
    PICTOR_CHECK(dim % 2 == 0, "timestep embedding width ", dim, " must be even");
    const std::int64_t half = dim / 2;
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(timesteps.device());
    // Float32 throughout, in the reference's order of operations.
    at::Tensor exponent = at::arange(0, half, floats) * static_cast<float>(-std::log(10000.0));
    exponent = exponent / static_cast<float>(static_cast<double>(half) - downscaleFreqShift);
    at::Tensor emb = timesteps.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);
    const at::Tensor sin = at::sin(emb), cos = at::cos(emb);
    return flipSinToCos ? at::cat({cos, sin}, -1) : at::cat({sin, cos}, -1);
}

void TimestepMlp::declare(const Scope& scope, std::int64_t in, std::int64_t out)
{
    linear_1.declare(scope / "linear_1", in, out);
    linear_2.declare(scope / "linear_2", out, out);
}

at::Tensor TimestepMlp::forward(const at::Tensor& x) const
{
    return linear_2.forward(at::silu(linear_1.forward(x)));
}

void ResnetBlock2D::declare(const Scope& scope, std::int64_t in, std::int64_t out, std::int64_t timeChannels,
    const ResnetBlockOptions& blockOptions)
{
    options = blockOptions;
    norm1.declare(scope / "norm1", in, options.groups, options.eps);
    conv1.declare(scope / "conv1", in, out, 3);
    const std::int64_t timeOut = options.time == TimeConditioning::ScaleShift ? 2 * out : out;
    time_emb_proj.declare(scope / "time_emb_proj", timeChannels, timeOut);
    norm2.declare(scope / "norm2", out, options.groups, options.eps);
    conv2.declare(scope / "conv2", out, out, 3);
    hasShortcut = in != out;
    if (hasShortcut)
        conv_shortcut.declare(scope / "conv_shortcut", in, out, 1);
}

at::Tensor ResnetBlock2D::forward(at::Tensor x, const at::Tensor& temb) const
{
    at::Tensor h = at::silu(norm1.forward(x));
    if (options.resample == Resample::Up) {
        const std::vector<std::int64_t> size {x.size(2) * 2, x.size(3) * 2};
        x = at::upsample_nearest2d(x, size);
        h = at::upsample_nearest2d(h, size);
    } else if (options.resample == Resample::Down) {
        x = at::avg_pool2d(x, {2, 2}, {2, 2});
        h = at::avg_pool2d(h, {2, 2}, {2, 2});
    }
    h = conv1.forward(h);
    const at::Tensor t = time_emb_proj.forward(at::silu(temb)).unsqueeze(-1).unsqueeze(-1);
    if (options.time == TimeConditioning::ScaleShift) {
        const auto scaleShift = t.chunk(2, 1);
        h = norm2.forward(h) * (1 + scaleShift[0]) + scaleShift[1];
    } else {
        h = norm2.forward(h + t);
    }
    h = conv2.forward(at::silu(h));
    if (hasShortcut)
        x = conv_shortcut.forward(x);
    return x + h;
}

void AddedKvAttention::declare(const Scope& scope, std::int64_t channels, std::int64_t contextDim,
    std::int64_t headDim, std::int64_t groups, double eps)
{
    PICTOR_CHECK(headDim > 0 && channels % headDim == 0, scope.prefix(), ": ", channels,
        " channels are not a whole number of ", headDim, "-wide attention heads");
    heads = channels / headDim;
    group_norm.declare(scope / "group_norm", channels, groups, eps);
    to_q.declare(scope / "to_q", channels, channels);
    to_k.declare(scope / "to_k", channels, channels);
    to_v.declare(scope / "to_v", channels, channels);
    add_k_proj.declare(scope / "add_k_proj", contextDim, channels);
    add_v_proj.declare(scope / "add_v_proj", contextDim, channels);
    to_out.declare(scope / "to_out" / "0", channels, channels);
}

at::Tensor AddedKvAttention::forward(
    const at::Tensor& x, const at::Tensor& context, const at::Tensor& contextMask) const
{
    const auto batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
    const at::Tensor tokens = group_norm.forward(x.view({batch, channels, height * width})).transpose(1, 2);
    const at::Tensor query = splitHeads(to_q.forward(tokens), heads);
    const at::Tensor key = splitHeads(at::cat({add_k_proj.forward(context), to_k.forward(tokens)}, 1), heads);
    const at::Tensor value
        = splitHeads(at::cat({add_v_proj.forward(context), to_v.forward(tokens)}, 1), heads);
    std::optional<at::Tensor> mask;
    if (contextMask.defined()) // the spatial keys are never masked
        mask = at::constant_pad_nd(contextMask, {0, height * width}, 0).unsqueeze(1).to(query.scalar_type());
    const double scale = std::pow(static_cast<double>(channels / heads), -0.5); // dim_head ** -0.5
    at::Tensor out = mergeHeads(diffusersAttention(query, key, value, mask, scale));
    out = to_out.forward(out).transpose(1, 2).reshape({batch, channels, height, width});
    return out + x;
}

void PriorTransformerBlock::declare(
    const Scope& scope, std::int64_t dim, std::int64_t numHeads, std::int64_t headDim)
{
    PICTOR_CHECK(numHeads * headDim == dim, scope.prefix(), ": ", numHeads, " heads of ", headDim,
        " do not make the width ", dim);
    heads = numHeads;
    norm1.declare(scope / "norm1", dim, 1e-5);
    const Scope attn = scope / "attn1";
    to_q.declare(attn / "to_q", dim, dim);
    to_k.declare(attn / "to_k", dim, dim);
    to_v.declare(attn / "to_v", dim, dim);
    to_out.declare(attn / "to_out" / "0", dim, dim);
    norm3.declare(scope / "norm3", dim, 1e-5);
    ff_proj.declare(scope / "ff" / "net" / "0" / "proj", dim, 4 * dim);
    ff_out.declare(scope / "ff" / "net" / "2", 4 * dim, dim);
}

at::Tensor PriorTransformerBlock::forward(const at::Tensor& x, const at::Tensor& additiveMask) const
{
    const at::Tensor normed = norm1.forward(x);
    const at::Tensor query = splitHeads(to_q.forward(normed), heads);
    const at::Tensor key = splitHeads(to_k.forward(normed), heads);
    const at::Tensor value = splitHeads(to_v.forward(normed), heads);
    const double scale = std::pow(static_cast<double>(x.size(2) / heads), -0.5);
    std::optional<at::Tensor> mask;
    if (additiveMask.defined())
        mask = additiveMask.to(query.scalar_type());
    at::Tensor h = x + to_out.forward(mergeHeads(diffusersAttention(query, key, value, mask, scale)));
    return h + ff_out.forward(at::gelu(ff_proj.forward(norm3.forward(h))));
}

at::Tensor resizeBicubicAntialiased(const at::Tensor& images, std::int64_t height, std::int64_t width)
{
    return at::_upsample_bicubic2d_aa(images, {height, width}, false, c10::nullopt, c10::nullopt);
}

} // namespace pictor::nn
