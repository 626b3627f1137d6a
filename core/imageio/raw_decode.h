// Camera RAW files (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG, PEF, ...) through LibRaw: the camera's
// embedded preview where it is large enough for the caller, else a half-size demosaic. Internal to
// pictor_imageio; decodeImageBytes() routes files here by their extension (many RAW formats are TIFF
// inside, so their bytes alone would be taken for a TIFF's small first image).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/image.h"

namespace pictor::imageio_detail {

struct RawImage {
    // Either the camera's embedded JPEG preview, still encoded (the caller decodes it at the scale it
    // needs), or pixels: an embedded bitmap preview or LibRaw's half-size demosaic. Both as stored, not
    // yet turned upright.
    std::vector<std::uint8_t> previewJpeg;
    RgbImage image;
    int sensorWidth = 0; // the image area the sensor recorded (no masked border), before orientation
    int sensorHeight = 0;
    int orientation = 1; // EXIF-style 1..8 (LibRaw's reading of the file's), for the caller to apply
    std::string cameraMake; // LibRaw's reading, for files whose EXIF exiv2 cannot parse (CR3)
    std::string cameraModel;
    std::vector<std::string> warnings; // LibRaw's data errors it decoded past
};

// minShortEdge: the smallest short edge a preview must have to be used (0: half the sensor's, what
// the demosaic gives). Throws pictor::Error (without the file name) with LibRaw's reason.
RawImage decodeRaw(std::span<const std::uint8_t> bytes, int minShortEdge, std::int64_t maxPixels);

} // namespace pictor::imageio_detail
