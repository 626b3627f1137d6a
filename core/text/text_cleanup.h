// The text cleanup of Hugging Face's slow CLIPTokenizer when ftfy is installed:
//     whitespace_clean(ftfy.fix_text(text)).lower()
#pragma once

#include <string>
#include <string_view>

namespace pictor::text {

// ftfy 6.3 `fix_text` with its default configuration, minus mojibake repair.
//
// Like ftfy, the text is fixed one line at a time (a segment ends after each '\n', and is at most
// 1,000,000 code points); HTML references are decoded only in the lines before the first line that
// contains a literal '<' (ftfy's unescape_html="auto"). Each segment then goes through these fixers,
// in ftfy's order, repeated until the segment no longer changes:
//   unescape_html, fix_c1_controls (U+0080..U+009F read as Windows-1252), fix_latin_ligatures (ﬁ -> fi,
//   ĳ -> ij, Ǆ -> DŽ, ...), fix_character_width (U+3000 and the U+FF01..U+FFEF halfwidth/fullwidth forms
//   to their NFKC form), uncurl_quotes (U+02BC, U+2018..U+201B -> ', U+201C..U+201F -> "),
//   fix_line_breaks (CR LF, CR, U+2028, U+2029, U+0085 -> LF), remove_terminal_escapes
//   (ESC '[' digits/';' letter), remove_control_chars (U+0000..U+0008, U+000B, U+000E..U+001F, U+007F,
//   U+206A..U+206F, U+FEFF, U+FFF9..U+FFFC), then NFC normalisation.
//
// Not reproduced: ftfy's `fix_encoding` (mojibake detection and re-decoding, e.g. "cafÃ©" -> "café"),
// which only changes text that its badness heuristic flags as mis-decoded UTF-8. fix_surrogates has
// nothing to do here: text decoded from UTF-8 holds no surrogates.
std::u32string ftfyFixText(std::u32string_view text);

// whitespace_clean: every run of `regex` \s (Unicode White_Space) becomes one space, then Python's
// str.strip() (which also strips U+001C..U+001F).
std::u32string whitespaceClean(std::u32string_view text);

// whitespace_clean(ftfyFixText(text)) lower-cased like Python's str.lower().
std::u32string clipCleanText(std::u32string_view text);

} // namespace pictor::text
