#include "ui/tag_actions.h"

#include <QCompleter>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QShortcut>
#include <set>

#include "indexer/catalog.h"
#include "indexer/library.h"
#include "ui/catalog_reader.h"
#include "ui/feature_host.h"
#include "ui/indexing_jobs.h"

namespace pictor::ui {
namespace {

} // namespace

TagActions::TagActions(FeatureHost& window) : QObject(window.windowWidget()), window_(window)
{
    window.addPhotoMenuActions([this](QMenu* menu, int row) { addPhotoActions(menu, row); });
    // T tags the photo in the viewer, else the selection (a text field keeps its letters: Qt gives
    // typing precedence over one-key shortcuts).
    auto* shortcut = new QShortcut(QKeySequence(Qt::Key_T), window.windowWidget());
    shortcut->setObjectName(QStringLiteral("tagShortcut"));
    connect(shortcut, &QShortcut::activated, this, [this] {
        const int viewed = window_.viewerRow();
        std::vector<std::int64_t> ids;
        if (viewed >= 0) {
            ids = {window_.photoAt(viewed).id}; // the photo shown, not a selection behind the viewer
        } else {
            for (const int row : window_.selectedRows())
                if (const qint64 id = window_.photoAt(row).id; id > 0)
                    ids.push_back(id);
        }
        std::erase_if(ids, [](std::int64_t id) { return id <= 0; });
        if (!ids.empty())
            askAndAdd(ids);
    });
}

std::vector<std::int64_t> TagActions::photosFor(int row) const
{
    QList<int> rows = window_.selectedRows();
    if (!rows.contains(row))
        rows = {row};
    std::vector<std::int64_t> ids;
    for (const int r : rows)
        if (const qint64 id = window_.photoAt(r).id; id > 0)
            ids.push_back(id);
    return ids;
}

QStringList TagActions::libraryTags() const
{
    QStringList tags;
    try {
        if (CatalogReader::hasCatalog(window_.libraryDir()))
            for (const auto& [tag, count] :
                Catalog::open(window_.libraryDir(), Catalog::OpenMode::ReadOnly).tagCounts())
                tags << QString::fromStdString(tag);
    } catch (const std::exception&) {
        // an unreadable library offers no completions; the job says what is wrong
    }
    return tags;
}

void TagActions::addPhotoActions(QMenu* menu, int row)
{
    const std::vector<std::int64_t> ids = photosFor(row);
    menu->addSeparator();
    QAction* addAction
        = menu->addAction(ids.size() > 1 ? tr("Add tag to %1 photos…").arg(ids.size()) : tr("Add tag…"), this,
            [this, ids] { askAndAdd(ids); });
    addAction->setObjectName(QStringLiteral("addTag"));
    addAction->setShortcut(QKeySequence(Qt::Key_T));
    if (ids.empty()) {
        addAction->setText(tr("Add tag (index the photo first)"));
        addAction->setEnabled(false);
        return;
    }
    std::set<std::string> present; // the tags of these photos, for Remove
    try {
        const Catalog catalog = Catalog::open(window_.libraryDir(), Catalog::OpenMode::ReadOnly);
        for (const auto id : ids)
            for (const auto& tag : catalog.tags(id))
                present.insert(tag.tag);
    } catch (const std::exception&) {
    }
    if (present.empty())
        return;
    QMenu* removeMenu = menu->addMenu(tr("Remove tag"));
    removeMenu->menuAction()->setObjectName(QStringLiteral("removeTag"));
    for (const auto& tag : present) {
        const QString name = QString::fromStdString(tag);
        removeMenu->addAction(name, this, [this, ids, name] { remove(ids, name); })
            ->setObjectName(QStringLiteral("removeTag:") + name);
    }
}

void TagActions::askAndAdd(const std::vector<std::int64_t>& ids)
{
    if (ids.empty())
        return;
    auto* dialog = new QInputDialog(window_.windowWidget());
    dialog->setObjectName(QStringLiteral("addTagDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Add tag"));
    dialog->setLabelText(ids.size() > 1 ? tr("Tag for the %1 selected photos:").arg(ids.size()) : tr("Tag:"));
    dialog->setInputMode(QInputDialog::TextInput);
    if (auto* edit = dialog->findChild<QLineEdit*>()) {
        auto* completer = new QCompleter(libraryTags(), dialog);
        completer->setCaseSensitivity(Qt::CaseInsensitive);
        edit->setCompleter(completer);
    }
    connect(dialog, &QInputDialog::textValueSelected, this, [this, ids](const QString& tag) {
        if (!QString::fromStdString(normalizeTag(tag.toStdString())).isEmpty())
            add(ids, tag);
    });
    dialog->open();
}

int TagActions::add(const std::vector<std::int64_t>& ids, const QString& tag)
{
    const std::string name = normalizeTag(tag.toStdString());
    return window_.jobQueue().enqueueWork(
        tr("Tag %n photo(s) '%1'", nullptr, static_cast<int>(ids.size())).arg(QString::fromStdString(name)),
        [ids, name](
            Library& library, const std::atomic<bool>&, const std::function<void(const IndexProgress&)>&) {
            Catalog& catalog = library.catalog();
            Catalog::Transaction transaction(catalog);
            for (const auto id : ids)
                catalog.addTag(id, name, kUserTagSource);
            transaction.commit();
            return JobOutcome {false,
                tr("tagged %n photo(s) '%1'", nullptr, static_cast<int>(ids.size()))
                    .arg(QString::fromStdString(name))};
        });
}

int TagActions::remove(const std::vector<std::int64_t>& ids, const QString& tag)
{
    const std::string name = normalizeTag(tag.toStdString());
    return window_.jobQueue().enqueueWork(tr("Remove the tag '%1'").arg(QString::fromStdString(name)),
        [ids, name](
            Library& library, const std::atomic<bool>&, const std::function<void(const IndexProgress&)>&) {
            Catalog& catalog = library.catalog();
            Catalog::Transaction transaction(catalog);
            std::int64_t removed = 0;
            for (const auto id : ids)
                removed += catalog.removeTag(id, name) ? 1 : 0;
            transaction.commit();
            return JobOutcome {false,
                tr("removed the tag '%1' from %n photo(s)", nullptr, static_cast<int>(removed))
                    .arg(QString::fromStdString(name))};
        });
}

} // namespace pictor::ui
