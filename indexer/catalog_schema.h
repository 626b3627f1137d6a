// Internal to the catalog: the schema as an ordered list of migrations.
#pragma once

#include <span>

namespace pictor::catalog_detail {

class Db;

// PRAGMA application_id of a Pictor catalog ("Pict").
constexpr int kApplicationId = 0x50696374;

struct Migration {
    int version; // user_version after this step; steps are numbered 1, 2, ... without gaps
    const char* sql;
};

std::span<const Migration> catalogMigrations();
int latestSchemaVersion();

// Applies the steps above the file's user_version in order, each in its own IMMEDIATE transaction
// (re-reading the version inside it, so two processes migrating at once apply each step once).
void applyMigrations(Db& db, std::span<const Migration> migrations);

} // namespace pictor::catalog_detail
