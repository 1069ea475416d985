// Package listimport reads customer-list CSV files (L-1..L-3, L-6) and writes the
// error CSV of a refused import (L-4). It is pure: the database work is done elsewhere from the
// records it produces.
package listimport

import (
	"fmt"
	"strings"
)

// Encoding is the character encoding of an import file.
type Encoding string

// The encodings of L-1. SJIS is Windows-31J (Shift_JIS with the NEC and IBM extensions).
const (
	SJIS Encoding = "sjis"
	UTF8 Encoding = "utf-8"
)

// ParseEncoding maps a user-supplied encoding name to an Encoding; "" is the default, SJIS.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(s) {
	case "", "sjis", "shift_jis", "windows-31j", "cp932":
		return SJIS, nil
	case "utf-8", "utf8":
		return UTF8, nil
	}
	return "", fmt.Errorf("listimport: unknown encoding %q (want sjis or utf-8)", s)
}

// Contact is a valid record, ready to be stored.
type Contact struct {
	Name      string
	Kana      string
	Tel       string
	Remarks   string // the two characters `\n` turned into a line break
	PhoneType string // L-6, see PhoneType
	TimeZone  string // IANA zone of the optional time zone column; "" is the campaign's zone
}

// Problem is one reason a record or a file is refused.
type Problem struct {
	Line      int    // 1-based line where the record starts in the file (the header is line 1)
	Column    string // "name", "kana", "tel", "remarks", "time_zone", or "" for record- and file-level problems
	Code      string // machine-readable, e.g. "name_required"
	Message   string // Japanese, as in L-3
	MessageEn string // English
}

// Record is one data record of the file.
type Record struct {
	Line     int      // line where the record starts
	Fields   []string // the decoded fields exactly as read, for the error CSV
	Contact  Contact  // meaningful only when Problems is empty
	Problems []Problem
	// Tel is the tel column as validated: normalised when Options.NormalizeTel asked for it and
	// that changed it (TelNormalized), else as written.
	Tel           string
	TelNormalized bool
}

// FileError refuses a whole file: wrong or missing header, header without data, malformed CSV.
type FileError struct {
	Problem Problem
}

func (e *FileError) Error() string {
	return fmt.Sprintf("listimport: line %d: %s: %s", e.Problem.Line, e.Problem.Code, e.Problem.MessageEn)
}

// kind names one problem of the message table below.
type kind uint8

const (
	headerInvalid kind = iota
	headerOnly
	csvMalformed
	columnsMissing
	columnsExtra
	encodingInvalid
	nameRequired
	nameNull
	nameLength
	kanaRequired
	kanaNull
	kanaLength
	telRequired
	telNull
	telLength
	telLength30
	telFormat
	telLeadingZero
	remarksLength
	telDuplicate
	nameNUL
	kanaNUL
	telNUL
	remarksNUL
	rowTooLong
	encodingUTF16
	telDoNotCall
	timeZoneInvalid
	timeZoneNUL
)

