package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/kakeru-dialer/kakeru/store/storetest"
)

func toSJIS(t *testing.T, s string) []byte {
	t.Helper()
	b, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func fromSJIS(t *testing.T, b []byte) string {
	t.Helper()
	s, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), b)
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// upload posts a list file as multipart/form-data.
func (e *env) upload(token string, batchID int64, name string, file []byte, encoding string) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("name", name)
	if encoding != "" {
		mw.WriteField("encoding", encoding)
	}
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write(file)
	mw.Close()
	return e.postForm(token, fmt.Sprintf("%s/api/v1/batches/%d/lists", e.srv.URL, batchID), mw.FormDataContentType(), &body)
}

type problemRow struct {
	Line      int    `json:"line"`
	Column    string `json:"column"`
	Message   string `json:"message"`
	MessageEn string `json:"message_en"`
}

func problemsOf(t *testing.T, r response) []problemRow {
	t.Helper()
	var body struct {
		Error struct {
			Code    string       `json:"code"`
			Details []problemRow `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil || body.Error.Code != "invalid_csv" {
		t.Fatalf("want invalid_csv, got %d %s", r.Status, r.Raw)
	}
	return body.Error.Details
}

// L-3 through the API with Shift_JIS files: every message, with its line and column, in a file
// where errors and valid rows mix; L-4: nothing is imported.
func TestImportReportsEveryL3Message(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	long := strings.Repeat("あ", 256)
	file := "name,kana,tel,remarks\r\n" +
		"山田太郎,ヤマダタロウ,09012345678,\r\n" + // 2: valid
		",ヤマダ,09012345679,\r\n" + // 3
		"null,null,null,\r\n" + // 4
		long + "," + long + "," + strings.Repeat("0", 256) + ",\r\n" + // 5
		"佐藤,サトウ,0312345678901234567890123456789,\r\n" + // 6: 31 digits
		"佐藤,サトウ,03-1234-5678,\r\n" + // 7
		"佐藤,サトウ,12345,\r\n" + // 8
		"佐藤,サトウ,312345678,\r\n" + // 9
		"佐藤,サトウ,0311112222," + strings.Repeat("x", 1001) + "\r\n" + // 10
		"佐藤,サトウ\r\n" + // 11
		"鈴木,スズキ,09012345678,\r\n" + // 12: duplicate of line 2
		"高橋,\"タカハシ\",0120000111,\"複数行の\r\n備考\"\r\n" // 13–14: valid
	r := e.upload(adminToken, batch, "August", toSJIS(t, file), "")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	want := []problemRow{
		{3, "name", "name:値がありません", ""},
		{4, "name", "name:'null'は利用できない文字です", ""},
		{4, "kana", "kana:'null'は利用できない文字です", ""},
		{4, "tel", "tel:'null'は利用できない文字です", ""},
		{5, "name", "name:1文字から255文字までにしてください", ""},
		{5, "kana", "kana:1文字から255文字までにしてください", ""},
		{5, "tel", "tel:1文字から255文字までにしてください", ""},
		{6, "tel", "tel:1文字から30文字までにしてください", ""},
		{7, "tel", "tel:書式が正しくありません", ""},
		{8, "tel", "tel:書式が正しくありません", ""},
		{8, "tel", "tel:電話番号の先頭に0を入れてください", ""},
		{9, "tel", "tel:電話番号の先頭に0を入れてください", ""},
		{10, "remarks", "remarks:1文字から1000文字までにしてください", ""},
		{11, "", "カラムの数がヘッダーの数より少ないです", ""},
		{12, "tel", "指定したバッチ内に同一の電話番号が既に登録されています", ""},
	}
	got := problemsOf(t, r)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.Line || g.Column != w.Column || g.Message != w.Message || g.MessageEn == "" {
			t.Errorf("problem %d: got %+v, want %+v", i, g, w)
		}
	}
	if n := storetest.Count(t, e.store, "contacts", "batch_id = $1", batch); n != 0 {
		t.Fatalf("%d contacts imported from a refused file", n)
	}
	if n := storetest.Count(t, e.store, "customer_lists", "batch_id = $1", batch); n != 0 {
		t.Fatalf("%d lists created from a refused file", n)
	}

	// The error CSV: Shift_JIS, the input's rows, one error cell per row.
	url, _ := r.Body["error_csv_url"].(string)
	if url == "" {
		t.Fatalf("no error_csv_url: %s", r.Raw)
	}
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodGet, url, nil) // not the uploader
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "Shift_JIS") {
		t.Fatalf("error CSV: %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(fromSJIS(t, raw))).ReadAll()
	if err != nil {
		t.Fatalf("error CSV does not parse: %v", err)
	}
	if len(rows) != 13 || strings.Join(rows[0], ",") != "name,kana,tel,remarks,error" {
		t.Fatalf("error CSV has %d rows, header %v", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		if len(row) < 2 {
			t.Fatalf("row %d: %v", i+1, row)
		}
		cell := row[len(row)-1]
		switch i + 2 {
		case 2, 13:
			if cell != "" {
				t.Errorf("valid row %d has error %q", i+2, cell)
			}
		case 8:
			if cell != "tel:書式が正しくありません / tel:電話番号の先頭に0を入れてください" {
				t.Errorf("row 8 error %q", cell)
			}
		default:
			if cell == "" {
				t.Errorf("row %d has no error", i+2)
			}
		}
	}
	if rows[12][3] != "複数行の\r\n備考" && rows[12][3] != "複数行の\n備考" {
		t.Errorf("quoted line break lost in the error CSV: %q", rows[12][3])
	}
}

func TestImportHeaderOnlyAndLimits(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	r := e.upload(adminToken, batch, "empty", toSJIS(t, "name,kana,tel,remarks\r\n"), "sjis")
	got := problemsOf(t, r)
	if len(got) != 1 || got[0].Message != "ヘッダーのみでデータがありません" {
		t.Fatalf("got %+v", got)
	}
	e.cfg.System.Limits.MaxRowsPerList = 2
	r = e.upload(adminToken, batch, "big", toSJIS(t, "name,kana,tel\r\nA,A,0311112222\r\nB,B,0311112223\r\nC,C,0311112224\r\n"), "")
	if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "too_many_rows" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	e.cfg.System.Limits.MaxListsPerBatch = 1
	e.upload(adminToken, batch, "one", toSJIS(t, "name,kana,tel\r\nA,A,0311112222\r\n"), "")
	r = e.upload(adminToken, batch, "two", toSJIS(t, "name,kana,tel\r\nB,B,0311112223\r\n"), "")
	if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "too_many_lists" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
}

// L-3 duplicates: refused against an earlier list of the same batch, accepted in another batch.
// L-2: remarks `\n` becomes a line break; quoted commas, quotes and line breaks survive.
func TestImportDuplicatesAndQuoting(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	b1, b2 := e.createBatch("2022-08-01"), e.createBatch("2022-08-01")
	file := toSJIS(t, "name,kana,tel,remarks\r\n"+
		"\"山田, 太郎\",\"ヤマダ \"\"タロウ\"\"\",09012345678,1行目\\n2行目\r\n"+
		"㈱髙橋①,タカハシ,0120123456,\"改行\r\nあり\"\r\n")
	r := e.upload(supervisorToken, b1, "first", file, "")
	if r.Status != http.StatusCreated || r.Body["row_count"] != float64(2) {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	r = e.upload(supervisorToken, b1, "again", toSJIS(t, "name,kana,tel\r\n別人,ベツジン,09012345678\r\n"), "")
	got := problemsOf(t, r)
	if len(got) != 1 || got[0].Line != 2 || got[0].Message != "指定したバッチ内に同一の電話番号が既に登録されています" {
		t.Fatalf("got %+v", got)
	}
	if r := e.upload(supervisorToken, b2, "other batch", file, ""); r.Status != http.StatusCreated {
		t.Fatalf("same numbers in another batch: %d %s", r.Status, r.Raw)
	}

	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts?batch_id=%d", b1), nil)
	items := r.Body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("contacts: %s", r.Raw)
	}
	c0, c1 := items[0].(map[string]any), items[1].(map[string]any)
	if c0["name"] != "山田, 太郎" || c0["kana"] != `ヤマダ "タロウ"` || c0["remarks"] != "1行目\n2行目" || c0["phone_type"] != "mobile" {
		t.Errorf("contact 1: %v", c0)
	}
	if c1["name"] != "㈱髙橋①" || c1["remarks"] != "改行\r\nあり" && c1["remarks"] != "改行\nあり" || c1["phone_type"] != "toll_free" {
		t.Errorf("contact 2: %v", c1)
	}
	// S-3: name, kana or number prefix.
	for q, want := range map[string]int{"髙橋": 1, "タ": 2, "0901": 1, "1234": 0, "%": 0} {
		r := e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts?batch_id=%d&q=%s", b1, urlQuery(q)), nil)
		if r.Body["total"] != float64(want) {
			t.Errorf("q=%q: %s", q, r.Raw)
		}
	}
	e.mustCall(http.StatusForbidden, supervisor2Token, http.MethodGet, fmt.Sprintf("/api/v1/contacts?batch_id=%d", b1), nil)
	id := int64(c0["id"].(float64))
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts/%d/attempts", id), nil)
	if r.Body["total"] != float64(0) {
		t.Fatalf("attempts before any dialing: %s", r.Raw)
	}
}

func urlQuery(s string) string { return strings.NewReplacer("%", "%25", " ", "%20").Replace(s) }

// The error CSV of a refused upload (L-4) neutralises cells a spreadsheet would run as a
// formula, as results.csv does (S-4; issue 13 row 10).
func TestImportErrorCSVNeutralisesFormulas(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	file := "name,kana,tel,remarks\r\n" +
		"=cmd|' /C calc'!A0,+SUM(1),0311112222,\"@HYPERLINK(\"\"http://evil.example/\"\")\"\r\n" +
		"\"\r=CR\",カナ,12,-2+3\r\n"
	r := e.upload(adminToken, batch, "formulas", []byte(file), "utf-8")
	url, _ := r.Body["error_csv_url"].(string)
	if r.Status != http.StatusUnprocessableEntity || url == "" {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("error CSV: %v %q", err, raw)
	}
	want := [][]string{
		{"'=cmd|' /C calc'!A0", "'+SUM(1)", "0311112222", `'@HYPERLINK("http://evil.example/")`},
		{"'\r=CR", "カナ", "12", "'-2+3"},
	}
	for i, w := range want {
		if got := rows[i+1][:4]; strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("row %d: %q, want %q", i+1, got, w)
		}
	}
}

// Issue 13 row 16: a UTF-16 list is a 422 that says so (L-1), and a compressed upload a 415,
// instead of a header error and a 400 from the multipart reader.
func TestImportUTF16AndCompressed(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	r := e.upload(adminToken, batch, "u16", []byte("\xff\xfen\x00a\x00m\x00e\x00"), "")
	if got := problemsOf(t, r); r.Status != http.StatusUnprocessableEntity || len(got) != 1 || !strings.Contains(got[0].MessageEn, "UTF-16") {
		t.Errorf("UTF-16: %d %s", r.Status, r.Raw)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte("name,kana,tel\r\nA,A,0311112222\r\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/batches/%d/lists", e.srv.URL, batch), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("gzip upload: %d", resp.StatusCode)
	}
}
