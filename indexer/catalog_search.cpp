// Catalog: the full-text table (rows, user-text quoting, matching), metadata filters, captions and tags.
#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "indexer/catalog.h"
#include "indexer/catalog_impl.h"

namespace pictor {

using catalog_detail::catalogLabel;
using catalog_detail::collapseSpaces;
using catalog_detail::Db;
using catalog_detail::pathBlob;
using catalog_detail::Savepoint;
using catalog_detail::unixNow;

namespace catalog_detail {

std::string lossyUtf8(std::string_view bytes)
{
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<unsigned char>(bytes[i]);
        std::size_t length = 0;
        unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
        if (lead < 0x80) {
            length = 1;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            low = lead == 0xE0 ? 0xA0 : 0x80; // no overlong forms
            high = lead == 0xED ? 0x9F : 0xBF; // no surrogates
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            low = lead == 0xF0 ? 0x90 : 0x80;
            high = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
        }
        bool valid = length > 0 && i + length <= bytes.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto byte = static_cast<unsigned char>(bytes[i + k]);
            valid = k == 1 ? (byte >= low && byte <= high) : (byte >= 0x80 && byte <= 0xBF);
        }
        if (valid) {
            out.append(bytes.substr(i, length));
            i += length;
        } else {
            out.append(kReplacement);
            ++i;
        }
    }
    return out;
}

std::string asciiLower(std::string_view text)
{
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

} // namespace catalog_detail

using catalog_detail::asciiLower;
using catalog_detail::lossyUtf8;

namespace {

// Upper bound on the words of one query: each is a phrase FTS5 must intersect.
constexpr std::size_t kMaxQueryWords = 32;
// FTS5 columns of photo_fts, in table order, and the field each reports.
constexpr TextField kColumnFields[]
    = {TextField::FileName, TextField::FolderName, TextField::Caption, TextField::Tag};
constexpr char kMarkOpen = '\x01';
constexpr char kMarkClose = '\x02';

// The folders between the photo's root (its own name included) and the photo, e.g. root /p/Trips and
// /p/Trips/2019 Rome/a.jpg give "Trips/2019 Rome".
std::string folderText(const std::filesystem::path& photo, const std::filesystem::path& root)
{
    const auto parent = photo.parent_path();
    auto relative = parent.lexically_relative(root.parent_path());
    if (relative.empty() || *relative.begin() == "..")
        relative = parent.filename();
    return lossyUtf8(relative.native());
}

} // namespace

std::string_view textFieldName(TextField field)
{
    switch (field) {
    case TextField::FileName:
        return "file name";
    case TextField::FolderName:
        return "folder";
    case TextField::Caption:
        return "caption";
    case TextField::Tag:
        return "tag";
    }
    return "?";
}

std::string quoteFtsQuery(std::string_view userText)
{
    const std::string text = lossyUtf8(userText);
    std::string query;
    std::size_t words = 0;
    std::size_t i = 0;
    while (i < text.size() && words < kMaxQueryWords) {
        // Words are separated by ASCII whitespace and control characters, which never matter to FTS5.
        while (i < text.size() && static_cast<unsigned char>(text[i]) <= 0x20)
            ++i;
        const std::size_t start = i;
        while (i < text.size() && static_cast<unsigned char>(text[i]) > 0x20 && text[i] != '\x7f')
            ++i;
        std::string_view word(text.data() + start, i - start);
        if (i < text.size() && text[i] == '\x7f')
            ++i;
        const bool prefix = word.ends_with('*');
        while (word.ends_with('*'))
            word.remove_suffix(1);
        if (word.empty())
            continue;
        if (!query.empty())
            query += ' ';
        query += '"';
        for (char c : word) {
            if (c == '"')
                query += '"';
            query += c;
        }
        query += '"';
        if (prefix)
            query += '*';
        ++words;
    }
    return query;
}

void Catalog::Impl::refreshSearchText(std::int64_t photoId, bool isNew)
{
    std::string fileName, folders;
    {
        auto query
            = db.query("SELECT p.path, r.path FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.id = ?");
        query.bindAll(photoId);
        PICTOR_CHECK(query.step(), catalogLabel(db.file()), ": no photo with id ", photoId);
        const auto path = query.path(0);
        fileName = lossyUtf8(path.filename().native());
        folders = folderText(path, query.path(1));
    }
    if (isNew) {
        db.query(
              "INSERT INTO photo_fts(rowid, file_name, folder_name, captions, tags) VALUES (?, ?, ?, '', '')")
            .bindAll(photoId, fileName, folders)
            .run();
        return;
    }
    db.query("DELETE FROM photo_fts WHERE rowid = ?").bindAll(photoId).run();
    db.query("INSERT INTO photo_fts(rowid, file_name, folder_name, captions, tags) VALUES (?1, ?2, ?3, "
             "coalesce((SELECT group_concat(text, '; ') FROM (SELECT text FROM captions WHERE photo_id = ?1 "
             "UNION ALL SELECT prompt FROM generations WHERE photo_id = ?1 AND prompt != '')), ''), "
             "coalesce((SELECT group_concat(tag, '; ') FROM tags WHERE photo_id = ?1), ''))")
        .bindAll(photoId, fileName, folders)
        .run();
}

