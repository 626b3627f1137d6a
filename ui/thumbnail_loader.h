// Cache-or-schedule thumbnails for the gallery: find() answers from a bounded QCache of pixmaps, or
// schedules the load on QThreadPool and returns false; `ready(key)` follows on the GUI thread. Workers
// make the cached JPEG (ThumbnailCache::ensure), read it into a QImage at the display size and hand it
// back; only the GUI thread turns QImages into QPixmaps. Scrolling fast never piles up work: pending
// requests are served newest first and the oldest are dropped beyond a bound.
#pragma once

#include <QCache>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QPixmap>
#include <QSet>
#include <QString>
#include <QThreadPool>
#include <deque>
#include <filesystem>
#include <memory>

#include "indexer/thumbnail_cache.h"

namespace pictor::ui {

struct ThumbnailSource {
    QString key; // the photo's path: unique in the gallery
    std::filesystem::path file;
    std::uint64_t contentHash = 0;
    bool hashKnown = false; // false for files not in the catalog yet: hashed on the worker
};

class ThumbnailLoader : public QObject {
    Q_OBJECT
public:
    explicit ThumbnailLoader(std::shared_ptr<const ThumbnailCache> cache, QObject* parent = nullptr);
    ~ThumbnailLoader() override;

    // Longest edge in device-independent pixels; `ratio` is the screen's device pixel ratio.
    void setDisplaySize(int size, qreal ratio);
    int displaySize() const { return size_; }

    // True with the pixmap when cached; otherwise schedules it (once) and returns false.
    bool find(const ThumbnailSource& source, QPixmap* pixmap);
    bool failed(const QString& key) const { return failed_.contains(key); }
    void clear();
    int pending() const { return static_cast<int>(queue_.size()) + inFlight_; }

signals:
    void ready(const QString& key);

private:
    void dispatch();
    void finished(const QString& key, const QImage& image, quint64 generation);

    std::shared_ptr<const ThumbnailCache> cache_;
    int size_ = 160;
    qreal ratio_ = 1.0;
    QCache<QString, QPixmap> pixmaps_; // cost in kilobytes
    QSet<QString> failed_;
    QSet<QString> scheduled_;
    std::deque<ThumbnailSource> queue_; // newest at the front
    int inFlight_ = 0;
    quint64 generation_ = 0; // bumped by clear(): late results of older sizes are dropped
    QThreadPool pool_;
};

} // namespace pictor::ui
