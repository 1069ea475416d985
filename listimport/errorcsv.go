package listimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// ErrorCSVWriter writes the error CSV of L-4: the input's rows, in the input's encoding, with an
// error column appended. A cell a spreadsheet would run as a formula is neutralised as in every
// CSV kakeru writes (NeutralizeCell).
//
// Rows end in CRLF, for Excel; a UTF-8 file starts with a byte order mark, without which Japanese
// Excel reads it as Shift_JIS. Shift_JIS is written as Windows does: IBM extension kanji such as
// 髙 come out as the IBM codes (FB FC) that Excel writes, not as the NEC-selected duplicates
// (EE E0) x/text prefers. Characters Windows-31J cannot hold (only U+FFFD of undecodable input)
// become '?'.
type ErrorCSVWriter struct {
	out     *bufio.Writer
	written int // bytes, the byte order mark included
	max     int // 0: no limit
	full    bool
	ncols   int
	sjis    transform.Transformer // nil for UTF-8
	row     bytes.Buffer          // one row in UTF-8
	csv     *csv.Writer           // writes into row
	cells   []string
	sjisRow []byte // one row in Shift_JIS
}

// NewErrorCSVWriter writes the header, with an "error" column appended.
func NewErrorCSVWriter(w io.Writer, enc Encoding, header []string) (*ErrorCSVWriter, error) {
	e, err := ParseEncoding(string(enc))
	if err != nil {
		return nil, err
	}
	ew := &ErrorCSVWriter{out: bufio.NewWriterSize(w, 64<<10), ncols: len(header)}
	ew.csv = csv.NewWriter(&ew.row)
	if e == SJIS {
		ew.sjis = japanese.ShiftJIS.NewEncoder()
	} else if _, err := ew.out.WriteString("\uFEFF"); err != nil {
		return nil, err
	} else {
		ew.written = len("\uFEFF")
	}
	cells := append(append([]string(nil), header...), "error")
	if err := ew.writeRow(cells, false); err != nil {
		return nil, err
	}
	return ew, nil
}

