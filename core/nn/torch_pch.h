// The Torch headers every engine translation unit uses; precompiled once (PICTOR_TORCH_PCH).
#pragma once
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
