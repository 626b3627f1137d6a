// Encoding RGB buffers into image files (OpenCV): thumbnails and exports, and test inputs in every
// format the decoder reads. Also the down-scaling thumbnails use.
#pragma once

#include <cstdint>
#include <vector>

#include "core/image.h"
#include "core/imageio/image_header.h"

namespace pictor {

// JPEG, PNG, WebP, TIFF or BMP bytes. `quality` (1..100) applies to JPEG and lossy WebP (100 = lossless
// WebP). Throws pictor::Error for other formats or an empty image.
std::vector<std::uint8_t> encodeImage(const RgbImage& image, ImageFormat format, int quality = 95);

// `image` scaled down (area averaging) so that its longest edge is at most `maxEdge`; never enlarged.
RgbImage scaleToFit(const RgbImage& image, int maxEdge);

} // namespace pictor
