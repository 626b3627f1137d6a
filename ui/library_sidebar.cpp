#include "ui/library_sidebar.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QGridLayout>
#include <QHeaderView>
#include <QLocale>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace pictor::ui {
namespace {

enum ItemKind { FolderItem = 1, SearchItem = 2, TagItem = 3 };
constexpr int kKindRole = Qt::UserRole;
constexpr int kValueRole = Qt::UserRole + 1;

} // namespace

QStringList LibrarySidebar::droppedFolders(const QMimeData* mime)
{
    QStringList folders;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir())
            folders.append(url.toLocalFile());
    return folders;
}

LibrarySidebar::LibrarySidebar(QWidget* parent)
    : QWidget(parent),
      tree_(new QTreeWidget(this)),
      folders_(new QTreeWidgetItem(tree_, {tr("Folders")})),
      searches_(new QTreeWidgetItem(tree_, {tr("Saved searches")})),
      tags_(new QTreeWidgetItem(tree_, {tr("Tags")})),
      remove_(new QPushButton(tr("Remove"), this)),
      rescan_(new QPushButton(tr("Re-scan"), this)),
      forget_(new QPushButton(tr("Forget search"), this))
{
    setObjectName(QStringLiteral("sidebar"));
    setAcceptDrops(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    tree_->setObjectName(QStringLiteral("libraryTree"));
    tree_->setColumnCount(2);
    tree_->setHeaderHidden(true);
    tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    tree_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    tree_->header()->setStretchLastSection(false);
    tree_->setRootIsDecorated(false);
    tree_->setAcceptDrops(false);
    for (QTreeWidgetItem* section : {folders_, searches_, tags_}) {
        section->setFlags(Qt::ItemIsEnabled);
        QFont bold = section->font(0);
        bold.setBold(true);
        section->setFont(0, bold);
        section->setExpanded(true);
    }
    layout->addWidget(tree_, 1);

    auto* buttons = new QGridLayout;
    auto* add = new QPushButton(tr("Add folder…"), this);
    add->setObjectName(QStringLiteral("addFolder"));
    add->setToolTip(tr("Add a folder of photos to the library (or drop a folder here)"));
    remove_->setObjectName(QStringLiteral("removeFolder"));
    remove_->setToolTip(tr("Remove the folder from the library (the files stay where they are)"));
    rescan_->setObjectName(QStringLiteral("rescan"));
    rescan_->setToolTip(tr("Look for new, changed, moved and deleted photos"));
    auto* save = new QPushButton(tr("Save search"), this);
    save->setObjectName(QStringLiteral("saveSearch"));
    forget_->setObjectName(QStringLiteral("forgetSearch"));
    buttons->addWidget(add, 0, 0);
    buttons->addWidget(remove_, 0, 1);
    buttons->addWidget(rescan_, 1, 0);
    buttons->addWidget(save, 1, 1);
    buttons->addWidget(forget_, 2, 1);
    layout->addLayout(buttons);

    connect(add, &QPushButton::clicked, this, &LibrarySidebar::addFolderRequested);
    connect(remove_, &QPushButton::clicked, this, [this] {
        if (const QString folder = selectedFolder(); !folder.isEmpty())
            emit removeFolderRequested(folder);
    });
    connect(rescan_, &QPushButton::clicked, this, [this] { emit rescanRequested(selectedFolder()); });
    connect(save, &QPushButton::clicked, this, &LibrarySidebar::saveSearchRequested);
    connect(forget_, &QPushButton::clicked, this, [this] {
        const QTreeWidgetItem* item = tree_->currentItem();
        if (item && item->data(0, kKindRole).toInt() == SearchItem)
            emit savedSearchRemoved(item->text(0));
    });
    connect(tree_, &QTreeWidget::currentItemChanged, this, &LibrarySidebar::updateButtons);
    tree_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(tree_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QTreeWidgetItem* item = tree_->itemAt(at);
        if (item && item->data(0, kKindRole).toInt() == FolderItem)
            folderMenu(item->data(0, kValueRole).toString())->popup(tree_->viewport()->mapToGlobal(at));
    });
    connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        const int kind = item->data(0, kKindRole).toInt();
        if (kind == FolderItem)
            emit folderActivated(item->data(0, kValueRole).toString());
        else if (kind == SearchItem)
            emit savedSearchActivated({item->text(0), item->data(0, kValueRole).toString()});
        else if (kind == TagItem)
            emit tagActivated(item->data(0, kValueRole).toString());
    });
    updateButtons();
}

