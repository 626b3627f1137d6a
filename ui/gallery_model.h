// The gallery's rows: either the whole library (browsing, sorted by date or name) or the hits of the
// current search (best first, or newest first when asked), with a score and a "why" per hit. Every row is
// exposed at once: the listing is in memory already, and paging it (fetchMore) made the view lay out all
// rows again after every page, in batches that shrank the scroll range under the user (bench/gui_bench).
// Thumbnails come cache-or-schedule from the ThumbnailLoader and arrive later as dataChanged. The listing
// itself is read and sorted off the GUI thread.
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <memory>
#include <optional>
#include <vector>

#include "indexer/search.h"
#include "ui/catalog_reader.h"
#include "ui/thumbnail_loader.h"

namespace pictor::ui {

class GalleryModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        IdRole = Qt::UserRole + 1, // qint64 catalog id (0: not indexed yet)
        PathRole, // QString
        ScoreRole, // double, only for search hits
        WhyRole, // QString, only for search hits
        DateRole, // qint64 unix seconds
        ThumbnailStateRole, // 0 loading, 1 ready, 2 failed
    };
    enum class BrowseOrder { DateNewestFirst, Name };
    static constexpr const char* kIdsMimeType = "application/x-pictor-photo-ids";

    explicit GalleryModel(ThumbnailLoader& thumbnails, QObject* parent = nullptr);

    // Browsing: the library's photos (already sorted); shown when no search is active.
    void setListing(std::shared_ptr<const std::vector<GalleryEntry>> entries, BrowseOrder order);
    BrowseOrder browseOrder() const { return order_; }
    std::size_t librarySize() const { return library_ ? library_->size() : 0; }
    // Searching: these hits replace the grid; clearResults() goes back to browsing.
    void setResults(const std::vector<SearchHit>& hits);
    void clearResults();
    bool showingResults() const { return results_.has_value(); }

    // Sorted copy of `entries`, for a worker thread.
    static std::vector<GalleryEntry> sorted(std::vector<GalleryEntry> entries, BrowseOrder order);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;
    Qt::DropActions supportedDragActions() const override { return Qt::CopyAction; }

    QString pathAt(int row) const;
    qint64 idAt(int row) const;
    int totalRows() const { return rowCount(); }

private:
    struct Row {
        const GalleryEntry* entry = nullptr; // browsing
        const SearchHit* hit = nullptr; // searching
    };
    ThumbnailSource sourceAt(int row) const;
    void thumbnailReady(const QString& key);

    ThumbnailLoader& thumbnails_;
    std::shared_ptr<const std::vector<GalleryEntry>> library_;
    QHash<qint64, const GalleryEntry*> byId_;
    BrowseOrder order_ = BrowseOrder::DateNewestFirst;
    std::optional<std::vector<SearchHit>> results_;
    mutable QHash<QString, int> waiting_; // thumbnail key -> row that asked for it
};

} // namespace pictor::ui
