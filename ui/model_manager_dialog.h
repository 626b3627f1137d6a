// The model manager (File > Models…): the model folders found in the models folders and the user's Hugging
// Face cache (discoverModels, on the thread pool) with family, size on disk, use and verify status. Verify
// loads the model through the model module on the compute worker (the code of `pictor models verify`);
// "Use for search" / "Use for captions" set the active models; "Add model folder…" adds a folder to the
// settings and the list; "Download…" fetches a Hugging Face repository into the cache (HubDownload) with a
// progress bar and Cancel, then lists it.
#pragma once

#include <QDialog>
#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>
#include <vector>

#include "core/model_discovery.h"
#include "indexer/model_host.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace pictor::ui {

class HubDownload;

class ModelManagerDialog : public QDialog {
    Q_OBJECT
public:
    enum Column { NameColumn, FamilyColumn, SizeColumn, InUseColumn, StatusColumn, ColumnCount };

    explicit ModelManagerDialog(ModelHost& host, QWidget* parent = nullptr);

    // Lists the models again (off the GUI thread); modelsListed() when the table shows them.
    void refresh();
    QTableWidget* table() const { return table_; }
    const std::vector<DiscoveredModel>& models() const { return models_; }
    int rowOfName(const QString& name) const; // -1 when not listed
    void selectRow(int row);
    // The folders discovery looks in: the models folder setting (else ~/models when it exists) and the
    // added folders.
    static QStringList modelFolders();
    HubDownload& hubDownload() const { return *hubDownload_; }
    QProgressBar* downloadProgress() const { return downloadProgress_; }
    QLabel* downloadStatus() const { return downloadStatus_; }

public slots:
    void verifySelected();
    void useSelectedForSearch();
    void useSelectedForCaptions();
    void useSelectedForPictures();
    void chooseModelFolder(); // the folder dialog, then addModelFolder()
    void addModelFolder(const QString& dir);
    void openSelectedFolder();
    void chooseRepoToDownload(); // asks for the repository id and revision, then startDownload()
    // Downloads `repoId` into the Hugging Face cache; when done, the list is refreshed with it selected.
    void startDownload(const QString& repoId, const QString& revision = QStringLiteral("main"));
    void cancelDownload();

signals:
    void modelsListed();
    void verified(const QString& dir, bool ok, const QString& message);
    // The active embedding or captioning model changed in the settings.
    void settingsChanged();
    void downloadFinished(bool ok, const QString& message);

private:
    void showModels(std::vector<DiscoveredModel> models);
    void updateButtons();
    const DiscoveredModel* selected() const;
    QString statusOf(const DiscoveredModel& model) const;
    void setStatus(const QString& dir, const QString& status);
    void showDownloadProgress(qint64 done, qint64 total, const QString& file);
    void onDownloadFinished(bool ok, const QString& message);

    ModelHost& host_;
    QTableWidget* table_;
    QPushButton* verify_;
    QPushButton* useForSearch_;
    QPushButton* useForCaptions_;
    QPushButton* useForPictures_;
    QPushButton* openFolder_;
    QPushButton* download_;
    QPushButton* cancelDownload_;
    QProgressBar* downloadProgress_;
    QLabel* downloadStatus_;
    HubDownload* hubDownload_;
    QString selectAfterListing_; // the repository just downloaded
    std::vector<DiscoveredModel> models_;
    QHash<QString, QString> verifyStatus_; // model folder -> "Verifying…", "OK · <model id>" or the error
    QSet<QString> verifying_;
    quint64 listGeneration_ = 0;
};

} // namespace pictor::ui
