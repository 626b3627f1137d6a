#include "core/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json_file.h"

namespace pictor {
namespace {

// A header larger than this is not a real checkpoint (the format's reference reader caps it at 100 MB).
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

[[noreturn]] void fail(std::string_view file, const std::string& what, std::string_view tensor = {})
{
    if (tensor.empty())
        PICTOR_FAIL("[safetensors] ", file, ": ", what);
    PICTOR_FAIL("[safetensors] ", file, ": ", what, " (tensor '", tensor, "')");
}

struct DTypeInfo {
    DType dtype;
    std::string_view name;
    std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},
    {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8},
    {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},
    {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DTypeInfo* dtypeByName(std::string_view name)
{
    for (const auto& info : kDTypes)
        if (info.name == name)
            return &info;
    return nullptr;
}

std::uint64_t readLittleEndian64(const std::byte* bytes)
{
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
    return value;
}

// Multiplies without wrapping; false on overflow.
bool checkedMultiply(std::uint64_t a, std::uint64_t b, std::uint64_t& out)
{
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
        return false;
    out = a * b;
    return true;
}

SafetensorsHeader::Entry parseEntry(
    std::string_view file, const std::string& name, const nlohmann::json& value, std::uint64_t dataBytes)
{
    if (!value.is_object())
        fail(file, "tensor entry is not an object", name);
    auto dtypeIt = value.find("dtype");
    auto shapeIt = value.find("shape");
    auto offsetsIt = value.find("data_offsets");
    if (dtypeIt == value.end() || !dtypeIt->is_string())
        fail(file, "missing or invalid 'dtype'", name);
    if (shapeIt == value.end() || !shapeIt->is_array())
        fail(file, "missing or invalid 'shape'", name);
    if (offsetsIt == value.end() || !offsetsIt->is_array() || offsetsIt->size() != 2)
        fail(file, "missing or invalid 'data_offsets'", name);

    const auto dtypeName = dtypeIt->get<std::string>();
    const DTypeInfo* info = dtypeByName(dtypeName);
    if (!info)
        fail(file, "unsupported dtype '" + dtypeName + "'", name);

    SafetensorsHeader::Entry entry {name, info->dtype, {}, 0, 0};
    std::uint64_t elements = 1;
    for (const auto& dim : *shapeIt) {
        if (!dim.is_number_unsigned()
            || dim.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            fail(file, "shape has an invalid dimension", name);
        const auto extent = dim.get<std::uint64_t>();
        if (!checkedMultiply(elements, extent, elements))
            fail(file, "shape overflows", name);
        entry.shape.push_back(static_cast<std::int64_t>(extent));
    }
    for (const auto& offset : *offsetsIt)
        if (!offset.is_number_unsigned())
            fail(file, "data_offsets must be non-negative integers", name);
    entry.begin = (*offsetsIt)[0].get<std::uint64_t>();
    entry.end = (*offsetsIt)[1].get<std::uint64_t>();
    if (entry.begin > entry.end)
        fail(file, strCat("data_offsets begin ", entry.begin, " > end ", entry.end), name);
    if (entry.end > dataBytes)
        fail(file,
            strCat("data_offsets [", entry.begin, ", ", entry.end, "] outside the data section of ",
                dataBytes, " bytes"),
            name);
    std::uint64_t expectedBytes = 0;
    if (!checkedMultiply(elements, info->size, expectedBytes))
        fail(file, "shape overflows", name);
    if (expectedBytes != entry.end - entry.begin)
        fail(file,
            strCat("byte length ", entry.end - entry.begin, " does not match ", dtypeName, " x shape (",
                expectedBytes, " bytes)"),
            name);
    return entry;
}

std::string errnoText()
{
    return std::strerror(errno);
}

} // namespace

std::size_t dtypeSize(DType dtype)
{
    for (const auto& info : kDTypes)
        if (info.dtype == dtype)
            return info.size;
    return 0;
}

std::string_view dtypeName(DType dtype)
{
    for (const auto& info : kDTypes)
        if (info.dtype == dtype)
            return info.name;
    return "?";
}

std::int64_t TensorView::numel() const
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

std::string TensorView::shapeString() const
{
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

SafetensorsHeader parseSafetensorsHeader(std::string_view file, std::span<const std::byte> bytes)
{
    if (bytes.size() < 8)
        fail(file, strCat("file too short for a safetensors header (", bytes.size(), " bytes)"));
    const std::uint64_t headerBytes = readLittleEndian64(bytes.data());
    if (headerBytes > kMaxHeaderBytes)
        fail(file, strCat("header length ", headerBytes, " exceeds the ", kMaxHeaderBytes, "-byte limit"));
    if (headerBytes > bytes.size() - 8)
        fail(file,
            strCat(
                "header length ", headerBytes, " runs past the end of the file (", bytes.size(), " bytes)"));

    const auto* headerStart = reinterpret_cast<const char*>(bytes.data() + 8);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(headerStart, headerStart + headerBytes);
    } catch (const nlohmann::json::exception& e) {
        fail(file, strCat("header is not valid JSON (", e.what(), ")"));
    }
    if (!header.is_object())
        fail(file, "header is not a JSON object");

    SafetensorsHeader result;
    result.dataOffset = 8 + headerBytes;
    const std::uint64_t dataBytes = bytes.size() - result.dataOffset;
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                fail(file, "__metadata__ is not an object");
            for (const auto& [metaKey, metaValue] : value.items()) {
                if (!metaValue.is_string())
                    fail(file, "__metadata__ value for '" + metaKey + "' is not a string");
                result.metadata[metaKey] = metaValue.get<std::string>();
            }
            continue;
        }
        result.entries.push_back(parseEntry(file, key, value, dataBytes));
    }
    std::sort(result.entries.begin(), result.entries.end(),
        [](const auto& a, const auto& b) { return a.name < b.name; });

