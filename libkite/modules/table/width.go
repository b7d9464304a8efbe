package table

import (
	"unicode"
	"unicode/utf8"
)

// DisplayWidth is the number of terminal columns s occupies, for aligning
// table cells. ASCII counts one column per byte (so ASCII tables are laid
// out exactly as the spec's byte-width rule says); beyond ASCII:
//
//   - 0 columns: nonspacing and enclosing marks (Mn, Me — combining
//     accents, variation selectors U+FE00–FE0F), format characters (Cf —
//     ZERO WIDTH JOINER, ZERO WIDTH SPACE, …), C1 controls, Hangul medial
//     and final jamo U+1160–11FF and U+D7B0–D7FF, emoji skin-tone
//     modifiers U+1F3FB–1F3FF, any character directly after a ZWJ (the
//     tail of an emoji ZWJ sequence) and the second regional indicator of
//     a flag pair;
//   - 2 columns: East Asian Wide and Fullwidth characters and emoji with
//     default emoji presentation (the ranges in wideRanges, taken from
//     Unicode 15 EastAsianWidth.txt W/F, merged and rounded to whole
//     blocks where the block is overwhelmingly wide), and a narrow
//     character followed by VARIATION SELECTOR-16 (emoji presentation);
//   - 1 column: everything else (including ambiguous-width characters,
//     which are narrow outside East Asian locales).
//
// It is an approximation of what terminals do (no full grapheme
// segmentation), adequate for aligning columns.
func DisplayWidth(s string) int {
	w := 0
	prev := rune(-1) // previous rune, for ZWJ sequences and VS16
	prevW := 0       // columns the previous rune took
	openRI := false  // the previous rune opened a regional-indicator pair
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			w++
			i++
			prev, prevW, openRI = rune(c), 1, false
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		isRI := r >= 0x1F1E6 && r <= 0x1F1FF
		var rw int
		switch {
		case prev == 0x200D: // tail of a ZWJ sequence joins the previous glyph
		case r == 0xFE0F: // VS16 widens a narrow character to emoji presentation
			if prevW == 1 {
				rw = 1
			}
		case isRI: // regional indicators pair into one two-column flag
			if !openRI {
				rw = 2
			}
		default:
			rw = RuneWidth(r)
		}
		openRI = isRI && !openRI
		w += rw
		prev, prevW = r, rw
	}
	return w
}

// RuneWidth is the column width of one rune in isolation: 0, 1 or 2 (see
// DisplayWidth for the classes).
func RuneWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7F:
		return 1 // ASCII controls: one byte, one cell, as for all ASCII
	case r < 0x7F:
		return 1
	case r < 0xA0:
		return 0 // C1 controls
	case r >= 0x1160 && r <= 0x11FF, r >= 0xD7B0 && r <= 0xD7FF:
		return 0 // conjoining Hangul medial/final jamo
	case r >= 0x1F3FB && r <= 0x1F3FF:
		return 0 // emoji skin-tone modifiers
	case isWide(r):
		if r >= 0x302A && r <= 0x302D || r == 0x3099 || r == 0x309A {
			return 0 // the combining marks inside the wide CJK blocks
		}
		return 2
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	return 1
}

// wideRanges lists the two-column code points, sorted and disjoint.
var wideRanges = [][2]rune{
	{0x1100, 0x115F},   // Hangul Jamo initial consonants
	{0x231A, 0x231B},   // watch, hourglass
	{0x2329, 0x232A},   // angle brackets
	{0x23E9, 0x23EC},   // media control emoji
	{0x23F0, 0x23F0},   // alarm clock
	{0x23F3, 0x23F3},   // hourglass flowing
	{0x25FD, 0x25FE},   // medium small squares
	{0x2614, 0x2615},   // umbrella with rain, hot beverage
	{0x2648, 0x2653},   // zodiac signs
	{0x267F, 0x267F},   // wheelchair
	{0x2693, 0x2693},   // anchor
	{0x26A1, 0x26A1},   // high voltage
	{0x26AA, 0x26AB},   // medium circles
	{0x26BD, 0x26BE},   // soccer ball, baseball
	{0x26C4, 0x26C5},   // snowman, sun behind cloud
	{0x26CE, 0x26CE},   // ophiuchus
	{0x26D4, 0x26D4},   // no entry
	{0x26EA, 0x26EA},   // church
	{0x26F2, 0x26F3},   // fountain, golf
	{0x26F5, 0x26F5},   // sailboat
	{0x26FA, 0x26FA},   // tent
	{0x26FD, 0x26FD},   // fuel pump
	{0x2705, 0x2705},   // check mark button
	{0x270A, 0x270B},   // raised fist, raised hand
	{0x2728, 0x2728},   // sparkles
	{0x274C, 0x274C},   // cross mark
	{0x274E, 0x274E},   // cross mark button
	{0x2753, 0x2755},   // question/exclamation ornaments
	{0x2757, 0x2757},   // exclamation mark
	{0x2795, 0x2797},   // heavy plus/minus/division
	{0x27B0, 0x27B0},   // curly loop
	{0x27BF, 0x27BF},   // double curly loop
	{0x2B1B, 0x2B1C},   // large squares
	{0x2B50, 0x2B50},   // star
	{0x2B55, 0x2B55},   // heavy circle
	{0x2E80, 0x303E},   // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
	{0x3041, 0x33FF},   // Hiragana, Katakana, Bopomofo, Hangul compatibility jamo, Kanbun, CJK strokes, enclosed CJK, CJK compatibility
	{0x3400, 0x4DBF},   // CJK Unified Ideographs Extension A
	{0x4E00, 0x9FFF},   // CJK Unified Ideographs
	{0xA000, 0xA4CF},   // Yi syllables and radicals
	{0xA960, 0xA97F},   // Hangul Jamo Extended-A
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK Compatibility Ideographs
	{0xFE10, 0xFE19},   // vertical forms
	{0xFE30, 0xFE6F},   // CJK compatibility forms, small form variants
	{0xFF00, 0xFF60},   // fullwidth ASCII variants
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x16FE0, 0x16FE4}, // ideographic symbols
	{0x17000, 0x18CFF}, // Tangut, Khitan
	{0x1AFF0, 0x1B2FF}, // Kana extended/supplement, Nushu
	{0x1F004, 0x1F004}, // mahjong red dragon
	{0x1F0CF, 0x1F0CF}, // playing card black joker
	{0x1F18E, 0x1F18E}, // AB button
	{0x1F191, 0x1F19A}, // squared CL … VS
	{0x1F200, 0x1F202}, // enclosed ideographic supplement
	{0x1F210, 0x1F23B},
	{0x1F240, 0x1F248},
	{0x1F250, 0x1F251},
	{0x1F260, 0x1F265},
	{0x1F300, 0x1F64F}, // misc symbols and pictographs, emoticons
	{0x1F680, 0x1F6FF}, // transport and map symbols
	{0x1F7E0, 0x1F7EB}, // large coloured circles and squares
	{0x1F90C, 0x1F9FF}, // supplemental symbols and pictographs
	{0x1FA70, 0x1FAFF}, // symbols and pictographs extended-A
	{0x20000, 0x2FFFD}, // CJK Extensions B–F, compatibility supplement
	{0x30000, 0x3FFFD}, // CJK Extensions G–H
}

func isWide(r rune) bool {
	if r < wideRanges[0][0] {
		return false
	}
	lo, hi := 0, len(wideRanges)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < wideRanges[m][0]:
			hi = m
		case r > wideRanges[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}
