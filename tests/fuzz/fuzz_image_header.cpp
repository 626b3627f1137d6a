// Fuzzes the image header sniffer that guards the decoder: any bytes give a header or a pictor::Error.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/imageio/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto header = pictor::readImageHeader(std::span(data, size));
        if (header.format != pictor::ImageFormat::Unknown && (header.width < 0 || header.height < 0))
            __builtin_trap();
    } catch (const pictor::Error&) {
    }
    return 0;
}