std::vector<TextMatch> Catalog::matchText(std::string_view query, std::size_t limit) const
{
    std::vector<TextMatch> out;
    const std::string match = quoteFtsQuery(query);
    if (match.empty() || limit == 0)
        return out;
    // rank is bm25 with the column weights configured in the schema (lower is better).
    auto select = impl_->db.query(
        "SELECT rowid, rank, snippet(photo_fts, 0, char(1), char(2), '…', 12), "
        "snippet(photo_fts, 1, char(1), char(2), '…', 12), snippet(photo_fts, 2, char(1), char(2), '…', 12), "
        "snippet(photo_fts, 3, char(1), char(2), '…', 12) "
        "FROM photo_fts WHERE photo_fts MATCH ? ORDER BY rank LIMIT ?");
    select.bindAll(match, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    while (select.step()) {
        TextMatch hit;
        hit.photoId = select.int64(0);
        hit.score = -select.real(1);
        // The first field, in TextField order, whose snippet holds a highlighted term.
        int column = -1;
        for (int c = 0; c < 4; ++c) {
            if (select.text(2 + c).find(kMarkOpen) == std::string::npos)
                continue;
            if (column < 0 || kColumnFields[c] < kColumnFields[column])
                column = c;
        }
        hit.field = column < 0 ? TextField::FileName : kColumnFields[column];
        hit.snippet = select.text(2 + std::max(column, 0));
        std::replace(hit.snippet.begin(), hit.snippet.end(), kMarkOpen, '[');
        std::replace(hit.snippet.begin(), hit.snippet.end(), kMarkClose, ']');
        out.push_back(std::move(hit));
    }
    return out;
}

// --- captions and tags

std::int64_t Catalog::addCaption(
    std::int64_t photoId, std::string_view text, std::string_view modelId, std::string_view prompt)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    Savepoint savepoint(db);
    db.query("INSERT INTO captions(photo_id, text, model_id, prompt, created_at) VALUES (?, ?, ?, ?, ?)")
        .bindAll(photoId, text, modelId, prompt, unixNow())
        .run();
    const auto id = db.lastInsertId();
    impl_->refreshSearchText(photoId);
    savepoint.release();
    return id;
}

std::vector<CaptionRecord> Catalog::captions(std::int64_t photoId) const
{
    std::vector<CaptionRecord> out;
    auto query = impl_->db.query("SELECT id, photo_id, text, model_id, prompt, created_at FROM captions "
                                 "WHERE photo_id = ? ORDER BY id");
    query.bindAll(photoId);
    while (query.step())
        out.push_back(
            {query.int64(0), query.int64(1), query.text(2), query.text(3), query.text(4), query.int64(5)});
    return out;
}

std::string normalizeTag(std::string_view tag)
{
    return collapseSpaces(tag);
}

namespace {

// A tag as stored: trimmed, and spelled like the one already in the catalog that differs only by case.
std::string storedSpelling(Db& db, std::string_view tag)
{
    std::string normal = normalizeTag(tag);
    PICTOR_CHECK(!normal.empty(), "a tag cannot be empty");
    auto existing = db.query("SELECT tag FROM tags WHERE tag = ? COLLATE NOCASE LIMIT 1");
    existing.bindAll(normal);
    return existing.step() ? existing.text(0) : normal;
}

} // namespace

void Catalog::addTag(std::int64_t photoId, std::string_view tag, std::string_view source)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    Savepoint savepoint(db);
    const std::string normal = storedSpelling(db, tag);
    db.query("INSERT INTO tags(photo_id, tag, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .bindAll(photoId, normal, source, unixNow())
        .run();
    bool changed = db.changes() > 0;
    if (source == kUserTagSource) { // a person's word replaces the model's (confirming a zero-shot tag)
        db.query("DELETE FROM tags WHERE photo_id = ? AND tag = ? COLLATE NOCASE AND source LIKE 'auto:%'")
            .bindAll(photoId, normal)
            .run();
        changed = changed || db.changes() > 0;
        db.query("DELETE FROM auto_tag_rejections WHERE photo_id = ? AND tag = ?")
            .bindAll(photoId, normal)
            .run();
    }
    if (changed)
        impl_->refreshSearchText(photoId);
    savepoint.release();
}

