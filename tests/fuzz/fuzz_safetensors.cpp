// Fuzzes the safetensors header parser: any bytes must give a header or a pictor::Error, never a crash.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto header = pictor::parseSafetensorsHeader(
            "fuzz", std::span(reinterpret_cast<const std::byte*>(data), size));
        // Every accepted entry must lie inside the input.
        for (const auto& entry : header.entries)
            if (header.dataOffset + entry.end > size || entry.begin > entry.end)
                __builtin_trap();
    } catch (const pictor::Error&) {
    }
    return 0;
}
