#include "tests/support/dng_writer.h"

#include <memory>
#include <stdexcept>
#include <vector>

#include <tiffio.h>

namespace pictor::test {
namespace {

void setCameraTags(TIFF* tiff, int orientation)
{
    static const std::uint8_t kVersion[4] = {1, 4, 0, 0};
    static const float kColorMatrix[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    static const float kNeutral[3] = {1, 1, 1};
    TIFFSetField(tiff, TIFFTAG_MAKE, "Pictor");
    TIFFSetField(tiff, TIFFTAG_MODEL, "Test Camera");
    TIFFSetField(tiff, TIFFTAG_ORIENTATION, orientation);
    TIFFSetField(tiff, TIFFTAG_DATETIME, "2021:06:01 12:30:00");
    TIFFSetField(tiff, TIFFTAG_DNGVERSION, kVersion);
    TIFFSetField(tiff, TIFFTAG_DNGBACKWARDVERSION, kVersion);
    TIFFSetField(tiff, TIFFTAG_UNIQUECAMERAMODEL, "Pictor Test Camera");
    TIFFSetField(tiff, TIFFTAG_COLORMATRIX1, 9, kColorMatrix);
    TIFFSetField(tiff, TIFFTAG_ASSHOTNEUTRAL, 3, kNeutral);
    TIFFSetField(tiff, TIFFTAG_CALIBRATIONILLUMINANT1, 21); // D65
}

void setImageTags(TIFF* tiff, int width, int height, bool preview, bool jpeg = false)
{
    TIFFSetField(tiff, TIFFTAG_SUBFILETYPE, preview ? FILETYPE_REDUCEDIMAGE : 0);
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, preview ? 8 : 16);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, jpeg ? COMPRESSION_JPEG : COMPRESSION_NONE);
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC,
        jpeg          ? PHOTOMETRIC_YCBCR
            : preview ? PHOTOMETRIC_RGB
                      : PHOTOMETRIC_CFA);
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, preview ? 3 : 1);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, height);
    if (preview)
        return;
    static const std::uint16_t kRepeat[2] = {2, 2};
    static const std::uint8_t kRggb[4] = {0, 1, 1, 2};
    static const std::uint32_t kWhite = 4095;
    TIFFSetField(tiff, TIFFTAG_CFAREPEATPATTERNDIM, kRepeat);
    TIFFSetField(tiff, TIFFTAG_CFAPATTERN, 4, kRggb);
    TIFFSetField(tiff, TIFFTAG_WHITELEVEL, 1, &kWhite);
}

void writeMosaic(TIFF* tiff, const DngContent& content)
{
    std::vector<std::uint16_t> row(static_cast<std::size_t>(content.width));
    for (int y = 0; y < content.height; ++y) {
        for (int x = 0; x < content.width; ++x) {
            const bool red = y % 2 == 0 && x % 2 == 0;
            const bool blue = y % 2 == 1 && x % 2 == 1;
            row[static_cast<std::size_t>(x)] = content.mosaicRgb[red ? 0 : blue ? 2 : 1];
        }
        if (TIFFWriteScanline(tiff, row.data(), static_cast<std::uint32_t>(y), 0) < 0)
            throw std::runtime_error("libtiff could not write the mosaic");
    }
}

void writePreview(TIFF* tiff, const DngContent& content)
{
    if (!content.previewJpeg.empty()) { // the whole JPEG stream as the strip, not libtiff's codec
        std::vector<std::uint8_t> jpeg = content.previewJpeg;
        if (TIFFWriteRawStrip(tiff, 0, jpeg.data(), static_cast<tmsize_t>(jpeg.size())) < 0)
            throw std::runtime_error("libtiff could not write the preview");
        return;
    }
    std::vector<std::uint8_t> row;
    for (int x = 0; x < content.previewWidth; ++x)
        row.insert(row.end(), content.previewRgb->begin(), content.previewRgb->end());
    for (int y = 0; y < content.previewHeight; ++y)
        if (TIFFWriteScanline(tiff, row.data(), static_cast<std::uint32_t>(y), 0) < 0)
            throw std::runtime_error("libtiff could not write the preview");
}

} // namespace

void writeDng(const std::filesystem::path& file, const DngContent& content)
{
    const std::unique_ptr<TIFF, void (*)(TIFF*)> tiff(TIFFOpen(file.c_str(), "w"), TIFFClose);
    if (!tiff)
        throw std::runtime_error("libtiff could not create " + file.string());
    if (content.previewRgb || !content.previewJpeg.empty()) {
        // IFD 0: the preview, pointing at one SubIFD that libtiff writes next: the raw data.
        setImageTags(
            tiff.get(), content.previewWidth, content.previewHeight, true, !content.previewJpeg.empty());
        setCameraTags(tiff.get(), content.orientation);
        std::uint64_t subIfd[1] = {0};
        TIFFSetField(tiff.get(), TIFFTAG_SUBIFD, 1, subIfd);
        writePreview(tiff.get(), content);
        TIFFWriteDirectory(tiff.get());
        setImageTags(tiff.get(), content.width, content.height, false);
    } else {
        setImageTags(tiff.get(), content.width, content.height, false);
        setCameraTags(tiff.get(), content.orientation);
    }
    writeMosaic(tiff.get(), content);
    if (!TIFFWriteDirectory(tiff.get()))
        throw std::runtime_error("libtiff could not finish " + file.string());
}

} // namespace pictor::test