bool Catalog::removeTag(std::int64_t photoId, std::string_view tag)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    Savepoint savepoint(db);
    auto automatic = db.query(
        "SELECT 1 FROM tags WHERE photo_id = ? AND tag = ? COLLATE NOCASE AND source LIKE 'auto:%' LIMIT 1");
    automatic.bindAll(photoId, normalizeTag(tag));
    if (automatic.step())
        db.query("INSERT INTO auto_tag_rejections(photo_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bindAll(photoId, normalizeTag(tag))
            .run();
    db.query("DELETE FROM tags WHERE photo_id = ? AND tag = ? COLLATE NOCASE")
        .bindAll(photoId, normalizeTag(tag))
        .run();
    const bool removed = db.changes() > 0;
    if (removed)
        impl_->refreshSearchText(photoId);
    savepoint.release();
    return removed;
}

std::vector<std::pair<std::string, std::int64_t>> Catalog::tagCounts() const
{
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto query
        = impl_->db.query("SELECT min(tag), count(DISTINCT photo_id) FROM tags GROUP BY tag COLLATE NOCASE "
                          "ORDER BY tag COLLATE NOCASE");
    while (query.step())
        out.emplace_back(query.text(0), query.int64(1));
    return out;
}

std::vector<TagRecord> Catalog::tags(std::int64_t photoId) const
{
    std::vector<TagRecord> out;
    auto query = impl_->db.query("SELECT photo_id, tag, source, created_at, score, threshold FROM tags WHERE "
                                 "photo_id = ? ORDER BY created_at, tag, source");
    query.bindAll(photoId);
    while (query.step()) {
        TagRecord tag {
            query.int64(0), query.text(1), query.text(2), query.int64(3), std::nullopt, std::nullopt};
        if (!query.isNull(4))
            tag.score = query.real(4);
        if (!query.isNull(5))
            tag.threshold = query.real(5);
        out.push_back(std::move(tag));
    }
    return out;
}

bool Catalog::addAutoTag(
    std::int64_t photoId, std::string_view tag, std::string_view source, double score, double threshold)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    Savepoint savepoint(db);
    const std::string normal = storedSpelling(db, tag);
    // A photo removed since it was scored (the window's preview may be minutes old) is skipped.
    db.query("INSERT INTO tags(photo_id, tag, source, created_at, score, threshold) SELECT ?1, ?2, ?3, ?4, "
             "?5, ?6 "
             "WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?1) ON CONFLICT(photo_id, tag, source) DO UPDATE "
             "SET score = excluded.score, threshold = excluded.threshold")
        .bindAll(photoId, normal, source, unixNow(), score, threshold)
        .run();
    const bool added = db.changes() > 0;
    if (added)
        impl_->refreshSearchText(photoId);
    savepoint.release();
    return added;
}

std::int64_t Catalog::removeTagFromAll(std::string_view tag, std::string_view source)
{
    impl_->checkWritable();
    auto& db = impl_->db;
    Savepoint savepoint(db);
    std::vector<std::int64_t> photos;
    auto query = db.query("SELECT photo_id FROM tags WHERE tag = ? COLLATE NOCASE AND source = ?");
    query.bindAll(normalizeTag(tag), source);
    while (query.step())
        photos.push_back(query.int64(0));
    db.query("DELETE FROM tags WHERE tag = ? COLLATE NOCASE AND source = ?")
        .bindAll(normalizeTag(tag), source)
        .run();
    for (const auto id : photos)
        impl_->refreshSearchText(id);
    savepoint.release();
    return static_cast<std::int64_t>(photos.size());
}

std::vector<std::int64_t> Catalog::autoTagExclusions(std::string_view tag) const
{
    std::vector<std::int64_t> photos;
    auto query
        = impl_->db.query("SELECT photo_id FROM auto_tag_rejections WHERE tag = ?1 UNION SELECT photo_id "
                          "FROM tags WHERE tag = ?1 COLLATE NOCASE AND source = ?2 ORDER BY 1");
    query.bindAll(normalizeTag(tag), std::string_view(kUserTagSource));
    while (query.step())
        photos.push_back(query.int64(0));
    return photos;
}

