package listimport_test

import (
	"bytes"
	"encoding/csv"
	"errors"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range []listimport.Encoding{listimport.SJIS, listimport.UTF8} {
			checkFile(t, data, enc)
		}
	})
}

// checkFile reads data completely and checks every record, and that the error CSV holds every
// row that had no encoding problem unchanged but for neutralised formulas.
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
			row = append(row, listimport.NeutralizeCell(f))
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
