// The desktop conventions of the window under Qt Test (offscreen): photos dragged out of the gallery carry
// their file URLs, a folder dropped on the sidebar joins the library, a photo file dropped on the search
// bar becomes a chip; Ctrl+F focuses the search field and Esc clears it, arrows move through the grid,
// Enter and Space open the viewer, Ctrl+C copies the selected paths, and Delete removes photos from the
// library only after confirmation, leaving the files on disk.
#include <QAbstractButton>
#include <QApplication>
#include <QClipboard>
#include <QDrag>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QMouseEvent>
#include <QStackedWidget>
#include <QTest>
#include <QTimer>
#include <QUrl>
#include <memory>

#include "tests/desktop/desktop_support.h"
#include "ui/app_settings.h"
#include "ui/gallery_model.h"
#include "ui/gallery_view.h"
#include "ui/indexing_jobs.h"
#include "ui/library_sidebar.h"
#include "ui/photo_viewer.h"
#include "ui/search_bar.h"

using namespace pictor;
using namespace pictor::ui;
namespace desktop = pictor::test::desktop;

namespace {

constexpr int kPhotos = 8;

QList<QUrl> fileUrls(const QStringList& paths)
{
    QList<QUrl> urls;
    for (const QString& path : paths)
        urls.append(QUrl::fromLocalFile(path));
    return urls;
}

// Drags `urls` from a file manager over `target` and drops them; returns whether the target accepted
// the drag (a drop is only sent when it did, as a platform does).
bool dragAndDrop(QWidget* target, const QList<QUrl>& urls)
{
    QMimeData mime;
    mime.setUrls(urls);
    const QPoint at = target->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    if (!enter.isAccepted())
        return false;
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    return drop.isAccepted();
}

QString currentPage(MainWindow& window)
{
    return window.findChild<QStackedWidget*>()->currentWidget()->objectName();
}

// Answers the next modal message box with `button` once it is open.
void answerNextMessageBox(QMessageBox::StandardButton button, bool* asked)
{
    auto* poll = new QTimer;
    QObject::connect(poll, &QTimer::timeout, poll, [poll, button, asked] {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box)
            return;
        *asked = true;
        box->button(button)->click();
        poll->deleteLater();
    });
    poll->start(20);
}

} // namespace

class DesktopConventionsTest : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void dragOutGivesFileUrlsOfTheSelection();
    void dropFolderOnSidebarAddsIt();
    void dropPhotoOnSearchBarMakesAChip();
    void findFocusesAndEscapeClears();
    void arrowsMoveAndEnterSpaceOpen();
    void copyPutsSelectedPathsOnClipboard();
    void deleteRemovesFromLibraryOnlyAfterConfirmation();

private:
    // The window with a folder of kPhotos photos in its library; indexed with clip-tiny-a when `withModel`,
    // else only listed (browsing needs no model).
    void openWithPhotos(bool withModel);

    std::unique_ptr<QTemporaryDir> scratch_;
    QString photos_;
    std::unique_ptr<MainWindow> window_;
};