    // No two tensors may share bytes (zero-length tensors occupy none).
    std::vector<const SafetensorsHeader::Entry*> byOffset;
    for (const auto& entry : result.entries)
        if (entry.end > entry.begin)
            byOffset.push_back(&entry);
    std::sort(byOffset.begin(), byOffset.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < byOffset.size(); ++i)
        if (byOffset[i]->begin < byOffset[i - 1]->end)
            fail(file, "data overlaps tensor '" + byOffset[i - 1]->name + "'", byOffset[i]->name);
    return result;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& file)
{
    const std::string label = file.string();
    // O_NONBLOCK: a FIFO named model.safetensors is refused at once instead of waiting for a writer.
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        fail(label, "cannot open: " + errnoText());
    struct stat info { };
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        fail(label, "not a regular file");
    }
    std::shared_ptr<SafetensorsFile> result(new SafetensorsFile());
    result->path_ = file;
    result->mappingSize_ = static_cast<std::size_t>(info.st_size);
    if (result->mappingSize_ > 0) {
        void* mapping = ::mmap(nullptr, result->mappingSize_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapping == MAP_FAILED) {
            ::close(fd);
            fail(label, "cannot map: " + errnoText());
        }
        result->mapping_ = mapping;
    }
    ::close(fd);

    const std::span<const std::byte> bytes(
        static_cast<const std::byte*>(result->mapping_), result->mappingSize_);
    SafetensorsHeader header = parseSafetensorsHeader(label, bytes);
    result->metadata_ = std::move(header.metadata);
    result->tensors_.reserve(header.entries.size());
    for (auto& entry : header.entries) {
        TensorView view;
        view.name = std::move(entry.name);
        view.dtype = entry.dtype;
        view.shape = std::move(entry.shape);
        view.data = bytes.data() + header.dataOffset + entry.begin;
        view.nbytes = static_cast<std::size_t>(entry.end - entry.begin);
        view.file = label;
        result->tensors_.push_back(std::move(view));
    }
    return result;
}

SafetensorsFile::~SafetensorsFile()
{
    if (mapping_)
        ::munmap(mapping_, mappingSize_);
}

