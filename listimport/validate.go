package listimport

import (
	"strings"
	"unicode/utf8"
)

// Phone types of L-6.
const (
	PhoneMobile   = "mobile"
	PhonePager    = "pager"
	PhoneIP       = "ip"
	PhoneTollFree = "toll_free"
	PhoneLandline = "landline"
)

// phonePrefixes is the L-6 table; the longest matching prefix wins. digits, when set, is the
// length the prefix needs: 0800 toll-free numbers have 10 digits, so the 11-digit 080-0… is a
// mobile. It is read-only.
var phonePrefixes = [...]struct {
	prefix    string
	digits    int
	phoneType string
}{
	{"070", 0, PhoneMobile},
	{"080", 0, PhoneMobile},
	{"090", 0, PhoneMobile},
	{"020", 0, PhonePager},
	{"050", 0, PhoneIP},
	{"0120", 0, PhoneTollFree},
	{"0800", 10, PhoneTollFree},
}

// PhoneType classifies a Japanese number by its prefix (L-6); anything unlisted is a landline.
func PhoneType(tel string) string {
	best, typ := 0, PhoneLandline
	for _, p := range phonePrefixes {
		if len(p.prefix) > best && strings.HasPrefix(tel, p.prefix) && (p.digits == 0 || len(tel) == p.digits) {
			best, typ = len(p.prefix), p.phoneType
		}
	}
	return typ
}

// Limits of L-2, in characters.
const (
	maxName    = 255
	maxTel     = 30
	maxRemarks = 1000
	minDigits  = 9
)

// validate fills rec.Problems, or rec.Contact when there are none.
func (r *Reader) validate(rec *Record, badEncoding bool) {
	f, l := rec.Fields, r.layout
	if len(f) < l.width {
		// The fields cannot be matched to columns, so nothing else is meaningful.
		rec.Problems = append(rec.Problems, newProblem(rec.Line, columnsMissing))
		return
	}
	if len(f) > l.width {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, columnsExtra))
	}
	if badEncoding {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, encodingInvalid))
	}
	rec.checkText(f[0], nameRequired, nameNull, nameLength, nameNUL)
	rec.checkText(f[1], kanaRequired, kanaNull, kanaLength, kanaNUL)
	rec.Tel = f[2]
	if r.opts.NormalizeTel {
		rec.Tel, rec.TelNormalized = NormalizeTel(f[2])
	}
	rec.checkTel(rec.Tel)
	remarks := ""
	if l.remarks >= 0 {
		remarks = f[l.remarks]
		rec.checkNUL(remarks, remarksNUL)
		if strings.Contains(remarks, `\n`) {
			remarks = strings.ReplaceAll(remarks, `\n`, "\n")
		}
		if tooLong(remarks, maxRemarks) {
			rec.Problems = append(rec.Problems, newProblem(rec.Line, remarksLength))
		}
	}
	zone := ""
	if l.timeZone >= 0 {
		zone = f[l.timeZone]
		switch {
		case strings.IndexByte(zone, 0) >= 0:
			rec.Problems = append(rec.Problems, newProblem(rec.Line, timeZoneNUL))
		case zone != "" && !r.zones.valid(zone):
			rec.Problems = append(rec.Problems, newProblem(rec.Line, timeZoneInvalid))
		}
	}
	if len(rec.Problems) == 0 {
		rec.Contact = Contact{Name: f[0], Kana: f[1], Tel: rec.Tel, Remarks: remarks, PhoneType: PhoneType(rec.Tel), TimeZone: zone}
	}
}

// tooLong counts characters, not bytes, but only when the byte length could exceed limit.
func tooLong(s string, limit int) bool {
	return len(s) > limit && utf8.RuneCountInString(s) > limit
}

// checkNUL refuses a NUL byte, which PostgreSQL text cannot hold.
func (rec *Record) checkNUL(s string, nul kind) {
	if strings.IndexByte(s, 0) >= 0 {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, nul))
	}
}

func (rec *Record) checkText(s string, required, null, length, nul kind) {
	rec.checkNUL(s, nul)
	switch {
	case s == "":
		rec.Problems = append(rec.Problems, newProblem(rec.Line, required))
	case s == "null":
		rec.Problems = append(rec.Problems, newProblem(rec.Line, null))
	case tooLong(s, maxName):
		rec.Problems = append(rec.Problems, newProblem(rec.Line, length))
	}
}

// checkTel reports every tel problem that applies; the number is taken as is (full-width digits
// or spaces are format errors, not normalised).
func (rec *Record) checkTel(s string) {
	switch s {
	case "":
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telRequired))
		return
	case "null":
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telNull))
		return
	}
	rec.checkNUL(s, telNUL)
	if tooLong(s, maxName) {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telLength))
	} else if tooLong(s, maxTel) {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telLength30))
	}
	digits := len(s) >= minDigits
	for i := 0; i < len(s) && digits; i++ {
		digits = '0' <= s[i] && s[i] <= '9'
	}
	if !digits {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telFormat))
	}
	// A full-width ０ is a leading zero written in the wrong width: the format error says so,
	// "put a 0 first" would mislead (issue 14 item 6).
	if s[0] != '0' && !strings.HasPrefix(s, "０") {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, telLeadingZero))
	}
}
