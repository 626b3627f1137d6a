#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <QtConcurrent/QtConcurrentRun>
#include <sys/resource.h>
#include <unistd.h>

#include "indexer/library.h"
#include "indexer/thumbnail_cache.h"
#include "ui/appearance.h"
#include "ui/auto_tag_dialog.h"
#include "ui/caption_actions.h"
#include "ui/create_panel.h"
#include "ui/duplicates_dialog.h"
#include "ui/filter_bar.h"
#include "ui/folder_watcher.h"
#include "ui/gallery_view.h"
#include "ui/help_dialogs.h"
#include "ui/indexing_jobs.h"
#include "ui/job_list_dialog.h"
#include "ui/job_status_widget.h"
#include "ui/library_sidebar.h"
#include "ui/model_manager_dialog.h"
#include "ui/photo_viewer.h"
#include "ui/recommended_model_download.h"
#include "ui/search_bar.h"
#include "ui/settings_dialog.h"
#include "ui/tag_actions.h"
#include "ui/thumbnail_loader.h"
#include "ui/vanished_photos_question.h"
#include "ui/welcome_page.h"

namespace pictor::ui {
namespace {

QString toQString(const std::filesystem::path& path)
{
    return QString::fromStdString(path.string());
}

// fnmatch(3) escape, so a removed photo's relative path excludes exactly that file from later scans.
QString fnmatchEscaped(const QString& text)
{
    QString out;
    for (const QChar c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

} // namespace

qint64 MainWindow::msSinceProcessStart()
{
    // Field 22 of /proc/self/stat: start time in clock ticks after boot; /proc/uptime: now.
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) { }
    double uptime = 0;
    std::ifstream("/proc/uptime") >> uptime;
    const double started = std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
    return static_cast<qint64>((uptime - started) * 1000);
}

MainWindow::MainWindow(Options options, QWidget* parent)
    : QMainWindow(parent),
      libraryOverride_(std::move(options.libraryDir)),
      host_(std::make_unique<ModelHost>(std::move(options.loadFamilies))),
      engine_(std::make_unique<SearchEngine>(*host_)),
      jobs_(std::make_unique<IndexingJobs>(*engine_, *host_)),
      thumbnails_(std::make_unique<ThumbnailLoader>(std::make_shared<const ThumbnailCache>())),
      model_(new GalleryModel(*thumbnails_, this)),
      splitter_(new QSplitter(this)),
      sidebar_(new LibrarySidebar(this)),
      pages_(new QStackedWidget(this)),
      welcome_(new WelcomePage(this)),
      galleryPage_(new QWidget(this)),
      searchBar_(new SearchBar(this)),
      filterBar_(new FilterBar(this)),
      browseOrder_(new QComboBox(this)),
      gallery_(new GalleryView(this)),
      viewer_(new PhotoViewer(this)),
      jobStatus_(new JobStatusWidget(*jobs_, this)),
      modelLabel_(new QLabel(this)),
      memoryLabel_(new QLabel(this)),
      sizeLabel_(new QLabel(this)),
      resultLabel_(new QLabel(this))
{
    // The worker (and the math threads it starts) yields to the GUI thread when the cores are busy.
    host_->worker().submit(
        JobPriority::Interactive, [] { setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5); });
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Pictor"));
    setAcceptDrops(true); // a folder dropped anywhere (welcome page, gallery) joins the library
    watcher_ = new FolderWatcher(1500, 10000, this);
    connect(watcher_, &FolderWatcher::rootsChanged, this, &MainWindow::rescanChangedFolders);

    auto* column = new QVBoxLayout(galleryPage_);
    column->setContentsMargins(6, 6, 6, 0);
    searchRow_ = new QHBoxLayout;
    searchRow_->addWidget(searchBar_, 1);
    column->addLayout(searchRow_);
    auto* filters = new QHBoxLayout;
    // The filters scroll sideways in a narrow window (a docked Create panel beside the gallery), rather
    // than widening it past the screen.
    auto* filterScroll = new QScrollArea(galleryPage_);
    filterScroll->setObjectName(QStringLiteral("filterScroll"));
    filterScroll->setWidget(filterBar_);
    filterScroll->setWidgetResizable(true);
    filterScroll->setFrameShape(QFrame::NoFrame);
    filterScroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    filterScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    filterScroll->setFixedHeight(filterBar_->sizeHint().height()
        + filterScroll->horizontalScrollBar()->sizeHint().height()); // no jump when the bar shows
    filters->addWidget(filterScroll, 1);
    browseOrder_->setObjectName(QStringLiteral("browseOrder"));
    browseOrder_->addItem(tr("Newest first"), static_cast<int>(GalleryModel::BrowseOrder::DateNewestFirst));
    browseOrder_->addItem(tr("By name"), static_cast<int>(GalleryModel::BrowseOrder::Name));
    browseOrder_->setToolTip(tr("Order of the photos when not searching"));
    filters->addWidget(browseOrder_);
    column->addLayout(filters);
    buildModelNeededBar(column);
    gallery_->setModel(model_);
    column->addWidget(gallery_, 1);
    pages_->addWidget(welcome_);
    pages_->addWidget(galleryPage_);
    pages_->addWidget(viewer_);
    pages_->setCurrentWidget(galleryPage_);
    splitter_->addWidget(sidebar_);
    splitter_->addWidget(pages_);
    splitter_->setStretchFactor(1, 1);
    splitter_->setSizes({240, 960});
    setCentralWidget(splitter_);

