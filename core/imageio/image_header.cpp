// Header parsing for JPEG, PNG, WebP, TIFF and BMP: only what the decoder needs, bounds-checked on
// every read, since every file is hostile input.
#include "core/imageio/image_header.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace pictor {
namespace {

// Bounds-checked reads of little- and big-endian integers; a read past the end means a cut file.
class Bytes {
public:
    Bytes(std::span<const std::uint8_t> bytes, std::string_view format) : bytes_(bytes), format_(format) { }

    std::size_t size() const { return bytes_.size(); }
    bool has(std::size_t pos, std::size_t n) const
    {
        return pos <= bytes_.size() && n <= bytes_.size() - pos;
    }
    void need(std::size_t pos, std::size_t n) const
    {
        PICTOR_CHECK(has(pos, n), "truncated ", format_, " (the file ends inside its header)");
    }
    std::uint8_t u8(std::size_t pos) const
    {
        need(pos, 1);
        return bytes_[pos];
    }
    std::uint64_t uint(std::size_t pos, int n, bool bigEndian) const
    {
        need(pos, static_cast<std::size_t>(n));
        std::uint64_t value = 0;
        for (int i = 0; i < n; ++i) {
            const std::uint64_t byte = bytes_[pos + static_cast<std::size_t>(bigEndian ? i : n - 1 - i)];
            value = (value << 8) | byte;
        }
        return value;
    }
    std::uint64_t be(std::size_t pos, int n) const { return uint(pos, n, true); }
    std::uint64_t le(std::size_t pos, int n) const { return uint(pos, n, false); }
    bool startsWith(std::size_t pos, std::string_view text) const
    {
        return has(pos, text.size()) && std::memcmp(bytes_.data() + pos, text.data(), text.size()) == 0;
    }
    const std::uint8_t* data() const { return bytes_.data(); }

private:
    std::span<const std::uint8_t> bytes_;
    std::string_view format_;
};

void checkSize(ImageHeader& header, std::int64_t width, std::int64_t height)
{
    PICTOR_CHECK(width > 0 && height > 0, "invalid ", imageFormatName(header.format), " header (size ", width,
        "x", height, ")");
    header.width = width;
    header.height = height;
}

// ---- JPEG: walk the marker segments to the first scan, then look for the end-of-image marker.

bool isStandaloneJpegMarker(std::uint8_t marker)
{
    return marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7);
}

bool isStartOfFrame(std::uint8_t marker)
{
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Entropy-coded data never contains 0xFF followed by anything but 0x00 (stuffing) or a restart
// marker; any other marker is a segment (tables between progressive scans, the next scan) or EOI.
bool jpegReachesEndMarker(const Bytes& bytes, std::size_t pos)
{
    while (pos < bytes.size()) {
        const void* found = std::memchr(bytes.data() + pos, 0xFF, bytes.size() - pos);
        if (!found)
            return false;
        pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - bytes.data()) + 1;
        while (pos < bytes.size() && bytes.data()[pos] == 0xFF)
            ++pos; // fill bytes
        if (pos >= bytes.size())
            return false;
        const std::uint8_t marker = bytes.data()[pos++];
        if (marker == 0xD9)
            return true;
        if (marker == 0x00 || isStandaloneJpegMarker(marker))
            continue;
        if (!bytes.has(pos, 2))
            return false;
        const std::uint64_t length = bytes.be(pos, 2);
        if (length < 2)
            return false;
        pos += length;
    }
    return false;
}

ImageHeader parseJpeg(const Bytes& bytes)
{
    ImageHeader header {ImageFormat::Jpeg};
    bool haveFrame = false;
    std::size_t pos = 2;
    while (true) {
        if (bytes.u8(pos) != 0xFF) { // stray bytes before a marker: libjpeg skips them too
            const void* found = std::memchr(bytes.data() + pos, 0xFF, bytes.size() - pos);
            PICTOR_CHECK(found, "truncated JPEG (the file ends inside its header)");
            pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - bytes.data());
        }
        while (bytes.u8(pos) == 0xFF)
            ++pos;
        const std::uint8_t marker = bytes.u8(pos++);
        if (isStandaloneJpegMarker(marker))
            continue;
        PICTOR_CHECK(marker != 0xD9, "corrupt JPEG (end of image before any scan)");
        const std::uint64_t length = bytes.be(pos, 2);
        PICTOR_CHECK(length >= 2, "corrupt JPEG (segment length ", length, ")");
        bytes.need(pos, length);
        if (isStartOfFrame(marker) && !haveFrame) {
            PICTOR_CHECK(length >= 8, "corrupt JPEG (short frame header)");
            checkSize(header, static_cast<std::int64_t>(bytes.be(pos + 5, 2)),
                static_cast<std::int64_t>(bytes.be(pos + 3, 2)));
            haveFrame = true;
        }
        pos += length;
        if (marker == 0xDA) {
            PICTOR_CHECK(haveFrame, "corrupt JPEG (scan before the frame header)");
            break;
        }
    }
    header.complete = jpegReachesEndMarker(bytes, pos);
    return header;
}

