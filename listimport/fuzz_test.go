package listimport_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"github.com/kakeru-dialer/kakeru/listimport"
)

var validTel = regexp.MustCompile(`^0[0-9]{8,29}$`)

func FuzzReader(f *testing.F) {
	f.Add([]byte("name,kana,tel,remarks\r\n山田,ヤマダ,0312345678,備考\\n二行目\r\n"))
	f.Add([]byte("name,kana,tel\n\"a,b\",\"c\"\"d\",09012345678\n\"x\ny\",z,0120123456\n"))
	f.Add([]byte("\xEF\xBB\xBFname,kana,tel,remarks\nnull,,12345,\n,,\n"))
	f.Add([]byte("name,kana,tel,remarks\r\n\x8eR\x93c,\xb6\xc0,0501234567,\x87\x40\xfb\xfc\r\n\x82,\x80,0,\xff\r\n"))
	f.Add([]byte("name,kana,tel\na\"b,c\n"))
	f.Add([]byte("\x00\xff\"\r\n,,\"\"\""))
	f.Add([]byte("name,kana,tel,remarks\n=1,+a,-0312345678,\"@" + strings.Repeat("x\"\"\n", 1200) + "\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range []listimport.Encoding{listimport.SJIS, listimport.UTF8} {
			checkFile(t, data, enc)
			checkRowLimit(t, data, enc)
		}
	})
}

// checkFile reads data completely and checks every record, and that the error CSV holds every
// row that had no encoding problem unchanged but for neutralised formulas and cut cells.
func checkFile(t *testing.T, data []byte, enc listimport.Encoding) {
	r := listimport.NewReader(bytes.NewReader(data), enc)
	var out bytes.Buffer
	var ew *listimport.ErrorCSVWriter
	var written [][]string
	last := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *listimport.FileError
			if !errors.As(err, &fe) || fe.Problem.Code == "" || fe.Problem.Message == "" || fe.Problem.Line < 1 {
				t.Fatalf("%s: error %v", enc, err)
			}
			break
		}
		if rec.Line <= last {
			t.Fatalf("%s: line %d after %d", enc, rec.Line, last)
		}
		last = rec.Line
		checkRecord(t, rec, r)
		if ew == nil {
			header, err := r.Header()
			if err != nil {
				t.Fatal(err)
			}
			if ew, err = listimport.NewErrorCSVWriter(&out, r.Encoding(), header); err != nil {
				t.Fatal(err)
			}
			written = append(written, append(header, "error"))
		}
		var msgs []string
		for _, p := range rec.Problems {
			msgs = append(msgs, p.Message)
		}
		if err := ew.Write(rec.Fields, msgs); err != nil {
			t.Fatal(err)
		}
		var row []string
		for _, f := range rec.Fields {
			row = append(row, errorCell(f))
		}
		for len(row) < len(written[0])-1 {
			row = append(row, "")
		}
		if r.Encoding() == listimport.SJIS && strings.ContainsAny(strings.Join(rec.Fields, ""), "\uFFFD\u0080") {
			row = nil // '?' replaced what could not be decoded
		} else {
			row = append(row, strings.Join(msgs, " / "))
		}
		written = append(written, row)
	}
	if ew == nil {
		return
	}
	if err := ew.Flush(); err != nil {
		t.Fatal(err)
	}
	checkErrorCSV(t, out.Bytes(), r.Encoding(), written)
}

