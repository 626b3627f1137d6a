#include "ui/photo_context.h"

#include <cstdio>
#include <ctime>
#include <vector>

namespace pictor::ui {

std::string photoContextLine(const PhotoRecord& photo)
{
    std::vector<std::string> parts;
    if (photo.takenAt) {
        // EXIF dates are local wall-clock times, stored as if UTC (as the viewer shows them).
        const std::time_t when = static_cast<std::time_t>(*photo.takenAt);
        std::tm tm {};
        char text[32];
        if (gmtime_r(&when, &tm) && std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm) > 0)
            parts.push_back(std::string("taken ") + text);
    }
    if (photo.gpsLat && photo.gpsLon) {
        char text[96];
        std::snprintf(
            text, sizeof text, "place: latitude %.5f, longitude %.5f", *photo.gpsLat, *photo.gpsLon);
        parts.push_back(text);
    }
    std::string camera = photo.cameraMake;
    if (!photo.cameraModel.empty())
        camera += (camera.empty() ? "" : " ") + photo.cameraModel;
    if (!camera.empty())
        parts.push_back("camera: " + camera);
    if (parts.empty())
        return {};
    std::string line = "Photo details from the file: ";
    for (std::size_t i = 0; i < parts.size(); ++i)
        line += (i ? "; " : "") + parts[i];
    return line + ".";
}

std::string questionWithContext(const std::string& contextLine, const std::string& question)
{
    return contextLine.empty() ? question : contextLine + "\n" + question;
}

} // namespace pictor::ui
