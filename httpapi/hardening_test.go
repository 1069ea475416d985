package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// a supervisor cannot tell another campaign's batch from a batch that does not exist.
func TestMissingAndForeignLookAlike(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	id := e.createBatch("2022-08-01")
	for _, path := range []string{"/api/v1/batches/%d", "/api/v1/batches/%d/lists", "/api/v1/contacts?batch_id=%d"} {
		foreign := e.call(supervisor2Token, http.MethodGet, fmt.Sprintf(path, id), nil)
		missing := e.call(supervisor2Token, http.MethodGet, fmt.Sprintf(path, id+999), nil)
		if foreign.Status != http.StatusForbidden || missing.Status != http.StatusForbidden {
			t.Errorf("%s: foreign %d, missing %d; want 403 both", path, foreign.Status, missing.Status)
		}
	}
	for _, path := range []string{"/api/v1/lists/999", "/api/v1/contacts/999/attempts"} {
		if r := e.call(supervisor2Token, http.MethodGet, path, nil); r.Status != http.StatusForbidden {
			t.Errorf("%s: %d", path, r.Status)
		}
	}
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/batches/%d", id+999), nil)
}

// Bad input is a 4xx, never a 500.
func TestBadTextIsRefused(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	for name, body := range map[string]any{
		"NUL in name": map[string]any{"name": "b\u0000x", "campaign_id": 1, "start_date": "2022-08-01"},
		"blank name":  map[string]any{"name": "   ", "campaign_id": 1, "start_date": "2022-08-01"},
	} {
		if r := e.call(adminToken, http.MethodPost, "/api/v1/batches", body); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	id := e.createBatch("2022-08-01")
	for _, q := range []string{"%00", "%ff%fe"} {
		if r := e.call(adminToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts?batch_id=%d&q=%s", id, q), nil); r.Status != http.StatusBadRequest {
			t.Errorf("q=%s: %d %s", q, r.Status, r.Raw)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/batches",
		bytes.NewReader([]byte(`{"name":"x","campaign_id":1,"start_date":"2022-08-01"}}`)))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("trailing }: %d %s", resp.StatusCode, raw)
	}
	r := e.call(adminToken, http.MethodPost, "/api/v1/batches", map[string]any{"name": "x", "campaign_id": 1, "start_date": "9999-12-31"})
	if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "batch_start_too_far" {
		t.Errorf("far start: %d %s", r.Status, r.Raw)
	}
}

// A memo-only PATCH after R changed keeps the batch's dates (B-2 derives them from the R in
// force when the dates were set).
func TestPatchMemoKeepsDates(t *testing.T) {
	var cfg *config.Config
	e := newEnv(t, "2022-07-20 10:00", func(c *config.Config) { cfg = c })
	id := e.createBatch("2022-08-01") // R = 180: delete 2023-01-27
	cfg.System.HistoryRetentionDays = 91
	r := e.mustCall(http.StatusOK, adminToken, http.MethodPatch, fmt.Sprintf("/api/v1/batches/%d", id), map[string]any{"memo": "note"})
	if r.Body["delete_date"] != "2023-01-27" || r.Body["end_date"] != "2022-10-29" || r.Body["memo"] != "note" {
		t.Fatalf("got %s", r.Raw)
	}
}

// The authentication scheme is case-insensitive (RFC 9110 §11.1); the token is not.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	for header, want := range map[string]int{
		"bearer " + adminToken:                  http.StatusOK,
		"BEARER  " + adminToken:                 http.StatusOK,
		"Bearer " + strings.ToUpper(adminToken): http.StatusUnauthorized,
		"Basic " + adminToken:                   http.StatusUnauthorized,
		"Bearer":                                http.StatusUnauthorized,
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/campaigns", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%q: %d, want %d", header, resp.StatusCode, want)
		}
	}
}

// A NUL byte in a cell of an uploaded list is refused like any invalid cell, with its line and
// column (L-3, L-4), not a 500 from PostgreSQL (issue 13 row 6).
func TestImportNULByte(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	for _, enc := range []string{"sjis", "utf-8"} {
		file := []byte("name,kana,tel,remarks\r\nA,A,0311112222,ok\r\nB\x00,B,0311112223,\r\nC,C,0311112224,x\x00y\r\n")
		r := e.upload(adminToken, batch, "nul", file, enc)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d: %s", enc, r.Status, r.Raw)
		}
		got := problemsOf(t, r)
		if len(got) != 2 || got[0].Line != 3 || got[0].Column != "name" || got[1].Line != 4 || got[1].Column != "remarks" ||
			!strings.Contains(got[0].MessageEn, "NUL") {
			t.Errorf("%s: %+v", enc, got)
		}
	}
}

// The error CSV of a refused upload holds customer rows: its uploader may read it only while it
// may still see the batch's campaign, as for the batch itself (X-1, L-4; issue 13 row 11).
func TestErrorCSVFollowsCampaignAccess(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01") // campaign 1
	r := e.upload(supervisorToken, batch, "bad", []byte("name,kana,tel\r\n山田,ヤマダ,12\r\n"), "utf-8")
	url, _ := r.Body["error_csv_url"].(string)
	if r.Status != http.StatusUnprocessableEntity || url == "" {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(supervisorToken); s != http.StatusOK {
		t.Fatalf("uploader: %d", s)
	}
	// The configuration moves the supervisor to campaign 2 (a SIGHUP reload in production).
	for i := range e.cfg.Users {
		if e.cfg.Users[i].Name == "supervisor" {
			e.cfg.Users[i].CampaignIDs = []int{2}
		}
	}
	if s := get(supervisorToken); s != http.StatusForbidden {
		t.Errorf("uploader moved to another campaign: %d, want 403", s)
	}
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodGet, fmt.Sprintf("/api/v1/batches/%d", batch), nil)
	if s := get(supervisor2Token); s != http.StatusForbidden {
		t.Errorf("not the uploader: %d", s)
	}
	if s := get(agentToken); s != http.StatusForbidden {
		t.Errorf("agent: %d", s)
	}
	if s := get(adminToken); s != http.StatusOK {
		t.Errorf("admin: %d", s)
	}
}

// The upload's file name names the error CSV (L-4), stored as text: a NUL or invalid UTF-8 in it
// is dropped, not a 500 from PostgreSQL (issue 13).
func TestUploadFileNameSanitised(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("name", "odd name")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename*=UTF-8''a%00b%FF%0D%0A.csv`)
	h.Set("Content-Type", "text/csv")
	fw, _ := mw.CreatePart(h)
	fw.Write([]byte("name,kana,tel\r\n山田,ヤマダ,12\r\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/batches/%d/lists", e.srv.URL, batch), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "error_csv_url") {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var out struct {
		URL string `json:"error_csv_url"`
	}
	json.Unmarshal(raw, &out)
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+out.URL, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != http.StatusOK || cd != "attachment; filename*=UTF-8''ab.csv.errors.csv" {
		t.Errorf("%d %q", resp.StatusCode, cd)
	}
}
