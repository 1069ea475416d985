package listimport

import (
	"io"
	"strings"
)

// A do-not-call list file (N-1): a header 電話番号[,理由] or tel[,reason], then one number a
// row with an optional reason, in Shift_JIS or UTF-8 like a customer list. It is read by the
// same Reader (encodings, CSV syntax, row length limit, line numbers); only the header and the
// checks of a record differ. Numbers are normalised (NormalizeTel) before they are checked.

// MaxDNCReason is the longest reason, in characters.
const MaxDNCReason = 500

// The header names, either language's.
var dncHeaders = [2][2]string{{"電話番号", "理由"}, {"tel", "reason"}}

func validDNCHeader(header []string) bool {
	if len(header) < 1 || len(header) > 2 {
		return false
	}
	for _, names := range dncHeaders {
		if header[0] == names[0] && (len(header) == 1 || header[1] == names[1]) {
			return true
		}
	}
	return false
}

// DNCRecord is one row of a do-not-call list file.
type DNCRecord struct {
	Line     int
	Fields   []string // as read, decoded
	Tel      string   // normalised; meaningful only when Problems is empty
	Reason   string
	Problems []Problem
}

// DNCReader streams the records of a do-not-call list file.
type DNCReader struct{ r *Reader }

// NewDNCReader reads a do-not-call list file in enc (any name ParseEncoding accepts).
func NewDNCReader(src io.Reader, enc Encoding, lim Limits) *DNCReader {
	r := NewReaderLimits(src, enc, lim)
	r.headerOK = validDNCHeader
	r.headerErr = func(line int) *FileError {
		return &FileError{Problem: Problem{Line: line, Code: "header_invalid",
			Message:   "ヘッダーが正しくありません（電話番号,理由 または tel,reason、理由は省略可）",
			MessageEn: "the header must be 電話番号,理由 or tel,reason (the reason column is optional)"}}
	}
	r.check = validateDNC
	return &DNCReader{r: r}
}

// Encoding reports the encoding in use, final once Next has been called.
func (d *DNCReader) Encoding() Encoding { return d.r.Encoding() }

// Next returns the next record, or io.EOF after the last; a record with problems is returned
// with them. The errors are I/O errors and *FileError, and they end reading.
func (d *DNCReader) Next() (*DNCRecord, error) {
	rec, err := d.r.Next()
	if err != nil {
		return nil, err
	}
	return &DNCRecord{Line: rec.Line, Fields: rec.Fields, Tel: rec.Contact.Tel, Reason: rec.Contact.Remarks,
		Problems: rec.Problems}, nil
}

// validateDNC checks a do-not-call row; a valid one leaves its normalised number in
// rec.Contact.Tel and its reason in rec.Contact.Remarks (DNCReader.Next moves them).
func validateDNC(rec *Record, ncols int, badEncoding bool) {
	f := rec.Fields
	if len(f) < ncols {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, columnsMissing))
		return
	}
	if len(f) > ncols {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, columnsExtra))
	}
	if badEncoding {
		rec.Problems = append(rec.Problems, newProblem(rec.Line, encodingInvalid))
	}
	// After normalisation a number is checked as a customer list's: required, digits only, at
	// least 9, at most 30, the leading 0.
	tel, _ := NormalizeTel(strings.TrimSpace(f[0]))
	rec.checkTel(tel)
	reason := ""
	if ncols > 1 {
		reason = f[1]
		if strings.IndexByte(reason, 0) >= 0 {
			rec.Problems = append(rec.Problems, Problem{Line: rec.Line, Column: "reason", Code: "reason_nul",
				Message: "理由:NUL文字（0x00）は利用できません", MessageEn: "reason: the NUL character (byte 0x00) is not allowed"})
		}
		if tooLong(reason, MaxDNCReason) {
			rec.Problems = append(rec.Problems, Problem{Line: rec.Line, Column: "reason", Code: "reason_length",
				Message: "理由:500文字までにしてください", MessageEn: "reason: must be at most 500 characters"})
		}
	}
	if len(rec.Problems) == 0 {
		rec.Contact = Contact{Tel: tel, Remarks: reason}
	}
}
