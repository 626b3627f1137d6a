// A library folder: the catalog (source of truth), the writer lock, the per-model vector indexes
// derived from the catalog, and the library's settings (library.json).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "indexer/catalog.h"
#include "indexer/library_lock.h"
#include "indexer/vector_index.h"

namespace pictor {

class Library {
public:
    // $XDG_DATA_HOME/pictor, else ~/.local/share/pictor.
    static std::filesystem::path defaultDir();

    // Writers hold the library's lock (a second writer gets "library ... is in use by PID n").
    static Library openForWriting(const std::filesystem::path& dir);
    // Readers share the library with a writer; the catalog opens read-only.
    static Library openForReading(const std::filesystem::path& dir);
    // A missing or empty (0-byte) catalog beside the library's other files (library.json, vector indexes)
    // is not a new library: both opens refuse it, naming `pictor library recover`. recover() sets the
    // catalog aside (catalog.sqlite3.damaged-<unix time>, with its -wal and -shm) and the indexes built
    // from it, and starts a new catalog (library.json, the model, stays); returns what it moved. Takes
    // the writer lock.
    static std::vector<std::filesystem::path> recover(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const { return dir_; }
    Catalog& catalog() { return *catalog_; }
    bool writable() const { return lock_ != nullptr; }

    // The embedding model folder the library searches with: the model of its last complete index run
    // (see IndexOptions::modelDir). Read from library.json alone, so callers need not open the catalog.
    static std::optional<std::filesystem::path> rememberedModelDir(const std::filesystem::path& libraryDir);
    std::optional<std::filesystem::path> modelDir() const { return rememberedModelDir(dir_); }
    // The model a library's searches use, one rule for the window and the command line: the remembered
    // model (its index is complete) while its folder exists, else `chosen` (Settings' model, --model). After
    // a model change the remembered one serves until an index run with the new model has embedded every
    // photo and the library switches. Empty when neither is known.
    static std::filesystem::path searchModelDir(
        const std::filesystem::path& libraryDir, const std::filesystem::path& chosen);
    void setModelDir(const std::filesystem::path& modelDir);

    std::filesystem::path vectorIndexPath(const std::string& modelId) const;

    struct IndexState {
        bool rebuilt = false;
        bool updated = false; // caught up incrementally
        // Why it was rebuilt ("missing", "stale: ...", "corrupt: ...") or what the update did.
        std::string reason;
    };
    // The vector index of a model, brought up to date with the catalog: an index saved at an older
    // embedding revision catches up incrementally (re-reads the embeddings written since, drops deleted
    // ids); a missing, corrupt or inconsistent one, or one with too many changes to catch up, is rebuilt
    // from the catalog. The result is saved again when the library is writable.
    VectorIndex vectorIndex(const std::string& modelId, int dimension, IndexState* state = nullptr);
    VectorIndex rebuildVectorIndex(const std::string& modelId, int dimension);

private:
    Library(std::filesystem::path dir, std::unique_ptr<LibraryLock> lock, Catalog catalog);
    bool catchUp(VectorIndex& index, const std::string& modelId, IndexState& state);
    void save(const VectorIndex& index, const std::string& modelId) const;

    std::filesystem::path dir_;
    std::unique_ptr<LibraryLock> lock_;
    std::unique_ptr<Catalog> catalog_;
};

} // namespace pictor
