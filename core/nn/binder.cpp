#include "core/nn/binder.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/error.h"

namespace pictor::nn {
namespace {

at::ScalarType scalarTypeOf(DType dtype)
{
    switch (dtype) {
    case DType::F64:
        return at::kDouble;
    case DType::F32:
        return at::kFloat;
    case DType::F16:
        return at::kHalf;
    case DType::BF16:
        return at::kBFloat16;
    case DType::I64:
        return at::kLong;
    case DType::I32:
        return at::kInt;
    case DType::I16:
        return at::kShort;
    case DType::I8:
        return at::kChar;
    case DType::U8:
        return at::kByte;
    case DType::BOOL:
        return at::kBool;
    }
    PICTOR_FAIL("unknown dtype");
}

bool isFloating(DType dtype)
{
    return dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

std::string shapeText(const std::vector<std::int64_t>& shape)
{
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

bool isIgnorable(const std::string& name, const std::vector<std::string>& patterns)
{
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
        if (!pattern.empty() && pattern.front() == '*')
            return name.ends_with(std::string_view(pattern).substr(1));
        return name == pattern;
    });
}

bool isAligned(const void* pointer, std::size_t alignment)
{
    return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

} // namespace

std::int64_t ParameterTable::parameterCount() const
{
    std::int64_t count = 0;
    for (const ParameterSlot& slot : slots_) {
        std::int64_t elements = 1;
        for (const auto size : slot.shape)
            elements *= size;
        count += elements;
    }
    return count;
}

void fillWithRandomValues(const ParameterTable& table, const ComputeDevice& device, std::uint64_t seed)
{
    at::manual_seed(seed);
    const auto options = at::TensorOptions().dtype(device.dtype).device(device.device);
    for (const ParameterSlot& slot : table.slots()) {
        const bool normWeight = slot.shape.size() == 1 && slot.name.ends_with(".weight")
            && slot.name.find("norm") != std::string::npos;
        *slot.tensor = normWeight ? at::ones(slot.shape, options) : at::randn(slot.shape, options).mul_(0.02);
    }
}

at::Tensor& ParameterTable::declare(
    std::string name, std::vector<std::int64_t> shape, at::Tensor& slot, bool optional)
{
    slots_.push_back({std::move(name), std::move(shape), &slot, optional});
    return slot;
}

Scope Scope::operator/(std::string_view child) const
{
    return Scope(*table_, prefix_.empty() ? std::string(child) : prefix_ + "." + std::string(child));
}

at::Tensor& Scope::param(
    std::string_view name, std::vector<std::int64_t> shape, at::Tensor& slot, bool optional) const
{
    return table_->declare((*this / name).prefix(), std::move(shape), slot, optional);
}

at::Tensor tensorFromView(const TensorView& view)
{
    const auto type = scalarTypeOf(view.dtype);
    if (view.nbytes == 0)
        return at::empty(view.shape, at::TensorOptions().dtype(type));
    // Unaligned data (legal in safetensors) is copied; ATen's kernels assume natural alignment.
    if (!isAligned(view.data, dtypeSize(view.dtype))) {
        at::Tensor copy = at::empty(view.shape, at::TensorOptions().dtype(type));
        std::memcpy(copy.data_ptr(), view.data, view.nbytes);
        return copy;
    }
    return at::from_blob(const_cast<std::byte*>(view.data), view.shape, at::TensorOptions().dtype(type));
}

BindReport bindParameters(
    const ParameterTable& table, const Checkpoint& checkpoint, const BindOptions& options)
{
    const std::string file = checkpoint.files().empty() ? "checkpoint" : checkpoint.files().front().string();
    std::vector<std::string> problems;
    std::set<std::string, std::less<>> declared;
    BindReport report;

    for (const ParameterSlot& slot : table.slots()) {
        declared.insert(slot.name);
        const TensorView* view = checkpoint.find(slot.name);
        if (!view) {
            if (!slot.optional)
                problems.push_back(
                    strCat("missing tensor '", slot.name, "' (expected shape ", shapeText(slot.shape), ")"));
            continue;
        }
        if (view->shape != slot.shape) {
            problems.push_back(strCat("shape mismatch for tensor '", slot.name, "': expected ",
                shapeText(slot.shape), ", checkpoint has ", view->shapeString()));
            continue;
        }
        if (!isFloating(view->dtype)) {
            problems.push_back(strCat("dtype mismatch for tensor '", slot.name,
                "': expected a floating-point tensor, checkpoint has ", dtypeName(view->dtype)));
            continue;
        }
        at::Tensor source = tensorFromView(*view);
        const bool inPlace = options.device.is_cpu() && source.scalar_type() == options.dtype
            && source.data_ptr() == static_cast<const void*>(view->data);
        *slot.tensor = inPlace
            ? source
            : source.to(options.device, options.dtype, /*non_blocking=*/false, /*copy=*/true);
        report.zeroCopy += inPlace ? 1 : 0;
        report.bound += 1;
        report.bytes += view->nbytes;
    }
    for (const TensorView* view : checkpoint.tensors()) {
        if (declared.count(view->name))
            continue;
        if (isIgnorable(view->name, options.ignorableKeys)) {
            report.ignored += 1;
            continue;
        }
        problems.push_back(strCat(
            "unexpected tensor '", view->name, "' ", view->shapeString(), " ", dtypeName(view->dtype)));
    }
    if (!problems.empty()) {
        constexpr std::size_t kShown = 8;
        std::string message
            = strCat("[binder] ", file, ": ", problems.size(), " problem(s): ", problems.front());
        for (std::size_t i = 1; i < std::min(problems.size(), kShown); ++i)
            message += "; " + problems[i];
        if (problems.size() > kShown)
            message += strCat("; and ", problems.size() - kShown, " more");
        PICTOR_FAIL(message);
    }
    return report;
}

} // namespace pictor::nn
