package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// repeated yields row over and over, size bytes in all, from row's one buffer.
type repeated struct {
	row       []byte
	pos, left int
}

func (r *repeated) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:min(len(p), n+r.left)], r.row[r.pos:])
		n, r.left, r.pos = n+c, r.left-c, (r.pos+c)%len(r.row)
	}
	return n, nil
}

// uploadStream posts a list file read from file through a pipe, so that the test never holds
// it, and returns the answer and how many bytes of the file the client had sent when it came.
func (e *env) uploadStream(token string, batchID int64, file io.Reader) (response, int64) {
	e.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan int64, 1)
	go func() {
		mw.WriteField("name", "streamed")
		mw.WriteField("encoding", "utf-8")
		fw, _ := mw.CreateFormFile("file", "big.csv")
		n, err := io.Copy(fw, file)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
		sent <- n
	}()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/batches/%d/lists", e.srv.URL, batchID), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe) // the server answered: stop producing the file
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out, <-sent
}

// allocated runs f and returns the bytes the process allocated meanwhile, client and server.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// An upload past system.limits.max_upload_bytes is refused with 413 payload_too_large once the
// limit is read, not after the whole file, before any write (L-5), and memory does not grow
// with the file: the 100 MB file of issue 13 row 2 (1,000 rows of 100 KB remarks) took the
// server from 26 to 695 MB.
func TestUploadTooLarge(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	row := []byte("山田,ヤマダ,0311112222," + strings.Repeat("x", 100<<10) + "\r\n")
	const size = 100 << 20
	var r response
	var sent int64
	alloc := allocated(func() {
		r, sent = e.uploadStream(adminToken, batch, io.MultiReader(strings.NewReader("name,kana,tel,remarks\r\n"), &repeated{row: row, left: size}))
	})
	if r.Status != http.StatusRequestEntityTooLarge || r.errorCode() != "payload_too_large" || !strings.Contains(string(r.Raw), "33554432") {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	t.Logf("413 after %d bytes of the file sent, %d bytes allocated", sent, alloc)
	if sent > 64<<20 {
		t.Errorf("the server read on past its limit: %d bytes sent", sent)
	}
	if alloc > 16<<20 {
		t.Errorf("a %d-byte upload allocated %d bytes", size, alloc)
	}

	// A declared length past the limit is refused before the body is read.
	e.cfg.System.Limits.MaxUploadBytes = 64 << 10
	r = e.upload(adminToken, batch, "declared", append([]byte("name,kana,tel\r\n"), bytes.Repeat([]byte("a,b,0311112222\r\n"), 5000)...), "")
	if r.Status != http.StatusRequestEntityTooLarge || r.errorCode() != "payload_too_large" {
		t.Fatalf("declared length: %d %s", r.Status, r.Raw)
	}
	// Under the limit the same endpoint imports as before.
	if r := e.upload(adminToken, batch, "small", []byte("name,kana,tel\r\n山田,ヤマダ,0311112222\r\n"), "utf-8"); r.Status != http.StatusCreated {
		t.Fatalf("small upload: %d %s", r.Status, r.Raw)
	}
}

// A record past system.limits.max_row_bytes refuses the file at its line as soon as it is read
// (422 invalid_csv, row_too_long, no error CSV; L-4, L-5), whatever its size: the 30 MB line of
// issue 13 row 2.
func TestUploadRowTooLong(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	file := io.MultiReader(strings.NewReader("name,kana,tel,remarks\r\n山田,ヤマダ,0311112222,\r\n佐藤,サトウ,0311112223,"),
		&repeated{row: []byte("0123456789"), left: 30 << 20}, strings.NewReader("\r\n"))
	var r response
	alloc := allocated(func() { r, _ = e.uploadStream(adminToken, batch, file) })
	got := problemsOf(t, r)
	if len(got) != 1 || got[0].Line != 3 || got[0].Column != "" || !strings.Contains(got[0].MessageEn, "8192 bytes") {
		t.Fatalf("got %+v", got)
	}
	var body struct {
		Error struct {
			Details []struct{ Code string } `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Raw, &body); body.Error.Details[0].Code != "row_too_long" || r.Body["error_csv_url"] != nil {
		t.Errorf("%s", r.Raw)
	}
	t.Logf("a 30 MB line: %d bytes allocated", alloc)
	if alloc > 16<<20 {
		t.Errorf("a 30 MB line allocated %d bytes", alloc)
	}
}

// The error CSV (L-4) is bounded by system.limits.max_error_csv_bytes: it stops at a row saying
// from which line rows were left out, the answer says so too, and each cell is cut at 1,000
// characters (issue 13 row 2: the whole refused file was stored as its error CSV).
func TestUploadErrorCSVBounded(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	e.cfg.System.Limits.MaxErrorCSVBytes = 64 << 10
	var file bytes.Buffer
	file.WriteString("name,kana,tel,remarks\r\n")
	for i := range 200 {
		fmt.Fprintf(&file, "山田,ヤマダ,0311%06d,%s\r\n", i, strings.Repeat("x", 3000)) // remarks_length
	}
	r := e.upload(adminToken, batch, "bounded", file.Bytes(), "utf-8")
	if got := problemsOf(t, r); len(got) != 200 {
		t.Fatalf("%d problems", len(got))
	}
	from, _ := r.Body["error_csv_omitted_from_line"].(float64)
	msg, _ := r.Body["error"].(map[string]any)["message"].(string)
	if from < 10 || from > 100 || !strings.Contains(msg, fmt.Sprintf("line %d", int(from))) {
		t.Fatalf("omitted from %v: %s", from, r.Raw)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+r.Body["error_csv_url"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(raw) > 64<<10 {
		t.Errorf("error CSV of %d bytes", len(raw))
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(rows) != int(from) {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if cell := rows[1][3]; cell != strings.Repeat("x", 1000)+"…" {
		t.Errorf("remarks cell of %d bytes", len(cell))
	}
	if note := rows[len(rows)-1]; note[0] != "" || !strings.Contains(note[4], fmt.Sprint(int(from))) {
		t.Errorf("last row %q", note)
	}
}

// spoolSpy sees, while an import runs, which file it reads and what the upload directory holds.
type spoolSpy struct {
	*store.Store
	dir     string
	mu      sync.Mutex
	file    string
	entries []string
}

func (s *spoolSpy) ImportCSV(ctx context.Context, in store.ImportInput, file io.ReadSeeker, errCSV io.Writer, now time.Time) (store.CustomerList, error) {
	s.mu.Lock()
	s.file, s.entries = "", nil
	if f, ok := file.(interface{ Name() string }); ok {
		s.file = f.Name()
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		s.entries = append(s.entries, e.Name())
	}
	s.mu.Unlock()
	return s.Store.ImportCSV(ctx, in, file, errCSV, now)
}

func (s *spoolSpy) seen() (string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file, s.entries
}

// newSpoolEnv serves the API with http.upload_dir set to dir and the list store spied on.
func newSpoolEnv(t *testing.T, dir string) (*env, *spoolSpy) {
	t.Helper()
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.UploadDir = dir
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2022-07-20 10:00")}
	spy := &spoolSpy{Store: e.store, dir: dir}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: spy, Now: func() time.Time { return e.now },
		Status: func(context.Context) (httpapi.Status, error) { return httpapi.Status{Version: "test"}, nil }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	return e, spy
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Uploads are spooled to http.upload_dir, one file each, removed when the request ends,
// imported, refused or cut off at the size limit (issue 13 row 12: a kill -9 left a 145 MB file
// in the system's temporary directory for good).
func TestUploadSpooledInUploadDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uploads") // created by the server
	e, spy := newSpoolEnv(t, dir)
	batch := e.createBatch("2022-08-01")
	for _, file := range []string{"name,kana,tel\r\n山田,ヤマダ,0311112222\r\n", "name,kana,tel\r\n山田,ヤマダ,12\r\n"} {
		r := e.upload(adminToken, batch, "spooled", []byte(file), "utf-8")
		if r.Status != http.StatusCreated && r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
		name, entries := spy.seen()
		if filepath.Dir(name) != dir || len(entries) != 1 || entries[0] != filepath.Base(name) || !strings.HasPrefix(entries[0], "kakeru-upload-") {
			t.Errorf("import read %q; the upload directory held %q", name, entries)
		}
		if left := dirNames(t, dir); len(left) != 0 {
			t.Errorf("left in the upload directory: %q", left)
		}
	}
	e.cfg.System.Limits.MaxUploadBytes = 1 << 20
	r, _ := e.uploadStream(adminToken, batch, &repeated{row: []byte("x,y,0311112222\r\n"), left: 4 << 20})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	if left := dirNames(t, dir); len(left) != 0 {
		t.Errorf("left in the upload directory after a 413: %q", left)
	}
}

// At start the server removes the upload files a killed process left in http.upload_dir, and
// only those (issue 13 row 12).
func TestUploadDirCleanedAtStart(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kakeru-upload-123.csv", "kakeru-upload-9.csv", "notes.txt", "kakeru-upload-1.csv.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("name,kana,tel\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "kakeru-upload-dir.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.UploadDir = dir
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}})
	if got := dirNames(t, dir); len(got) != 5 {
		t.Fatalf("the server's constructor touched the upload directory: %q", got)
	}
	api.CleanUploadDir()
	if got := dirNames(t, dir); strings.Join(got, " ") != "kakeru-upload-1.csv.bak kakeru-upload-dir.csv notes.txt" {
		t.Errorf("after start the upload directory holds %q", got)
	}
}
