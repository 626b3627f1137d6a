#include "ui/thumbnail_loader.h"

#include <QImageReader>
#include <QMetaObject>

#include <sys/resource.h>
#include <unistd.h>

#include "indexer/file_hash.h"

namespace pictor::ui {
namespace {

constexpr std::size_t kMaxQueued = 256; // about four screens of a dense grid
constexpr int kCacheKilobytes = 192 * 1024;

QImage loadThumbnail(const ThumbnailCache& cache, const ThumbnailSource& source, int pixels)
{
    try {
        const std::uint64_t hash = source.hashKnown ? source.contentHash : hashFile(source.file);
        const auto file = cache.ensure(source.file, hash);
        QImageReader reader(QString::fromStdString(file.string()));
        const QSize size = reader.size();
        if (size.isValid() && (size.width() > pixels || size.height() > pixels))
            reader.setScaledSize(size.scaled(pixels, pixels, Qt::KeepAspectRatio));
        return reader.read();
    } catch (const std::exception&) {
        return {}; // undecodable: the delegate draws a broken-photo placeholder
    }
}

} // namespace

ThumbnailLoader::ThumbnailLoader(std::shared_ptr<const ThumbnailCache> cache, QObject* parent)
    : QObject(parent), cache_(std::move(cache)), pixmaps_(kCacheKilobytes)
{
    pool_.setMaxThreadCount(qMax(2, QThread::idealThreadCount()));
}

ThumbnailLoader::~ThumbnailLoader()
{
    queue_.clear();
    pool_.waitForDone();
}

void ThumbnailLoader::setDisplaySize(int size, qreal ratio)
{
    if (size == size_ && qFuzzyCompare(ratio, ratio_))
        return;
    size_ = size;
    ratio_ = ratio;
    clear();
}

void ThumbnailLoader::clear()
{
    ++generation_;
    pixmaps_.clear();
    failed_.clear();
    scheduled_.clear();
    queue_.clear();
}

bool ThumbnailLoader::find(const ThumbnailSource& source, QPixmap* pixmap)
{
    if (const QPixmap* cached = pixmaps_.object(source.key)) {
        *pixmap = *cached;
        return true;
    }
    if (failed_.contains(source.key) || scheduled_.contains(source.key))
        return false;
    scheduled_.insert(source.key);
    queue_.push_front(source);
    while (queue_.size() > kMaxQueued) {
        scheduled_.remove(queue_.back().key); // scrolled past: asked again if it comes back into view
        queue_.pop_back();
    }
    dispatch();
    return false;
}

void ThumbnailLoader::dispatch()
{
    while (!queue_.empty() && inFlight_ < pool_.maxThreadCount()) {
        ThumbnailSource source = std::move(queue_.front());
        queue_.pop_front();
        ++inFlight_;
        const int pixels = qRound(size_ * ratio_);
        const quint64 generation = generation_;
        // The destructor waits for the pool, so `this` outlives every job; a queued call to a deleted
        // object is dropped by Qt.
        pool_.start([this, cache = cache_, source = std::move(source), pixels, generation] {
            // Decoding yields to the GUI thread when the cores are busy (per thread, so set on each job).
            setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
            QImage image = loadThumbnail(*cache, source, pixels);
            QMetaObject::invokeMethod(
                this,
                [this, key = source.key, image = std::move(image), generation] {
                    finished(key, image, generation);
                },
                Qt::QueuedConnection);
        });
    }
}

void ThumbnailLoader::finished(const QString& key, const QImage& image, quint64 generation)
{
    --inFlight_;
    if (generation == generation_) {
        scheduled_.remove(key);
        if (image.isNull()) {
            failed_.insert(key);
        } else {
            auto* pixmap = new QPixmap(QPixmap::fromImage(image));
            pixmap->setDevicePixelRatio(ratio_);
            pixmaps_.insert(key, pixmap, qMax<qsizetype>(1, image.sizeInBytes() / 1024));
        }
        emit ready(key);
    }
    dispatch();
}

} // namespace pictor::ui
