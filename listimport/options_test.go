package listimport_test

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/listimport"
)

func readWith(t *testing.T, data []byte, enc listimport.Encoding, opts listimport.Options) ([]*listimport.Record, error) {
	t.Helper()
	r := listimport.NewReaderWith(bytes.NewReader(data), enc, listimport.Limits{}, opts)
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

func codes(rec *listimport.Record) []string {
	var c []string
	for _, p := range rec.Problems {
		c = append(c, p.Code)
	}
	return c
}

// Issue 14 item 6: numbers are normalised only when asked, and the row says whether it was.
func TestNormalizeTelOption(t *testing.T) {
	file := "name,kana,tel\n山田,ヤマダ,０９０－１２３４－５６７８\n佐藤,サトウ,0312345678\n鈴木,スズキ,03-1234-5679\n"
	recs, err := readWith(t, []byte(file), listimport.UTF8, listimport.Options{})
	if err != nil || len(recs) != 3 {
		t.Fatal(len(recs), err)
	}
	if got := codes(recs[0]); !reflect.DeepEqual(got, []string{"tel_format"}) {
		t.Errorf("without the option, the full-width number is refused as written: %v", got)
	}
	recs, err = readWith(t, []byte(file), listimport.UTF8, listimport.Options{NormalizeTel: true})
	if err != nil || len(recs) != 3 {
		t.Fatal(len(recs), err)
	}
	want := []struct {
		tel     string
		changed bool
	}{{"09012345678", true}, {"0312345678", false}, {"0312345679", true}}
	for i, w := range want {
		rec := recs[i]
		if len(rec.Problems) > 0 || rec.Contact.Tel != w.tel || rec.Tel != w.tel || rec.TelNormalized != w.changed {
			t.Errorf("row %d: %+v", i, rec)
		}
	}
	if recs[0].Fields[2] != "０９０－１２３４－５６７８" {
		t.Errorf("the fields stay as written, for the error CSV: %q", recs[0].Fields[2])
	}
	if recs[0].Contact.PhoneType != listimport.PhoneMobile {
		t.Errorf("the phone type is the normalised number's: %q", recs[0].Contact.PhoneType)
	}
}

// Issue 14 item 2: an optional time zone column, named in English or Japanese, after the
// standard columns, in both encodings.
func TestTimeZoneColumn(t *testing.T) {
	for _, enc := range []listimport.Encoding{listimport.UTF8, listimport.SJIS} {
		for _, header := range []string{"name,kana,tel,remarks,time_zone", "name,kana,tel,remarks,タイムゾーン"} {
			file := header + "\r\n山田,ヤマダ,0312345678,,America/Los_Angeles\r\n佐藤,サトウ,0312345679,備考,\r\n" +
				"鈴木,スズキ,0312345670,,Mars/Olympus\r\n田中,タナカ,0312345671,,Local\r\n"
			data := []byte(file)
			if enc == listimport.SJIS {
				data = sjis(t, file)
			}
			r := listimport.NewReaderWith(bytes.NewReader(data), enc, listimport.Limits{}, listimport.Options{})
			h, err := r.Header()
			if err != nil || strings.Join(h, ",") != header {
				t.Fatalf("%s %s: header %q %v", enc, header, h, err)
			}
			recs, err := readWith(t, data, enc, listimport.Options{})
			if err != nil || len(recs) != 4 {
				t.Fatalf("%s %s: %d %v", enc, header, len(recs), err)
			}
			if recs[0].Contact.TimeZone != "America/Los_Angeles" || len(recs[0].Problems) > 0 {
				t.Errorf("%s: %+v", enc, recs[0])
			}
			if recs[1].Contact.TimeZone != "" || recs[1].Contact.Remarks != "備考" || len(recs[1].Problems) > 0 {
				t.Errorf("%s: empty is the campaign's zone: %+v", enc, recs[1])
			}
			for _, rec := range recs[2:] {
				if len(rec.Problems) != 1 || rec.Problems[0].Code != "time_zone_invalid" || rec.Problems[0].Column != "time_zone" ||
					rec.Problems[0].Message != "time_zone:タイムゾーンが正しくありません（例: Asia/Tokyo）" || rec.Problems[0].MessageEn == "" {
					t.Errorf("%s: %+v", enc, rec.Problems)
				}
			}
		}
	}
	// Without remarks, and the standard headers still as before.
	for _, header := range []string{"name,kana,tel,time_zone", "name,kana,tel", "name,kana,tel,remarks"} {
		recs, err := readWith(t, []byte(header+"\n山田,ヤマダ,0312345678"+strings.Repeat(",", strings.Count(header, ",")-2)+"\n"), listimport.UTF8, listimport.Options{})
		if err != nil || len(recs) != 1 || len(recs[0].Problems) > 0 {
			t.Errorf("%s: %v %+v", header, err, recs)
		}
	}
	for _, header := range []string{"name,kana,tel,time_zone,remarks", "name,kana,tel,time_zone,time_zone", "name,kana,tel,remarks,timezone"} {
		_, err := readWith(t, []byte(header+"\n山田,ヤマダ,0312345678,,\n"), listimport.UTF8, listimport.Options{})
		if p := fileProblem(t, err); p.Code != "header_invalid" {
			t.Errorf("%s: %+v", header, p)
		}
	}
}

// The error CSV reads the file as the import did, and adds the database's problems by line.
func TestErrorCSVWithOptionsAndExtras(t *testing.T) {
	file := "name,kana,tel,タイムゾーン\r\n山田,ヤマダ,０３－１２３４－５６７８,Asia/Tokyo\r\n佐藤,サトウ,0312345679,Nowhere/Else\r\n"
	var out bytes.Buffer
	found := map[int]listimport.Found{2: listimport.FoundDoNotCall, 3: listimport.FoundDuplicate | listimport.FoundDoNotCall}
	if _, err := listimport.WriteErrorCSVWith(&out, bytes.NewReader(sjis(t, file)), listimport.SJIS, found, listimport.Limits{},
		listimport.Options{NormalizeTel: true}); err != nil {
		t.Fatal(err)
	}
	rows := readErrorCSV(t, out.Bytes(), listimport.SJIS)
	want := [][]string{
		{"name", "kana", "tel", "タイムゾーン", "error"},
		{"山田", "ヤマダ", "０３－１２３４－５６７８", "Asia/Tokyo", "tel:発信禁止リストに登録されている番号です"},
		{"佐藤", "サトウ", "0312345679", "Nowhere/Else", "time_zone:タイムゾーンが正しくありません（例: Asia/Tokyo） / " +
			"指定したバッチ内に同一の電話番号が既に登録されています / tel:発信禁止リストに登録されている番号です"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("got  %q\nwant %q", rows, want)
	}
	if p := listimport.DoNotCallProblem(9); p.Line != 9 || p.Column != "tel" || p.Code != "tel_do_not_call" || p.MessageEn != "tel: the number is on a do-not-call list" {
		t.Errorf("%+v", p)
	}
}
