package listimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Reader streams the records of an import file. It parses the CSV on the raw bytes and decodes
// each record afterwards: every Shift_JIS trail byte is >= 0x40, so a comma, quote or line
// break byte is never part of a character, and decoding field by field gives the same text as
// decoding the stream first, at a fraction of the cost.
type Reader struct {
	src     *bufio.Reader
	csv     *csv.Reader
	enc     Encoding
	encErr  error
	sjis    transform.Transformer // nil for UTF-8
	header  []string              // decoded
	layout  layout
	opts    Options
	zones   zoneCache
	started bool
	err     error // sticky: io.EOF, an I/O error or a *FileError
	count   int   // data records returned so far

	// Another file format read with the same machinery (a do-not-call list's, dnc.go); nil: a
	// customer list's (parseHeader, validate). headerOK sees the decoded header fields.
	headerOK  func(header []string) bool
	headerErr func(line int) *FileError
	check     func(rec *Record, ncols int, badEncoding bool)

	raw, decoded []byte // decoding scratch
	// Records and their field slices are carved from blocks, saving two allocations a row; a
	// record kept by the caller keeps its block (some kilobytes) alive.
	records []Record
	fields  []string
}

const (
	recordBlock = 128
	fieldBlock  = 1024
)

// NewReader reads an import file in enc (any name ParseEncoding accepts) with the default
// Limits. A UTF-8 byte order mark switches SJIS to UTF-8.
func NewReader(r io.Reader, enc Encoding) *Reader {
	return NewReaderLimits(r, enc, Limits{})
}

// NewReaderLimits is NewReader with lim.MaxRowBytes: a longer record ends reading with a
// *FileError (row_too_long) once the records before it are read.
func NewReaderLimits(r io.Reader, enc Encoding, lim Limits) *Reader {
	return NewReaderWith(r, enc, lim, Options{})
}

// NewReaderWith is NewReaderLimits with Options.
func NewReaderWith(r io.Reader, enc Encoding, lim Limits, opts Options) *Reader {
	e, err := ParseEncoding(string(enc))
	return &Reader{src: bufio.NewReaderSize(newRowLimiter(r, lim.rowBytes()), 64<<10), enc: e, encErr: err, opts: opts}
}

// Encoding reports the encoding in use; it is final once Header or Next has been called.
func (r *Reader) Encoding() Encoding {
	return r.enc
}

// Header returns the header fields after reading and checking them; the first Next calls it.
func (r *Reader) Header() ([]string, error) {
	if err := r.start(); err != nil {
		return nil, err
	}
	return append([]string(nil), r.header...), nil
}

// start reads the header once; its error is the header's, not a later one.
func (r *Reader) start() error {
	if !r.started {
		r.started = true
		r.err = r.readHeader()
	}
	if r.header == nil {
		return r.err
	}
	return nil
}

func (r *Reader) readHeader() error {
	if r.encErr != nil {
		return r.encErr
	}
	// A UTF-16 byte order mark: the file is neither of the two encodings L-1 accepts (Excel's
	// "Unicode text" saves so); said plainly instead of a header that does not match.
	if bom, _ := r.src.Peek(2); string(bom) == "\xff\xfe" || string(bom) == "\xfe\xff" {
		return fileError(1, encodingUTF16)
	}
	if bom, _ := r.src.Peek(3); string(bom) == "\uFEFF" {
		r.src.Discard(3)
		r.enc = UTF8
	}
	if r.enc == SJIS {
		r.sjis = japanese.ShiftJIS.NewDecoder()
	}
	r.csv = csv.NewReader(r.src) // reuses r.src: it is a large enough *bufio.Reader
	r.csv.FieldsPerRecord = -1
	r.csv.ReuseRecord = true
	fields, err := r.read()
	if err == io.EOF {
		return r.badHeader(1)
	}
	if err != nil {
		return err
	}
	// The standard names are ASCII, the same bytes in both encodings; タイムゾーン is not.
	header := make([]string, len(fields))
	bad := false
	if r.sjis != nil {
		bad = r.decodeSJIS(header, fields)
	} else {
		copy(header, fields)
	}
	var l layout
	var ok bool
	if r.headerOK != nil {
		l, ok = layout{width: len(header), remarks: -1, timeZone: -1}, r.headerOK(header)
	} else {
		l, ok = parseHeader(header)
	}
	if bad || !ok {
		line, _ := r.csv.FieldPos(0)
		return r.badHeader(line)
	}
	r.header, r.layout = header, l
	return nil
}