    statusBar()->addWidget(jobStatus_, 1);
    resultLabel_->setObjectName(QStringLiteral("resultLabel"));
    statusBar()->addPermanentWidget(resultLabel_);
    modelLabel_->setObjectName(QStringLiteral("modelLabel"));
    modelLabel_->setText(tr("Model: not loaded yet"));
    statusBar()->addPermanentWidget(modelLabel_);
    memoryLabel_->setObjectName(QStringLiteral("modelMemory"));
    statusBar()->addPermanentWidget(memoryLabel_);
    showModelMemory();
    // On the worker: what is loaded changed, or a warning (a model larger than the budget).
    host_->setListener([this](const std::string& warning) {
        QMetaObject::invokeMethod(
            this,
            [this, warning] {
                showModelMemory();
                if (!warning.empty())
                    statusBar()->showMessage(QString::fromStdString(warning), 15'000);
            },
            Qt::QueuedConnection);
    });
    // Models left idle past the idle time go; checked on the worker, so never while one is being used.
    auto* idleCheck = new QTimer(this);
    connect(idleCheck, &QTimer::timeout, this,
        [this] { host_->worker().submit(JobPriority::Bulk, [host = host_.get()] { host->unloadIdle(); }); });
    idleCheck->start(60'000);
    sizeLabel_->setObjectName(QStringLiteral("librarySize"));
    statusBar()->addPermanentWidget(sizeLabel_);

    captions_ = new CaptionActions(*this);
    tags_ = new TagActions(*this);
    buildMenus();
    create_ = new CreatePanel(*this);
    applySettings();
    restoreGeometry(settings_.windowGeometry());
    restoreState(settings_.windowState());
    splitter_->restoreState(settings_.splitterState());
    sidebar_->setSavedSearches(settings_.savedSearches());

    connect(searchBar_, &SearchBar::queryChanged, this, &MainWindow::runSearch);
    connect(searchBar_->lineEdit(), &QLineEdit::textEdited, this, [this] { sinceEdit_.start(); });
    connect(filterBar_, &FilterBar::changed, this, [this] {
        sinceEdit_.start();
        runSearch();
    });
    // Re-reading is as cheap as re-sorting and picks up changes; both happen off the GUI thread.
    connect(browseOrder_, &QComboBox::currentIndexChanged, this, &MainWindow::reloadLibrary);
    connect(gallery_, &GalleryView::openRequested, this,
        [this](const QModelIndex& index) { openViewer(index.row()); });
    connect(gallery_, &GalleryView::removeRequested, this, &MainWindow::removeSelectedFromLibrary);
    connect(gallery_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = gallery_->indexAt(at);
        if (!index.isValid())
            return;
        QMenu* menu = contextMenuFor(index.row());
        menu->popup(gallery_->viewport()->mapToGlobal(at));
    });
    // The viewer's photo has the gallery's context menu.
    viewer_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(viewer_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        if (viewer_->row() >= 0)
            contextMenuFor(viewer_->row())->popup(viewer_->mapToGlobal(at));
    });
    connect(viewer_, &PhotoViewer::closeRequested, this, &MainWindow::closeViewer);
    connect(viewer_, &PhotoViewer::autoTagAnswered, this, [this](qint64 id, const QString& tag, bool keep) {
        if (keep)
            tags_->add({id}, tag); // a person's tag replaces the model's
        else
            tags_->remove({id}, tag); // a zero-shot tag taken away is remembered: no later run gives it back
    });
    connect(viewer_, &PhotoViewer::photoLinkActivated, this, [this](qint64 id) {
        for (int row = 0; row < model_->rowCount(); ++row)
            if (model_->idAt(row) == id) {
                openViewer(row);
                return;
            }
        statusBar()->showMessage(
            tr("That photo is not among the photos shown; clear the search to see it"), 8000);
    });
    connect(viewer_, &PhotoViewer::rowChanged, this,
        [this](int row) { gallery_->setCurrentIndex(model_->index(row, 0)); });
    connect(sidebar_, &LibrarySidebar::addFolderRequested, this, [this] {
        const QString folder
            = QFileDialog::getExistingDirectory(this, tr("Add a folder of photos"), QDir::homePath());
        if (!folder.isEmpty())
            addFolders({folder});
    });
    connect(welcome_, &WelcomePage::addFolderRequested, sidebar_, &LibrarySidebar::addFolderRequested);
    connect(welcome_, &WelcomePage::chooseModelRequested, this, &MainWindow::chooseModelFolder);
    connect(welcome_, &WelcomePage::modelDownloaded, this, &MainWindow::useEmbeddingModel);
    connect(engine_.get(), &SearchEngine::modelMissing, modelNeededBar_, &QWidget::setVisible);
    connect(sidebar_, &LibrarySidebar::foldersDropped, this, &MainWindow::addFolders);
    connect(sidebar_, &LibrarySidebar::removeFolderRequested, this, [this](const QString& folder) {
        const auto answer = QMessageBox::question(this, tr("Remove folder"),
            tr("Remove %1 and its photos from the library?\nThe files stay where they are.").arg(folder));
        if (answer == QMessageBox::Yes)
            jobs_->removeFolder(folder.toStdString());
    });
    connect(sidebar_, &LibrarySidebar::rescanRequested, this, [this](const QString& folder) {
        jobs_->rescan(folder.isEmpty() ? std::vector<std::filesystem::path> {}
                                       : std::vector<std::filesystem::path> {folder.toStdString()});
        updateFolderStates();
    });
    connect(sidebar_, &LibrarySidebar::folderActivated, filterBar_, &FilterBar::setFolder);
    connect(sidebar_, &LibrarySidebar::tagActivated, filterBar_, &FilterBar::setTag);
    connect(sidebar_, &LibrarySidebar::failuresRequested, this, &MainWindow::showFailures);
    connect(sidebar_, &LibrarySidebar::saveSearchRequested, this, &MainWindow::saveCurrentSearch);
    connect(sidebar_, &LibrarySidebar::savedSearchActivated, this, [this](const SavedSearch& search) {
        showGalleryPage();
        searchBar_->clear();
        searchBar_->setText(search.text);
    });
    connect(sidebar_, &LibrarySidebar::savedSearchRemoved, this, [this](const QString& name) {
        auto searches = settings_.savedSearches();
        searches.removeIf([&](const SavedSearch& s) { return s.name == name; });
        settings_.setSavedSearches(searches);
        sidebar_->setSavedSearches(searches);
    });
    connect(jobStatus_, &JobStatusWidget::clicked, this, [this] {
        auto* dialog = new JobListDialog(*jobs_, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });
    connect(jobs_.get(), &IndexingJobs::jobChanged, this, &MainWindow::updateFolderStates);
    connect(jobs_.get(), &IndexingJobs::jobFinished, this, [this](int id) {
        if (const JobInfo* job = jobs_->job(id))
            askAboutVanishedPhotos(this, *job, [this](const std::vector<std::filesystem::path>& roots) {
                jobs_->forgetVanishedPhotos(roots);
            });
        engine_->invalidateIndex();
        if (!settings_.modelDir().isEmpty() || CatalogReader::hasCatalog(libraryDir_))
            engine_->preload(); // the model status follows a switch of the library's model
        reloadLibrary();
        if (!searchBar_->empty() || !filterBar_->tag().isEmpty()) {
            refreshing_ = true;
            runSearch();
        }
    });
    connect(
        engine_.get(), &SearchEngine::modelStatusChanged, this, [this](const QString& status, bool ready) {
            modelLabel_->setText(tr("Model: %1").arg(status));
            welcome_->setModelState(status, ready);
        });
}

MainWindow::~MainWindow()
{
    jobs_->disconnect(this); // its cancellations must not reach a window being destroyed
    jobs_.reset(); // cancels and waits for the job thread before the engine goes
    engine_->cancelSearch();
    captions_->stopAnswers(); // the worker finishes its running job: an answer stops at the next token
    create_->stop();
    host_->setListener({});
    host_->stopWorker(); // its queued jobs reference the engines: none may run after this
    engine_.reset();
}

int MainWindow::photoCount() const
{
    return model_->rowCount();
}

FeatureHost::Photo MainWindow::photoAt(int row) const
{
    return {model_->idAt(row), model_->pathAt(row)};
}

QList<int> MainWindow::selectedRows() const
{
    return gallery_->selectedRows();
}

int MainWindow::viewerRow() const
{
    return viewer_->isVisible() ? viewer_->row() : -1;
}

void MainWindow::refreshPhotoDetails()
{
    viewer_->refreshDetails();
}

void MainWindow::addViewerSidePanel(QWidget* panel)
{
    viewer_->addSidePanel(panel);
}

void MainWindow::onViewerRowChanged(QObject* context, std::function<void(int row)> handler)
{
    connect(viewer_, &PhotoViewer::rowChanged, context, std::move(handler));
}

void MainWindow::addStatusWidget(QWidget* widget)
{
    statusBar()->addPermanentWidget(widget);
}

void MainWindow::addDockPanel(QDockWidget* dock, QAction* toggle)
{
    addDockWidget(Qt::RightDockWidgetArea, dock);
    dock->hide();
    viewMenu_->addAction(toggle);
}

void MainWindow::openAutoTags()
{
    if (auto* open = findChild<AutoTagDialog*>()) {
        open->raise();
        open->activateWindow();
        return;
    }
    auto* dialog = new AutoTagDialog(*engine_, *this, libraryDir_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::openDuplicates()
{
    auto* dialog = new DuplicatesDialog(*engine_, *jobs_, libraryDir_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::showFailures(const QString& folder)
{
    QStringList lines;
    try {
        if (CatalogReader::hasCatalog(libraryDir_)) {
            const Catalog catalog = Catalog::open(libraryDir_, Catalog::OpenMode::ReadOnly);
            for (const FailureRecord& failure : catalog.failures())
                if (isUnder(failure.path, folder.toStdString()))
                    lines << QStringLiteral("%1: %2").arg(
                        toQString(failure.path), QString::fromStdString(failure.reason));
        }
    } catch (const std::exception& e) {
        lines << tr("The library cannot be read: %1").arg(QString::fromUtf8(e.what()));
    }
    auto* dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("failuresDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Files not indexed — %1").arg(QFileInfo(folder).fileName()));
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(new QLabel(lines.isEmpty()
            ? tr("Every photo file of %1 is indexed.").arg(folder)
            : tr("%n file(s) of %1 could not be indexed:", nullptr, static_cast<int>(lines.size()))
                  .arg(folder),
        dialog));
    auto* text = new QPlainTextEdit(lines.join('\n'), dialog); // selectable, so it can be copied
    text->setObjectName(QStringLiteral("failures"));
    text->setReadOnly(true);
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(640, 320);
    dialog->show();
}

void MainWindow::addPhotoMenuActions(std::function<void(QMenu* menu, int row)> addActions)
{
    photoMenuActions_.push_back(std::move(addActions));
}

std::optional<FeatureHost::ComposedSearch> MainWindow::composedSearch() const
{
    const auto photos = searchBar_->photos();
    const QString words = searchBar_->text().trimmed();
    if (photos.size() != 1 || photos.front().negated || words.isEmpty())
        return std::nullopt;
    return ComposedSearch {
        QString::fromStdString(photos.front().file.string()), words, searchBar_->textWeight()};
}

void MainWindow::addSearchAction(QAction* action)
{
    auto* button = new QToolButton(this);
    button->setDefaultAction(action);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    searchRow_->addWidget(button, 0, Qt::AlignTop);
}

void MainWindow::showModelMemory()
{
    const auto gb
        = [](std::uint64_t bytes) { return QString::number(static_cast<double>(bytes) / 1e9, 'f', 1); };
    const auto loaded = host_->loaded();
    const std::uint64_t budget = host_->budget();
    QString text = budget ? tr("Models: %1 of %2 GB").arg(gb(host_->loadedBytes()), gb(budget))
                          : tr("Models: %1 GB").arg(gb(host_->loadedBytes()));
    if (const std::uint64_t gpuBudget = host_->budget(MemoryPlace::Gpu))
        text += tr(" · GPU %1 of %2 GB").arg(gb(host_->loadedBytes(MemoryPlace::Gpu)), gb(gpuBudget));
    memoryLabel_->setText(text);
    QStringList lines;
    for (const ModelHost::LoadedModel& model : loaded)
        lines << tr("%1: %2 GB%3%4")
                     .arg(QString::fromStdString(model.description), gb(model.bytes),
                         model.place == MemoryPlace::Gpu ? tr(" on the GPU") : QString(),
                         model.inUse ? tr(", in use") : QString());
    memoryLabel_->setToolTip(lines.isEmpty() ? tr("No model loaded") : lines.join('\n'));
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* add = file->addAction(tr("&Add folder…"), sidebar_, &LibrarySidebar::addFolderRequested);
    add->setShortcut(QKeySequence(tr("Ctrl+O")));
    file->addAction(tr("Re-scan all folders"), this, [this] { jobs_->rescan(); });
    file->addAction(captions_->captionAllAction());
    QAction* settings = file->addAction(tr("&Settings…"), this, &MainWindow::openSettings);
    settings->setShortcut(QKeySequence::Preferences);
    settings->setShortcuts({QKeySequence(tr("Ctrl+,"))});
    file->addAction(tr("&Models…"), this, &MainWindow::openModelManager)
        ->setObjectName(QStringLiteral("openModelManager"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* find = edit->addAction(tr("&Find"), this, [this] {
        showGalleryPage();
        searchBar_->focusSearch();
    });
    find->setShortcut(QKeySequence::Find);
    edit->addAction(tr("&Copy paths"), gallery_, &GalleryView::copySelectedPaths);
    edit->addAction(tr("&Remove from library…"), this, &MainWindow::removeSelectedFromLibrary);
    edit->addAction(tr("Save search…"), this, &MainWindow::saveCurrentSearch);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    viewMenu_ = view;
    view->addAction(tr("&Duplicates…"), this, &MainWindow::openDuplicates)
        ->setObjectName(QStringLiteral("showDuplicates"));
    view->addAction(tr("&Auto tags…"), this, &MainWindow::openAutoTags)
        ->setObjectName(QStringLiteral("showAutoTags"));
    view->addAction(tr("&Jobs…"), this, [this] {
        auto* dialog = new JobListDialog(*jobs_, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });

    // Esc anywhere in the gallery page: clear the search (the search field handles its own Esc first).
    auto* escape = new QShortcut(QKeySequence(Qt::Key_Escape), galleryPage_);
    escape->setContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, this, [this] {
        // Esc in a filter (its drop-down just closed, or a date being typed) is about that filter only.
        if (QApplication::activePopupWidget() || filterBar_->isAncestorOf(QApplication::focusWidget()))
            return;
        if (!searchBar_->empty())
            searchBar_->clear();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), this, [this] { showShortcuts(this); })
        ->setObjectName(QStringLiteral("shortcuts"));
    QAction* readme
        = help->addAction(tr("Open the &README"), this, [] { QDesktopServices::openUrl(readmeUrl()); });
    readme->setObjectName(QStringLiteral("openReadme"));
    readme->setEnabled(!readmeUrl().isEmpty());
    help->addAction(tr("&About Pictor"), this, [this] { showAbout(this, libraryDir_); })
        ->setObjectName(QStringLiteral("about"));
}

void MainWindow::applySettings()
{
    applyColorScheme(settings_.colorScheme());
    const auto previous = libraryDir_;
    libraryDir_ = libraryOverride_         ? *libraryOverride_
        : settings_.libraryDir().isEmpty() ? Library::defaultDir()
                                           : std::filesystem::path(settings_.libraryDir().toStdString());
    if (libraryDir_ != previous)
        checkedAtStart_ = false; // another library: checked for changes when first listed
    engine_->setLibraryDir(libraryDir_);
    EmbedderOptions options;
    options.device = settings_.device().toStdString();
    options.dtype = settings_.numberFormat().toStdString();
    options.cpuThreads = settings_.cpuThreads();
    engine_->setModel(settings_.modelDir().toStdString(), options);
    const auto gigabytes = [](int gb, std::uint64_t automatic) {
        return gb > 0 ? static_cast<std::uint64_t>(gb) * 1'000'000'000 : automatic;
    };
    host_->setBudget(gigabytes(settings_.modelMemoryGB(), ModelHost::defaultBudget()));
    host_->setBudget(gigabytes(settings_.gpuMemoryGB(), ModelHost::defaultGpuBudget()), MemoryPlace::Gpu);
    host_->setIdleTime(std::chrono::minutes(settings_.modelIdleMinutes()));
    showModelMemory();
    captions_->setModel(
        settings_.captionModelDir(), settings_.device(), settings_.cpuThreads(), settings_.numberFormat());
    create_->setModel(
        settings_.generationModelDir(), settings_.device(), settings_.cpuThreads(), settings_.numberFormat());
    create_->setOutputFolder(settings_.generatedDir());
    jobs_->setLibraryDir(libraryDir_);
    jobs_->setScanOptions(settings_.excludedPatterns());
    viewer_->setLibraryDir(libraryDir_);
    const int size = settings_.thumbnailSize();
    gallery_->setThumbnailSize(size);
    thumbnails_->setDisplaySize(size, devicePixelRatioF());
    gallery_->viewport()->update();
    if (painted_) // at start-up this waits for the first paint
        reindexIfModelChanged();
}

void MainWindow::reindexIfModelChanged()
{
    const QString chosen = settings_.modelDir();
    if (SearchEngine::libraryNeedsReindex(libraryDir_, chosen.toStdString()))
        jobs_->reindexForModel(chosen.toStdString());
}

void MainWindow::paintEvent(QPaintEvent* event)
{
    QMainWindow::paintEvent(event);
    if (painted_)
        return;
    painted_ = true;
    const qint64 ms = msSinceProcessStart();
    if (qEnvironmentVariableIsSet("PICTOR_REPORT_STARTUP"))
        std::fprintf(
            stderr, "pictor: first paint %lld ms after the process started\n", static_cast<long long>(ms));
    emit firstPainted(ms);
    // Everything slow starts after the first paint: the listing now, the model a moment later.
    QTimer::singleShot(0, this, &MainWindow::reloadLibrary);
    QTimer::singleShot(300, this, [this] {
        if (CatalogReader::hasCatalog(libraryDir_) || !settings_.modelDir().isEmpty())
            engine_->preload();
        reindexIfModelChanged(); // a model change whose re-index did not complete last time
    });
}

void MainWindow::reloadLibrary()
{
    const quint64 generation = ++listingGeneration_;
    const auto order = static_cast<GalleryModel::BrowseOrder>(browseOrder_->currentData().toInt());
    QStringList excluded = settings_.excludedPatterns();
    QtConcurrent::run([dir = libraryDir_, order, excluded] {
        ScanOptions scan;
        for (const QString& pattern : excluded)
            scan.excludePatterns.push_back(pattern.toStdString());
        LibraryListing listing;
        // A catalog being created or migrated right now fails a read once; a damaged one fails again.
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                listing = CatalogReader::list(dir, scan, true);
                listing.problem.clear();
                break;
            } catch (const std::exception& e) {
                listing.problem = e.what();
                std::this_thread::sleep_for(std::chrono::milliseconds(300));
            }
        }
        auto sorted = std::make_shared<const std::vector<GalleryEntry>>(
            GalleryModel::sorted(std::move(listing.entries), order));
        listing.entries.clear();
        return std::make_pair(std::move(listing), sorted);
    })
        .then(this,
            [this, generation](
                const std::pair<LibraryListing, std::shared_ptr<const std::vector<GalleryEntry>>>& result) {
                // Queued: a read that finished before this continuation was attached would otherwise
                // show the listing (and emit listingReloaded) inside reloadLibrary(), before its caller
                // could connect to the signal.
                QMetaObject::invokeMethod(
                    this,
                    [this, generation, result] {
                        if (generation == listingGeneration_)
                            showListing(result.first, result.second);
                    },
                    Qt::QueuedConnection);
            });
}

void MainWindow::showListing(
    const LibraryListing& listing, std::shared_ptr<const std::vector<GalleryEntry>> sorted)
{
    listing_ = listing;
    // Nothing is written to a library that cannot be read: writers refuse it too.
    welcome_->setLibraryProblem(listing.problem.empty()
            ? QString()
            : tr("The library at %1 cannot be read, and nothing was changed in it:\n%2\n\nRestore its "
                 "catalog from a backup, run 'pictor library recover' to start a new one from what is left, "
                 "or choose another library location in Settings.")
                  .arg(toQString(libraryDir_), QString::fromStdString(listing.problem)));
    const auto order = static_cast<GalleryModel::BrowseOrder>(browseOrder_->currentData().toInt());
    const std::size_t count = sorted->size();
    const QString viewed = viewedPath();
    model_->setListing(std::move(sorted), order);
    if (!viewed.isEmpty())
        keepViewing(viewed); // a reload under the open viewer (a job finished): the same photo stays
    listingLoaded_ = true;
    QStringList folders;
    for (const RootState& root : listing_.roots)
        folders.append(toQString(root.path));
    filterBar_->setFolders(folders);
    QStringList tagNames;
    QList<QPair<QString, qint64>> tagCounts;
    for (const auto& [tag, photos] : listing_.tags) {
        tagNames << QString::fromStdString(tag);
        tagCounts.append({QString::fromStdString(tag), photos});
    }
    filterBar_->setTags(tagNames);
    sidebar_->setTags(tagCounts);
    sizeLabel_->setText(tr("%1 photos").arg(QLocale().toString(static_cast<qlonglong>(count))));
    updateFolderStates();
    followFolders();
    if (listing_.roots.empty() && !jobs_->busy()) {
        if (pages_->currentWidget() == galleryPage_)
            pages_->setCurrentWidget(welcome_);
    } else if (pages_->currentWidget() == welcome_) {
        pages_->setCurrentWidget(galleryPage_);
    }
    emit listingReloaded();
}

void MainWindow::followFolders()
{
    const bool opening = !checkedAtStart_; // the window's first listing of this library
    checkedAtStart_ = true;
    if (!listing_.problem.empty() || listing_.roots.empty()) {
        watcher_->stop();
        return;
    }
    std::vector<std::filesystem::path> roots;
    for (const RootState& root : listing_.roots)
        roots.push_back(root.path);
    watcher_->watch(roots);
    // Changes made while the window was closed: an incremental re-scan (cheap when nothing changed), once
    // the library is indexed with the chosen model (otherwise the re-index does it).
    const QString model = settings_.modelDir();
    if (opening && !model.isEmpty() && !SearchEngine::libraryNeedsReindex(libraryDir_, model.toStdString()))
        watchJob_ = jobs_->rescan();
}

void MainWindow::rescanChangedFolders(const std::vector<std::filesystem::path>& roots)
{
    if (settings_.modelDir().isEmpty() || !listing_.problem.empty())
        return; // nothing to index with, or a library that is not written to
    // A re-scan that has not started yet will see these changes too.
    if (const JobInfo* pending = jobs_->job(watchJob_); pending && pending->state == JobInfo::State::Queued)
        return;
    watchJob_ = jobs_->rescan(roots);
}

void MainWindow::updateFolderStates()
{
    QList<FolderState> folders;
    auto jobFor = [this](const std::filesystem::path& root) -> const JobInfo* {
        for (const JobInfo& job : jobs_->jobs())
            if (!job.finished() && job.indexesFolders)
                for (const auto& path : job.roots)
                    if (path.empty() || isUnder(root, path) || path == root)
                        return &job;
        return nullptr;
    };
    const JobInfo* rescanAll = nullptr; // an index run over every folder (captions and tags are not)
    for (const JobInfo& job : jobs_->jobs())
        if (!job.finished() && job.roots.empty() && job.indexesFolders)
            rescanAll = rescanAll ? rescanAll : &job;
    for (const RootState& root : listing_.roots) {
        FolderState state;
        state.path = toQString(root.path);
        const JobInfo* job = jobFor(root.path);
        if (!job && rescanAll && rescanAll->state == JobInfo::State::Running)
            job = rescanAll;
        if (root.missing)
            state.state = tr("cannot be read");
        else if (job && job->state == JobInfo::State::Running && job->progress.total > 0)
            state.state = tr("indexing %1 %").arg(100 * job->progress.done / job->progress.total);
        else if (job && job->state == JobInfo::State::Running)
            state.state = tr("scanning…");
        else if (job)
            state.state = tr("queued");
        else if (root.waiting > 0)
            state.state = tr("%1 photos, %2 not indexed").arg(root.cataloged).arg(root.waiting);
        else
            state.state = tr("%1 photos").arg(root.cataloged);
        folders.append(state);
    }
    // Folders being added are not in the catalog yet.
    for (const JobInfo& job : jobs_->jobs()) {
        if (job.finished())
            continue;
        for (const auto& path : job.roots) {
            // Resolved once per folder: this runs on every progress report, and resolving touches the disk.
            auto found = canonicalRoots_.find(path);
            if (found == canonicalRoots_.end()) {
                std::error_code error;
                found = canonicalRoots_.emplace(path, std::filesystem::weakly_canonical(path, error)).first;
            }
            const std::filesystem::path& canonical = found->second;
            bool known = false;
            for (const RootState& root : listing_.roots)
                known = known || root.path == canonical;
            if (!known)
                folders.append({toQString(canonical),
                    job.state == JobInfo::State::Running ? tr("adding…") : tr("queued")});
        }
    }
    sidebar_->setFolders(folders);
}

void MainWindow::addFolders(const QStringList& folders)
{
    if (folders.isEmpty())
        return;
    jobs_->addFolders(folders);
    showGalleryPage();
    updateFolderStates();
}

QString MainWindow::viewedPath() const
{
    return pages_->currentWidget() == viewer_ && viewer_->row() >= 0 ? model_->pathAt(viewer_->row())
                                                                     : QString();
}

void MainWindow::keepViewing(const QString& path)
{
    for (int row = 0; row < model_->rowCount(); ++row)
        if (model_->pathAt(row) == path) {
            viewer_->show(model_, row);
            return;
        }
    closeViewer(); // the photo is gone from what is shown
}

void MainWindow::showGalleryPage()
{
    if (pages_->currentWidget() != galleryPage_)
        pages_->setCurrentWidget(galleryPage_);
}

void MainWindow::setMessage(const QString& message)
{
    message_ = message;
    searchBar_->setMessage(message);
}

void MainWindow::runSearch()
{
    engine_->cancelSearch(); // superseded: dropped before it starts or before its vector search
    const quint64 generation = ++searchGeneration_;
    if (searchBar_->empty() && filterBar_->tag().isEmpty()) { // a tag alone shows its photos
        searchRunning_ = false;
        model_->clearResults();
        resultLabel_->clear();
        setMessage({});
        emit searchFinished();
        return;
    }
    SearchRequest request;
    request.text = searchBar_->text().toStdString();
    request.photos = searchBar_->photos();
    request.textWeight = searchBar_->textWeight();
    filterBar_->apply(request);
    searchRunning_ = true;
    if (!sinceEdit_.isValid())
        sinceEdit_.start();
    search_ = engine_->search(request);
    const bool refreshing = std::exchange(refreshing_, false);
    search_
        .then(this,
            [this, generation, refreshing](const SearchResults& results) {
                if (generation != searchGeneration_)
                    return;
                searchRunning_ = false;
                const QString viewed = viewedPath();
                model_->setResults(results.hits);
                if (refreshing && !viewed.isEmpty()) { // a finished job's refresh: the photo stays open
                    keepViewing(viewed);
                } else {
                    showGalleryPage();
                    gallery_->scrollToTop();
                }
                gallery_->viewport()->repaint(); // painted now: the latency below includes it
                lastLatencyMs_ = static_cast<double>(sinceEdit_.nsecsElapsed()) / 1e6;
                sinceEdit_.invalidate();
                resultLabel_->setText(
                    tr("%n photo(s) in %1 ms", nullptr, static_cast<int>(results.hits.size()))
                        .arg(qRound(results.seconds * 1000)));
                resultLabel_->setToolTip(
                    tr("From the last key to results painted: %1 ms").arg(lastLatencyMs_, 0, 'f', 1));
                setMessage(results.hits.empty()
                        ? tr("No photos matched. Lower the cutoff or loosen the filters.")
                        : QString());
                emit searchFinished();
            })
        .onFailed(this, [this, generation](const std::exception& e) {
            if (generation != searchGeneration_)
                return;
            searchRunning_ = false;
            sinceEdit_.invalidate();
            model_->setResults({});
            setMessage(QString::fromUtf8(e.what()));
            emit searchFailed(message_);
            emit searchFinished();
        });
}

PhotoTerm MainWindow::termFor(int row) const
{
    PhotoTerm term;
    term.file = model_->pathAt(row).toStdString();
    if (const qint64 id = model_->idAt(row); id > 0)
        term.photoId = id;
    return term;
}

void MainWindow::findSimilar(int row)
{
    const PhotoTerm term = termFor(row);
    showGalleryPage();
    searchBar_->clear();
    sinceEdit_.start();
    searchBar_->addPhoto(term);
}

void MainWindow::searchWithPhoto(int row)
{
    const PhotoTerm term = termFor(row);
    showGalleryPage();
    searchBar_->addPhoto(term);
    searchBar_->focusSearch();
}

QMenu* MainWindow::contextMenuFor(int row)
{
    auto* menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const QString path = model_->pathAt(row);
    QAction* similar = menu->addAction(tr("Find similar"), this, [this, row] { findSimilar(row); });
    similar->setObjectName(QStringLiteral("findSimilar"));
    QAction* withText
        = menu->addAction(tr("Search with this photo + text"), this, [this, row] { searchWithPhoto(row); });
    withText->setObjectName(QStringLiteral("searchWithPhoto"));
    menu->addSeparator();
    QAction* folder = menu->addAction(tr("Open containing folder"), this,
        [path] { QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(path).absolutePath())); });
    folder->setObjectName(QStringLiteral("openFolder"));
    QAction* copy
        = menu->addAction(tr("Copy path"), this, [path] { QApplication::clipboard()->setText(path); });
    copy->setObjectName(QStringLiteral("copyPath"));
    QAction* reveal = menu->addAction(tr("Reveal in viewer"), this, [this, row] { openViewer(row); });
    reveal->setObjectName(QStringLiteral("revealInViewer"));
    for (const auto& addActions : photoMenuActions_)
        addActions(menu, row);
    return menu;
}

void MainWindow::openViewer(int row)
{
    if (row < 0 || row >= model_->rowCount())
        return;
    pages_->setCurrentWidget(viewer_);
    viewer_->show(model_, row);
    viewer_->setFocus();
}

void MainWindow::closeViewer()
{
    showGalleryPage();
    gallery_->setFocus();
    if (viewer_->row() >= 0)
        gallery_->scrollTo(model_->index(viewer_->row(), 0));
}

void MainWindow::removeSelectedFromLibrary()
{
    const QList<int> rows = gallery_->selectedRows();
    if (rows.isEmpty())
        return;
    QMessageBox confirm(QMessageBox::Question, tr("Remove from library"),
        tr("Remove %n photo(s) from the library?\nThe files are not deleted; later scans skip them.", nullptr,
            static_cast<int>(rows.size())),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    confirm.setObjectName(QStringLiteral("confirmRemove"));
    confirm.setDefaultButton(QMessageBox::Cancel);
    if (confirm.exec() != QMessageBox::Yes)
        return;
    std::vector<std::int64_t> ids;
    QStringList patterns = settings_.excludedPatterns();
    for (int row : rows) {
        if (const qint64 id = model_->idAt(row); id > 0)
            ids.push_back(id);
        const std::filesystem::path file = model_->pathAt(row).toStdString();
        for (const RootState& root : listing_.roots)
            if (isUnder(file, root.path)) {
                const QString pattern = fnmatchEscaped(toQString(file.lexically_relative(root.path)));
                if (!patterns.contains(pattern))
                    patterns.append(pattern);
            }
    }
    settings_.setExcludedPatterns(patterns);
    jobs_->setScanOptions(patterns);
    jobs_->removePhotos(
        ids, tr("Remove %n photo(s) from the library", nullptr, static_cast<int>(rows.size())));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!LibrarySidebar::droppedFolders(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QStringList folders = LibrarySidebar::droppedFolders(event->mimeData());
    if (folders.isEmpty())
        return;
    event->acceptProposedAction();
    addFolders(folders);
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(this);
    dialog.load(settings_);
    if (dialog.exec() != QDialog::Accepted)
        return;
    dialog.save(settings_);
    applySettings();
    reloadLibrary();
}

void MainWindow::openModelManager()
{
    if (auto* open = findChild<ModelManagerDialog*>()) {
        if (!open->isVisible())
            open->refresh();
        open->show();
        open->raise();
        open->activateWindow();
        return;
    }
    // Closing only hides it: a download it runs goes on, and reopening shows its progress.
    auto* dialog = new ModelManagerDialog(*host_, this);
    connect(dialog, &ModelManagerDialog::settingsChanged, this, [this] {
        applySettings();
        engine_->preload();
    });
    dialog->show();
}

// Step two of the welcome page for a user who added a folder first: the photos are listed, and search
// says what it needs right above them, with the same one-click download.
void MainWindow::buildModelNeededBar(QVBoxLayout* column)
{
    auto* bar = new QFrame(galleryPage_);
    bar->setObjectName(QStringLiteral("modelNeededBar"));
    bar->setFrameShape(QFrame::StyledPanel);
    auto* row = new QHBoxLayout(bar);
    row->addWidget(new QLabel(tr("Search needs a model:"), bar));
    auto* download = new RecommendedModelDownload(QStringLiteral("gallery"), bar);
    row->addWidget(download, 1);
    auto* choose = new QPushButton(tr("Choose model folder…"), bar);
    row->addWidget(choose);
    connect(download, &RecommendedModelDownload::downloaded, this, &MainWindow::useEmbeddingModel);
    connect(choose, &QPushButton::clicked, this, &MainWindow::chooseModelFolder);
    bar->hide();
    column->addWidget(bar);
    modelNeededBar_ = bar;
}

void MainWindow::chooseModelFolder()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a CLIP model folder"),
        settings_.modelsDir().isEmpty() ? QDir::homePath() : settings_.modelsDir());
    if (!dir.isEmpty())
        useEmbeddingModel(dir);
}

void MainWindow::useEmbeddingModel(const QString& dir)
{
    settings_.setModelDir(dir);
    applySettings();
    engine_->preload();
}

void MainWindow::saveCurrentSearch()
{
    const QString text = searchBar_->text().trimmed();
    if (text.isEmpty())
        return;
    bool ok = false;
    const QString name
        = QInputDialog::getText(this, tr("Save search"), tr("Name"), QLineEdit::Normal, text, &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    auto searches = settings_.savedSearches();
    searches.removeIf([&](const SavedSearch& s) { return s.name == name.trimmed(); });
    searches.append({name.trimmed(), text});
    settings_.setSavedSearches(searches);
    sidebar_->setSavedSearches(searches);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    settings_.setWindowGeometry(saveGeometry());
    settings_.setWindowState(saveState());
    settings_.setSplitterState(splitter_->saveState());
    settings_.sync();
    jobs_->cancelAll();
    QMainWindow::closeEvent(event);
}

} // namespace pictor::ui