const TensorView* SafetensorsFile::find(std::string_view name) const
{
    auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
        [](const TensorView& view, std::string_view key) { return view.name < key; });
    return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorView& SafetensorsFile::at(std::string_view name) const
{
    if (const TensorView* view = find(name))
        return *view;
    fail(path_.string(), "tensor not found", name);
}

// ---- Checkpoint (single file or shards) ----

namespace {

std::filesystem::path findIndexFile(const std::filesystem::path& folder)
{
    std::filesystem::path found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
        const std::string name = entry.path().filename().string();
        if (name.ends_with(".safetensors.index.json")
            && (found.empty() || name == "model.safetensors.index.json"))
            found = entry.path();
    }
    return found;
}

} // namespace

Checkpoint Checkpoint::open(const std::filesystem::path& fileOrFolder)
{
    std::filesystem::path indexFile;
    std::filesystem::path single;
    if (std::filesystem::is_directory(fileOrFolder)) {
        indexFile = findIndexFile(fileOrFolder);
        if (indexFile.empty()) {
            single = fileOrFolder / "model.safetensors";
            if (!std::filesystem::exists(single))
                fail(fileOrFolder.string(), "no model.safetensors or *.safetensors.index.json in the folder");
        }
    } else if (fileOrFolder.string().ends_with(".index.json")) {
        indexFile = fileOrFolder;
    } else {
        single = fileOrFolder;
    }

    Checkpoint checkpoint;
    if (!single.empty()) {
        checkpoint.shards_.push_back(SafetensorsFile::open(single));
        checkpoint.files_.push_back(single);
    } else {
        const nlohmann::json index = readJsonFile(indexFile);
        const std::string label = indexFile.string();
        auto weightMap = index.find("weight_map");
        if (weightMap == index.end() || !weightMap->is_object())
            fail(label, "index has no 'weight_map' object");
        std::map<std::string, std::size_t> shardByFile;
        std::map<std::string, std::string> expectedFile;
        for (const auto& [tensor, shard] : weightMap->items()) {
            if (!shard.is_string())
                fail(label, "weight_map entry is not a file name", tensor);
            const auto shardName = shard.get<std::string>();
            if (shardName.find('/') != std::string::npos || shardName.find("..") != std::string::npos)
                fail(label, "shard name '" + shardName + "' leaves the folder", tensor);
            expectedFile[tensor] = shardName;
            if (!shardByFile.count(shardName)) {
                shardByFile[shardName] = checkpoint.shards_.size();
                const auto shardPath = indexFile.parent_path() / shardName;
                checkpoint.shards_.push_back(SafetensorsFile::open(shardPath));
                checkpoint.files_.push_back(shardPath);
            }
        }
        for (const auto& [tensor, shardName] : expectedFile) {
            const auto& shard = *checkpoint.shards_[shardByFile[shardName]];
            if (!shard.find(tensor))
                fail(shard.path().string(), "listed in the index but not in the shard", tensor);
        }
    }
    for (const auto& shard : checkpoint.shards_) {
        for (const auto& view : shard->tensors()) {
            auto [it, inserted] = checkpoint.byName_.emplace(view.name, &view);
            if (!inserted)
                fail(view.file, "tensor also present in " + it->second->file, view.name);
        }
    }
    return checkpoint;
}

const TensorView* Checkpoint::find(std::string_view name) const
{
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

const TensorView& Checkpoint::at(std::string_view name) const
{
    if (const TensorView* view = find(name))
        return *view;
    fail(files_.empty() ? std::string("checkpoint") : files_.front().string(), "tensor not found", name);
}

std::vector<const TensorView*> Checkpoint::tensors() const
{
    std::vector<const TensorView*> out;
    out.reserve(byName_.size());
    for (const auto& [name, view] : byName_)
        out.push_back(view);
    return out;
}

std::uint64_t Checkpoint::totalBytes() const
{
    std::uint64_t total = 0;
    for (const auto& [name, view] : byName_)
        total += view->nbytes;
    return total;
}

const std::map<std::string, std::string>& Checkpoint::metadata() const
{
    static const std::map<std::string, std::string> empty;
    return shards_.empty() ? empty : shards_.front()->metadata();
}

} // namespace pictor
