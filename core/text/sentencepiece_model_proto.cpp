// The protobuf wire format of a SentencePiece ModelProto, read by hand (no generated code, no protobuf
// library). Field numbers from sentencepiece_model.proto:
//   ModelProto { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2;
//                NormalizerSpec normalizer_spec = 3; ... }
//   SentencePiece { string piece = 1; float score = 2; Type type = 3; }
//   TrainerSpec { ModelType model_type = 3; bool treat_whitespace_as_suffix = 24; bool byte_fallback = 35;
//                 int32 unk_id = 40; bos_id = 41; eos_id = 42; pad_id = 43; string unk_surface = 44; ... }
//   NormalizerSpec { string name = 1; bytes precompiled_charsmap = 2; bool add_dummy_prefix = 3;
//                    bool remove_extra_whitespaces = 4; bool escape_whitespaces = 5; ... }
// Every length is checked against the bytes that are left, so a truncated file is an error here.
#include <bit>
#include <cstdint>

#include "core/error.h"
#include "core/text/added_tokens.h"
#include "core/text/sentencepiece_model.h"

namespace pictor::text {
namespace {

constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kFixed64 = 1;
constexpr std::uint32_t kLengthDelimited = 2;
constexpr std::uint32_t kFixed32 = 5;

struct Field {
    std::uint32_t number = 0;
    std::uint32_t wireType = 0;
    std::uint64_t value = 0; // varint, fixed32 or fixed64 value
    std::string_view payload; // length-delimited value
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
        const std::uint64_t key = varint();
        Field field;
        check(key >> 3 != 0 && key >> 3 <= 0x1FFFFFFF, "a field number out of range");
        field.number = static_cast<std::uint32_t>(key >> 3);
        field.wireType = static_cast<std::uint32_t>(key & 7);
        switch (field.wireType) {
        case kVarint:
            field.value = varint();
            break;
        case kFixed64:
            field.value = fixed(8);
            break;
        case kFixed32:
            field.value = fixed(4);
            break;
        case kLengthDelimited: {
            const std::uint64_t length = varint();
            check(length <= data_.size() - pos_, "field ", field.number, " running past the end");
            field.payload = data_.substr(pos_, static_cast<std::size_t>(length));
            pos_ += static_cast<std::size_t>(length);
            break;
        }
        default:
            check(false, "wire type ", field.wireType, " for field ", field.number);
        }
        return field;
    }

    // The field must have the wire type its .proto type gives it.
    void expect(const Field& field, std::uint32_t wireType) const
    {
        check(field.wireType == wireType, "field ", field.number, " with wire type ", field.wireType,
            " instead of ", wireType);
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

    std::uint64_t fixed(std::size_t count)
    {
        check(count <= data_.size() - pos_, "a fixed-size value cut off");
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < count; ++i)
            value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data_[pos_ + i])) << (8 * i);
        pos_ += count;
        return value;
    }

    std::string_view data_;
    const std::filesystem::path& file_;
    const char* message_;
    std::size_t pos_ = 0;
};

// int32 fields are varints of the 64-bit two's complement (-1 takes 10 bytes).
std::int32_t toInt32(std::uint64_t value)
{
    return static_cast<std::int32_t>(static_cast<std::int64_t>(value));
}

SentencePieceModel::Piece readPiece(std::string_view bytes, const std::filesystem::path& file)
{
    SentencePieceModel::Piece piece;
    WireReader reader(bytes, file, "a piece");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        switch (field.number) {
        case 1:
            reader.expect(field, kLengthDelimited);
            piece.text = std::string(field.payload);
            break;
        case 2:
            reader.expect(field, kFixed32);
            piece.score = std::bit_cast<float>(static_cast<std::uint32_t>(field.value));
            break;
        case 3: {
            reader.expect(field, kVarint);
            PICTOR_CHECK(field.value >= 1 && field.value <= 6, file.string(),
                ": not a valid SentencePiece model (piece '", piece.text, "' has type ", toInt32(field.value),
                "; known types are 1 to 6)");
            piece.type = static_cast<SentencePieceModel::PieceType>(field.value);
            break;
        }
        default:
            break;
        }
    }
    return piece;
}

void readTrainerSpec(std::string_view bytes, const std::filesystem::path& file, SentencePieceModel& model)
{
    WireReader reader(bytes, file, "trainer_spec");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        switch (field.number) {
        case 3:
            reader.expect(field, kVarint);
            model.modelType = static_cast<std::int64_t>(field.value);
            break;
        case 24:
            reader.expect(field, kVarint);
            model.treatWhitespaceAsSuffix = field.value != 0;
            break;
        case 35:
            reader.expect(field, kVarint);
            model.byteFallback = field.value != 0;
            break;
        case 40:
        case 41:
        case 42:
        case 43: {
            reader.expect(field, kVarint);
            std::int32_t* const ids[] = {&model.unkId, &model.bosId, &model.eosId, &model.padId};
            *ids[field.number - 40] = toInt32(field.value);
            break;
        }
        case 44:
            reader.expect(field, kLengthDelimited);
            model.unkSurface = std::string(field.payload);
            break;
        default:
            break;
        }
    }
}

void readNormalizerSpec(std::string_view bytes, const std::filesystem::path& file, SentencePieceModel& model)
{
    WireReader reader(bytes, file, "normalizer_spec");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        switch (field.number) {
        case 1:
            reader.expect(field, kLengthDelimited);
            model.normalizerName = std::string(field.payload);
            break;
        case 2:
            reader.expect(field, kLengthDelimited);
            model.hasCharsMap = !field.payload.empty();
            break;
        case 3:
        case 4:
        case 5: {
            reader.expect(field, kVarint);
            bool* const flags[]
                = {&model.addDummyPrefix, &model.removeExtraWhitespaces, &model.escapeWhitespaces};
            *flags[field.number - 3] = field.value != 0;
            break;
        }
        default:
            break;
        }
    }
}

} // namespace

SentencePieceModel parseSentencePieceModel(std::string_view bytes, const std::filesystem::path& file)
{
    SentencePieceModel model;
    WireReader reader(bytes, file, "the model");
    while (!reader.atEnd()) {
        const Field field = reader.next();
        if (field.number < 1 || field.number > 3)
            continue; // self_test_data, denormalizer_spec: not needed
        reader.expect(field, kLengthDelimited);
        if (field.number == 1) {
            PICTOR_CHECK(model.pieces.size() < static_cast<std::size_t>(kMaxTokenId), file.string(),
                ": not a valid SentencePiece model (more than ", kMaxTokenId, " pieces)");
            model.pieces.push_back(readPiece(field.payload, file));
        } else if (field.number == 2) {
            model.hasTrainerSpec = true;
            readTrainerSpec(field.payload, file, model);
        } else {
            model.hasNormalizerSpec = true;
            readNormalizerSpec(field.payload, file, model);
        }
    }
    PICTOR_CHECK(!model.pieces.empty(), file.string(), ": not a valid SentencePiece model (no pieces)");
    PICTOR_CHECK(model.hasTrainerSpec, file.string(),
        ": not a valid SentencePiece model (no trainer_spec; is the file truncated?)");
    PICTOR_CHECK(model.hasNormalizerSpec, file.string(),
        ": not a valid SentencePiece model (no normalizer_spec; is the file truncated?)");
    return model;
}

} // namespace pictor::text
