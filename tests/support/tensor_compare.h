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

} // namespace pictor::test
