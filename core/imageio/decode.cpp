// Decoding with OpenCV (libjpeg-turbo, libpng, libwebp, libtiff) after a header check, with the EXIF
// orientation read by exiv2 (JPEG APP1, PNG eXIf, WebP EXIF, TIFF's own tag) so that it is reported and
// handled the same way for every format.
//
// Colour conversions follow what HF's Image.convert("RGB") does where OpenCV allows it:
// - grayscale and palette images are expanded to RGB; alpha is dropped without compositing;
// - 16-bit images become 8-bit through OpenCV's IMREAD_COLOR path, which keeps the high byte (v >> 8,
//   no rounding; checked on PngSuite's 16-bit files). PIL keeps the high byte of 16-bit RGB(A) too, but
//   converts 16-bit grayscale (mode "I") to RGB by clipping values above 255, so those differ (PIL's come
//   out mostly white; ours are the sensible v >> 8);
// - JPEGs go through libjpeg directly (jpeg_decode.h): CMYK/YCCK ones (Adobe, inverted) are converted
//   with PIL's plain formula, no ICC profile, and libjpeg's warnings are logged with the file's name.
#include "core/imageio/decode.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <span>
#include <system_error>
#include <vector>

#include <exiv2/exiv2.hpp>
#include <fcntl.h>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/imageio/animated_webp.h"
#include "core/imageio/heif_decode.h"
#include "core/imageio/image_header.h"
#include "core/imageio/jpeg_decode.h"
#include "core/imageio/raw_decode.h"
#include "core/log.h"

// The pixel loop gets an AVX2 clone picked at run time (the build targets baseline x86-64).
#if defined(__x86_64__) && defined(__GNUC__)
#define PICTOR_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PICTOR_VECTOR_CLONES
#endif

namespace pictor {
namespace {

constexpr std::int64_t kMaxFileBytes = std::int64_t {1} << 30; // cv::imdecode takes an int-sized buffer

// Library-wide settings, once per process: keep OpenCV's and exiv2's warnings off stderr (every problem
// reaches the caller as a pictor::Error) and initialise exiv2's XMP parser before threads use it.
void initDecoderLibraries()
{
    static std::once_flag once;
    std::call_once(once, [] {
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
        Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);
        Exiv2::XmpParser::initialize();
    });
}

std::string errnoMessage(int error)
{
    return std::generic_category().message(error);
}

// Reads the whole file with POSIX calls, so that errors say why (permission denied, not a regular file).
std::vector<std::uint8_t> readFileBytes(const std::filesystem::path& file)
{
    // O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore the flag).
    const FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    PICTOR_CHECK(fd.get() >= 0, "cannot open: ", errnoMessage(errno));
    struct stat info { };
    PICTOR_CHECK(::fstat(fd.get(), &info) == 0, "cannot open: ", errnoMessage(errno));
    PICTOR_CHECK(!S_ISDIR(info.st_mode), "cannot open: is a directory");
    PICTOR_CHECK(S_ISREG(info.st_mode), "cannot open: not a regular file");
    PICTOR_CHECK(info.st_size <= kMaxFileBytes, "file too large (", info.st_size, " bytes)");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        PICTOR_CHECK(n >= 0, "cannot read: ", errnoMessage(errno));
        if (n == 0)
            break; // the file shrank while we read it
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

std::int64_t exifInteger(const Exiv2::Exifdatum& datum, long index = 0)
{
#if EXIV2_TEST_VERSION(0, 28, 0)
    return datum.toInt64(index);
#else
    return datum.toLong(index);
#endif
}

const Exiv2::Exifdatum* findExif(const Exiv2::ExifData& exif, const char* key)
{
    const auto it = exif.findKey(Exiv2::ExifKey(key));
    return it == exif.end() || it->count() == 0 ? nullptr : &*it;
}

// "YYYY:MM:DD HH:MM:SS" -> seconds since the epoch, the wall-clock time taken as UTC.
std::optional<std::int64_t> parseExifDate(const std::string& text)
{
    std::tm parts {};
    if (std::sscanf(text.c_str(), "%d:%d:%d %d:%d:%d", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
            &parts.tm_hour, &parts.tm_min, &parts.tm_sec)
            != 6
        || parts.tm_year < 1800 || parts.tm_mon < 1 || parts.tm_mon > 12 || parts.tm_mday < 1)
        return std::nullopt; // "0000:00:00 00:00:00" and other placeholders
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&parts));
}

