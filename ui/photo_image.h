// A photo file as a QImage for the window (viewer, previews, chips): camera RAW through the library's
// decoder (LibRaw; Qt reads none of them), the other formats as Qt reads them, upright, scaled while
// decoding where the format allows. For worker threads: a photo can be 100 megapixels.
#pragma once

#include <QImage>
#include <QSize>
#include <QString>

namespace pictor::ui {

// `box`: the size to fit in (keeping the aspect ratio); invalid: full size. A null image when the file
// cannot be read, with the reason in `error` when given.
QImage readPhotoImage(const QString& path, QSize box = {}, QString* error = nullptr);

} // namespace pictor::ui