// messages holds every problem; the Japanese texts of L-3 are normative and must not change.
// It is read-only.
var messages = [...]struct{ column, code, ja, en string }{
	headerInvalid:   {"", "header_invalid", "ヘッダーが正しくありません（name,kana,tel,remarks）", "the header must be name,kana,tel,remarks (remarks optional), optionally followed by time_zone"},
	headerOnly:      {"", "header_only", "ヘッダーのみでデータがありません", "the file has a header but no data"},
	csvMalformed:    {"", "csv_malformed", "CSVの形式が正しくありません", "the CSV is malformed"},
	columnsMissing:  {"", "columns_missing", "カラムの数がヘッダーの数より少ないです", "fewer columns than the header"},
	columnsExtra:    {"", "columns_extra", "カラムの数がヘッダーの数より多いです", "more columns than the header"},
	encodingInvalid: {"", "encoding_invalid", "文字コードが正しくありません", "invalid bytes for the file's character encoding"},
	nameRequired:    {"name", "name_required", "name:値がありません", "name: value is missing"},
	nameNull:        {"name", "name_null", "name:'null'は利用できない文字です", "name: 'null' is not allowed"},
	nameLength:      {"name", "name_length", "name:1文字から255文字までにしてください", "name: must be 1 to 255 characters"},
	kanaRequired:    {"kana", "kana_required", "kana:値がありません", "kana: value is missing"},
	kanaNull:        {"kana", "kana_null", "kana:'null'は利用できない文字です", "kana: 'null' is not allowed"},
	kanaLength:      {"kana", "kana_length", "kana:1文字から255文字までにしてください", "kana: must be 1 to 255 characters"},
	telRequired:     {"tel", "tel_required", "tel:値がありません", "tel: value is missing"},
	telNull:         {"tel", "tel_null", "tel:'null'は利用できない文字です", "tel: 'null' is not allowed"},
	telLength:       {"tel", "tel_length", "tel:1文字から255文字までにしてください", "tel: must be 1 to 255 characters"},
	telLength30:     {"tel", "tel_length_30", "tel:1文字から30文字までにしてください", "tel: must be 1 to 30 characters"},
	telFormat:       {"tel", "tel_format", "tel:書式が正しくありません", "tel: must be at least 9 half-width digits"},
	telLeadingZero:  {"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください", "tel: must start with 0"},
	remarksLength:   {"remarks", "remarks_length", "remarks:1文字から1000文字までにしてください", "remarks: must be at most 1000 characters"},
	telDuplicate:    {"tel", "tel_duplicate", "指定したバッチ内に同一の電話番号が既に登録されています", "tel: the number is already in this batch"},
	// A NUL byte is valid in both encodings but PostgreSQL text cannot hold it.
	nameNUL:    {"name", "name_nul", "name:NUL文字（0x00）は利用できません", "name: the NUL character (byte 0x00) is not allowed"},
	kanaNUL:    {"kana", "kana_nul", "kana:NUL文字（0x00）は利用できません", "kana: the NUL character (byte 0x00) is not allowed"},
	telNUL:     {"tel", "tel_nul", "tel:NUL文字（0x00）は利用できません", "tel: the NUL character (byte 0x00) is not allowed"},
	remarksNUL: {"remarks", "remarks_nul", "remarks:NUL文字（0x00）は利用できません", "remarks: the NUL character (byte 0x00) is not allowed"},
	// %d is Limits.MaxRowBytes.
	encodingUTF16: {"", "encoding_unsupported", "UTF-16のファイルは取り込めません。Shift_JISかUTF-8で保存してください", "UTF-16 files are not supported: save the file as Shift_JIS or UTF-8"},
	rowTooLong:    {"", "row_too_long", "1行が長すぎます（引用符内の改行を含めて%dバイトまで）", "the row is longer than %d bytes (line breaks inside quotes included)"},
	// Issue 14: found by the database layer when system.do_not_call.on_import is refuse.
	telDoNotCall: {"tel", "tel_do_not_call", "tel:発信禁止リストに登録されている番号です", "tel: the number is on a do-not-call list"},
	// Issue 14 item 2: the optional per-contact zone.
	timeZoneInvalid: {"time_zone", "time_zone_invalid", "time_zone:タイムゾーンが正しくありません（例: Asia/Tokyo）", "time_zone: not an IANA time zone name (e.g. Asia/Tokyo)"},
	timeZoneNUL:     {"time_zone", "time_zone_nul", "time_zone:NUL文字（0x00）は利用できません", "time_zone: the NUL character (byte 0x00) is not allowed"},
}

func newProblem(line int, k kind) Problem {
	m := &messages[k]
	return Problem{Line: line, Column: m.column, Code: m.code, Message: m.ja, MessageEn: m.en}
}

func fileError(line int, k kind) *FileError {
	return &FileError{Problem: newProblem(line, k)}
}

// DuplicateProblem is the L-3 problem of a number already in the batch; the database layer finds
// those.
func DuplicateProblem(line int) Problem {
	return newProblem(line, telDuplicate)
}

// DoNotCallProblem is the problem of a number on a do-not-call list, when the configuration
// refuses such rows at import (issue 14 item 1); the database layer finds those.
func DoNotCallProblem(line int) Problem {
	return newProblem(line, telDoNotCall)
}
