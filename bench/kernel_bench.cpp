// The CUDA kernels' workbench: each kernel against its CPU reference, with timings (JSON lines).
#include <cstdio>

#include "kernels/kernels.h"

int main()
{
    if (!pictor::kernels::cudaAvailable()) {
        std::printf("{\"error\":\"%s\"}\n", pictor::kernels::cudaStatus().c_str());
        return 1;
    }
    struct Case {
        int width, height, crop;
    };
    for (const Case c : {Case {298, 224, 224}, Case {448, 336, 336}, Case {4000, 3000, 2048}}) {
        const int top = (c.height - c.crop) / 2, left = (c.width - c.crop) / 2;
        const auto check
            = pictor::kernels::checkCropNormalize(c.width, c.height, top, left, c.crop, c.crop, 100);
        std::printf("{\"kernel\":\"crop_normalize\",\"image\":\"%dx%d\",\"crop\":%d,\"max_abs_diff\":%.3g,"
                    "\"cpu_ms\":%.3f,\"gpu_ms\":%.4f}\n",
            c.width, c.height, c.crop, check.maxAbsDiff, check.cpuMs, check.gpuMs);
    }
    return 0;
}
