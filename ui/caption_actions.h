// Caption and Ask in the window: the captioning model (ChatEngine, from the settings), its state in the
// status bar, the photo context menu's Caption / Ask about this photo… and the File menu's Caption all
// uncaptioned photos (all only while a llava model is configured), caption jobs in the job queue (same
// code path as `pictor caption --library`: captionPhotos), and the Ask panel beside the viewer.
#pragma once

#include <QObject>
#include <QString>
#include <cstdint>
#include <vector>

#include "indexer/model_host.h"

class QAction;
class QLabel;
class QMenu;

namespace pictor::ui {

class AskPanel;
class ChatEngine;
class FeatureHost;

class CaptionActions : public QObject {
    Q_OBJECT
public:
    explicit CaptionActions(FeatureHost& window);

    ChatEngine* chat() const { return chat_; }
    AskPanel* askPanel() const { return panel_; }
    QLabel* statusLabel() const { return label_; }
    QAction* captionAllAction() const { return captionAll_; }

    void setModel(const QString& dir, const QString& device, int cpuThreads,
        const QString& numberFormat = QStringLiteral("auto"));
    // Caption and Ask about this photo… for a row (Caption takes the selection when the row is in it).
    void addPhotoActions(QMenu* menu, int row);
    // A background job: the photos without a caption from the model (all of them when `ids` is empty).
    int caption(const std::vector<std::int64_t>& ids);
    void askAbout(int row);
    void stopAnswers(); // before the compute worker goes

signals:
    void captionStored(qint64 photoId); // queued from the job thread, after the catalog write

private:
    void showAskPanelFor(int row);

    FeatureHost& window_;
    ChatEngine* chat_;
    AskPanel* panel_;
    QLabel* label_;
    QAction* captionAll_;
};

} // namespace pictor::ui