// ---- PNG: IHDR first and valid, CRCs of the small critical chunks, image data present, IEND reached.
// (libpng would reject the same files, but only after printing to stderr; IDAT CRCs are left to it.)

std::uint32_t crc32(const std::uint8_t* data, std::size_t size)
{
    static const auto table = [] {
        std::array<std::uint32_t, 256> entries {};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            entries[n] = c;
        }
        return entries;
    }();
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i)
        crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

bool validPngDepth(std::uint64_t colourType, std::uint64_t depth)
{
    switch (colourType) {
    case 0: // grey
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: // palette
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: // RGB
    case 4: // grey + alpha
    case 6: // RGBA
        return depth == 8 || depth == 16;
    default:
        return false;
    }
}

void checkPngHeaderFields(const Bytes& bytes)
{
    const std::uint64_t depth = bytes.u8(24);
    const std::uint64_t colourType = bytes.u8(25);
    PICTOR_CHECK(colourType <= 6 && colourType != 1 && colourType != 5, "invalid PNG header (colour type ",
        colourType, ")");
    PICTOR_CHECK(validPngDepth(colourType, depth), "invalid PNG header (bit depth ", depth,
        " for colour type ", colourType, ")");
    PICTOR_CHECK(bytes.u8(26) == 0 && bytes.u8(27) == 0 && bytes.u8(28) <= 1,
        "invalid PNG header (compression, filter or interlace method)");
}

// Returns whether IEND was reached; throws for a bad CRC or a missing IDAT.
bool walkPngChunks(const Bytes& bytes)
{
    bool sawImageData = false;
    std::size_t pos = 8;
    while (bytes.has(pos, 8)) {
        const std::uint64_t length = bytes.be(pos, 4);
        PICTOR_CHECK(length <= 0x7FFFFFFFu, "corrupt PNG (chunk length ", length, ")");
        if (!bytes.has(pos + 8, length + 4))
            return false;
        const std::string_view type(reinterpret_cast<const char*>(bytes.data() + pos + 4), 4);
        if (type == "IHDR" || type == "PLTE" || type == "IEND")
            PICTOR_CHECK(crc32(bytes.data() + pos + 4, length + 4) == bytes.be(pos + 8 + length, 4),
                "corrupt PNG (CRC error in the ", type, " chunk)");
        if (type == "IDAT")
            sawImageData = true;
        if (type == "IEND") {
            PICTOR_CHECK(sawImageData, "corrupt PNG (no IDAT image data)");
            return true;
        }
        pos += 12 + length;
    }
    return false;
}

ImageHeader parsePng(const Bytes& bytes)
{
    ImageHeader header {ImageFormat::Png};
    bytes.need(8, 8 + 13 + 4);
    PICTOR_CHECK(
        bytes.startsWith(12, "IHDR") && bytes.be(8, 4) == 13, "corrupt PNG (the first chunk is not IHDR)");
    const auto width = static_cast<std::int64_t>(bytes.be(16, 4));
    const auto height = static_cast<std::int64_t>(bytes.be(20, 4));
    constexpr std::int64_t kPngMaxSide = std::numeric_limits<std::int32_t>::max(); // PNG spec: 2^31 - 1
    PICTOR_CHECK(
        width <= kPngMaxSide && height <= kPngMaxSide, "invalid PNG header (size ", width, "x", height, ")");
    checkSize(header, width, height);
    checkPngHeaderFields(bytes);
    header.complete = walkPngChunks(bytes);
    return header;
}

