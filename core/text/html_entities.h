// ftfy's `unescape_html` fixer: decodes HTML character references in plain text.
#pragma once

#include <string>
#include <string_view>

namespace pictor::text {

// Replaces every match of ftfy's pattern `&#?[0-9A-Za-z]{1,24};` (ASCII letters and digits only):
//  * a named reference found in the table generated from Python's html.entities.html5 (names ending
//    in ';', plus ftfy's upper-cased spellings such as "&EACUTE;"; see tools/generate_html_entities.py);
//  * a numeric reference "&#123;" / "&#x7B;" whose whole body is decimal or hexadecimal, decoded like
//    Python's html.unescape (C1 numbers as Windows-1252, invalid ones as U+FFFD or nothing), unless the
//    result contains ';' (ftfy then keeps the original, so "&#59;" stays as written).
// Anything else is left as written. One pass: "&amp;amp;" becomes "&amp;" (fix_text loops).
std::u32string unescapeHtml(std::u32string_view text);

} // namespace pictor::text
