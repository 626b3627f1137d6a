// Safetensors checkpoints: a bounds-checked, memory-mapped reader (single files and sharded
// *.safetensors.index.json checkpoints) and a small writer. Model files are hostile input: every
// failure is a pictor::Error reading "[safetensors] <file>: <what> (tensor '<name>')".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pictor {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtypeSize(DType dtype);
std::string_view dtypeName(DType dtype); // the safetensors spelling: "F32", "BF16", ...

// One tensor inside a mapped file. `data` stays valid while the owning file is alive.
struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    const std::byte* data = nullptr;
    std::size_t nbytes = 0;
    std::string file; // for error messages

    std::int64_t numel() const;
    std::string shapeString() const; // "[32, 64]"
};

// The parsed header of a safetensors file (exposed separately for tests and fuzzing).
struct SafetensorsHeader {
    std::map<std::string, std::string> metadata;
    struct Entry {
        std::string name;
        DType dtype;
        std::vector<std::int64_t> shape;
        std::uint64_t begin; // offsets relative to the start of the data section
        std::uint64_t end;
    };
    std::vector<Entry> entries; // sorted by name
    std::uint64_t dataOffset = 0; // 8 + header length
};

// Validates everything about the file's layout: header length bound, JSON, dtypes, shapes, offsets
// inside the data section, begin <= end, no overlaps, dtype x shape = byte length, no overflow.
SafetensorsHeader parseSafetensorsHeader(std::string_view fileLabel, std::span<const std::byte> fileBytes);

class SafetensorsFile {
public:
    static std::shared_ptr<const SafetensorsFile> open(const std::filesystem::path& file);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::vector<TensorView>& tensors() const { return tensors_; } // sorted by name
    const TensorView* find(std::string_view name) const; // nullptr when absent
    const TensorView& at(std::string_view name) const; // throws naming the tensor

private:
    SafetensorsFile() = default;
    std::filesystem::path path_;
    void* mapping_ = nullptr;
    std::size_t mappingSize_ = 0;
    std::map<std::string, std::string> metadata_;
    std::vector<TensorView> tensors_;
};

// A model's weights: one model.safetensors, a *.safetensors.index.json with shards, or a folder holding
// either (the index wins). Tensor names are unique across shards.
class Checkpoint {
public:
    static Checkpoint open(const std::filesystem::path& fileOrFolder);

    const TensorView* find(std::string_view name) const;
    const TensorView& at(std::string_view name) const;
    std::vector<const TensorView*> tensors() const; // sorted by name
    std::size_t size() const { return byName_.size(); }
    std::uint64_t totalBytes() const;
    const std::vector<std::filesystem::path>& files() const { return files_; }
    const std::map<std::string, std::string>& metadata() const; // of the first shard

private:
    std::vector<std::shared_ptr<const SafetensorsFile>> shards_;
    std::vector<std::filesystem::path> files_;
    std::map<std::string, const TensorView*, std::less<>> byName_;
};

// Writing (for `pictor embed --output` and for tests that build malformed or tiny checkpoints).
struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::span<const std::byte> bytes;
};
void writeSafetensors(const std::filesystem::path& file, const std::vector<TensorToWrite>& tensors,
    const std::map<std::string, std::string>& metadata = {});
// Serialises to memory (same layout as the file).
std::vector<std::byte> serializeSafetensors(
    const std::vector<TensorToWrite>& tensors, const std::map<std::string, std::string>& metadata = {});

} // namespace pictor