// readLimited reads data to its end with lim.
func readLimited(data []byte, enc listimport.Encoding, lim listimport.Limits) ([]*listimport.Record, error) {
	r := listimport.NewReaderLimits(bytes.NewReader(data), enc, lim)
	var recs []*listimport.Record
	for {
		rec, err := r.Next()
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

// checkRowLimit checks that the row limit follows the CSV parser's records: with a small limit
// the records read are the first ones read without a limit, and row_too_long names the line
// where the next of those (or the parser's own error) starts.
func checkRowLimit(t *testing.T, data []byte, enc listimport.Encoding) {
	all, allErr := readLimited(data, enc, listimport.Limits{MaxRowBytes: 1 << 30})
	some, err := readLimited(data, enc, listimport.Limits{MaxRowBytes: 64})
	if len(some) > len(all) {
		t.Fatalf("%s: %d records with the limit, %d without", enc, len(some), len(all))
	}
	for i, rec := range some {
		if rec.Line != all[i].Line || !slicesEqual(rec.Fields, all[i].Fields) {
			t.Fatalf("%s: record %d: %d %q with the limit, %d %q without", enc, i, rec.Line, rec.Fields, all[i].Line, all[i].Fields)
		}
	}
	var fe *listimport.FileError
	if !errors.As(err, &fe) || fe.Problem.Code != "row_too_long" {
		if len(some) != len(all) || fmt.Sprint(err) != fmt.Sprint(allErr) {
			t.Fatalf("%s: %d records and %v with the limit, %d and %v without", enc, len(some), err, len(all), allErr)
		}
		return
	}
	line := fe.Problem.Line
	var allFE *listimport.FileError
	switch {
	case len(some) == 0 && line == 1: // the header
	case len(some) < len(all) && all[len(some)].Line == line:
	case len(some) == len(all) && errors.As(allErr, &allFE) && allFE.Problem.Line == line:
	default:
		t.Fatalf("%s: row_too_long at line %d after %d records; without the limit %d records, %v", enc, line, len(some), len(all), allErr)
	}
}

// errorCell is a field as the error CSV holds it: cut at 1000 characters (an invalid byte
// counts one), formulas neutralised.
func errorCell(f string) string {
	if utf8.RuneCountInString(f) > 1000 {
		n := 0
		for i := range f {
			if n == 1000 {
				f = f[:i] + "…"
				break
			}
			n++
		}
	}
	return listimport.NeutralizeCell(f)
}

func checkRecord(t *testing.T, rec *listimport.Record, r *listimport.Reader) {
	if len(rec.Problems) > 0 {
		if (rec.Contact != listimport.Contact{}) {
			t.Fatalf("line %d: both problems %v and contact %+v", rec.Line, rec.Problems, rec.Contact)
		}
		for _, p := range rec.Problems {
			if p.Line != rec.Line || p.Code == "" || p.Message == "" || p.MessageEn == "" {
				t.Fatalf("line %d: problem %+v", rec.Line, p)
			}
		}
		return
	}
	c := rec.Contact
	header, _ := r.Header()
	chars := utf8.RuneCountInString
	switch {
	case len(rec.Fields) != len(header):
		t.Fatalf("line %d: %d fields, header %d", rec.Line, len(rec.Fields), len(header))
	case c.Name != rec.Fields[0] || c.Kana != rec.Fields[1] || c.Tel != rec.Fields[2]:
		t.Fatalf("line %d: contact %+v from %q", rec.Line, c, rec.Fields)
	case chars(c.Name) < 1 || chars(c.Name) > 255 || c.Name == "null" || !utf8.ValidString(c.Name):
		t.Fatalf("line %d: name %q", rec.Line, c.Name)
	case chars(c.Kana) < 1 || chars(c.Kana) > 255 || c.Kana == "null" || !utf8.ValidString(c.Kana):
		t.Fatalf("line %d: kana %q", rec.Line, c.Kana)
	case !validTel.MatchString(c.Tel):
		t.Fatalf("line %d: tel %q", rec.Line, c.Tel)
	case chars(c.Remarks) > 1000 || strings.Contains(c.Remarks, "\uFFFD") && r.Encoding() == listimport.SJIS:
		t.Fatalf("line %d: remarks %q", rec.Line, c.Remarks)
	case strings.ContainsRune(c.Name+c.Kana+c.Tel+c.Remarks, 0): // PostgreSQL text cannot hold NUL
		t.Fatalf("line %d: NUL in contact %+v", rec.Line, c)
	case c.PhoneType != listimport.PhoneType(c.Tel):
		t.Fatalf("line %d: phone type %q of %q", rec.Line, c.PhoneType, c.Tel)
	}
	if len(header) == 4 && c.Remarks != strings.ReplaceAll(rec.Fields[3], `\n`, "\n") {
		t.Fatalf("line %d: remarks %q from %q", rec.Line, c.Remarks, rec.Fields[3])
	}
}

// checkErrorCSV reads the error CSV back; nil rows in want are not compared.
func checkErrorCSV(t *testing.T, out []byte, enc listimport.Encoding, want [][]string) {
	var src io.Reader = bytes.NewReader(out)
	if enc == listimport.SJIS {
		src = japanese.ShiftJIS.NewDecoder().Reader(src)
	} else if !bytes.HasPrefix(out, []byte("\uFEFF")) {
		t.Fatalf("UTF-8 error CSV without BOM")
	} else {
		src = bytes.NewReader(out[3:])
	}
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	got, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("error CSV unreadable: %v\n%q", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("error CSV has %d rows, want %d\n%q", len(got), len(want), out)
	}
	for i := range want {
		if want[i] != nil && !slicesEqual(got[i], want[i]) {
			t.Fatalf("error CSV row %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
