package listimport_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// sjis encodes test text the way a customer's Excel would.
func sjis(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return []byte(b)
}

// readAll returns the records and the error that ended reading (nil at io.EOF).
func readAll(t testing.TB, data []byte, enc listimport.Encoding) ([]*listimport.Record, error) {
	t.Helper()
	r := listimport.NewReader(bytes.NewReader(data), enc)
	var recs []*listimport.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

func fileProblem(t *testing.T, err error) listimport.Problem {
	t.Helper()
	var fe *listimport.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want *FileError, got %v", err)
	}
	return fe.Problem
}

type want struct{ column, code, message string }

func TestRecordMessages(t *testing.T) {
	long := func(n int) string { return strings.Repeat("あ", n) }
	digits := func(n int) string { return "0" + strings.Repeat("9", n-1) }
	tests := []struct {
		row  string
		want []want
	}{
		{"山田,ヤマダ,0312345678,", nil},
		{",ヤマダ,0312345678,", []want{{"name", "name_required", "name:値がありません"}}},
		{"null,ヤマダ,0312345678,", []want{{"name", "name_null", "name:'null'は利用できない文字です"}}},
		{long(256) + ",ヤマダ,0312345678,", []want{{"name", "name_length", "name:1文字から255文字までにしてください"}}},
		{long(255) + "," + long(255) + ",0312345678,", nil}, // characters, not bytes
		{"山田,,0312345678,", []want{{"kana", "kana_required", "kana:値がありません"}}},
		{"山田,null,0312345678,", []want{{"kana", "kana_null", "kana:'null'は利用できない文字です"}}},
		{"山田," + long(256) + ",0312345678,", []want{{"kana", "kana_length", "kana:1文字から255文字までにしてください"}}},
		{"山田,ヤマダ,,", []want{{"tel", "tel_required", "tel:値がありません"}}},
		{"山田,ヤマダ,null,", []want{{"tel", "tel_null", "tel:'null'は利用できない文字です"}}},
		{"山田,ヤマダ," + digits(256) + ",", []want{{"tel", "tel_length", "tel:1文字から255文字までにしてください"}}},
		{"山田,ヤマダ," + digits(31) + ",", []want{{"tel", "tel_length_30", "tel:1文字から30文字までにしてください"}}},
		{"山田,ヤマダ," + digits(30) + ",", nil},
		{"山田,ヤマダ," + digits(9) + ",", nil},
		{"山田,ヤマダ," + digits(8) + ",", []want{{"tel", "tel_format", "tel:書式が正しくありません"}}},
		{"山田,ヤマダ,03-1234-5678,", []want{{"tel", "tel_format", "tel:書式が正しくありません"}}},
		// A full-width leading ０ is a format error only (issue 14 item 6).
		{"山田,ヤマダ,０３１２３４５６７８,", []want{{"tel", "tel_format", "tel:書式が正しくありません"}}},
		{"山田,ヤマダ,０９０１２３４５６７８,", []want{{"tel", "tel_format", "tel:書式が正しくありません"}}},
		{"山田,ヤマダ, 0312345678,", []want{{"tel", "tel_format", "tel:書式が正しくありません"}, {"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください"}}},
		{"山田,ヤマダ,312345678,", []want{{"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください"}}},
		{"山田,ヤマダ,12345,", []want{{"tel", "tel_format", "tel:書式が正しくありません"}, {"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください"}}},
		{"山田,ヤマダ,1" + strings.Repeat("x", 40) + ",", []want{{"tel", "tel_length_30", "tel:1文字から30文字までにしてください"}, {"tel", "tel_format", "tel:書式が正しくありません"}, {"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください"}}},
		{"山田,ヤマダ,0312345678," + long(1000), nil},
		{"山田,ヤマダ,0312345678," + long(1001), []want{{"remarks", "remarks_length", "remarks:1文字から1000文字までにしてください"}}},
		{"山田,ヤマダ,0312345678," + long(999) + `\n`, nil}, // `\n` is one character once converted
		{"山田,ヤマダ,0312345678", []want{{"", "columns_missing", "カラムの数がヘッダーの数より少ないです"}}},
		{",,", []want{{"", "columns_missing", "カラムの数がヘッダーの数より少ないです"}}},
		{"山田,ヤマダ,0312345678,,x", []want{{"", "columns_extra", "カラムの数がヘッダーの数より多いです"}}},
		// A NUL byte, which PostgreSQL text cannot hold, is a problem of its column (L-3 format,
		// issue 13 row 6).
		{"山\x00田,ヤマダ,0312345678,", []want{{"name", "name_nul", "name:NUL文字（0x00）は利用できません"}}},
		{"山田,\x00,0312345678,", []want{{"kana", "kana_nul", "kana:NUL文字（0x00）は利用できません"}}},
		{"山田,ヤマダ,031234\x005678,", []want{{"tel", "tel_nul", "tel:NUL文字（0x00）は利用できません"}, {"tel", "tel_format", "tel:書式が正しくありません"}}},
		{"山田,ヤマダ,0312345678,備考\x00", []want{{"remarks", "remarks_nul", "remarks:NUL文字（0x00）は利用できません"}}},
		{"null,,abc,,x", []want{
			{"", "columns_extra", "カラムの数がヘッダーの数より多いです"},
			{"name", "name_null", "name:'null'は利用できない文字です"},
			{"kana", "kana_required", "kana:値がありません"},
			{"tel", "tel_format", "tel:書式が正しくありません"},
			{"tel", "tel_leading_zero", "tel:電話番号の先頭に0を入れてください"},
		}},
	}
	for _, tt := range tests {
		data := sjis(t, "name,kana,tel,remarks\r\n"+tt.row+"\r\n")
		recs, err := readAll(t, data, listimport.SJIS)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%.40q: %d records, %v", tt.row, len(recs), err)
		}
		rec := recs[0]
		var got []want
		for _, p := range rec.Problems {
			got = append(got, want{p.Column, p.Code, p.Message})
			if p.Line != 2 || p.MessageEn == "" {
				t.Errorf("%.40q: problem %+v", tt.row, p)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%.40q:\n got %v\nwant %v", tt.row, got, tt.want)
		}
		if (len(got) == 0) != (rec.Contact != listimport.Contact{}) {
			t.Errorf("%.40q: contact %+v with problems %v", tt.row, rec.Contact, got)
		}
	}
}

