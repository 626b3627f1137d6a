#include "ui/hub_repo.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStringList>

namespace pictor::ui::hub {

bool isValidRepoId(const QString& repoId)
{
    // huggingface_hub's rule: each part starts and ends with a word character, at most 96 characters.
    static const QRegularExpression pattern(
        QStringLiteral(R"(^(?:\w(?:[\w.-]{0,94}\w)?/)?\w(?:[\w.-]{0,94}\w)?$)"),
        QRegularExpression::UseUnicodePropertiesOption);
    static const QRegularExpression ascii(QStringLiteral("^[A-Za-z0-9_./-]+$"));
    return ascii.match(repoId).hasMatch() && pattern.match(repoId).hasMatch()
        && !repoId.contains(QStringLiteral("--")) && !repoId.contains(QStringLiteral(".."));
}

bool isValidRevision(const QString& revision)
{
    static const QRegularExpression allowed(QStringLiteral("^[A-Za-z0-9_.+/-]{1,255}$"));
    if (!allowed.match(revision).hasMatch() || revision.startsWith('/') || revision.endsWith('/'))
        return false;
    const QStringList parts = revision.split('/');
    return !parts.contains(QStringLiteral("..")) && !parts.contains(QStringLiteral("."))
        && !parts.contains(QString());
}

bool isWantedFile(const QString& name, const QStringList& componentFolders)
{
    if (name.isEmpty() || name.contains('\\'))
        return false;
    const QStringList parts = name.split('/');
    for (const QString& part : parts)
        if (part.isEmpty() || part.startsWith('.'))
            return false; // hidden files, "..", absolute paths
    if (parts.size() > 2 || (parts.size() == 2 && !componentFolders.contains(parts.front())))
        return false;
    for (const char* suffix : {".json", ".txt", ".model", ".safetensors"})
        if (name.endsWith(QLatin1String(suffix)))
            return true;
    return false;
}

QList<RepoFile> wantedFiles(const QList<RepoFile>& files, const QStringList& componentFolders)
{
    QStringList names;
    for (const RepoFile& file : files)
        names << file.name;
    QList<RepoFile> out;
    for (const RepoFile& file : files) {
        if (!isWantedFile(file.name, componentFolders))
            continue;
        static const QString fp16 = QStringLiteral(".fp16.safetensors");
        if (file.name.endsWith(fp16)
            && names.contains(
                file.name.left(file.name.size() - fp16.size()) + QStringLiteral(".safetensors")))
            continue;
        out.append(file);
    }
    return out;
}

QStringList pipelineComponents(const QByteArray& modelIndexJson)
{
    const QJsonDocument document = QJsonDocument::fromJson(modelIndexJson);
    QStringList folders;
    const QJsonObject root = document.object();
    for (auto it = root.begin(); it != root.end(); ++it) {
        const QJsonArray pair = it.value().toArray();
        if (!it.key().startsWith('_') && pair.size() == 2 && pair.at(1).isString() && !it.key().contains('/')
            && !it.key().startsWith('.'))
            folders << it.key();
    }
    return folders;
}

std::optional<RepoListing> parseListing(const QByteArray& json, QString* error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (!document.isObject()) {
        *error = QStringLiteral("the repository listing is not a JSON object (%1)")
                     .arg(parseError.errorString());
        return std::nullopt;
    }
    const QJsonObject root = document.object();
    RepoListing listing;
    listing.commit = root.value(QStringLiteral("sha")).toString();
    static const QRegularExpression commitHash(QStringLiteral("^[0-9a-f]{40}$"));
    if (!commitHash.match(listing.commit).hasMatch()) {
        *error = QStringLiteral("the repository listing has no commit hash (\"sha\")");
        return std::nullopt;
    }
    for (const QJsonValue& value : root.value(QStringLiteral("siblings")).toArray()) {
        const QJsonObject sibling = value.toObject();
        RepoFile file;
        file.name = sibling.value(QStringLiteral("rfilename")).toString();
        if (file.name.isEmpty())
            continue;
        file.size = sibling.value(QStringLiteral("size")).toInteger(-1);
        const QJsonObject lfs = sibling.value(QStringLiteral("lfs")).toObject();
        if (!lfs.isEmpty()) {
            file.lfsSha256 = lfs.value(QStringLiteral("sha256")).toString().toLower();
            file.size = lfs.value(QStringLiteral("size")).toInteger(file.size);
            static const QRegularExpression sha256(QStringLiteral("^[0-9a-f]{64}$"));
            if (!sha256.match(file.lfsSha256).hasMatch()) {
                *error = QStringLiteral("the listing gives %1 no valid LFS sha256").arg(file.name);
                return std::nullopt;
            }
        }
        listing.files.append(file);
    }
    return listing;
}

QString cacheFolderName(const QString& repoId)
{
    return QStringLiteral("models--") + QString(repoId).replace('/', QStringLiteral("--"));
}

QString blobNameFromEtag(const QByteArray& etag)
{
    QString value = QString::fromLatin1(etag).trimmed();
    if (value.startsWith(QLatin1String("W/")))
        value.remove(0, 2);
    value.remove('"');
    static const QRegularExpression token(QStringLiteral("^[A-Za-z0-9_-]{1,128}$"));
    return token.match(value).hasMatch() ? value : QString();
}

} // namespace pictor::ui::hub
