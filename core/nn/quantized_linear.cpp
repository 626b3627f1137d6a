#include "core/nn/quantized_linear.h"

#include <algorithm>
#include <vector>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "core/error.h"
#include "kernels/q8_0.h"

namespace pictor::nn {
namespace {

using kernels::kQ8BlockSize;

kernels::Q8Rows rowsOf(const at::Tensor& values, const at::Tensor& scales)
{
    return {values.data_ptr<std::int8_t>(), scales.data_ptr<float>(), values.size(0), values.size(1)};
}

// A contiguous float32 or bfloat16 tensor's numbers as float.
void copyAsFloat(const at::Tensor& tensor, float* destination)
{
    const std::int64_t count = tensor.numel();
    if (tensor.scalar_type() == at::kFloat) {
        std::copy_n(tensor.data_ptr<float>(), count, destination);
        return;
    }
    PICTOR_CHECK(tensor.scalar_type() == at::kBFloat16, "8-bit linear layer: ", tensor.scalar_type(),
        " numbers are converted by the caller");
    const c10::BFloat16* source = tensor.data_ptr<c10::BFloat16>();
    for (std::int64_t i = 0; i < count; ++i)
        destination[i] = float(source[i]);
}

// Rows are handed out to threads in groups of 16 (the kernel takes them four at a time).
constexpr std::int64_t kRowsPerTask = 16;

} // namespace

bool Q8Weight::fits(const at::Tensor& weight)
{
    return weight.defined() && weight.dim() == 2 && weight.is_cpu() && weight.size(1) % kQ8BlockSize == 0
        && weight.is_floating_point();
}

Q8Weight Q8Weight::quantize(const at::Tensor& weight)
{
    PICTOR_CHECK(fits(weight), "8-bit weights need a CPU matrix whose rows are multiples of ", kQ8BlockSize,
        " values, not ", weight.sizes());
    const std::int64_t out = weight.size(0), in = weight.size(1);
    Q8Weight q8;
    q8.values = at::empty({out, in}, at::kChar);
    q8.scales = at::empty({out, in / kQ8BlockSize}, at::kFloat);
    std::int8_t* values = q8.values.data_ptr<std::int8_t>();
    float* scales = q8.scales.data_ptr<float>();
    // Each thread takes its share 256 rows at a time, so a large matrix (a 7B model's lm_head: 500 MB in
    // float32) never has a whole second copy.
    constexpr std::int64_t kRowsAtATime = 256;
    at::parallel_for(0, out, kRowsAtATime, [&](std::int64_t begin, std::int64_t end) {
        c10::InferenceMode guard; // thread-local: the pool's threads do not inherit the caller's
        for (std::int64_t first = begin; first < end; first += kRowsAtATime) {
            const std::int64_t last = std::min(end, first + kRowsAtATime);
            const at::Tensor rows = weight.slice(0, first, last).to(at::kFloat).contiguous();
            kernels::quantizeQ8Rows(rows.data_ptr<float>(), last - first, in, values + first * in,
                scales + first * (in / kQ8BlockSize));
        }
    });
    return q8;
}

at::Tensor Q8Weight::dequantize(at::ScalarType dtype) const
{
    const std::int64_t out = outFeatures(), in = inFeatures();
    if (dtype != at::kFloat && dtype != at::kBFloat16)
        return dequantize(at::kFloat).to(dtype);
    at::Tensor result = at::empty({out, in}, at::TensorOptions().dtype(dtype));
    const kernels::Q8Rows all = rowsOf(values, scales);
    const std::int64_t blocksPerRow = in / kQ8BlockSize;
    at::parallel_for(0, out, 64, [&](std::int64_t begin, std::int64_t end) {
        const kernels::Q8Rows rows {
            all.values + begin * in, all.scales + begin * blocksPerRow, end - begin, in};
        if (dtype == at::kFloat) {
            kernels::dequantizeQ8Rows(rows, result.data_ptr<float>() + begin * in);
            return;
        }
        // Row by row through a float row: no float32 copy of the matrix.
        std::vector<float> row(static_cast<std::size_t>(in));
        c10::BFloat16* destination = result.data_ptr<c10::BFloat16>() + begin * in;
        for (std::int64_t r = 0; r < rows.rows; ++r) {
            kernels::dequantizeQ8Rows(
                {rows.values + r * in, rows.scales + r * blocksPerRow, 1, in}, row.data());
            for (std::int64_t i = 0; i < in; ++i)
                destination[r * in + i] = c10::BFloat16(row[std::size_t(i)]);
        }
    });
    return result;
}

at::Tensor Q8Weight::linear(const at::Tensor& x, const at::Tensor& bias) const
{
    const std::int64_t in = inFeatures(), out = outFeatures();
    PICTOR_CHECK(x.size(-1) == in, "8-bit linear layer takes ", in, " features, got ", x.sizes());
    std::vector<std::int64_t> outShape(x.sizes().begin(), x.sizes().end());
    outShape.back() = out;
    const at::Tensor flat = x.reshape({-1, in});
    const std::int64_t tokens = flat.size(0);
    if (tokens > kQ8KernelMaxTokens)
        return at::linear(x, dequantize(x.scalar_type()), bias.defined() ? bias.to(x.scalar_type()) : bias);

    // Decoding runs this ~100 times per token: plain loops for the conversions instead of LibTorch ops.
    const at::ScalarType type = x.scalar_type();
    if (type != at::kFloat && type != at::kBFloat16)
        return linear(x.to(at::kFloat), bias.defined() ? bias.to(at::kFloat) : bias).to(type);
    const at::Tensor inputs = flat.contiguous();
    std::vector<float> numbers(static_cast<std::size_t>(tokens * in));
    copyAsFloat(inputs, numbers.data());
    std::vector<std::int16_t> inputValues(numbers.size());
    std::vector<float> inputScales(numbers.size() / kQ8BlockSize);
    kernels::quantizeQ16Rows(numbers.data(), tokens, in, inputValues.data(), inputScales.data());
    std::vector<float> y(static_cast<std::size_t>(tokens * out));
    const kernels::Q8Rows weightRows = rowsOf(values, scales);
    const kernels::Q16Rows inputRows {inputValues.data(), inputScales.data(), tokens, in};
    const kernels::Q8Kernel kernel = kernels::bestQ8Kernel();
    const std::int64_t tasks = (out + kRowsPerTask - 1) / kRowsPerTask;
    at::parallel_for(0, tasks, 1, [&](std::int64_t begin, std::int64_t end) {
        kernels::q8MatMul(
            weightRows, inputRows, y.data(), begin * kRowsPerTask, std::min(end * kRowsPerTask, out), kernel);
    });
    if (bias.defined()) {
        std::vector<float> biasNumbers(static_cast<std::size_t>(out));
        copyAsFloat(bias.contiguous(), biasNumbers.data());
        for (std::int64_t t = 0; t < tokens; ++t)
            for (std::int64_t o = 0; o < out; ++o)
                y[std::size_t(t * out + o)] += biasNumbers[std::size_t(o)];
    }
    at::Tensor result = at::empty(outShape, x.options());
    if (type == at::kFloat) {
        std::copy(y.begin(), y.end(), result.data_ptr<float>());
    } else {
        c10::BFloat16* destination = result.data_ptr<c10::BFloat16>();
        for (std::size_t i = 0; i < y.size(); ++i)
            destination[i] = c10::BFloat16(y[i]);
    }
    return result;
}

} // namespace pictor::nn
