package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// uploadForm posts a list file with extra form fields and a query string.
func (e *env) uploadForm(batchID int64, query string, fields map[string]string, file string) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("name", "list")
	mw.WriteField("encoding", "utf-8")
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte(file))
	mw.Close()
	return e.postForm(adminToken, fmt.Sprintf("%s/api/v1/batches/%d/lists%s", e.srv.URL, batchID, query), mw.FormDataContentType(), &body)
}

func (e *env) addDoNotCall(campaignID int, tel string) {
	e.t.Helper()
	if _, err := e.store.DB().ExecContext(context.Background(), `INSERT INTO do_not_call (tel, campaign_id, source, added_by, added_at)
		VALUES ($1, $2, 'api', 'test', now())`, tel, campaignID); err != nil {
		e.t.Fatal(err)
	}
}

// Issue 14 items 1, 2 and 6 through the API: normalize_tel (form field or query parameter), the
// counts in the answer, the list's zones, and on_import: refuse.
func TestImportOptionsAndCounts(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	e.addDoNotCall(0, "0311111111")
	file := "name,kana,tel,time_zone\n山田,ヤマダ,03-1111-1111,America/New_York\n佐藤,サトウ,0322222222,\n"

	r := e.uploadForm(batch, "", nil, file)
	if got := problemsOf(t, r); len(got) != 1 || got[0].Line != 2 || got[0].Column != "tel" {
		t.Fatalf("without normalize_tel: %s", r.Raw)
	}
	if r := e.uploadForm(batch, "?normalize_tel=maybe", nil, file); r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest ||
		r.errorCode() != "invalid_input" {
		t.Fatalf("a bad normalize_tel: %d %s", r.Status, r.Raw)
	}
	r = e.uploadForm(batch, "?normalize_tel=true", nil, file)
	if r.Status != http.StatusCreated || r.Body["normalized_count"] != float64(1) || r.Body["do_not_call_count"] != float64(1) ||
		r.Body["row_count"] != float64(2) || fmt.Sprint(r.Body["time_zones"]) != "[America/New_York]" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	id := int64(r.Body["id"].(float64))
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/lists/%d", id), nil)
	if fmt.Sprint(r.Body["time_zones"]) != "[America/New_York]" {
		t.Errorf("list: %s", r.Raw)
	}

	// The form field wins over the query; refuse makes the do-not-call row a problem.
	e.cfg.System.DoNotCall.OnImport = config.DoNotCallRefuse
	other := e.createBatch("2022-08-01")
	r = e.uploadForm(other, "?normalize_tel=false", map[string]string{"normalize_tel": "true"}, file)
	got := problemsOf(t, r)
	if len(got) != 1 || got[0].Line != 2 || got[0].Message != "tel:発信禁止リストに登録されている番号です" ||
		r.Body["do_not_call_count"] != float64(1) || r.Body["normalized_count"] != float64(1) || r.Body["error_csv_url"] == nil {
		t.Fatalf("refuse: %s", r.Raw)
	}
}
