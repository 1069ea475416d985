package httpapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// uploadDNC posts a do-not-call file as multipart/form-data.
func (e *env) uploadDNC(token, list string, file []byte, encoding string) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if encoding != "" {
		mw.WriteField("encoding", encoding)
	}
	fw, _ := mw.CreateFormFile("file", "dnc.csv")
	fw.Write(file)
	mw.Close()
	return e.postForm(token, e.srv.URL+"/api/v1/do-not-call/"+list+"/imports", mw.FormDataContentType(), &body)
}

// N-1 through the API: add (normalised; 201 then 200), invalid number 422 naming tel, search
// by prefix, import in Shift_JIS with counts, a refused file with line-numbered problems,
// export, removal with its trail.
func TestDoNotCallAPI(t *testing.T) {
	e := newEnv(t, "2022-08-01 10:00", nil)
	r := e.mustCall(http.StatusCreated, supervisorToken, http.MethodPost, "/api/v1/do-not-call/1/numbers",
		map[string]any{"tel": "090-1111-2222", "reason": "苦情"})
	if r.Body["tel"] != "09011112222" || r.Body["added_by"] == "" || r.Body["source"] != "api" || r.Body["campaign_id"] != 1.0 {
		t.Fatalf("added %s", r.Raw)
	}
	e.mustCall(http.StatusOK, supervisorToken, http.MethodPost, "/api/v1/do-not-call/1/numbers", map[string]any{"tel": "09011112222"})
	r = e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, "/api/v1/do-not-call/1/numbers", map[string]any{"tel": "12-34"})
	if r.errorCode() != "invalid_tel" || !strings.Contains(string(r.Raw), `"field":"tel"`) {
		t.Fatalf("invalid tel: %s", r.Raw)
	}
	file, _ := japanese.ShiftJIS.NewEncoder().String("電話番号,理由\n03-1234-5678,本人希望\n０９０１１１１２２２２,\n0312345678,再掲\n")
	r = e.uploadDNC(supervisorToken, "1", []byte(file), "sjis")
	if r.Status != http.StatusCreated || r.Body["rows"] != 3.0 || r.Body["added"] != 1.0 || r.Body["already_present"] != 1.0 ||
		r.Body["repeated"] != 1.0 {
		t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	r = e.uploadDNC(adminToken, "1", []byte("tel,reason\n0312345679,ok\n12345,bad\n"), "utf-8")
	if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "invalid_csv" ||
		!strings.Contains(string(r.Raw), `"line":3`) || !strings.Contains(string(r.Raw), "tel:書式が正しくありません") {
		t.Fatalf("refused import: %d %s", r.Status, r.Raw)
	}
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/do-not-call/1/numbers?q=03&limit=10", nil)
	if r.Body["total"] != 1.0 {
		t.Fatalf("search: %s", r.Raw) // the refused file added nothing
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/do-not-call/1/numbers.csv", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(csv), "\uFEFF\"電話番号\",\"理由\"") ||
		!strings.Contains(string(csv), "\"0312345678\",\"本人希望\",\"import\"") {
		t.Fatalf("export: %d %s", resp.StatusCode, csv)
	}
	e.mustCall(http.StatusNoContent, supervisorToken, http.MethodDelete, "/api/v1/do-not-call/1/numbers/03-1234-5678?reason=mistake", nil)
	e.mustCall(http.StatusNotFound, supervisorToken, http.MethodDelete, "/api/v1/do-not-call/1/numbers/0312345678", nil)
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/do-not-call/1/removals", nil)
	if !strings.Contains(string(r.Raw), `"removal_reason":"mistake"`) || !strings.Contains(string(r.Raw), `"reason":"本人希望"`) {
		t.Fatalf("removals: %s", r.Raw)
	}
}

// admins everything; supervisors read the global list and read and write their campaigns'
// lists; agents nothing; a refusal changes nothing.
func TestDoNotCallRoles(t *testing.T) {
	e := newEnv(t, "2022-08-01 10:00", nil)
	add := map[string]any{"tel": "0312345678"}
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/do-not-call/global/numbers", add)
	e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/do-not-call/global/numbers", nil)
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodPost, "/api/v1/do-not-call/global/numbers", map[string]any{"tel": "0399999999"})
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodDelete, "/api/v1/do-not-call/global/numbers/0312345678", nil)
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodGet, "/api/v1/do-not-call/2/numbers", nil)
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodPost, "/api/v1/do-not-call/2/numbers", add)
	if r := e.uploadDNC(supervisorToken, "global", []byte("tel\n0399999999\n"), "utf-8"); r.Status != http.StatusForbidden {
		t.Fatalf("supervisor import to the global list: %d", r.Status)
	}
	for _, path := range []string{"/api/v1/do-not-call/global/numbers", "/api/v1/do-not-call/1/numbers", "/api/v1/do-not-call/1/removals",
		"/api/v1/do-not-call/1/numbers.csv"} {
		e.mustCall(http.StatusForbidden, agentToken, http.MethodGet, path, nil)
	}
	e.mustCall(http.StatusForbidden, agentToken, http.MethodPost, "/api/v1/do-not-call/1/numbers", add)
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, "/api/v1/do-not-call/99/numbers", nil)
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, "/api/v1/do-not-call/abc/numbers", nil)
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/do-not-call/global/numbers", nil)
	if r.Body["total"] != 1.0 {
		t.Fatalf("the refusals changed the global list: %s", r.Raw)
	}
}