// ---- WebP: the first chunk after "WEBP" is VP8 (lossy), VP8L (lossless) or VP8X (extended).

ImageHeader parseWebP(const Bytes& bytes)
{
    ImageHeader header {ImageFormat::WebP};
    constexpr std::size_t data = 20;
    if (bytes.startsWith(12, "VP8 ")) {
        bytes.need(data, 10);
        PICTOR_CHECK(bytes.be(data + 3, 3) == 0x9D012A, "corrupt WebP (bad VP8 start code)");
        checkSize(header, static_cast<std::int64_t>(bytes.le(data + 6, 2) & 0x3FFF),
            static_cast<std::int64_t>(bytes.le(data + 8, 2) & 0x3FFF));
    } else if (bytes.startsWith(12, "VP8L")) {
        PICTOR_CHECK(bytes.u8(data) == 0x2F, "corrupt WebP (bad VP8L signature)");
        const std::uint64_t bits = bytes.le(data + 1, 4);
        checkSize(header, static_cast<std::int64_t>(bits & 0x3FFF) + 1,
            static_cast<std::int64_t>((bits >> 14) & 0x3FFF) + 1);
    } else if (bytes.startsWith(12, "VP8X")) {
        header.animated = (bytes.u8(data) & 0x02) != 0;
        checkSize(header, static_cast<std::int64_t>(bytes.le(data + 4, 3)) + 1,
            static_cast<std::int64_t>(bytes.le(data + 7, 3)) + 1);
    } else {
        PICTOR_FAIL("corrupt WebP (unknown first chunk)");
    }
    header.complete = bytes.le(4, 4) + 8 <= bytes.size(); // the RIFF size covers the whole file
    return header;
}

// ---- BMP: Windows (40+ byte) and OS/2 (12 byte) info headers.

ImageHeader parseBmp(const Bytes& bytes)
{
    ImageHeader header {ImageFormat::Bmp};
    const std::uint64_t pixelOffset = bytes.le(10, 4);
    const std::uint64_t infoSize = bytes.le(14, 4);
    std::int64_t width = 0, height = 0;
    std::uint64_t bitsPerPixel = 0, compression = 0;
    if (infoSize == 12) {
        width = static_cast<std::int64_t>(bytes.le(18, 2));
        height = static_cast<std::int64_t>(bytes.le(20, 2));
        bitsPerPixel = bytes.le(24, 2);
    } else {
        PICTOR_CHECK(infoSize >= 16, "corrupt BMP (info header size ", infoSize, ")");
        width = static_cast<std::int32_t>(bytes.le(18, 4));
        height = static_cast<std::int32_t>(bytes.le(22, 4));
        bitsPerPixel = bytes.le(28, 2);
        compression = infoSize >= 20 ? bytes.le(30, 4) : 0;
    }
    checkSize(header, width, height < 0 ? -height : height); // negative height: rows stored top-down
    constexpr std::uint64_t kUncompressed = 0, kBitfields = 3;
    if ((compression == kUncompressed || compression == kBitfields) && bitsPerPixel > 0
        && bitsPerPixel <= 32) {
        const std::uint64_t rowBytes
            = (static_cast<std::uint64_t>(header.width) * bitsPerPixel + 31) / 32 * 4;
        header.complete = pixelOffset <= bytes.size()
            && (bytes.size() - pixelOffset) / rowBytes >= static_cast<std::uint64_t>(header.height);
    }
    return header;
}

// ---- TIFF and BigTIFF: ImageWidth (256) and ImageLength (257) of the first IFD.