void DesktopConventionsTest::init()
{
    scratch_ = std::make_unique<QTemporaryDir>();
    QVERIFY(scratch_->isValid());
    photos_ = scratch_->filePath("photos");
    const QString error = desktop::writeScenePhotos(photos_, kPhotos, {320, 240});
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void DesktopConventionsTest::cleanup()
{
    window_.reset();
}

void DesktopConventionsTest::openWithPhotos(bool withModel)
{
    AppSettings().setModelDir(withModel ? desktop::fixtureModelDir() : QString());
    window_ = std::make_unique<MainWindow>(desktop::windowOptions(scratch_->filePath("library")));
    window_->resize(1000, 700);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    window_->addFolders({photos_});
    const QString jobs = desktop::waitForJobs(*window_, withModel);
    QVERIFY2(jobs.isEmpty(), qPrintable(jobs));
    QCOMPARE(window_->galleryModel()->librarySize(), std::size_t(kPhotos));
    if (withModel)
        QVERIFY(window_->galleryModel()->idAt(0) > 0);
}

void DesktopConventionsTest::dragOutGivesFileUrlsOfTheSelection()
{
    openWithPhotos(false);
    GalleryView* view = window_->gallery();
    GalleryModel* model = window_->galleryModel();
    view->selectionModel()->select(model->index(1), QItemSelectionModel::Select);
    view->selectionModel()->select(model->index(3), QItemSelectionModel::Select);
    const QList<QUrl> expected = fileUrls({model->pathAt(1), model->pathAt(3)});

    // The view's own drag: press on a selected photo and move past the drag distance. The platform's drag
    // may return at once (offscreen) or run its loop; either way the QDrag, a child of the view until its
    // deferred deletion, holds what a file manager would receive. A running drag is cancelled once read.
    QList<QUrl> dragged;
    auto readDrag = [&] {
        if (auto* drag = view->findChild<QDrag*>(); drag && drag->mimeData() && dragged.isEmpty())
            dragged = drag->mimeData()->urls();
    };
    QTimer poll;
    connect(&poll, &QTimer::timeout, view, [&] {
        readDrag();
        if (!dragged.isEmpty())
            QDrag::cancel();
    });
    poll.start(20);
    const QPoint from = view->visualRect(model->index(3)).center();
    const QPoint to
        = from + QPoint(QApplication::startDragDistance() * 4, QApplication::startDragDistance() * 4);
    QMouseEvent press(QEvent::MouseButtonPress, from, view->viewport()->mapToGlobal(from), Qt::LeftButton,
        Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &press);
    // The first move enters the dragging state, the next one past the drag distance starts the drag.
    for (const QPoint at : {from + QPoint(1, 1), to}) {
        QMouseEvent move(QEvent::MouseMove, at, view->viewport()->mapToGlobal(at), Qt::NoButton,
            Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(view->viewport(), &move);
    }
    readDrag();
    poll.stop();
    QMouseEvent release(QEvent::MouseButtonRelease, to, view->viewport()->mapToGlobal(to), Qt::LeftButton,
        Qt::NoButton, Qt::NoModifier);
    QApplication::sendEvent(view->viewport(), &release);
    QCOMPARE(dragged, expected);
    for (const QUrl& url : dragged)
        QVERIFY(url.isLocalFile() && QFileInfo(url.toLocalFile()).isFile());

    // The model's data for the same rows: file URLs, and the catalog ids for drops inside the app.
    std::unique_ptr<QMimeData> mime(model->mimeData({model->index(1), model->index(3)}));
    QCOMPARE(mime->urls(), expected);
    QVERIFY(mime->hasFormat(QString::fromLatin1(GalleryModel::kIdsMimeType)));
    QVERIFY(model->mimeTypes().contains(QStringLiteral("text/uri-list")));
    QCOMPARE(model->supportedDragActions(), Qt::CopyAction); // never a move: the files stay
}

void DesktopConventionsTest::dropFolderOnSidebarAddsIt()
{
    openWithPhotos(false);
    const QString more = scratch_->filePath("more");
    const QString error = desktop::writeScenePhotos(more, 3, {320, 240}, 100);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    // A file is not a folder: refused.
    QVERIFY(!dragAndDrop(window_->sidebar(), fileUrls({more + QStringLiteral("/scene_0100.jpg")})));
    QVERIFY(!window_->jobs()->busy());

    QVERIFY(dragAndDrop(window_->sidebar(), fileUrls({more})));
    const QString jobs = desktop::waitForJobs(*window_, false);
    QVERIFY2(jobs.isEmpty(), qPrintable(jobs));
    QCOMPARE(window_->galleryModel()->librarySize(), std::size_t(kPhotos + 3));
    QStringList folders;
    for (const ui::JobInfo& job : window_->jobs()->jobs())
        for (const auto& root : job.roots)
            folders.append(QFileInfo(QString::fromStdString(root.string())).canonicalFilePath());
    QVERIFY2(folders.contains(QFileInfo(more).canonicalFilePath()), qPrintable(folders.join(", ")));
}

void DesktopConventionsTest::dropPhotoOnSearchBarMakesAChip()
{
    openWithPhotos(false);
    const QString photo = photos_ + QStringLiteral("/scene_0002.jpg");
    // A folder is no photo: no chip (the window takes it as a library folder, which it already is).
    dragAndDrop(window_->searchBar(), fileUrls({photos_}));
    QVERIFY(window_->searchBar()->photos().empty());
    QTRY_VERIFY_WITH_TIMEOUT(!window_->jobs()->busy(), 60'000);
    QVERIFY(dragAndDrop(window_->searchBar(), fileUrls({photo})));
    QCOMPARE(window_->searchBar()->photos().size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(window_->searchBar()->photos().front().file.string()), photo);
    QVERIFY(!window_->searchBar()->empty());
}

void DesktopConventionsTest::findFocusesAndEscapeClears()
{
    openWithPhotos(false);
    window_->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window_.get()));
    QLineEdit* field = window_->searchBar()->lineEdit();
    window_->gallery()->setFocus();
    QVERIFY(!field->hasFocus());

    // Ctrl+F from the grid, and from the viewer (back to the grid's page).
    QTest::keyClick(window_->gallery(), Qt::Key_F, Qt::ControlModifier);
    QVERIFY(field->hasFocus());
    window_->openViewer(0);
    QCOMPARE(currentPage(*window_), window_->viewer()->objectName());
    QTest::keyClick(window_->viewer(), Qt::Key_F, Qt::ControlModifier);
    QVERIFY(field->hasFocus());
    QVERIFY(currentPage(*window_) != window_->viewer()->objectName());

    // Esc in the field clears the words and the chips.
    QTest::keyClicks(field, QStringLiteral("mountains"));
    QCOMPARE(window_->searchBar()->text(), QStringLiteral("mountains"));
    PhotoTerm chip;
    chip.file = (photos_ + QStringLiteral("/scene_0001.jpg")).toStdString();
    window_->searchBar()->addPhoto(chip);
    QTest::keyClick(field, Qt::Key_Escape);
    QVERIFY(window_->searchBar()->empty());
    QVERIFY(window_->searchBar()->text().isEmpty());

    // Esc from the grid clears the search too.
    window_->searchBar()->setText(QStringLiteral("lake"));
    window_->gallery()->setFocus();
    QTest::keyClick(window_->gallery(), Qt::Key_Escape);
    QVERIFY(window_->searchBar()->empty());
}

void DesktopConventionsTest::arrowsMoveAndEnterSpaceOpen()
{
    openWithPhotos(false);
    GalleryView* view = window_->gallery();
    GalleryModel* model = window_->galleryModel();
    view->setFocus();
    view->setCurrentIndex(model->index(0));
    QTest::keyClick(view, Qt::Key_Right);
    QCOMPARE(view->currentIndex().row(), 1);
    QTest::keyClick(view, Qt::Key_Left);
    QCOMPARE(view->currentIndex().row(), 0);
    // Down moves one line of the grid: as many rows as fit across.
    const int perLine = view->viewport()->width() / view->gridSize().width();
    QVERIFY(perLine > 1 && perLine < kPhotos);
    QTest::keyClick(view, Qt::Key_Down);
    QCOMPARE(view->currentIndex().row(), perLine);
    QTest::keyClick(view, Qt::Key_End);
    QCOMPARE(view->currentIndex().row(), kPhotos - 1);
    QTest::keyClick(view, Qt::Key_Home);
    QCOMPARE(view->currentIndex().row(), 0);
    QTest::keyClick(view, Qt::Key_Right);

    // Enter opens the current photo; in the viewer the arrows go through the grid's rows; Esc goes back.
    QTest::keyClick(view, Qt::Key_Return);
    QCOMPARE(currentPage(*window_), window_->viewer()->objectName());
    QCOMPARE(window_->viewer()->row(), 1);
    QCOMPARE(window_->viewer()->path(), model->pathAt(1));
    QTest::keyClick(window_->viewer(), Qt::Key_Right);
    QCOMPARE(window_->viewer()->row(), 2);
    QTest::keyClick(window_->viewer(), Qt::Key_Left);
    QCOMPARE(window_->viewer()->row(), 1);
    QTest::keyClick(window_->viewer(), Qt::Key_Escape);
    QVERIFY(currentPage(*window_) != window_->viewer()->objectName());
    QCOMPARE(view->currentIndex().row(), 1);

    // Space opens it too.
    view->setFocus();
    view->setCurrentIndex(model->index(4));
    QTest::keyClick(view, Qt::Key_Space);
    QCOMPARE(currentPage(*window_), window_->viewer()->objectName());
    QCOMPARE(window_->viewer()->row(), 4);
}

void DesktopConventionsTest::copyPutsSelectedPathsOnClipboard()
{
    openWithPhotos(false);
    GalleryView* view = window_->gallery();
    GalleryModel* model = window_->galleryModel();
    view->setFocus();
    QApplication::clipboard()->clear();
    view->setCurrentIndex(model->index(2));
    view->selectionModel()->select(model->index(5), QItemSelectionModel::Select);
    QCOMPARE(view->selectedRows(), (QList<int> {2, 5}));
    QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
    const QStringList paths {model->pathAt(2), model->pathAt(5)};
    QCOMPARE(QApplication::clipboard()->text(), paths.join('\n'));
    QCOMPARE(QApplication::clipboard()->mimeData()->urls(), fileUrls(paths));

    // Shift+Right extends the selection; Ctrl+C copies all of it, in grid order.
    view->clearSelection();
    view->setCurrentIndex(model->index(0));
    QTest::keyClick(view, Qt::Key_Right, Qt::ShiftModifier);
    QCOMPARE(view->selectedRows(), (QList<int> {0, 1}));
    QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), model->pathAt(0) + '\n' + model->pathAt(1));
}

