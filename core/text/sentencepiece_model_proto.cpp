// A minimal protobuf wire-format pass over a SentencePiece ModelProto: the Debian library ships no
// sentencepiece_model.pb.h, so the one field transformers changes (normalizer_spec.add_dummy_prefix, see
// tokenizer_backends.h) is rewritten here. Field numbers from sentencepiece_model.proto:
//   ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; NormalizerSpec
//   normalizer_spec = 3; ... } NormalizerSpec { string name = 1; bytes precompiled_charsmap = 2; bool
//   add_dummy_prefix = 3; ... }
// Every length is checked against the bytes that are left, so a truncated file is an error here.
#include <cstdint>

#include "core/error.h"
#include "core/text/tokenizer_backends.h"

namespace pictor::text {
namespace {

constexpr std::uint32_t kPiecesField = 1;
constexpr std::uint32_t kNormalizerSpecField = 3;
constexpr std::uint32_t kAddDummyPrefixField = 3;
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kFixed64 = 1;
constexpr std::uint32_t kLengthDelimited = 2;
constexpr std::uint32_t kFixed32 = 5;

struct Field {
    std::uint32_t number = 0;
    std::uint32_t wireType = 0;
    std::string_view bytes; // the whole field: key and value
    std::string_view payload; // for length-delimited fields: the value without its length
};

class WireReader {
public:
    WireReader(std::string_view data, const std::filesystem::path& file, const char* message)
        : data_(data), file_(file), message_(message)
    {
    }

    bool atEnd() const { return pos_ == data_.size(); }

    Field next()
    {
        const std::size_t start = pos_;
        const std::uint64_t key = varint();
        Field field;
        field.number = static_cast<std::uint32_t>(key >> 3);
        field.wireType = static_cast<std::uint32_t>(key & 7);
        check(field.number != 0 && key >> 3 <= 0x1FFFFFFF, "a field number out of range");
        switch (field.wireType) {
        case kVarint:
            varint();
            break;
        case kFixed64:
            skip(8);
            break;
        case kFixed32:
            skip(4);
            break;
        case kLengthDelimited: {
            const std::uint64_t length = varint();
            check(length <= data_.size() - pos_, "field ", field.number, " runs past the end");
            field.payload = data_.substr(pos_, static_cast<std::size_t>(length));
            pos_ += static_cast<std::size_t>(length);
            break;
        }
        default:
            check(false, "wire type ", field.wireType, " of field ", field.number);
        }
        field.bytes = data_.substr(start, pos_ - start);
        return field;
    }

private:
    template <typename... Parts> void check(bool ok, const Parts&... parts) const
    {
        PICTOR_CHECK(ok, file_.string(),
            ": not a valid SentencePiece model (truncated or corrupt: ", message_, " has ", parts...,
            " at byte ", pos_, ")");
    }

    std::uint64_t varint()
    {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            check(pos_ < data_.size(), "a number cut off");
            const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
            value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0)
                return value;
        }
        check(false, "a number longer than 10 bytes");
        return 0;
    }

    void skip(std::size_t count)
    {
        check(count <= data_.size() - pos_, "a fixed-size value cut off");
        pos_ += count;
    }

    std::string_view data_;
    const std::filesystem::path& file_;
    const char* message_;
    std::size_t pos_ = 0;
};

void appendVarint(std::string& out, std::uint64_t value)
{
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

// The normalizer spec without its add_dummy_prefix fields, then add_dummy_prefix = false.
std::string normalizerWithoutDummyPrefix(std::string_view spec, const std::filesystem::path& file)
{
    std::string out;
    WireReader reader(spec, file, "normalizer_spec");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        if (field.number != kAddDummyPrefixField)
            out.append(field.bytes);
    }
    appendVarint(out, (kAddDummyPrefixField << 3) | kVarint);
    appendVarint(out, 0);
    return out;
}

} // namespace

std::string withoutDummyPrefix(std::string_view modelProto, const std::filesystem::path& file)
{
    std::string out;
    out.reserve(modelProto.size() + 8);
    std::size_t pieces = 0;
    bool normalizerSeen = false;
    WireReader reader(modelProto, file, "the model");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        if (field.number == kPiecesField && field.wireType == kLengthDelimited)
            ++pieces;
        if (field.number != kNormalizerSpecField || field.wireType != kLengthDelimited) {
            out.append(field.bytes);
            continue;
        }
        normalizerSeen = true;
        const std::string spec = normalizerWithoutDummyPrefix(field.payload, file);
        appendVarint(out, (kNormalizerSpecField << 3) | kLengthDelimited);
        appendVarint(out, spec.size());
        out += spec;
    }
    PICTOR_CHECK(pieces > 0, file.string(), ": not a valid SentencePiece model (no pieces)");
    PICTOR_CHECK(normalizerSeen, file.string(),
        ": not a valid SentencePiece model (no normalizer_spec; is the file truncated?)");
    return out;
}

} // namespace pictor::text
