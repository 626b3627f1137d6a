// The main window: sidebar (folders, saved searches) | search bar + filters + photo grid | viewer page,
// and the status bar (job progress, model and device, library size). It routes: library reads, thumbnails
// and images run on the thread pool, indexing on the job thread, model work on the compute worker; this
// class only applies their results.
#pragma once

#include <QElapsedTimer>
#include <QFuture>
#include <QMainWindow>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "ui/app_settings.h"
#include "ui/catalog_reader.h"
#include "ui/feature_host.h"
#include "ui/gallery_model.h"
#include "ui/search_engine.h"

class QComboBox;
class QHBoxLayout;
class QLabel;
class QMenu;
class QSplitter;
class QStackedWidget;
class QVBoxLayout;

namespace pictor::ui {

class CaptionActions;
class CreatePanel;
class FilterBar;
class FolderWatcher;
class TagActions;
class GalleryView;
class IndexingJobs;
class JobStatusWidget;
class LibrarySidebar;
class PhotoViewer;
class SearchBar;
class ThumbnailLoader;
class WelcomePage;

class MainWindow : public QMainWindow, public FeatureHost {
    Q_OBJECT
public:
    struct Options {
        std::optional<std::filesystem::path> libraryDir; // --library; else the settings, else the default
        ModelHost::FamilyLoader loadFamilies;
    };
    explicit MainWindow(Options options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // For tests and scripting; the same paths the widgets take.
    SearchBar* searchBar() const { return searchBar_; }
    FilterBar* filterBar() const { return filterBar_; }
    GalleryView* gallery() const { return gallery_; }
    GalleryModel* galleryModel() const { return model_; }
    PhotoViewer* viewer() const { return viewer_; }
    IndexingJobs* jobs() const { return jobs_.get(); }
    FolderWatcher* folderWatcher() const { return watcher_; }
    TagActions* tagActions() const { return tags_; }
    SearchEngine* engine() const { return engine_.get(); }
    ModelHost* host() const { return host_.get(); }

    // FeatureHost: what the window's features (captions and Ask) may use of it.
    QWidget* windowWidget() override { return this; }
    ModelHost& models() override { return *host_; }
    IndexingJobs& jobQueue() override { return *jobs_; }
    int photoCount() const override;
    Photo photoAt(int row) const override;
    QList<int> selectedRows() const override;
    void openPhoto(int row) override { openViewer(row); }
    int viewerRow() const override;
    void refreshPhotoDetails() override;
    void addViewerSidePanel(QWidget* panel) override;
    void onViewerRowChanged(QObject* context, std::function<void(int row)> handler) override;
    void addStatusWidget(QWidget* widget) override;
    void addDockPanel(QDockWidget* dock, QAction* toggle) override;
    void addPhotoMenuActions(std::function<void(QMenu* menu, int row)> addActions) override;
    std::optional<ComposedSearch> composedSearch() const override;
    void addSearchAction(QAction* action) override;
    CreatePanel* createPanel() const { return create_; }
    LibrarySidebar* sidebar() const { return sidebar_; }
    JobStatusWidget* jobStatus() const { return jobStatus_; }
    QLabel* modelLabel() const { return modelLabel_; }
    QLabel* librarySizeLabel() const { return sizeLabel_; }
    CaptionActions* captions() const { return captions_; }
    const std::filesystem::path& libraryDir() const override { return libraryDir_; }
    bool listingLoaded() const { return listingLoaded_; }
    bool searchRunning() const { return searchRunning_; }
    double lastSearchLatencyMs() const { return lastLatencyMs_; } // last keystroke -> results painted
    QString searchMessage() const { return message_; }
    // The context menu for a row; its actions are the ones the right-click shows.
    QMenu* contextMenuFor(int row);
    static qint64 msSinceProcessStart();

public slots:
    void addFolders(const QStringList& folders);
    void openViewer(int row);
    void closeViewer();
    void findSimilar(int row);
    void searchWithPhoto(int row);
    void removeSelectedFromLibrary();
    void openSettings();
    void openModelManager() override;
    // View › Duplicates: exact copies and near-duplicates, best first, to keep the best of each.
    void openDuplicates();
    void openAutoTags(); // View › Auto tags…: zero-shot tags with a live preview
    // The files under `folder` that could not be indexed, with the reasons (copyable).
    void showFailures(const QString& folder);
    void reloadLibrary();
    // After a change of the embedding model: re-index the library with it in the background, searching
    // with the old one meanwhile.
    void reindexIfModelChanged();
    // Makes `dir` the embedding model (what choosing a model folder does): loads it, and re-indexes the
    // library with it when the library was indexed with another.
    void useEmbeddingModel(const QString& dir);

signals:
    void firstPainted(qint64 msSinceStart);
    void listingReloaded();
    void searchFinished(); // results shown, or the reason there are none
    void searchFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void showModelMemory(); // the status bar's models-in-memory label
    void applySettings();
    void runSearch();
    void showListing(const LibraryListing& listing, std::shared_ptr<const std::vector<GalleryEntry>> sorted);
    void updateFolderStates();
    // The file of the photo the viewer shows (empty while it is closed), and showing it again after the
    // rows changed under it (a job's refresh), or closing the viewer when it is gone.
    QString viewedPath() const;
    void keepViewing(const QString& path);
    // After a listing: follow its folders, and once per library, re-scan them in the background.
    void followFolders();
    void rescanChangedFolders(const std::vector<std::filesystem::path>& roots);
    void setMessage(const QString& message);
    void saveCurrentSearch();
    PhotoTerm termFor(int row) const;
    void chooseModelFolder();
    void showGalleryPage();

    AppSettings settings_;
    std::optional<std::filesystem::path> libraryOverride_;
    std::filesystem::path libraryDir_;
    std::unique_ptr<ModelHost> host_; // the models and their worker; the engines below use it
    std::unique_ptr<SearchEngine> engine_;
    std::unique_ptr<IndexingJobs> jobs_;
    std::unique_ptr<ThumbnailLoader> thumbnails_;
    GalleryModel* model_;
    QSplitter* splitter_;
    LibrarySidebar* sidebar_;
    QStackedWidget* pages_;
    WelcomePage* welcome_;
    QWidget* galleryPage_;
    QWidget* modelNeededBar_ = nullptr; // above the photos while search has no model
    void buildModelNeededBar(QVBoxLayout* column);
    SearchBar* searchBar_;
    FilterBar* filterBar_;
    QComboBox* browseOrder_;
    GalleryView* gallery_;
    PhotoViewer* viewer_;
    JobStatusWidget* jobStatus_;
    QLabel* modelLabel_;
    QLabel* memoryLabel_; // the models in memory against the budget (the host's list in its tooltip)
    QLabel* sizeLabel_;
    QLabel* resultLabel_;
    CaptionActions* captions_ = nullptr;
    TagActions* tags_ = nullptr;
    CreatePanel* create_ = nullptr;
    QMenu* viewMenu_ = nullptr;
    QHBoxLayout* searchRow_ = nullptr; // the search bar and the features' buttons beside it
    std::vector<std::function<void(QMenu*, int)>> photoMenuActions_; // the features' context-menu entries

    std::map<std::filesystem::path, std::filesystem::path> canonicalRoots_; // folders of added jobs
    LibraryListing listing_; // roots and counts of the last listing (entries live in the model)
    bool listingLoaded_ = false;
    quint64 listingGeneration_ = 0;
    QFuture<SearchResults> search_;
    quint64 searchGeneration_ = 0;
    bool searchRunning_ = false;
    QElapsedTimer sinceEdit_;
    double lastLatencyMs_ = -1;
    QString message_;
    bool painted_ = false;
    FolderWatcher* watcher_ = nullptr; // follows the library's folders; a change queues a re-scan
    int watchJob_ = 0; // the last re-scan the watcher queued
    bool refreshing_ = false; // the next search refreshes results after a job: the viewer stays open
    bool checkedAtStart_ = false; // the first listing (which queues the background re-scan) was shown
};

} // namespace pictor::ui
