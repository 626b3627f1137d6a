// CUDA runtime errors become pictor::Error with the call and the runtime's message.
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

#define PICTOR_CUDA_CHECK(call)                                                                              \
    do {                                                                                                     \
        const cudaError_t pictorCudaStatus = (call);                                                         \
        PICTOR_CHECK(pictorCudaStatus == cudaSuccess, "CUDA error in ", #call, ": ",                         \
            cudaGetErrorString(pictorCudaStatus));                                                           \
    } while (0)