// badHeader is the file's header problem, in its format's words.
func (r *Reader) badHeader(line int) *FileError {
	if r.headerErr != nil {
		return r.headerErr(line)
	}
	return fileError(line, headerInvalid)
}

// read returns the next raw record, turning a CSV syntax error into a FileError.
func (r *Reader) read() ([]string, error) {
	fields, err := r.csv.Read()
	if err == nil || err == io.EOF {
		return fields, err
	}
	var pe *csv.ParseError // not declared before: errors.As makes it escape, one allocation a row
	if errors.As(err, &pe) {
		fe := fileError(pe.StartLine, csvMalformed)
		fe.Problem.MessageEn = fmt.Sprintf("%s: %v at line %d, column %d", fe.Problem.MessageEn, pe.Err, pe.Line, pe.Column)
		return nil, fe
	}
	return fields, err
}

// Next returns the next record, or io.EOF after the last. A record with problems is returned
// with them, not as an error: the errors are I/O errors and *FileError, and they end reading.
func (r *Reader) Next() (*Record, error) {
	if err := r.start(); err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}
	fields, err := r.read()
	if err != nil {
		if err == io.EOF && r.count == 0 {
			err = fileError(1, headerOnly)
		}
		r.err = err
		return nil, err
	}
	r.count++
	rec := r.newRecord()
	rec.Line, _ = r.csv.FieldPos(0)
	rec.Fields = r.newFields(len(fields))
	var bad bool
	if r.sjis != nil {
		bad = r.decodeSJIS(rec.Fields, fields)
	} else {
		copy(rec.Fields, fields) // the strings are fresh for each record; only the slice is reused
		for _, f := range fields {
			bad = bad || !utf8.ValidString(f)
		}
	}
	if r.check != nil {
		r.check(rec, len(r.header), bad)
	} else {
		r.validate(rec, bad)
	}
	return rec, nil
}

func (r *Reader) newRecord() *Record {
	if len(r.records) == 0 {
		r.records = make([]Record, recordBlock)
	}
	rec := &r.records[0]
	r.records = r.records[1:]
	return rec
}

func (r *Reader) newFields(n int) []string {
	if len(r.fields) < n {
		r.fields = make([]string, max(n, fieldBlock))
	}
	f := r.fields[:n:n]
	r.fields = r.fields[n:]
	return f
}

// decodeSJIS decodes raw into dst, all non-ASCII fields into one new string, and reports whether
// some bytes are not Windows-31J. 0x80, which x/text decodes to U+0080 but cannot encode back,
// counts as invalid so that the error CSV can reproduce every accepted character.
func (r *Reader) decodeSJIS(dst, raw []string) (bad bool) {
	out := r.decoded[:0]
	var ends [8]int // end offsets in out of the decoded fields; most records have few fields
	decEnds := ends[:0]
	for i, f := range raw {
		if isASCII(f) {
			dst[i] = f
			decEnds = append(decEnds, -1)
			continue
		}
		r.raw = append(r.raw[:0], f...)
		// A byte becomes at most 3 bytes of UTF-8 (U+FFFD or half-width katakana).
		out = grow(out, 3*len(f))
		n, m, err := r.sjis.Transform(out[len(out):cap(out)], r.raw, true)
		out = out[:len(out)+n]
		bad = bad || err != nil || m != len(f)
		decEnds = append(decEnds, len(out))
	}
	r.decoded = out
	if len(out) == 0 {
		return bad
	}
	bad = bad || bytes.Contains(out, []byte("\uFFFD")) || bytes.Contains(out, []byte("\u0080"))
	s, start := string(out), 0
	for i, end := range decEnds {
		if end >= 0 {
			dst[i] = s[start:end]
			start = end
		}
	}
	return bad
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// grow makes room for n more bytes after len(b).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// CountRecords counts the data records of a file without validating them, for the row limit of
// L-5. It returns the same *FileError as a Reader would for the header, the CSV syntax or a
// record longer than lim.MaxRowBytes.
func CountRecords(src io.Reader, enc Encoding, lim Limits) (int, error) {
	r := NewReaderLimits(src, enc, lim)
	if err := r.start(); err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, fileError(1, headerOnly)
	}
	return n, nil
}
