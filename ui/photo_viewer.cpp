#include "ui/photo_viewer.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QSplitter>
#include <QTextBrowser>
#include <QTimeZone>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include <QtConcurrent/QtConcurrentRun>

#include "core/generation_record.h"
#include "core/imageio/decode.h"
#include "ui/catalog_reader.h"
#include "ui/gallery_model.h"
#include "ui/photo_image.h"

namespace pictor::ui {
namespace {

struct Loaded {
    QImage image;
    QString error;
    std::optional<PhotoDetails> details;
    std::optional<std::string> failure; // why a file shown but not indexed failed
    qint64 fileSize = 0;
    QStringList rawFiles; // the RAW file of the same shot beside it (IMG_0001.CR2 for IMG_0001.JPG)
};

// The scanner indexes a JPEG and the RAW of the same name beside it as one photo: name the RAW.
QStringList rawFilesBeside(const QString& path)
{
    const QFileInfo info(path);
    if (isRawFileName(path.toStdString()))
        return {};
    QStringList raws;
    for (const QString& name : info.dir().entryList(QDir::Files)) // names compared, not as wildcards
        if (isRawFileName(name.toStdString())
            && QFileInfo(name).completeBaseName().compare(info.completeBaseName(), Qt::CaseInsensitive) == 0)
            raws.append(name);
    return raws;
}

QString escaped(const std::string& text)
{
    return QString::fromStdString(text).toHtmlEscaped();
}

// A link the viewer follows to another library photo ("photo:<id>").
QString photoLink(const PhotoRecord& photo)
{
    return QStringLiteral("<a href='photo:%1'>%2</a>")
        .arg(photo.id)
        .arg(QString::fromStdString(photo.path.filename().string()).toHtmlEscaped());
}

// A generated picture's provenance: the prompt, seed, steps, guidance, model and date, and its source.
QString generationHtml(const GenerationRow& generation, const std::optional<PhotoRecord>& source)
{
    QStringList lines;
    lines << (generation.prompt.empty() ? QObject::tr("<i>a variation, no prompt</i>")
                                        : QStringLiteral("“%1”").arg(escaped(generation.prompt)));
    if (const auto record = readGenerationJson(generation.paramsJson)) {
        const GenerationRequest& s = record->settings;
        lines << QObject::tr("seed %1").arg(s.seed);
        lines << (record->sourceImage.empty() ? QObject::tr("steps %1 / %2 / %3, guidance %4 / %5")
                                                    .arg(s.priorSteps)
                                                    .arg(s.decoderSteps)
                                                    .arg(s.superResSteps)
                                                    .arg(s.priorGuidance)
                                                    .arg(s.decoderGuidance)
                                              : QObject::tr("steps %1 / %2, guidance %3")
                                                    .arg(s.decoderSteps)
                                                    .arg(s.superResSteps)
                                                    .arg(s.decoderGuidance));
    }
    if (!generation.query.empty())
        lines << QObject::tr("from the search “%1”").arg(escaped(generation.query));
    lines << QObject::tr("model %1, %2")
                 .arg(escaped(generation.modelId),
                     QDateTime::fromSecsSinceEpoch(generation.createdAt)
                         .toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    if (source)
        lines << QObject::tr("made from %1").arg(photoLink(*source));
    else if (!generation.sourcePath.empty())
        lines << QObject::tr("made from %1 (not in the library)")
                     .arg(QString::fromStdString(generation.sourcePath.filename().string()).toHtmlEscaped());
    return lines.join(QStringLiteral("<br>"));
}

QString detailsHtml(const QString& path, const Loaded& loaded)
{
    QString html = QStringLiteral("<table cellspacing='4'>");
    auto row = [&](const QString& name, const QString& value) {
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(name, value);
    };
    row(QObject::tr("Path"), path.toHtmlEscaped());
    row(QObject::tr("Size"), QLocale().formattedDataSize(loaded.fileSize));
    if (!loaded.rawFiles.isEmpty())
        row(QObject::tr("RAW file"), loaded.rawFiles.join(QStringLiteral(", ")).toHtmlEscaped());
    if (!loaded.image.isNull())
        row(QObject::tr("Dimensions"),
            QStringLiteral("%1 × %2").arg(loaded.image.width()).arg(loaded.image.height()));
    if (loaded.details) {
        const PhotoRecord& photo = loaded.details->photo;
        row(QObject::tr("Type"), escaped(photo.fileType));
        if (photo.takenAt)
            row(QObject::tr("Taken"),
                QDateTime::fromSecsSinceEpoch(*photo.takenAt, QTimeZone::utc())
                    .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
        row(QObject::tr("Modified"),
            QDateTime::fromSecsSinceEpoch(photo.mtimeNs / 1'000'000'000)
                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
        const std::string camera
            = photo.cameraMake + (photo.cameraMake.empty() ? "" : " ") + photo.cameraModel;
        row(QObject::tr("Camera"), camera.empty() ? QObject::tr("unknown") : escaped(camera));
        row(QObject::tr("GPS"),
            photo.gpsLat && photo.gpsLon
                ? QStringLiteral("%1, %2").arg(*photo.gpsLat, 0, 'f', 6).arg(*photo.gpsLon, 0, 'f', 6)
                : QObject::tr("none"));
        QStringList captions;
        for (const auto& caption : loaded.details->captions)
            captions.append(escaped(caption.text)
                + QStringLiteral(" <i>(%1, %2)</i>")
                      .arg(escaped(caption.modelId),
                          QDateTime::fromSecsSinceEpoch(caption.createdAt)
                              .toString(QStringLiteral("yyyy-MM-dd HH:mm"))));
        row(QObject::tr("Captions"),
            captions.isEmpty() ? QObject::tr("none") : captions.join(QStringLiteral("<br>")));
        QStringList tags;
        for (const auto& tag : loaded.details->tags) {
            const QString link = QString::fromUtf8(QUrl::toPercentEncoding(QString::fromStdString(tag.tag)));
            if (!tag.source.starts_with("auto:")) {
                tags.append(QObject::tr("%1 <a href='tag-remove:%2'>remove</a>").arg(escaped(tag.tag), link));
                continue;
            }
            // The model's: marked with the model, its score and the threshold it passed, for the person
            // to confirm or take back.
            tags.append(QObject::tr("%1 <i>(auto: %2, %3 ≥ %4)</i> <a href='tag-confirm:%5'>confirm</a> · "
                                    "<a href='tag-remove:%5'>remove</a>")
                            .arg(escaped(tag.tag), escaped(tag.source.substr(5)),
                                QString::number(tag.score.value_or(0), 'f', 3),
                                QString::number(tag.threshold.value_or(0), 'f', 3), link));
        }
        row(QObject::tr("Tags"), tags.isEmpty() ? QObject::tr("none") : tags.join(QStringLiteral(", ")));
        if (const auto& generation = loaded.details->generation)
            row(QObject::tr("Created"), generationHtml(*generation, loaded.details->source));
        if (!loaded.details->madeFromIt.empty()) {
            QStringList made;
            for (const PhotoRecord& picture : loaded.details->madeFromIt)
                made.append(photoLink(picture));
            row(QObject::tr("Pictures made from it"), made.join(QStringLiteral("<br>")));
        }
        row(QObject::tr("Library id"), QString::number(photo.id));
    } else if (loaded.failure) {
        row(QObject::tr("Library"), QObject::tr("not indexed: %1").arg(escaped(*loaded.failure)));
    } else {
        row(QObject::tr("Library"), QObject::tr("not indexed yet"));
    }
    if (!loaded.error.isEmpty())
        row(QObject::tr("Error"), loaded.error.toHtmlEscaped());
    return html + QStringLiteral("</table>");
}

} // namespace

PhotoViewer::PhotoViewer(QWidget* parent)
    : QWidget(parent),
      scroll_(new QScrollArea(this)),
      canvas_(new QLabel(this)),
      info_(new QTextBrowser(this)),
      zoom_(new QToolButton(this)),
      title_(new QLabel(this))
{
    setObjectName(QStringLiteral("viewer"));
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    auto* back = new QToolButton(this);
    back->setText(tr("Back to photos"));
    back->setToolTip(tr("Esc"));
    auto* previous = new QToolButton(this);
    previous->setObjectName(QStringLiteral("previous"));
    previous->setText(tr("◀ Previous"));
    auto* next = new QToolButton(this);
    next->setObjectName(QStringLiteral("next"));
    next->setText(tr("Next ▶"));
    zoom_->setObjectName(QStringLiteral("zoom"));
    zoom_->setCheckable(true);
    zoom_->setText(tr("100 %"));
    zoom_->setToolTip(tr("Show at 100 % (otherwise: fit to the window)"));
    bar->addWidget(back);
    bar->addWidget(previous);
    bar->addWidget(next);
    bar->addWidget(zoom_);
    bar->addWidget(title_, 1);
    layout->addLayout(bar);
    auto* split = new QSplitter(this);
    split_ = split;
    scroll_->setWidget(canvas_);
    scroll_->setAlignment(Qt::AlignCenter);
    scroll_->setWidgetResizable(false);
    canvas_->setAlignment(Qt::AlignCenter);
    split->addWidget(scroll_);
    info_->setObjectName(QStringLiteral("info"));
    // A side panel shown later (Ask) takes its width from the others; the details keep a readable column
    // instead of one word per line.
    info_->setMinimumWidth(info_->fontMetrics().averageCharWidth() * 28);
    info_->setOpenLinks(false);
    connect(info_, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        if (url.scheme() == QStringLiteral("photo"))
            emit photoLinkActivated(url.path().toLongLong());
        const bool confirm = url.scheme() == QStringLiteral("tag-confirm");
        if ((confirm || url.scheme() == QStringLiteral("tag-remove")) && model_ && row_ >= 0)
            emit autoTagAnswered(model_->index(row_, 0).data(GalleryModel::IdRole).toLongLong(),
                QUrl::fromPercentEncoding(url.path().toUtf8()), confirm);
    });
    split->addWidget(info_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);
    connect(back, &QToolButton::clicked, this, &PhotoViewer::closeRequested);
    connect(previous, &QToolButton::clicked, this, &PhotoViewer::previous);
    connect(next, &QToolButton::clicked, this, &PhotoViewer::next);
    connect(zoom_, &QToolButton::toggled, this, [this](bool actual) { setFitToWindow(!actual); });
}

void PhotoViewer::show(QAbstractItemModel* model, int row)
{
    model_ = model;
    row_ = row;
    load();
    emit rowChanged(row_);
}

void PhotoViewer::next()
{
    if (model_ && row_ + 1 < model_->rowCount()) {
        ++row_;
        load();
        emit rowChanged(row_);
    }
}

void PhotoViewer::previous()
{
    if (model_ && row_ > 0) {
        --row_;
        load();
        emit rowChanged(row_);
    }
}

void PhotoViewer::refreshDetails()
{
    if (model_ && row_ >= 0 && row_ < model_->rowCount())
        load();
}

void PhotoViewer::addSidePanel(QWidget* panel)
{
    split_->addWidget(panel);
    split_->setStretchFactor(split_->indexOf(panel), 1);
}

QString PhotoViewer::infoText() const
{
    return info_->toPlainText();
}

void PhotoViewer::setFitToWindow(bool fit)
{
    fit_ = fit;
    const QSignalBlocker blocker(zoom_);
    zoom_->setChecked(!fit);
    render();
}

void PhotoViewer::load()
{
    const QModelIndex index = model_->index(row_, 0);
    path_ = index.data(GalleryModel::PathRole).toString();
    const qint64 id = index.data(GalleryModel::IdRole).toLongLong();
    title_->setText(QStringLiteral("%1  (%2 / %3)")
                        .arg(index.data(Qt::DisplayRole).toString())
                        .arg(row_ + 1)
                        .arg(model_->rowCount()));
    image_ = {};
    canvas_->setText(tr("Loading…"));
    info_->clear();
    const quint64 request = ++request_;
    QtConcurrent::run([path = path_, id, library = libraryDir_] {
        Loaded loaded;
        loaded.image = readPhotoImage(path, {}, &loaded.error);
        loaded.fileSize = QFileInfo(path).size();
        loaded.rawFiles = rawFilesBeside(path);
        try {
            loaded.details = CatalogReader::details(library, id);
            if (!loaded.details)
                loaded.failure = CatalogReader::failureOf(library, path.toStdString());
        } catch (const std::exception& e) {
            loaded.error += QString::fromUtf8(e.what());
        }
        return loaded;
    }).then(this, [this, request](const Loaded& loaded) {
        if (request != request_)
            return; // the user moved on
        image_ = loaded.image;
        info_->setHtml(detailsHtml(path_, loaded));
        if (image_.isNull())
            canvas_->setText(loaded.failure
                    ? tr("Not indexed: %1").arg(QString::fromStdString(*loaded.failure))
                    : tr("Cannot show this photo: %1").arg(loaded.error));
        render();
    });
}

void PhotoViewer::render()
{
    if (image_.isNull())
        return;
    const qreal ratio = devicePixelRatioF();
    QImage shown = image_;
    if (fit_) {
        const QSize room = scroll_->viewport()->size() * ratio;
        if (shown.width() > room.width() || shown.height() > room.height())
            shown = shown.scaled(room, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    }
    QPixmap pixmap = QPixmap::fromImage(shown);
    pixmap.setDevicePixelRatio(fit_ ? ratio : 1.0);
    canvas_->setPixmap(pixmap);
    canvas_->resize(pixmap.deviceIndependentSize().toSize());
}

void PhotoViewer::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (splitPlaced_)
        return;
    // The splitter was laid out while the page was hidden, from size hints, which left the image a sliver
    // beside the info panel. The first time the viewer shows, the image gets three parts of the width and
    // each side panel one; from then on the user's widths stay.
    splitPlaced_ = true;
    QList<int> parts;
    for (int i = 0; i < split_->count(); ++i)
        parts.append(i == 0 ? 3000 : 1000);
    split_->setSizes(parts);
    render();
}

void PhotoViewer::keyPressEvent(QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Escape:
        emit closeRequested();
        return;
    case Qt::Key_Right:
    case Qt::Key_Space:
        next();
        return;
    case Qt::Key_Left:
    case Qt::Key_Backspace:
        previous();
        return;
    case Qt::Key_1:
        setFitToWindow(false);
        return;
    case Qt::Key_F:
        setFitToWindow(true);
        return;
    default:
        QWidget::keyPressEvent(event);
    }
}

void PhotoViewer::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (fit_)
        render();
}

} // namespace pictor::ui