void Catalog::saveAutoTagRule(const AutoTagRule& rule)
{
    impl_->checkWritable();
    std::string prompts;
    for (const auto& prompt : rule.prompts)
        prompts += (prompts.empty() ? "" : "\n") + normalizeTag(prompt); // one line each
    impl_->db
        .query("INSERT INTO auto_tag_rules(tag, prompts, model_id, threshold, created_at) VALUES (?, ?, ?, "
               "?, ?) "
               "ON CONFLICT(tag) DO UPDATE SET tag = excluded.tag, prompts = excluded.prompts, model_id = "
               "excluded.model_id, threshold = excluded.threshold, created_at = excluded.created_at")
        .bindAll(normalizeTag(rule.tag), prompts, rule.modelId, rule.threshold, unixNow())
        .run();
}

std::vector<AutoTagRule> Catalog::autoTagRules() const
{
    std::vector<AutoTagRule> rules;
    auto query = impl_->db.query("SELECT tag, prompts, model_id, threshold, created_at FROM auto_tag_rules "
                                 "ORDER BY tag COLLATE NOCASE");
    while (query.step()) {
        AutoTagRule rule {query.text(0), {}, query.text(2), query.real(3), query.int64(4)};
        std::stringstream prompts(query.text(1));
        for (std::string prompt; std::getline(prompts, prompt);)
            rule.prompts.push_back(prompt);
        rules.push_back(std::move(rule));
    }
    return rules;
}

bool Catalog::removeAutoTagRule(std::string_view tag)
{
    impl_->checkWritable();
    impl_->db.query("DELETE FROM auto_tag_rules WHERE tag = ?").bindAll(normalizeTag(tag)).run();
    return impl_->db.changes() > 0;
}

std::int64_t Catalog::addGeneration(const GenerationRow& g)
{
    impl_->checkWritable();
    std::optional<Transaction> transaction; // inside the caller's, when it has one (an index batch)
    if (!impl_->db.inTransaction())
        transaction.emplace(*this);
    if (g.photoId)
        impl_->db.query("DELETE FROM generations WHERE photo_id = ?").bindAll(*g.photoId).run();
    impl_->db
        .query(
            "INSERT INTO generations(prompt, params_json, photo_id, source_photo_id, source_path, model_id, "
            "query, created_at) VALUES (?, ?, ?, coalesce(?, (SELECT id FROM photos WHERE path = ?)), "
            "NULLIF(?, x''), ?, ?, ?)")
        .bindAll(g.prompt, g.paramsJson, g.photoId, g.sourcePhotoId, pathBlob(g.sourcePath),
            pathBlob(g.sourcePath), g.modelId, g.query, g.createdAt ? g.createdAt : unixNow())
        .run();
    const std::int64_t id = impl_->db.lastInsertId();
    if (g.photoId)
        impl_->refreshSearchText(*g.photoId, false); // the prompt is found like a caption
    if (transaction)
        transaction->commit();
    return id;
}

namespace {

constexpr const char* kGenerationColumns
    = "SELECT id, photo_id, source_photo_id, prompt, model_id, query, params_json, created_at, source_path "
      "FROM generations";

GenerationRow readGeneration(catalog_detail::Query& query)
{
    GenerationRow row;
    row.id = query.int64(0);
    if (!query.isNull(1))
        row.photoId = query.int64(1);
    if (!query.isNull(2))
        row.sourcePhotoId = query.int64(2);
    row.prompt = query.text(3);
    row.modelId = query.text(4);
    row.query = query.text(5);
    row.paramsJson = query.text(6);
    row.createdAt = query.int64(7);
    if (!query.isNull(8))
        row.sourcePath = query.path(8);
    return row;
}

} // namespace

void Catalog::linkGenerationSources()
{
    impl_->checkWritable();
    impl_->db
        .query("UPDATE generations SET source_photo_id = (SELECT id FROM photos WHERE photos.path = "
               "generations.source_path) WHERE source_photo_id IS NULL AND source_path IS NOT NULL")
        .run();
}

std::optional<GenerationRow> Catalog::generationOf(std::int64_t photoId) const
{
    auto query = impl_->db.query(strCat(kGenerationColumns, " WHERE photo_id = ? ORDER BY id DESC LIMIT 1"));
    query.bindAll(photoId);
    if (!query.step())
        return std::nullopt;
    return readGeneration(query);
}

std::vector<GenerationRow> Catalog::generationsFrom(std::int64_t sourcePhotoId) const
{
    std::vector<GenerationRow> out;
    auto query = impl_->db.query(strCat(kGenerationColumns, " WHERE source_photo_id = ? ORDER BY id"));
    query.bindAll(sourcePhotoId);
    while (query.step())
        out.push_back(readGeneration(query));
    return out;
}

} // namespace pictor
