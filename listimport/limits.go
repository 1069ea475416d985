package listimport

import (
	"bytes"
	"fmt"
	"io"
)

// Limits bound what reading one file may take and what its error CSV may hold, so that neither
// grows with the file's size. A zero field takes its default.
type Limits struct {
	// MaxRowBytes bounds one record, quoted line breaks and line ends included. A longer record
	// refuses the file (row_too_long, at the record's first line) before the CSV parser buffers
	// it. The default holds any row L-2 accepts (about 6 KB at most: 1,510 characters of up to 4
	// bytes in UTF-8, quotes doubled).
	MaxRowBytes int
	// MaxErrorCSVBytes bounds an error CSV: the rows that would take it past this are left out
	// and a last row says from which line.
	MaxErrorCSVBytes int
}

// Defaults of Limits (config system.limits.max_row_bytes and max_error_csv_bytes).
const (
	DefaultMaxRowBytes      = 8 << 10
	DefaultMaxErrorCSVBytes = 8 << 20
)

func (l Limits) rowBytes() int {
	if l.MaxRowBytes > 0 {
		return l.MaxRowBytes
	}
	return DefaultMaxRowBytes
}

func (l Limits) errorCSVBytes() int {
	if l.MaxErrorCSVBytes > 0 {
		return l.MaxErrorCSVBytes
	}
	return DefaultMaxErrorCSVBytes
}

// rowLimiter passes a file through and stops it where a record outgrows max bytes, with a
// *FileError, so that the CSV parser never buffers more than that of one record. It follows the
// quoting as the parser does: a quote toggles quoting (a doubled quote toggles twice) and a line
// feed ends the record only outside quotes. No byte of a multi-byte character is a quote or a
// line feed, in Shift_JIS (trail bytes are 0x40 or more) as in UTF-8. On malformed quoting the
// parser stops with its own error before the limiter's, which comes max bytes later at least.
type rowLimiter struct {
	r      io.Reader
	max    int
	size   int  // bytes of the current record so far
	quoted bool // inside quotes at the end of what was read
	lines  int  // line feeds read
	start  int  // line where the current record starts
	err    error
}

func newRowLimiter(r io.Reader, max int) *rowLimiter {
	return &rowLimiter{r: r, max: max, start: 1}
}

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		seg := b // up to and with the next line feed
		lf := bytes.IndexByte(b, '\n')
		if lf >= 0 {
			seg = b[:lf+1]
		}
		if l.size+len(seg) > l.max {
			// Hand over the bytes that fit; the parser gets the error once it has used them.
			l.err = rowTooLongError(l.start, l.max)
			if k := n - len(b) + l.max - l.size; k > 0 {
				return k, nil
			}
			return 0, l.err
		}
		l.size += len(seg)
		if bytes.Count(seg, []byte{'"'})%2 == 1 {
			l.quoted = !l.quoted
		}
		if lf >= 0 {
			l.lines++
			if !l.quoted {
				l.size, l.start = 0, l.lines+1
			}
		}
		b = b[len(seg):]
	}
	return n, err
}

func rowTooLongError(line, max int) *FileError {
	fe := fileError(line, rowTooLong)
	fe.Problem.Message = fmt.Sprintf(fe.Problem.Message, max)
	fe.Problem.MessageEn = fmt.Sprintf(fe.Problem.MessageEn, max)
	return fe
}