func TestDuplicateProblem(t *testing.T) {
	p := listimport.DuplicateProblem(7)
	if p.Line != 7 || p.Column != "tel" || p.Code != "tel_duplicate" || p.Message != "指定したバッチ内に同一の電話番号が既に登録されています" {
		t.Errorf("%+v", p)
	}
}

func TestFileErrors(t *testing.T) {
	const badHeader = "ヘッダーが正しくありません（name,kana,tel,remarks）"
	tests := []struct {
		name, data  string
		line        int
		code, jaMsg string
	}{
		{"empty", "", 1, "header_invalid", badHeader},
		{"header only", "name,kana,tel,remarks\r\n", 1, "header_only", "ヘッダーのみでデータがありません"},
		{"header only no newline", "name,kana,tel", 1, "header_only", "ヘッダーのみでデータがありません"},
		{"blank lines only", "name,kana,tel,remarks\n\n\n", 1, "header_only", "ヘッダーのみでデータがありません"},
		{"upper case", "Name,kana,tel,remarks\n山田,ヤマダ,0312345678,\n", 1, "header_invalid", badHeader},
		{"spaces", "name, kana,tel\n山田,ヤマダ,0312345678\n", 1, "header_invalid", badHeader},
		{"order", "kana,name,tel,remarks\n", 1, "header_invalid", badHeader},
		{"extra", "name,kana,tel,remarks,x\n", 1, "header_invalid", badHeader},
		{"short", "name,kana\n", 1, "header_invalid", badHeader},
		{"data first", "山田,ヤマダ,0312345678\n", 1, "header_invalid", badHeader},
		{"bare quote", "name,kana,tel\n山田,ヤマダ,0312345678\nab\"c,d,e\n", 3, "csv_malformed", "CSVの形式が正しくありません"},
		{"unterminated", "name,kana,tel\n山田,ヤマダ,0312345678\n\"ab,\nc,d\n", 3, "csv_malformed", "CSVの形式が正しくありません"},
		{"bad header quote", "\"name,kana,tel\n", 1, "csv_malformed", "CSVの形式が正しくありません"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, sjis(t, tt.data), listimport.SJIS)
			p := fileProblem(t, err)
			if p.Line != tt.line || p.Code != tt.code || p.Message != tt.jaMsg || p.Column != "" || p.MessageEn == "" {
				t.Errorf("got %+v", p)
			}
			if tt.code != "csv_malformed" && len(recs) != 0 {
				t.Errorf("%d records before the error", len(recs))
			}
			// The error is sticky.
			r := listimport.NewReader(strings.NewReader(tt.data), listimport.UTF8)
			_, err1 := r.Next()
			for err1 == nil {
				_, err1 = r.Next()
			}
			if _, err2 := r.Next(); err2 != err1 {
				t.Errorf("second Next: %v, then %v", err1, err2)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	r := listimport.NewReader(strings.NewReader("name,kana,tel\n山田,ヤマダ,0312345678\n"), listimport.UTF8)
	h, err := r.Header()
	if err != nil || !reflect.DeepEqual(h, []string{"name", "kana", "tel"}) {
		t.Fatalf("Header: %q, %v", h, err)
	}
	rec, err := r.Next()
	if err != nil || rec.Contact.Remarks != "" || len(rec.Problems) != 0 || rec.Line != 2 {
		t.Fatalf("Next: %+v, %v", rec, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	// Four fields under a three-column header are too many.
	recs, _ := readAll(t, []byte("name,kana,tel\n山田,ヤマダ,0312345678,x\n"), listimport.UTF8)
	if len(recs) != 1 || len(recs[0].Problems) != 1 || recs[0].Problems[0].Code != "columns_extra" {
		t.Errorf("got %+v", recs)
	}
	if _, err := listimport.NewReader(strings.NewReader("name,kana,tel\n"), "latin1").Next(); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]listimport.Encoding{"": listimport.SJIS, "SJIS": listimport.SJIS, "Shift_JIS": listimport.SJIS,
		"windows-31j": listimport.SJIS, "CP932": listimport.SJIS, "utf-8": listimport.UTF8, "UTF8": listimport.UTF8} {
		if got, err := listimport.ParseEncoding(in); got != want || err != nil {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"latin1", "euc-jp", " utf-8"} {
		if _, err := listimport.ParseEncoding(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestBOM(t *testing.T) {
	data := []byte("\xEF\xBB\xBFname,kana,tel,remarks\r\n髙橋,タカハシ,09012345678,①\r\n")
	for _, enc := range []listimport.Encoding{listimport.SJIS, listimport.UTF8} {
		r := listimport.NewReader(bytes.NewReader(data), enc)
		rec, err := r.Next()
		if err != nil || r.Encoding() != listimport.UTF8 {
			t.Fatalf("%s: %v, encoding %s", enc, err, r.Encoding())
		}
		want := listimport.Contact{Name: "髙橋", Kana: "タカハシ", Tel: "09012345678", Remarks: "①", PhoneType: "mobile"}
		if rec.Contact != want || len(rec.Problems) != 0 {
			t.Errorf("%s: %+v", enc, rec)
		}
	}
	if r := listimport.NewReader(bytes.NewReader(sjis(t, "name,kana,tel\n")), listimport.SJIS); r.Encoding() != listimport.SJIS {
		t.Errorf("no BOM: %s", r.Encoding())
	}
}

func TestLinesAndQuoting(t *testing.T) {
	for _, nl := range []string{"\r\n", "\n"} {
		text := "name,kana,tel,remarks" + nl +
			`"山田, 太郎","ヤ""マダ",0312345678,"一行目` + nl + `二行目"` + nl +
			nl + // a blank line is skipped but counted
			`佐藤,サトウ,09011112222,a\nb` + nl +
			`鈴木,スズキ,1,""` + nl +
			`"高橋",タカハシ,0501234567,"x,""y"""` // no final line break
		for _, enc := range []listimport.Encoding{listimport.SJIS, listimport.UTF8} {
			data := []byte(text)
			if enc == listimport.SJIS {
				data = sjis(t, text)
			}
			recs, err := readAll(t, data, enc)
			if err != nil || len(recs) != 4 {
				t.Fatalf("%q %s: %d records, %v", nl, enc, len(recs), err)
			}
			lines := []int{recs[0].Line, recs[1].Line, recs[2].Line, recs[3].Line}
			if !reflect.DeepEqual(lines, []int{2, 5, 6, 7}) {
				t.Errorf("%q %s: lines %v", nl, enc, lines)
			}
			// csv turns a CRLF inside quotes into LF.
			want := listimport.Contact{Name: "山田, 太郎", Kana: `ヤ"マダ`, Tel: "0312345678", Remarks: "一行目\n二行目", PhoneType: "landline"}
			if recs[0].Contact != want {
				t.Errorf("%q %s: %+v", nl, enc, recs[0].Contact)
			}
			if got := recs[1].Contact.Remarks; got != "a\nb" || recs[1].Fields[3] != `a\nb` {
				t.Errorf("remarks %q, field %q", got, recs[1].Fields[3])
			}
			if p := recs[2].Problems; len(p) != 2 || p[0].Line != 6 || p[0].Column != "tel" {
				t.Errorf("problems %+v", p)
			}
			if c := recs[3].Contact; c.Remarks != `x,"y"` || c.PhoneType != "ip" {
				t.Errorf("%+v", c)
			}
		}
	}
}

func TestFieldsNotAliased(t *testing.T) {
	recs, err := readAll(t, []byte("name,kana,tel\na,b,c\nd,e,f\ng,h\n"), listimport.UTF8)
	if err != nil || len(recs) != 3 {
		t.Fatal(err)
	}
	got := [][]string{recs[0].Fields, recs[1].Fields, recs[2].Fields}
	if !reflect.DeepEqual(got, [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g", "h"}}) {
		t.Errorf("%q", got)
	}
	if f := append(recs[0].Fields, "x"); recs[1].Fields[0] != "d" || len(f) != 4 {
		t.Error("appending to Fields overwrote the next record")
	}
}

func TestWindows31J(t *testing.T) {
	// NEC specials ① ㈱ №, IBM extensions 髙 﨑 (FB FC, FA B1) and the NEC-selected 髙 (EE E0).
	data := []byte("name,kana,tel,remarks\r\n\xfb\xfc\x8b\xb4,\xb6\xc0\xb6\xca\xbc,0120123456,\x87\x40\x87\x8a\x87\x82\xfa\xb1\xee\xe0\r\n")
	recs, err := readAll(t, data, listimport.SJIS)
	if err != nil || len(recs) != 1 {
		t.Fatal(err)
	}
	want := listimport.Contact{Name: "髙橋", Kana: "ｶﾀｶﾊｼ", Tel: "0120123456", Remarks: "①㈱№﨑髙", PhoneType: "toll_free"}
	if recs[0].Contact != want {
		t.Errorf("got %+v", recs[0])
	}
}

func TestInvalidEncoding(t *testing.T) {
	tests := []struct {
		name string
		enc  listimport.Encoding
		row  string
	}{
		{"sjis lone lead byte", listimport.SJIS, "\x82,\x83\x4e,0312345678"},
		{"sjis lead before comma", listimport.SJIS, "a\x82,b,0312345678"},
		{"sjis undefined", listimport.SJIS, "\xfd,b,0312345678"},
		{"sjis unassigned pair", listimport.SJIS, "\x85\x40,b,0312345678"},
		{"sjis 0x80", listimport.SJIS, "a\x80,b,0312345678"},
		{"sjis lead at EOF", listimport.SJIS, "a,b,0312345678\x82"},
		{"utf-8 invalid", listimport.UTF8, "\xff,b,0312345678"},
		{"utf-8 fed sjis", listimport.UTF8, "\x8e\x52\x93\x63,b,0312345678"},
	}
	for _, tt := range tests {
		recs, err := readAll(t, []byte("name,kana,tel\n"+tt.row), tt.enc)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d records, %v", tt.name, len(recs), err)
		}
		p := recs[0].Problems
		if len(p) == 0 || p[0].Code != "encoding_invalid" || p[0].Column != "" || p[0].Message != "文字コードが正しくありません" || p[0].Line != 2 {
			t.Errorf("%s: %+v", tt.name, recs[0])
		}
	}
}

func TestCountRecords(t *testing.T) {
	n, err := listimport.CountRecords(strings.NewReader("name,kana,tel\na,b\n\"x\ny\",,\n\nnull,null,null\n"), listimport.UTF8, listimport.Limits{})
	if n != 3 || err != nil {
		t.Errorf("%d, %v", n, err)
	}
	_, err = listimport.CountRecords(strings.NewReader("name,kana,tel\n"), listimport.UTF8, listimport.Limits{})
	if p := fileProblem(t, err); p.Code != "header_only" {
		t.Errorf("%+v", p)
	}
	_, err = listimport.CountRecords(strings.NewReader("name,kana,tel\na\"b\n"), listimport.UTF8, listimport.Limits{})
	if p := fileProblem(t, err); p.Code != "csv_malformed" || p.Line != 2 {
		t.Errorf("%+v", p)
	}
}

func TestPhoneType(t *testing.T) {
	for tel, want := range map[string]string{
		"09012345678": "mobile", "08012345678": "mobile", "07012345678": "mobile",
		"02012345678": "pager", "05012345678": "ip",
		"0120123456": "toll_free", "0800123456": "toll_free", "0801234567": "mobile", "08001234567": "mobile", // 080-0… (11 digits) is a mobile
		"0312345678": "landline", "0661234567": "landline", "0570123456": "landline", "0": "landline", "": "landline",
	} {
		if got := listimport.PhoneType(tel); got != want {
			t.Errorf("%s: %s, want %s", tel, got, want)
		}
	}
}

// Issue 13 row 16 (L-1): a UTF-16 file (Excel's "Unicode text") is named as such, whichever
// encoding the upload claimed, instead of a header that does not match.
func TestUTF16Refused(t *testing.T) {
	for _, bom := range []string{"\xff\xfe", "\xfe\xff"} {
		for _, enc := range []listimport.Encoding{listimport.SJIS, listimport.UTF8} {
			_, err := readAll(t, []byte(bom+"n\x00a\x00m\x00e\x00"), enc)
			if p := fileProblem(t, err); p.Code != "encoding_unsupported" || p.Line != 1 || !strings.Contains(p.MessageEn, "UTF-16") {
				t.Errorf("BOM %q as %v: %+v", bom, enc, p)
			}
		}
	}
}
