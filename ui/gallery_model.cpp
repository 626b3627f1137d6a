#include "ui/gallery_model.h"

#include <QDateTime>
#include <QFileInfo>
#include <QMimeData>
#include <QUrl>
#include <algorithm>

namespace pictor::ui {
namespace {

QString toQString(const std::filesystem::path& path)
{
    return QString::fromStdString(path.string());
}

} // namespace

GalleryModel::GalleryModel(ThumbnailLoader& thumbnails, QObject* parent)
    : QAbstractListModel(parent), thumbnails_(thumbnails)
{
    connect(&thumbnails_, &ThumbnailLoader::ready, this, &GalleryModel::thumbnailReady);
}

std::vector<GalleryEntry> GalleryModel::sorted(std::vector<GalleryEntry> entries, BrowseOrder order)
{
    if (order == BrowseOrder::DateNewestFirst)
        std::stable_sort(entries.begin(), entries.end(),
            [](const GalleryEntry& a, const GalleryEntry& b) { return a.date > b.date; });
    else
        std::stable_sort(entries.begin(), entries.end(), [](const GalleryEntry& a, const GalleryEntry& b) {
            return a.file.filename().native() < b.file.filename().native();
        });
    return entries;
}

void GalleryModel::setListing(std::shared_ptr<const std::vector<GalleryEntry>> entries, BrowseOrder order)
{
    const bool visible = !results_;
    if (visible)
        beginResetModel();
    library_ = std::move(entries);
    order_ = order;
    byId_.clear();
    byId_.reserve(static_cast<qsizetype>(library_->size()));
    for (const auto& entry : *library_)
        if (entry.id)
            byId_.insert(entry.id, &entry);
    waiting_.clear();
    if (visible)
        endResetModel();
}

void GalleryModel::setResults(const std::vector<SearchHit>& hits)
{
    beginResetModel();
    results_ = hits;
    waiting_.clear();
    endResetModel();
}

void GalleryModel::clearResults()
{
    if (!results_)
        return;
    beginResetModel();
    results_.reset();
    waiting_.clear();
    endResetModel();
}

int GalleryModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid())
        return 0;
    if (results_)
        return static_cast<int>(results_->size());
    return library_ ? static_cast<int>(library_->size()) : 0;
}

QString GalleryModel::pathAt(int row) const
{
    if (row < 0 || row >= rowCount())
        return {};
    return results_ ? toQString((*results_)[row].path) : toQString((*library_)[row].file);
}

qint64 GalleryModel::idAt(int row) const
{
    if (row < 0 || row >= rowCount())
        return 0;
    return results_ ? (*results_)[row].id : (*library_)[row].id;
}

ThumbnailSource GalleryModel::sourceAt(int row) const
{
    ThumbnailSource source;
    if (results_) {
        const SearchHit& hit = (*results_)[row];
        source.file = hit.path;
        if (const GalleryEntry* entry = byId_.value(hit.id)) {
            source.contentHash = entry->contentHash;
            source.hashKnown = true;
        }
    } else {
        const GalleryEntry& entry = (*library_)[row];
        source.file = entry.file;
        source.contentHash = entry.contentHash;
        source.hashKnown = entry.id != 0;
    }
    source.key = toQString(source.file);
    return source;
}

QVariant GalleryModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const int row = index.row();
    const SearchHit* hit = results_ ? &(*results_)[row] : nullptr;
    const GalleryEntry* entry = hit ? byId_.value(hit->id) : &(*library_)[row];
    switch (role) {
    case Qt::DisplayRole:
        return QString::fromStdString((hit ? hit->path : entry->file).filename().string());
    case Qt::DecorationRole: {
        const ThumbnailSource source = sourceAt(row);
        QPixmap pixmap;
        if (thumbnails_.find(source, &pixmap))
            return pixmap;
        waiting_.insert(source.key, row);
        return {};
    }
    case ThumbnailStateRole: {
        const QString key = pathAt(row);
        return thumbnails_.failed(key) ? 2 : 0;
    }
    case Qt::ToolTipRole: {
        QString tip = pathAt(row);
        if (hit)
            tip += QStringLiteral("\n%1").arg(QString::fromStdString(hit->why));
        return tip;
    }
    case IdRole:
        return idAt(row);
    case PathRole:
        return pathAt(row);
    case ScoreRole:
        return hit ? QVariant(hit->score) : QVariant();
    case WhyRole:
        return hit ? QVariant(QString::fromStdString(hit->why)) : QVariant();
    case DateRole:
        return static_cast<qint64>(hit ? hit->date : entry->date);
    default:
        return {};
    }
}

Qt::ItemFlags GalleryModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled | Qt::ItemNeverHasChildren;
}

QStringList GalleryModel::mimeTypes() const
{
    return {QStringLiteral("text/uri-list"), QString::fromLatin1(kIdsMimeType)};
}

QMimeData* GalleryModel::mimeData(const QModelIndexList& indexes) const
{
    auto* mime = new QMimeData;
    QList<QUrl> urls;
    QStringList ids;
    for (const QModelIndex& index : indexes) {
        urls.append(QUrl::fromLocalFile(pathAt(index.row())));
        ids.append(QString::number(idAt(index.row())));
    }
    mime->setUrls(urls);
    mime->setData(QString::fromLatin1(kIdsMimeType), ids.join(',').toLatin1());
    return mime;
}

void GalleryModel::thumbnailReady(const QString& key)
{
    const auto found = waiting_.find(key);
    if (found == waiting_.end())
        return;
    const int row = found.value();
    waiting_.erase(found);
    if (row < rowCount() && pathAt(row) == key) {
        const QModelIndex changed = index(row);
        emit dataChanged(changed, changed, {Qt::DecorationRole, ThumbnailStateRole});
    }
}

} // namespace pictor::ui
