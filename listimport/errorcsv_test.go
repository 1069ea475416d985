package listimport_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/kakeru-dialer/kakeru/listimport"
)

func TestErrorCSVRoundTripSJIS(t *testing.T) {
	// 髙 FB FC, 﨑 FA B1 (IBM), ① 87 40, ㈱ 87 8A, № 87 82 (NEC), ⅰ FA 40, ￢ 81 CA, ｱ B1.
	in := []byte("name,kana,tel,remarks\r\n" +
		"\xfb\xfc\x8b\xb4,\xb1,0312345678,\x87\x40\x87\x8a\x87\x82\r\n" +
		"\xfa\xb1,null,12345,\"a,\"\"b\"\"\r\nc\"\r\n" +
		"\xfa\x40\x81\xca,x\r\n")
	var out bytes.Buffer
	if _, err := listimport.WriteErrorCSV(&out, bytes.NewReader(in), listimport.SJIS, map[int]bool{2: true}, listimport.Limits{}); err != nil {
		t.Fatal(err)
	}
	want := "name,kana,tel,remarks,error\r\n" +
		"\xfb\xfc\x8b\xb4,\xb1,0312345678,\x87\x40\x87\x8a\x87\x82," + string(sjis(t, "指定したバッチ内に同一の電話番号が既に登録されています")) + "\r\n" +
		"\xfa\xb1,null,12345,\"a,\"\"b\"\"\nc\"," + string(sjis(t, "kana:'null'は利用できない文字です / tel:書式が正しくありません / tel:電話番号の先頭に0を入れてください")) + "\r\n" +
		"\xfa\x40\x81\xca,x,,," + string(sjis(t, "カラムの数がヘッダーの数より少ないです")) + "\r\n"
	if out.String() != want {
		t.Errorf("got\n% x\nwant\n% x", out.Bytes(), want)
	}
	// Read back: one error cell per row, after the padded input columns.
	rows, err := csv.NewReader(japanese.ShiftJIS.NewDecoder().Reader(&out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if len(row) != 5 {
			t.Errorf("row %d has %d cells: %q", i, len(row), row)
		}
	}
	if rows[2][0] != "﨑" || rows[2][3] != "a,\"b\"\nc" || rows[3][0] != "ⅰ￢" {
		t.Errorf("%q", rows)
	}
}

func TestErrorCSVWriterUTF8(t *testing.T) {
	var out bytes.Buffer
	w, err := listimport.NewErrorCSVWriter(&out, listimport.UTF8, []string{"name", "kana", "tel"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct{ fields, msgs []string }{
		{[]string{"髙橋", "タカハシ", "0312345678"}, nil},
		{[]string{" a", "b\rc", "\xff", "extra"}, []string{"x", "y"}},
	}
	for _, r := range rows {
		if err := w.Write(r.fields, r.msgs); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFname,kana,tel,error\r\n髙橋,タカハシ,0312345678,\r\n\" a\",\"b\rc\",\xff,extra,x / y\r\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	if _, err := listimport.NewErrorCSVWriter(&out, "latin1", nil); err == nil {
		t.Error("unknown encoding accepted")
	}
}

// TestErrorCSVWindowsCodes checks every NEC-selected IBM extension: it decodes, and is written
// back as Windows writes that character (the IBM code, or 81 CA for ￢), never as a duplicate.
func TestErrorCSVWindowsCodes(t *testing.T) {
	dec := japanese.ShiftJIS.NewDecoder()
	for lead := 0xed; lead <= 0xee; lead++ {
		for trail := 0x40; trail <= 0xfc; trail++ {
			if trail == 0x7f {
				continue
			}
			code := []byte{byte(lead), byte(trail)}
			ch, _ := dec.Bytes(code)
			if string(ch) == "\uFFFD" {
				continue // EEED, EEEE are unassigned
			}
			var out bytes.Buffer
			w, _ := listimport.NewErrorCSVWriter(&out, listimport.SJIS, []string{"name"})
			if err := w.Write([]string{string(ch)}, nil); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			got := bytes.TrimSuffix(bytes.TrimPrefix(out.Bytes(), []byte("name,error\r\n")), []byte(",\r\n"))
			back, _ := dec.Bytes(got)
			if len(got) != 2 || string(back) != string(ch) || !(got[0] >= 0xfa || (got[0] == 0x81 && got[1] == 0xca)) {
				t.Errorf("% x %q written as % x", code, ch, got)
			}
		}
	}
}

func TestErrorCSVUnencodable(t *testing.T) {
	// Undecodable input becomes U+FFFD, which Shift_JIS cannot hold: written as '?'.
	in := []byte("name,kana,tel\n\x82,\xff\x80,0312345678\n")
	var out bytes.Buffer
	if _, err := listimport.WriteErrorCSV(&out, bytes.NewReader(in), listimport.SJIS, nil, listimport.Limits{}); err != nil {
		t.Fatal(err)
	}
	want := "name,kana,tel,error\r\n?,??,0312345678," + string(sjis(t, "文字コードが正しくありません")) + "\r\n"
	if out.String() != want {
		t.Errorf("got %q", out.String())
	}
	_, err := listimport.WriteErrorCSV(&out, strings.NewReader("name,kana\n"), listimport.SJIS, nil, listimport.Limits{})
	if p := fileProblem(t, err); p.Code != "header_invalid" {
		t.Errorf("%+v", p)
	}
}

// Cells a spreadsheet would run as a formula get a leading apostrophe in the error CSV (L-4), as
// in results.csv (issue 13 row 10); other cells, and the header and error column, are unchanged.
func TestErrorCSVNeutralisesFormulas(t *testing.T) {
	in := "name,kana,tel,remarks\n" +
		"=cmd|' /C calc'!A0,+SUM(1),-1,\"@HYPERLINK(\"\"http://x\"\")\"\n" +
		"\"\r=CR\",\"\t=TAB\",0312345678,a=b\n"
	var out bytes.Buffer
	if _, err := listimport.WriteErrorCSV(&out, strings.NewReader(in), listimport.UTF8, nil, listimport.Limits{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"'=cmd|' /C calc'!A0", "'+SUM(1)", "'-1", `'@HYPERLINK("http://x")`},
		{"'\r=CR", "'\t=TAB", "0312345678", "a=b"},
	}
	for i, w := range want {
		if got := rows[i+1][:4]; !slices.Equal(got, w) {
			t.Errorf("row %d: %q, want %q", i+1, got, w)
		}
	}
	for _, v := range []string{"=1", "+1", "-1", "@a", "\t1", "\r1"} {
		if got := listimport.NeutralizeCell(v); got != "'"+v {
			t.Errorf("NeutralizeCell(%q) = %q", v, got)
		}
	}
	for _, v := range []string{"", "1", "'=1", " =1", "山田"} {
		if got := listimport.NeutralizeCell(v); got != v {
			t.Errorf("NeutralizeCell(%q) = %q", v, got)
		}
	}
}
