// The CUDA crop+normalise kernel against its CPU reference (runs where a GPU exists; label "gpu").
#include <gtest/gtest.h>

#include "kernels/kernels.h"

namespace pictor {
namespace {

TEST(CropNormalizeKernel, MatchesTheCpuReference)
{
    if (!kernels::cudaAvailable())
        GTEST_SKIP() << kernels::cudaStatus();
    struct Case {
        int width, height, top, left, cropHeight, cropWidth;
    };
    const Case cases[] = {
        {298, 224, 0, 37, 224, 224}, // landscape after shortest-edge resize
        {224, 298, 37, 0, 224, 224}, // portrait
        {224, 224, 0, 0, 224, 224}, // exact
        {100, 60, -82, -62, 224, 224}, // window larger than the image: zero padding
        {1, 1, 0, 0, 1, 1},
        {4000, 3000, 1000, 1500, 336, 336},
    };
    for (const Case& c : cases) {
        const auto check
            = kernels::checkCropNormalize(c.width, c.height, c.top, c.left, c.cropHeight, c.cropWidth, 3);
        EXPECT_LE(check.maxAbsDiff, 1e-6) << c.width << "x" << c.height << " crop " << c.cropWidth << "x"
                                          << c.cropHeight << " at " << c.left << "," << c.top;
    }
}

} // namespace
} // namespace pictor