ImageHeader parseTiff(const Bytes& bytes)
{
    ImageHeader header {ImageFormat::Tiff};
    const bool bigEndian = bytes.u8(0) == 'M';
    const bool bigTiff = bytes.uint(2, 2, bigEndian) == 43;
    const int offsetSize = bigTiff ? 8 : 4;
    const int countSize = bigTiff ? 8 : 2;
    const std::size_t entrySize = bigTiff ? 20 : 12;
    const std::uint64_t ifd = bytes.uint(bigTiff ? 8 : 4, offsetSize, bigEndian);
    PICTOR_CHECK(ifd < bytes.size(), "truncated or corrupt TIFF (its first directory is outside the file)");
    const std::uint64_t entries = bytes.uint(ifd, countSize, bigEndian);
    PICTOR_CHECK(
        entries <= (bytes.size() - ifd) / entrySize, "truncated TIFF (the file ends inside its header)");
    std::int64_t width = 0, height = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        const std::size_t entry = ifd + static_cast<std::size_t>(countSize) + i * entrySize;
        const std::uint64_t tag = bytes.uint(entry, 2, bigEndian);
        if (tag != 256 && tag != 257)
            continue;
        const std::uint64_t type = bytes.uint(entry + 2, 2, bigEndian);
        const std::size_t valuePos = entry + 4 + static_cast<std::size_t>(offsetSize);
        const int valueSize = type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0; // SHORT, LONG, LONG8
        PICTOR_CHECK(valueSize > 0, "corrupt TIFF (image size of type ", type, ")");
        const auto value = static_cast<std::int64_t>(std::min<std::uint64_t>(
            bytes.uint(valuePos, valueSize, bigEndian), std::numeric_limits<std::int32_t>::max()));
        (tag == 256 ? width : height) = value;
    }
    checkSize(header, width, height);
    return header;
}

// An IHDR chunk type near the start of a file without the PNG signature.
bool looksLikeDamagedPng(const Bytes& bytes)
{
    for (std::size_t pos = 8; pos <= 16; ++pos)
        if (bytes.startsWith(pos, "IHDR"))
            return true;
    return false;
}

ImageFormat sniffFormat(const Bytes& bytes)
{
    if (bytes.startsWith(0, "\xFF\xD8\xFF"))
        return ImageFormat::Jpeg;
    if (bytes.startsWith(0, "\x89PNG\r\n\x1A\n"))
        return ImageFormat::Png;
    if (bytes.startsWith(0, "RIFF") && bytes.startsWith(8, "WEBP"))
        return ImageFormat::WebP;
    if (bytes.startsWith(0, std::string_view("II*\0", 4)) || bytes.startsWith(0, std::string_view("MM\0*", 4))
        || bytes.startsWith(0, std::string_view("II+\0", 4))
        || bytes.startsWith(0, std::string_view("MM\0+", 4)))
        return ImageFormat::Tiff;
    if (bytes.startsWith(0, "BM"))
        return ImageFormat::Bmp;
    if (looksLikeDamagedPng(bytes))
        PICTOR_FAIL("corrupt PNG (bad signature: the file was damaged, e.g. by a text-mode transfer)");
    if (bytes.startsWith(0, "GIF87a") || bytes.startsWith(0, "GIF89a"))
        return ImageFormat::Gif;
    if (bytes.startsWith(4, "ftyp")) {
        for (const char* brand :
            {"heic", "heix", "hevc", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif", "avis"})
            if (bytes.startsWith(8, brand))
                return ImageFormat::Heif;
    }
    return ImageFormat::Unknown;
}

} // namespace

std::string_view imageFormatName(ImageFormat format)
{
    switch (format) {
    case ImageFormat::Jpeg:
        return "JPEG";
    case ImageFormat::Png:
        return "PNG";
    case ImageFormat::WebP:
        return "WebP";
    case ImageFormat::Tiff:
        return "TIFF";
    case ImageFormat::Bmp:
        return "BMP";
    case ImageFormat::Gif:
        return "GIF";
    case ImageFormat::Heif:
        return "HEIF/AVIF";
    case ImageFormat::Unknown:
        break;
    }
    return "unknown";
}

bool isDecodableFormat(ImageFormat format)
{
    return format == ImageFormat::Jpeg || format == ImageFormat::Png || format == ImageFormat::WebP
        || format == ImageFormat::Tiff || format == ImageFormat::Bmp || format == ImageFormat::Heif;
}

ImageHeader readImageHeader(std::span<const std::uint8_t> data)
{
    const ImageFormat format = sniffFormat(Bytes(data, "file"));
    const Bytes bytes(data, imageFormatName(format));
    switch (format) {
    case ImageFormat::Jpeg:
        return parseJpeg(bytes);
    case ImageFormat::Png:
        return parsePng(bytes);
    case ImageFormat::WebP:
        return parseWebP(bytes);
    case ImageFormat::Tiff:
        return parseTiff(bytes);
    case ImageFormat::Bmp:
        return parseBmp(bytes);
    default:
        return ImageHeader {format};
    }
}

} // namespace pictor