QMenu* LibrarySidebar::folderMenu(const QString& folder)
{
    auto* menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->addAction(tr("Re-scan"), this, [this, folder] { emit rescanRequested(folder); })
        ->setObjectName(QStringLiteral("rescanFolder"));
    menu->addAction(tr("Show files not indexed…"), this, [this, folder] { emit failuresRequested(folder); })
        ->setObjectName(QStringLiteral("showFailures"));
    menu->addSeparator();
    menu->addAction(tr("Remove from library…"), this, [this, folder] { emit removeFolderRequested(folder); })
        ->setObjectName(QStringLiteral("removeFolder"));
    return menu;
}

void LibrarySidebar::setFolders(const QList<FolderState>& folders)
{
    const QString selected = selectedFolder();
    qDeleteAll(folders_->takeChildren());
    for (const FolderState& folder : folders) {
        auto* item = new QTreeWidgetItem(folders_, {QFileInfo(folder.path).fileName(), folder.state});
        item->setToolTip(0, folder.path);
        item->setToolTip(1, folder.state);
        item->setData(0, kKindRole, FolderItem);
        item->setData(0, kValueRole, folder.path);
        if (folder.path == selected)
            tree_->setCurrentItem(item);
    }
    if (folders.isEmpty()) {
        auto* hint = new QTreeWidgetItem(folders_, {tr("No folders yet")});
        hint->setFlags(Qt::ItemIsEnabled);
        hint->setForeground(0, palette().brush(QPalette::PlaceholderText));
    }
    updateButtons();
}

void LibrarySidebar::setSavedSearches(const QList<SavedSearch>& searches)
{
    qDeleteAll(searches_->takeChildren());
    for (const SavedSearch& search : searches) {
        auto* item = new QTreeWidgetItem(searches_, {search.name});
        item->setToolTip(0, search.text);
        item->setData(0, kKindRole, SearchItem);
        item->setData(0, kValueRole, search.text);
    }
    updateButtons();
}

void LibrarySidebar::setTags(const QList<QPair<QString, qint64>>& tags)
{
    qDeleteAll(tags_->takeChildren());
    for (const auto& [tag, count] : tags) {
        auto* item = new QTreeWidgetItem(tags_, {tag, QLocale().toString(count)});
        item->setToolTip(0, tr("Show the photos tagged %1").arg(tag));
        item->setData(0, kKindRole, TagItem);
        item->setData(0, kValueRole, tag);
    }
    if (tags.isEmpty()) {
        auto* hint = new QTreeWidgetItem(tags_, {tr("No tags yet (right-click a photo)")});
        hint->setFlags(Qt::ItemIsEnabled);
        hint->setForeground(0, palette().brush(QPalette::PlaceholderText));
    }
}

QString LibrarySidebar::selectedFolder() const
{
    const QTreeWidgetItem* item = tree_->currentItem();
    return item && item->data(0, kKindRole).toInt() == FolderItem ? item->data(0, kValueRole).toString()
                                                                  : QString();
}

void LibrarySidebar::updateButtons()
{
    const QTreeWidgetItem* item = tree_->currentItem();
    remove_->setEnabled(!selectedFolder().isEmpty());
    forget_->setEnabled(item && item->data(0, kKindRole).toInt() == SearchItem);
    rescan_->setText(selectedFolder().isEmpty() ? tr("Re-scan all") : tr("Re-scan"));
    rescan_->setEnabled(
        folders_->childCount() > 0 && folders_->child(0)->data(0, kKindRole).toInt() == FolderItem);
}

void LibrarySidebar::dragEnterEvent(QDragEnterEvent* event)
{
    if (!droppedFolders(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void LibrarySidebar::dropEvent(QDropEvent* event)
{
    const QStringList folders = droppedFolders(event->mimeData());
    if (folders.isEmpty())
        return;
    event->acceptProposedAction();
    emit foldersDropped(folders);
}

} // namespace pictor::ui
