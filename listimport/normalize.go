package listimport

import "strings"

// NormalizeTel brings a phone number written by hand into the form contacts and do-not-call
// lists store: full-width digits become ASCII digits; hyphens and dashes of every width,
// spaces (ASCII and ideographic), parentheses and dots are removed; an international Japanese
// prefix (+81, 81 after a +, or 0081) becomes the national 0. It reports whether anything
// changed. It does not validate: the caller checks the result as it checks any number, so a
// number that stays invalid is reported as written.
func NormalizeTel(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '+' || r == '＋':
			if b.Len() > 0 || plus {
				return s, false // a plus inside the number: not a number we can read
			}
			plus = true
		case isTelSeparator(r):
		default:
			return s, false // letters or other signs: left to validation as written
		}
	}
	out := b.String()
	switch {
	case plus && strings.HasPrefix(out, "81"):
		out = "0" + strings.TrimPrefix(out[2:], "0")
	case plus:
		return s, false // another country's number: not ours to rewrite
	case strings.HasPrefix(out, "0081"):
		out = "0" + strings.TrimPrefix(out[4:], "0")
	}
	return out, out != s
}

// isTelSeparator: the characters people put between the groups of a phone number.
func isTelSeparator(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', '－', 'ｰ', 'ー',
		' ', '\t', '\u3000', '(', ')', '（', '）', '.', '．':
		return true
	}
	return false
}
