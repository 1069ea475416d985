package listimport_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// A record longer than the row limit refuses the file at its first line, quoted line breaks
// included, as soon as it is read (L-5; issue 13 row 2); the records before it are read.
func TestRowTooLong(t *testing.T) {
	lim := listimport.Limits{MaxRowBytes: 100}
	fits := "山田,ヤマダ,0312345678," + strings.Repeat("x", 100-len("山田,ヤマダ,0312345678,\r\n")) + "\r\n"
	if len(fits) != 100 {
		t.Fatal(len(fits))
	}
	tests := []struct {
		name, data string
		records    int
		line       int // 0: no error
	}{
		{"at the limit", "name,kana,tel,remarks\r\n" + fits + fits, 2, 0},
		{"one byte over", "name,kana,tel,remarks\r\n" + fits + "x" + fits, 1, 3},
		{"quoted lines", "name,kana,tel,remarks\r\n" + fits + "a,b,0312345678,\"" + strings.Repeat("1\r\n", 40) + "\"\r\n" + fits, 1, 3},
		{"no line end", "name,kana,tel,remarks\r\n" + strings.Repeat("y", 1000), 0, 2},
		{"header", strings.Repeat("name,", 30) + "\r\n" + fits, 0, 1},
		// 75 bytes in one record; a reader that took a doubled quote for a closing one would
		// see a quote opening at line 3 and a record running to the end of the file.
		{"doubled quotes stay inside", "name,kana,tel,remarks\r\n\"\"\"a\"\"\r\n" + strings.Repeat("b", 50) + "\",b,0312345678,\r\n" + fits, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range []listimport.Encoding{listimport.UTF8, listimport.SJIS} {
				r := listimport.NewReaderLimits(strings.NewReader(tt.data), enc, lim)
				n := 0
				var err error
				for err == nil {
					if _, err = r.Next(); err == nil {
						n++
					}
				}
				if tt.line == 0 {
					if err != io.EOF || n != tt.records {
						t.Errorf("%s: %d records, %v", enc, n, err)
					}
					continue
				}
				p := fileProblem(t, err)
				if p.Code != "row_too_long" || p.Line != tt.line || p.Column != "" || n != tt.records ||
					!strings.Contains(p.Message, "100") || !strings.Contains(p.MessageEn, "100 bytes") {
					t.Errorf("%s: %d records, %+v", enc, n, p)
				}
				if _, err := listimport.CountRecords(strings.NewReader(tt.data), enc, lim); fileProblem(t, err) != p {
					t.Errorf("%s: CountRecords: %v", enc, err)
				}
			}
		})
	}
	// The default limit holds the longest row L-2 accepts: 4-byte characters, quotes doubled
	// (L-1 quoting).
	long := func(n int) string { return strings.Repeat("𠮷", n) }
	row := long(255) + "," + long(255) + ",09012345678,\"" + long(998) + `""\n` + "\"\r\n"
	recs, err := readAll(t, []byte("name,kana,tel,remarks\r\n"+row), listimport.UTF8)
	if err != nil || len(recs) != 1 || len(recs[0].Problems) != 0 {
		t.Fatalf("longest valid row (%d bytes): %v %+v", len(row), err, recs)
	}
}

// endless is a generated import file: a header, then rows with a remarks cell of cell bytes,
// or one endless line when cell is 0. It yields size bytes in all, from a buffer it reuses.
type endless struct {
	row  []byte
	left int
	pos  int
}

func newEndless(cell, size int) *endless {
	row := []byte("name,kana,tel,remarks\r\n")
	if cell > 0 {
		row = append([]byte("山田,ヤマダ,0312345678,"), bytes.Repeat([]byte("x"), cell)...)
		row = append(row, "\r\n"...)
	} else {
		row = bytes.Repeat([]byte("x"), 64<<10)
	}
	return &endless{row: row, left: size}
}

func (e *endless) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && e.left > 0 {
		c := copy(p[n:min(len(p), n+e.left)], e.row[e.pos:])
		n, e.left, e.pos = n+c, e.left-c, (e.pos+c)%len(e.row)
	}
	return n, nil
}