// NeutralizeCell is a CSV cell as kakeru writes it for spreadsheets: a value that starts with
// = + - @, a tab or a carriage return gets a leading apostrophe, so that Excel never runs it as a
// formula (CSV injection). results.csv and the error CSV share it.
func NeutralizeCell(v string) string {
	if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// ErrErrorCSVFull is Write's answer to a row that would take the CSV past its limit.
var ErrErrorCSVFull = errors.New("listimport: the error CSV is at its size limit")

// maxErrorCell is the characters an input cell keeps in the error CSV: L-2's longest value, so
// that no valid value is ever cut.
const maxErrorCell = maxRemarks

// omittedNote ends an error CSV cut at its limit, in the error column; %d are the limit in bytes
// and the first line left out.
const omittedNote = "エラーCSVが上限（%dバイト）に達したため、%d行目以降の行は省略しました"

// SetMaxBytes bounds the CSV to n bytes, the byte order mark and the header included (0: no
// limit). Room for WriteOmitted's row is kept.
func (w *ErrorCSVWriter) SetMaxBytes(n int) {
	w.max = n
}

// Write writes one input row and its problems, joined with " / " (empty when it had none). A
// row shorter than the header is padded so that the messages land in the error column. Cells
// longer than 1,000 characters are cut there and end in "…". A row that would take the CSV
// past its limit is not written: Write returns ErrErrorCSVFull, then and ever after.
func (w *ErrorCSVWriter) Write(fields []string, messages []string) error {
	if w.full {
		return ErrErrorCSVFull
	}
	w.cells = w.cells[:0]
	for _, f := range fields {
		w.cells = append(w.cells, NeutralizeCell(cutCell(f)))
	}
	for len(w.cells) < w.ncols {
		w.cells = append(w.cells, "")
	}
	w.cells = append(w.cells, strings.Join(messages, " / "))
	return w.writeRow(w.cells, true)
}

// WriteOmitted ends a CSV that reached its limit with a row whose error column says that the
// rows from line on were left out.
func (w *ErrorCSVWriter) WriteOmitted(line int) error {
	cells := make([]string, w.ncols+1)
	cells[w.ncols] = fmt.Sprintf(omittedNote, w.max, line)
	return w.writeRow(cells, false)
}

// omittedRoom is kept for WriteOmitted's row: commas and at most a hundred bytes of text.
const omittedRoom = 256

// cutCell keeps the first maxErrorCell characters of s (invalid UTF-8 bytes count one each).
func cutCell(s string) string {
	if len(s) <= maxErrorCell {
		return s
	}
	n := 0
	for i := range s {
		if n == maxErrorCell {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Flush writes any buffered data to the underlying writer.
func (w *ErrorCSVWriter) Flush() error {
	return w.out.Flush()
}

// writeRow writes cells, or returns ErrErrorCSVFull when bounded and they do not fit.
func (w *ErrorCSVWriter) writeRow(cells []string, bounded bool) error {
	// csv.Writer with UseCRLF would drop a lone CR inside a field; write LF and fix the end.
	w.row.Reset()
	if err := w.csv.Write(cells); err != nil {
		return err
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	b := w.row.Bytes()
	b = append(b[:len(b)-1], '\r', '\n')
	if w.sjis != nil {
		w.sjisRow = encodeSJIS(w.sjisRow[:0], b, w.sjis)
		b = w.sjisRow
	}
	if bounded && w.max > 0 && w.written+len(b)+omittedRoom > w.max {
		w.full = true
		return ErrErrorCSVFull
	}
	w.written += len(b)
	_, err := w.out.Write(b)
	return err
}

// encodeSJIS appends src, UTF-8, to dst in Windows-31J, '?' for what it cannot hold.
func encodeSJIS(dst, src []byte, t transform.Transformer) []byte {
	start := len(dst)
	for len(src) > 0 {
		dst = grow(dst, len(src)) // Shift_JIS is never longer than UTF-8
		n, m, err := t.Transform(dst[len(dst):cap(dst)], src, true)
		dst, src = dst[:len(dst)+n], src[m:]
		if err == transform.ErrShortDst || err == nil {
			continue
		}
		// An unsupported rune or invalid UTF-8 stops the encoder at it; replace and go on.
		_, size := utf8.DecodeRune(src)
		dst, src = append(dst, '?'), src[size:]
	}
	windowsIBM(dst[start:])
	return dst
}

// windowsIBM rewrites, in place, the NEC-selected IBM extensions (lead bytes ED, EE) that x/text
// emits into the IBM extensions (FA-FC) that Windows emits for the same characters. Both rows
// hold the 360 kanji in the same order; the 14 non-kanji after them map as in Microsoft's CP932.
func windowsIBM(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x81 || (0xa0 <= c && c < 0xe0) { // one-byte character
			continue
		}
		if i+1 < len(b) && (c == 0xed || c == 0xee) {
			t := int(b[i+1]) - 0x40
			if b[i+1] > 0x7f {
				t--
			}
			n := int(c-0xed)*188 + t // cell in the NEC-selected rows
			j := -1                  // cell in the IBM rows
			switch {
			case n < 360:
				j = n + 28 // kanji start at FA5C
			case 362 <= n && n <= 371: // ⅰ..ⅹ
				j = n - 362
			case n == 372: // ￢ is in JIS X 0208
				b[i], b[i+1] = 0x81, 0xca
			case 373 <= n && n <= 375: // ￤＇＂
				j = n - 373 + 21
			}
			if j >= 0 {
				tr := byte(j%188) + 0x40
				if tr >= 0x7f {
					tr++
				}
				b[i], b[i+1] = 0xfa+byte(j/188), tr
			}
		}
		i++ // skip the trail byte
	}
}

// WriteErrorCSV reads an import file again and writes its error CSV: every row with its
// problems, plus the duplicate problem for the lines in dupLines, which the database found. The
// CSV stays within lim.MaxErrorCSVBytes: omitted is the line of the first row left out, and 0
// when none was.
func WriteErrorCSV(w io.Writer, src io.Reader, enc Encoding, dupLines map[int]bool, lim Limits) (omitted int, err error) {
	found := make(map[int]Found, len(dupLines))
	for line, dup := range dupLines {
		if dup {
			found[line] = FoundDuplicate
		}
	}
	return WriteErrorCSVWith(w, src, enc, found, lim, Options{})
}

// Found is what the database found wrong with a line: a set of these flags, a byte a line so
// that a file whose every line has one still takes little memory.
type Found uint8

// The problems of a line the database layer finds.
const (
	FoundDuplicate Found = 1 << iota // DuplicateProblem
	FoundDoNotCall                   // DoNotCallProblem
)

// WriteErrorCSVWith is WriteErrorCSV for a file read with opts (as the import read it, so that
// its rows get the same problems), with the problems the database found by line (duplicates,
// numbers on a do-not-call list), written after the row's own.
func WriteErrorCSVWith(w io.Writer, src io.Reader, enc Encoding, found map[int]Found, lim Limits, opts Options) (omitted int, err error) {
	r := NewReaderWith(src, enc, lim, opts)
	header, err := r.Header()
	if err != nil {
		return 0, err
	}
	ew, err := NewErrorCSVWriter(w, r.Encoding(), header)
	if err != nil {
		return 0, err
	}
	ew.SetMaxBytes(lim.errorCSVBytes())
	var msgs []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		msgs = msgs[:0]
		for _, p := range rec.Problems {
			msgs = append(msgs, p.Message)
		}
		if f := found[rec.Line]; f&FoundDuplicate != 0 {
			msgs = append(msgs, messages[telDuplicate].ja)
		}
		if f := found[rec.Line]; f&FoundDoNotCall != 0 {
			msgs = append(msgs, messages[telDoNotCall].ja)
		}
		err = ew.Write(rec.Fields, msgs)
		if err == ErrErrorCSVFull {
			if err := ew.WriteOmitted(rec.Line); err != nil {
				return 0, err
			}
			return rec.Line, ew.Flush()
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, ew.Flush()
}