// Degrees from the three rationals (degrees, minutes, seconds) and the N/S or E/W reference.
std::optional<double> parseGpsCoordinate(
    const Exiv2::ExifData& exif, const char* valueKey, const char* refKey)
{
    const Exiv2::Exifdatum* value = findExif(exif, valueKey);
    const Exiv2::Exifdatum* ref = findExif(exif, refKey);
    if (!value || value->count() < 3)
        return std::nullopt;
    double degrees = 0;
    for (long i = 0; i < 3; ++i) {
        const Exiv2::Rational part = value->toRational(i);
        if (part.second == 0)
            return std::nullopt;
        degrees += double(part.first) / part.second / std::pow(60.0, double(i));
    }
    const std::string direction = ref ? ref->toString() : "";
    if (direction == "S" || direction == "W")
        degrees = -degrees;
    return degrees;
}

std::string trimmed(std::string text)
{
    const auto end = text.find_last_not_of(std::string(" \0", 2));
    return end == std::string::npos ? std::string() : text.substr(0, end + 1);
}

// Orientation, date, camera and GPS. Broken metadata must never make an image undecodable, so any
// exiv2 failure just leaves the fields empty.
void readExifFields(const Exiv2::ExifData& exif, DecodedImage& decoded)
{
    if (const auto* orientation = findExif(exif, "Exif.Image.Orientation")) {
        const std::int64_t value = exifInteger(*orientation);
        decoded.exifOrientation = value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
    for (const char* key :
        {"Exif.Photo.DateTimeOriginal", "Exif.Photo.DateTimeDigitized", "Exif.Image.DateTime"}) {
        if (const auto* date = findExif(exif, key);
            date && (decoded.takenAt = parseExifDate(date->toString())))
            break;
    }
    if (const auto* make = findExif(exif, "Exif.Image.Make"))
        decoded.cameraMake = trimmed(make->toString());
    if (const auto* model = findExif(exif, "Exif.Image.Model"))
        decoded.cameraModel = trimmed(model->toString());
    decoded.gpsLatitude = parseGpsCoordinate(exif, "Exif.GPSInfo.GPSLatitude", "Exif.GPSInfo.GPSLatitudeRef");
    decoded.gpsLongitude
        = parseGpsCoordinate(exif, "Exif.GPSInfo.GPSLongitude", "Exif.GPSInfo.GPSLongitudeRef");
}

void readExifMetadata(std::span<const std::uint8_t> bytes, DecodedImage& decoded)
{
    try {
        auto image = Exiv2::ImageFactory::open(bytes.data(), static_cast<long>(bytes.size()));
        if (!image.get())
            return;
        image->readMetadata();
        readExifFields(image->exifData(), decoded);
    } catch (...) { // exiv2 throws its own types for malformed metadata
    }
}

// A bare TIFF-structured EXIF block (what HEIF files carry), with or without the JPEG "Exif\0\0" prefix.
void readExifBlock(std::span<const std::uint8_t> block, DecodedImage& decoded)
{
    if (block.size() >= 6 && std::memcmp(block.data(), "Exif\0\0", 6) == 0)
        block = block.subspan(6);
    if (block.empty())
        return;
    try {
        Exiv2::ExifData exif;
        Exiv2::ExifParser::decode(exif, block.data(), static_cast<std::uint32_t>(block.size()));
        readExifFields(exif, decoded);
    } catch (...) {
    }
}

// libjpeg's DCT scaling: the largest 1/2, 1/4 or 1/8 that keeps the short edge >= target.
int jpegScaleDenominator(std::int64_t shortEdge, int targetShortEdge)
{
    if (targetShortEdge <= 0)
        return 1;
    for (int denominator : {8, 4, 2})
        if (shortEdge >= std::int64_t {denominator} * targetShortEdge)
            return denominator;
    return 1;
}

int imreadFlags(int scaleDenominator)
{
    int flags = cv::IMREAD_COLOR;
    if (scaleDenominator == 2)
        flags = cv::IMREAD_REDUCED_COLOR_2;
    else if (scaleDenominator == 4)
        flags = cv::IMREAD_REDUCED_COLOR_4;
    else if (scaleDenominator == 8)
        flags = cv::IMREAD_REDUCED_COLOR_8;
    return flags | cv::IMREAD_IGNORE_ORIENTATION; // we apply it, see orientationToApply
}

// EXIF orientation: writes into `upright` (already of the rotated size, so OpenCV reuses its buffer) the
// transform that makes the stored pixels upright, as PIL's exif_transpose.
void orientInto(const cv::Mat& stored, cv::Mat& upright, int orientation)
{
    switch (orientation) {
    case 2:
        cv::flip(stored, upright, 1); // mirror left-right
        break;
    case 3:
        cv::rotate(stored, upright, cv::ROTATE_180);
        break;
    case 4:
        cv::flip(stored, upright, 0); // mirror top-bottom
        break;
    case 5:
        cv::transpose(stored, upright);
        break;
    case 6:
        cv::rotate(stored, upright, cv::ROTATE_90_CLOCKWISE);
        break;
    case 7: {
        cv::Mat transposed;
        cv::transpose(stored, transposed);
        cv::rotate(transposed, upright, cv::ROTATE_180);
        break;
    }
    case 8:
        cv::rotate(stored, upright, cv::ROTATE_90_COUNTERCLOCKWISE);
        break;
    default:
        stored.copyTo(upright);
    }
}

cv::Mat wrap(RgbImage& image)
{
    return cv::Mat(image.height, image.width, CV_8UC3, image.pixels.data());
}

// BGR -> RGB in place (cv::cvtColor would clone a source that is also its destination).
PICTOR_VECTOR_CLONES
void swapRedAndBlue(std::uint8_t* pixels, std::size_t count)
{
    for (std::size_t i = 0; i < count; ++i) {
        std::uint8_t* p = pixels + 3 * i;
        const std::uint8_t blue = p[0];
        p[0] = p[2];
        p[2] = blue;
    }
}

void swapRedAndBlue(RgbImage& image)
{
    swapRedAndBlue(image.pixels.data(), static_cast<std::size_t>(image.width) * image.height);
}

void checkDecoded(const cv::Mat& bgr, ImageFormat format)
{
    PICTOR_CHECK(!bgr.empty(), "cannot decode: corrupt or unsupported ", imageFormatName(format), " data");
    PICTOR_CHECK(bgr.type() == CV_8UC3, "cannot decode: unexpected pixel type ", bgr.type());
}

// Orients a decoded BGR image into a new RgbImage and swaps the channels there, in place.
RgbImage toUprightRgb(const cv::Mat& bgr, int orientation)
{
    const bool swapsAxes = orientation >= 5;
    RgbImage rgb(swapsAxes ? bgr.rows : bgr.cols, swapsAxes ? bgr.cols : bgr.rows);
    cv::Mat view = wrap(rgb);
    orientInto(bgr, view, orientation);
    PICTOR_CHECK(view.data == rgb.pixels.data(), "internal error: orientation reallocated the image");
    swapRedAndBlue(rgb);
    return rgb;
}

// The upright copy of an RGB image (orientInto does not care about the channel order).
RgbImage orientedCopy(RgbImage& stored, int orientation)
{
    const bool swapsAxes = orientation >= 5;
    RgbImage upright(swapsAxes ? stored.height : stored.width, swapsAxes ? stored.width : stored.height);
    cv::Mat view = wrap(upright);
    orientInto(wrap(stored), view, orientation);
    PICTOR_CHECK(view.data == upright.pixels.data(), "internal error: orientation reallocated the image");
    return upright;
}

// Without reorientation, libjpeg/libpng write straight into the result's buffer (imdecode reuses a
// destination of the right size and type): one large allocation instead of two. The expected size is
// what imdecode returns (a mismatch only costs a copy).
RgbImage decodeToRgb(const cv::Mat& encoded, int flags, ImageFormat format, int expectedWidth,
    int expectedHeight, int orientation)
{
    if (orientation != 1) {
        const cv::Mat bgr = cv::imdecode(encoded, flags);
        checkDecoded(bgr, format);
        return toUprightRgb(bgr, orientation);
    }
    RgbImage rgb(expectedWidth, expectedHeight);
    cv::Mat bgr = wrap(rgb);
    cv::imdecode(encoded, flags, &bgr);
    checkDecoded(bgr, format);
    if (bgr.data != rgb.pixels.data()) // another size than the header said: OpenCV allocated its own
        return toUprightRgb(bgr, 1);
    swapRedAndBlue(rgb);
    return rgb;
}

int reducedSize(std::int64_t size, int denominator)
{
    return static_cast<int>((size + denominator - 1) / denominator); // libjpeg rounds up
}

int inverseOrientation(int orientation)
{
    return orientation == 6 ? 8 : orientation == 8 ? 6 : orientation; // the others undo themselves
}

// What still has to be done to what imdecode returns. OpenCV's TIFF decoder (libtiff's RGBA reader)
// applies the TIFF Orientation tag itself, even with IMREAD_IGNORE_ORIENTATION; the others return the
// pixels as stored.
int orientationToApply(ImageFormat format, int orientation, bool wantUpright)
{
    if (format == ImageFormat::Tiff)
        return wantUpright ? 1 : inverseOrientation(orientation);
    return wantUpright ? orientation : 1;
}

ImageHeader checkedHeader(std::span<const std::uint8_t> bytes, const DecodeOptions& options)
{
    PICTOR_CHECK(!bytes.empty(), "empty file");
    const ImageHeader header = readImageHeader(bytes);
    PICTOR_CHECK(header.format != ImageFormat::Unknown, "not an image (unrecognised format)");
    PICTOR_CHECK(
        isDecodableFormat(header.format), "unsupported image format (", imageFormatName(header.format), ")");
    const std::int64_t pixels = header.width * header.height;
    PICTOR_CHECK(pixels <= options.maxPixels, "image too large: ", header.width, "x", header.height, " = ",
        pixels, " pixels, over the limit of ", options.maxPixels);
    PICTOR_CHECK(
        header.complete, "truncated ", imageFormatName(header.format), " (the image data is incomplete)");
    return header;
}

// HEIF: libheif applies the file's own rotation and mirroring (irot/imir), which is the orientation
// HEIF viewers honour; an EXIF Orientation inside is informational and not applied again.
DecodedImage decodeHeifBytes(std::span<const std::uint8_t> bytes, const DecodeOptions& options)
{
    imageio_detail::HeifImage heif = imageio_detail::decodeHeif(bytes, options.maxPixels);
    DecodedImage decoded;
    decoded.fileWidth = heif.storedWidth;
    decoded.fileHeight = heif.storedHeight;
    readExifBlock(heif.exif, decoded);
    decoded.exifOrientation = 1;
    decoded.image = std::move(heif.image);
    return decoded;
}

// Camera RAW: the embedded preview (decoded at the scale the options allow) or a half-size demosaic,
// turned upright by the file's orientation. EXIF comes from exiv2 where it reads the format, else the
// camera's name from LibRaw.
DecodedImage decodeRawBytes(std::span<const std::uint8_t> bytes, const DecodeOptions& options)
{
    PICTOR_CHECK(!bytes.empty(), "empty file");
    imageio_detail::RawImage raw
        = imageio_detail::decodeRaw(bytes, options.targetShortEdge, options.maxPixels);
    DecodedImage decoded;
    decoded.fileWidth = raw.sensorWidth;
    decoded.fileHeight = raw.sensorHeight;
    readExifMetadata(bytes, decoded);
    if (decoded.cameraMake.empty() && decoded.cameraModel.empty()) {
        decoded.cameraMake = raw.cameraMake;
        decoded.cameraModel = raw.cameraModel;
    }
    decoded.exifOrientation = raw.orientation;
    decoded.warnings = std::move(raw.warnings);
    if (!raw.previewJpeg.empty()) {
        const ImageHeader preview = readImageHeader(raw.previewJpeg);
        decoded.scaleDenominator
            = jpegScaleDenominator(std::min(preview.width, preview.height), options.targetShortEdge);
        imageio_detail::JpegImage jpeg
            = imageio_detail::decodeJpeg(raw.previewJpeg, decoded.scaleDenominator, options.maxPixels);
        raw.image = std::move(jpeg.image);
        for (auto& warning : jpeg.warnings)
            decoded.warnings.push_back("embedded preview: " + warning);
    }
    const int orientation = options.applyExifOrientation ? decoded.exifOrientation : 1;
    decoded.image = orientation == 1 ? std::move(raw.image) : orientedCopy(raw.image, orientation);
    return decoded;
}

DecodedImage decodeBytes(std::span<const std::uint8_t> bytes, const DecodeOptions& options)
{
    PICTOR_CHECK(!bytes.empty(), "empty file");
    if (readImageHeader(bytes).format == ImageFormat::Heif)
        return decodeHeifBytes(bytes, options);
    const ImageHeader header = checkedHeader(bytes, options);
    DecodedImage decoded;
    decoded.fileWidth = static_cast<int>(header.width);
    decoded.fileHeight = static_cast<int>(header.height);
    readExifMetadata(bytes, decoded);
    if (header.format == ImageFormat::Jpeg)
        decoded.scaleDenominator
            = jpegScaleDenominator(std::min(header.width, header.height), options.targetShortEdge);

    if (header.animated) { // its first frame, like a still photo (WebP's EXIF is read above)
        RgbImage first = imageio_detail::decodeFirstWebpFrame(bytes, options.maxPixels);
        const int orientation = options.applyExifOrientation ? decoded.exifOrientation : 1;
        decoded.image = orientation == 1 ? std::move(first) : orientedCopy(first, orientation);
        return decoded;
    }
    if (header.format == ImageFormat::Jpeg) {
        imageio_detail::JpegImage jpeg
            = imageio_detail::decodeJpeg(bytes, decoded.scaleDenominator, options.maxPixels);
        const int orientation = options.applyExifOrientation ? decoded.exifOrientation : 1;
        decoded.image = orientation == 1 ? std::move(jpeg.image) : orientedCopy(jpeg.image, orientation);
        decoded.warnings = std::move(jpeg.warnings);
        return decoded;
    }

    // imdecode does not write to the buffer; the Mat header only wraps it.
    const cv::Mat encoded(
        1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
    const int denominator = decoded.scaleDenominator;
    const bool arrivesUpright = header.format == ImageFormat::Tiff && decoded.exifOrientation >= 5;
    const int width = reducedSize(arrivesUpright ? header.height : header.width, denominator);
    const int height = reducedSize(arrivesUpright ? header.width : header.height, denominator);
    const int orientation
        = orientationToApply(header.format, decoded.exifOrientation, options.applyExifOrientation);
    decoded.image = decodeToRgb(encoded, imreadFlags(denominator), header.format, width, height, orientation);
    PICTOR_CHECK(static_cast<std::int64_t>(decoded.image.width) * decoded.image.height <= options.maxPixels,
        "image too large: ", decoded.image.width, "x", decoded.image.height);
    return decoded;
}

} // namespace

std::int64_t estimateDecodeBytes(
    std::span<const std::uint8_t> bytes, const DecodeOptions& options, const std::filesystem::path& file)
{
    if (isRawFileName(file.filename().native())) // the unpacked sensor data and the half-size image
        return static_cast<std::int64_t>(bytes.size()) * 8;
    try {
        const ImageHeader header = readImageHeader(bytes);
        std::int64_t pixels = header.width * header.height;
        if (header.format == ImageFormat::Jpeg) {
            const int denominator
                = jpegScaleDenominator(std::min(header.width, header.height), options.targetShortEdge);
            pixels = std::int64_t {reducedSize(header.width, denominator)}
                * reducedSize(header.height, denominator);
            return pixels * 3 * 2; // the RGB result and its oriented copy
        }
        if (pixels == 0) // HEIF: the size is in the container; a generous guess from the file's size
            return static_cast<std::int64_t>(bytes.size()) * 16;
        // OpenCV's result, a 16-bit or BGRA intermediate, and the oriented copy.
        return pixels * 3 * 3;
    } catch (const Error&) {
        return 0;
    }
}

DecodedImage decodeImageFile(const std::filesystem::path& file, const DecodeOptions& options)
{
    return decodeImageBytes(readImageFileBytes(file), file, options);
}

std::vector<std::uint8_t> readImageFileBytes(const std::filesystem::path& file)
{
    try {
        return readFileBytes(file);
    } catch (const Error& e) {
        PICTOR_FAIL(file.string(), ": ", e.what());
    } catch (const std::bad_alloc&) {
        PICTOR_FAIL(file.string(), ": out of memory while reading");
    }
}

DecodedImage decodeImageBytes(
    std::span<const std::uint8_t> bytes, const std::filesystem::path& file, const DecodeOptions& options)
{
    initDecoderLibraries();
    try {
        DecodedImage decoded = isRawFileName(file.filename().native()) ? decodeRawBytes(bytes, options)
                                                                       : decodeBytes(bytes, options);
        for (const auto& warning : decoded.warnings)
            PICTOR_LOG_WARN(file.string(), ": ", warning, " (decoded anyway)");
        return decoded;
    } catch (const Error& e) {
        PICTOR_FAIL(file.string(), ": ", e.what());
    } catch (const cv::Exception& e) {
        PICTOR_FAIL(file.string(), ": cannot decode (OpenCV: ", e.msg, ")");
    } catch (const std::bad_alloc&) {
        PICTOR_FAIL(file.string(), ": out of memory while decoding");
    } catch (const std::exception& e) {
        PICTOR_FAIL(file.string(), ": cannot decode (", e.what(), ")");
    }
}

} // namespace pictor
