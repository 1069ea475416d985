package listimport

import (
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func readDNC(t *testing.T, src string, enc Encoding) ([]*DNCRecord, error) {
	t.Helper()
	r := NewDNCReader(strings.NewReader(src), enc, Limits{})
	var out []*DNCRecord
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// N-1: a do-not-call file in Shift_JIS with the Japanese header; numbers normalised; problems
// numbered by line in Japanese and English.
func TestDNCReaderShiftJIS(t *testing.T) {
	src, err := japanese.ShiftJIS.NewEncoder().String("電話番号,理由\n０９０－１２３４－５６７８,苦情\n03 1234 5678,\n12345,x\n,\n")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readDNC(t, src, SJIS)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0].Tel != "09012345678" || recs[0].Reason != "苦情" || recs[1].Tel != "0312345678" ||
		len(recs[0].Problems)+len(recs[1].Problems) != 0 {
		t.Fatalf("records %+v %+v", recs[0], recs[1])
	}
	if p := recs[2].Problems; len(p) != 2 || p[0].Code != "tel_format" || p[1].Code != "tel_leading_zero" || p[0].Line != 4 ||
		p[0].Message == "" || p[0].MessageEn == "" {
		t.Fatalf("problems of line 4: %+v", p)
	}
	if p := recs[3].Problems; len(p) != 1 || p[0].Code != "tel_required" || p[0].Line != 5 {
		t.Fatalf("problems of line 5: %+v", p)
	}
}

func TestDNCReaderHeaders(t *testing.T) {
	if recs, err := readDNC(t, "tel\n09012345678\n", UTF8); err != nil || len(recs) != 1 || recs[0].Tel != "09012345678" {
		t.Fatalf("tel only: %v %v", recs, err)
	}
	if recs, err := readDNC(t, "電話番号,理由\n09012345678,x,y\n", UTF8); err != nil || recs[0].Problems[0].Code != "columns_extra" {
		t.Fatalf("extra column: %v", err)
	}
	for _, bad := range []string{"name,kana,tel\n0901234567,a,b\n", "電話番号,理由\n", ""} {
		_, err := readDNC(t, bad, UTF8)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	// The customer-list header is still the customer reader's only header.
	if _, err := readDNC(t, "電話番号\n09012345678\n", SJIS); err == nil {
		t.Fatal("a UTF-8 header read as Shift_JIS was accepted")
	}
}