void DesktopConventionsTest::deleteRemovesFromLibraryOnlyAfterConfirmation()
{
    openWithPhotos(true);
    GalleryView* view = window_->gallery();
    GalleryModel* model = window_->galleryModel();
    view->setFocus();
    view->setCurrentIndex(model->index(2));
    const QString path = model->pathAt(2);
    const qint64 id = model->idAt(2);
    const int jobsBefore = static_cast<int>(window_->jobs()->jobs().size());

    // Declined: nothing is removed and no job starts.
    bool asked = false;
    answerNextMessageBox(QMessageBox::Cancel, &asked);
    QTest::keyClick(view, Qt::Key_Delete);
    QVERIFY(asked);
    QCOMPARE(static_cast<int>(window_->jobs()->jobs().size()), jobsBefore);
    // From the event loop, once the wait listens: the listing can come back within reloadLibrary() when
    // its read finishes before the continuation is attached.
    QTimer::singleShot(0, window_.get(), &MainWindow::reloadLibrary);
    QVERIFY(desktop::waitForSignal(*window_, &MainWindow::listingReloaded));
    QCOMPARE(window_->galleryModel()->librarySize(), std::size_t(kPhotos));

    // Confirmed: the photo leaves the library, the file stays where it is.
    view->setCurrentIndex(model->index(2));
    asked = false;
    answerNextMessageBox(QMessageBox::Yes, &asked);
    QTest::keyClick(view, Qt::Key_Delete);
    QVERIFY(asked);
    const QString jobs = desktop::waitForJobs(*window_);
    QVERIFY2(jobs.isEmpty(), qPrintable(jobs));
    QCOMPARE(window_->galleryModel()->librarySize(), std::size_t(kPhotos - 1));
    for (int row = 0; row < model->rowCount(); ++row)
        QVERIFY(model->idAt(row) != id && model->pathAt(row) != path);
    QVERIFY(QFileInfo(path).isFile());

    // A re-scan does not bring it back (removed photos are excluded from later scans).
    window_->jobs()->rescan();
    const QString rescan = desktop::waitForJobs(*window_);
    QVERIFY2(rescan.isEmpty(), qPrintable(rescan));
    QCOMPARE(window_->galleryModel()->librarySize(), std::size_t(kPhotos - 1));

    // Nothing selected: Delete asks nothing.
    view->clearSelection();
    asked = false;
    QTest::keyClick(view, Qt::Key_Delete);
    QTest::qWait(100);
    QVERIFY(!asked);
}

int main(int argc, char** argv)
{
    const auto home = desktop::isolateUserFolders();
    QApplication app(argc, argv);
    DesktopConventionsTest test;
    return QTest::qExec(&test, argc, argv);
}
#include "desktop_conventions_test.moc"
