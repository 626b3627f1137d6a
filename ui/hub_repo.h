// What a Hugging Face model repository holds, as the hub's API lists it, and which of its files a model
// folder needs. Used by HubDownload; no network here.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>

namespace pictor::ui::hub {

struct RepoFile {
    QString name; // path inside the repository ("config.json")
    qint64 size = -1; // -1: the listing did not say
    QString lfsSha256; // empty: a plain git file, else stored with LFS under this SHA-256
    bool isLfs() const { return !lfsSha256.isEmpty(); }
};

struct RepoListing {
    QString commit; // the revision resolved to a commit hash
    QList<RepoFile> files; // every file of the repository
};

// "org/name" or "name": letters, digits, '-', '_', '.'; no "--" or ".." (as huggingface_hub validates).
bool isValidRepoId(const QString& repoId);
// A branch, tag or commit; no ".." segment, no leading '/', nothing that leaves refs/.
bool isValidRevision(const QString& revision);
// Top-level config/tokenizer/preprocessor files (*.json, *.txt, *.model) and safetensors weights (and their
// index), and the same files one level down in `componentFolders` (a diffusers pipeline's components, as
// its model_index.json names them). Pickle checkpoints (*.bin, *.pt, *.pth, *.ckpt), *.msgpack, *.h5, ONNX,
// hidden files and other subfolders are not.
bool isWantedFile(const QString& name, const QStringList& componentFolders = {});
// The wanted files of a listing, without a weight's float16 copy ("x.fp16.safetensors" when
// "x.safetensors" is there: the loader takes either, so one is enough).
QList<RepoFile> wantedFiles(const QList<RepoFile>& files, const QStringList& componentFolders = {});
// The component folders a diffusers model_index.json names (keys whose value is [library, class]);
// empty when it is not such a file.
QStringList pipelineComponents(const QByteArray& modelIndexJson);

// The JSON of GET /api/models/{repo}/revision/{revision}?blobs=true; nullopt with `error` set when it is
// not such a listing.
std::optional<RepoListing> parseListing(const QByteArray& json, QString* error);

// "openai/clip-vit-base-patch32" -> "models--openai--clip-vit-base-patch32" (the cache's folder name).
QString cacheFolderName(const QString& repoId);
// An ETag header value without W/ and quotes; empty when it is not a plain hash-like token (it becomes a
// file name).
QString blobNameFromEtag(const QByteArray& etag);

} // namespace pictor::ui::hub
