#include "ui/photo_image.h"

#include <QImageReader>
#include <algorithm>

#include "core/imageio/decode.h"
#include "ui/generation_engine.h"

namespace pictor::ui {

QImage readPhotoImage(const QString& path, QSize box, QString* error)
{
    if (isRawFileName(path.toStdString())) {
        try {
            DecodeOptions options;
            if (box.isValid())
                options.targetShortEdge = std::max(box.width(), box.height());
            const QImage image = toQImage(decodeImageFile(path.toStdString(), options).image);
            return box.isValid() ? image.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation) : image;
        } catch (const std::exception& e) {
            if (error)
                *error = QString::fromUtf8(e.what());
            return {};
        }
    }
    QImageReader reader(path);
    reader.setAutoTransform(true);
    if (box.isValid())
        if (const QSize size = reader.size(); size.isValid())
            reader.setScaledSize(size.scaled(box, Qt::KeepAspectRatio));
    QImage image = reader.read();
    if (image.isNull() && error)
        *error = reader.errorString();
    return image;
}

} // namespace pictor::ui
