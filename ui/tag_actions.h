// Tags in the window: the photo context menu's "Add tag…" (to the selection, with the library's tags
// offered as completions) and "Remove tag" (the tags the selection has). Each change is a job in the
// queue (the library's one writer), so the gallery, the sidebar's tag list and the viewer follow it.
#pragma once

#include <QObject>
#include <QString>
#include <cstdint>
#include <vector>

class QMenu;

namespace pictor::ui {

class FeatureHost;

class TagActions : public QObject {
    Q_OBJECT
public:
    explicit TagActions(FeatureHost& window);

    void addPhotoActions(QMenu* menu, int row);
    // Asks for a tag (completing the library's) and adds it to the photos.
    void askAndAdd(const std::vector<std::int64_t>& ids);
    // The jobs; they return the job's id.
    int add(const std::vector<std::int64_t>& ids, const QString& tag);
    int remove(const std::vector<std::int64_t>& ids, const QString& tag);

private:
    std::vector<std::int64_t> photosFor(int row) const; // the selection when it holds `row`, else the row
    QStringList libraryTags() const;

    FeatureHost& window_;
};

} // namespace pictor::ui