// Reading a file takes the same memory whatever its size: 100 MB of 100 KB remarks, or one
// 30 MB line, stop at the first long record having allocated well under a megabyte (issue 13
// row 2: RSS went from 26 to 695 MB).
func TestReadMemoryIndependentOfFileSize(t *testing.T) {
	for name, src := range map[string]func() io.Reader{
		"1000 rows of 100 KB": func() io.Reader {
			header := strings.NewReader("name,kana,tel,remarks\r\n")
			return io.MultiReader(header, newEndless(100<<10, 100<<20))
		},
		"a 30 MB line": func() io.Reader {
			return io.MultiReader(strings.NewReader("name,kana,tel,remarks\r\n"), newEndless(0, 30<<20))
		},
	} {
		for _, enc := range []listimport.Encoding{listimport.UTF8, listimport.SJIS} {
			file := src()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := listimport.CountRecords(file, enc, listimport.Limits{})
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<10 {
				t.Errorf("%s %s: reading allocated %d bytes", name, enc, alloc)
			}
			if p := fileProblem(t, err); p.Code != "row_too_long" || p.Line != 2 {
				t.Errorf("%s %s: %+v", name, enc, p)
			}
		}
	}
}

// The error CSV (L-4) stops before its byte limit, with a last row naming the first line left
// out, and cuts every cell to 1000 characters, L-2's longest value (issue 13 row 2).
func TestErrorCSVBounded(t *testing.T) {
	var in strings.Builder
	in.WriteString("name,kana,tel,remarks\r\n")
	for range 1000 {
		in.WriteString("山田,ヤマダ,12," + strings.Repeat("あ", 2000) + "\r\n") // 6 KB a row
	}
	for _, enc := range []listimport.Encoding{listimport.UTF8, listimport.SJIS} {
		data := []byte(in.String())
		if enc == listimport.SJIS {
			data = sjis(t, in.String())
		}
		lim := listimport.Limits{MaxRowBytes: 8 << 10, MaxErrorCSVBytes: 64 << 10}
		var out bytes.Buffer
		omitted, err := listimport.WriteErrorCSV(&out, bytes.NewReader(data), enc, nil, lim)
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() > 64<<10 || omitted < 3 || omitted > 40 {
			t.Fatalf("%s: %d bytes, rows omitted from line %d", enc, out.Len(), omitted)
		}
		rows := readErrorCSV(t, out.Bytes(), enc)
		if len(rows) != omitted { // the header, the lines before omitted, the note
			t.Fatalf("%s: %d rows, omitted from %d", enc, len(rows), omitted)
		}
		for _, row := range rows[1 : len(rows)-1] {
			if row[3] != strings.Repeat("あ", 1000)+"…" || !strings.Contains(row[4], "remarks:") {
				t.Fatalf("%s: row %.80q", enc, row)
			}
		}
		note := rows[len(rows)-1]
		if strings.Join(note[:4], "") != "" || !strings.Contains(note[4], "65536") || !strings.Contains(note[4], strconv.Itoa(omitted)) {
			t.Errorf("%s: last row %q", enc, note)
		}
		// Under the default limit the same file is complete: no row left out.
		out.Reset()
		if omitted, err := listimport.WriteErrorCSV(&out, bytes.NewReader(data), enc, nil, listimport.Limits{}); err != nil || omitted != 0 {
			t.Errorf("%s: default limit: omitted from %d, %v", enc, omitted, err)
		}
		if rows := readErrorCSV(t, out.Bytes(), enc); len(rows) != 1001 {
			t.Errorf("%s: default limit: %d rows", enc, len(rows))
		}
	}
}

func readErrorCSV(t *testing.T, out []byte, enc listimport.Encoding) [][]string {
	t.Helper()
	text := string(bytes.TrimPrefix(out, []byte("\uFEFF")))
	if enc == listimport.SJIS {
		text = fromSJIS(t, out)
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if !utf8.ValidString(strings.Join(row, "")) {
			t.Fatalf("invalid text %q", row)
		}
	}
	return rows
}

func fromSJIS(t *testing.T, b []byte) string {
	t.Helper()
	s, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}
