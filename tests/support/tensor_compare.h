// Golden-data comparison for Torch tests: max/mean abs difference with the first mismatches named.
#pragma once

#include <cstdio>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/nn/binder.h"
#include "core/safetensors.h"

namespace pictor::test {

inline at::Tensor loadGolden(const SafetensorsFile& file, const std::string& name)
{
    return nn::tensorFromView(file.at(name)).clone();
}

// Passes when max |actual - expected| <= tolerance; the failure message names the tensor, the largest
// differences and where they are.
inline testing::AssertionResult tensorsClose(
    const std::string& name, const at::Tensor& actual, const at::Tensor& expected, double tolerance)
{
    if (actual.sizes() != expected.sizes())
        return testing::AssertionFailure()
            << name << ": shape " << actual.sizes() << " vs expected " << expected.sizes();
    const at::Tensor diff = (actual.to(at::kDouble).cpu() - expected.to(at::kDouble).cpu()).abs().flatten();
    const double maxDiff = diff.max().item<double>();
    if (maxDiff <= tolerance) {
        std::printf("  %s: max abs diff %.3g (tolerance %.3g)\n", name.c_str(), maxDiff, tolerance);
        return testing::AssertionSuccess();
    }
    auto result = testing::AssertionFailure();
    result << name << ": max abs diff " << maxDiff << " > " << tolerance << " (mean "
           << diff.mean().item<double>() << "); first mismatches at flat index:";
    const at::Tensor bad = diff.gt(tolerance).nonzero().flatten();
    const at::Tensor a = actual.to(at::kDouble).cpu().flatten(), e = expected.to(at::kDouble).cpu().flatten();
    for (int64_t i = 0; i < std::min<int64_t>(5, bad.size(0)); ++i) {
        const int64_t at_ = bad[i].item<int64_t>();
        result << " [" << at_ << "] " << a[at_].item<double>() << " vs " << e[at_].item<double>();
    }
    return result;
}

// Passes when |actual - expected| <= atol + rtol * |expected| everywhere (the fixtures' tolerance form);
// the message names the tensor and the worst element relative to its bound.
inline testing::AssertionResult tensorsWithin(
    const std::string& name, const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol)
{
    if (actual.sizes() != expected.sizes())
        return testing::AssertionFailure()
            << name << ": shape " << actual.sizes() << " vs expected " << expected.sizes();
    const at::Tensor a = actual.to(at::kDouble).cpu().flatten(), e = expected.to(at::kDouble).cpu().flatten();
    const at::Tensor excess = (a - e).abs() - (atol + rtol * e.abs());
    const auto worst = excess.argmax().item<int64_t>();
    const double maxDiff = (a - e).abs().max().item<double>();
    if (excess[worst].item<double>() <= 0) {
        std::printf("  %s: max abs diff %.3g (bound %.3g + %.3g|ref|)\n", name.c_str(), maxDiff, atol, rtol);
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure()
        << name << ": [" << worst << "] " << a[worst].item<double>() << " vs " << e[worst].item<double>()
        << " exceeds " << atol << " + " << rtol << "|ref|; max abs diff " << maxDiff << ", "
        << excess.gt(0).sum().item<int64_t>() << " elements out of bounds";
}

// Passes when at least `fraction` of the elements are within atol + rtol * |expected| (for outputs that
// are ill-conditioned in a few places); the message gives the count out of bounds and the worst element.
inline testing::AssertionResult mostlyWithin(const std::string& name, const at::Tensor& actual,
    const at::Tensor& expected, double atol, double rtol, double fraction)
{
    if (actual.sizes() != expected.sizes())
        return testing::AssertionFailure()
            << name << ": shape " << actual.sizes() << " vs expected " << expected.sizes();
    const at::Tensor a = actual.to(at::kDouble).cpu().flatten(), e = expected.to(at::kDouble).cpu().flatten();
    const at::Tensor diff = (a - e).abs();
    const auto outside = diff.gt(atol + rtol * e.abs()).sum().item<int64_t>();
    const auto allowed = static_cast<int64_t>((1.0 - fraction) * static_cast<double>(a.numel()));
    const auto worst = diff.argmax().item<int64_t>();
    std::printf("  %s: %lld of %lld values outside %.3g + %.3g|ref| (at most %lld allowed); worst [%lld] "
                "%.6g vs %.6g\n",
        name.c_str(), static_cast<long long>(outside), static_cast<long long>(a.numel()), atol, rtol,
        static_cast<long long>(allowed), static_cast<long long>(worst), a[worst].item<double>(),
        e[worst].item<double>());
    if (outside <= allowed)
        return testing::AssertionSuccess();
    return testing::AssertionFailure()
        << name << ": " << outside << " of " << a.numel() << " values outside " << atol << " + " << rtol
        << "|ref| (at most " << allowed << " allowed)";
}

} // namespace pictor::test
