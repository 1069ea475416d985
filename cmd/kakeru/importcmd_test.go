package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

func sjisBytes(t *testing.T, s string) []byte {
	b, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func apiDo(t *testing.T, m *Main, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+m.Addr()+path, body)
	req.Header.Set("Authorization", "Bearer demo-admin-token")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// The CLI and the API run the same import (store.ImportCSV): same problems, same error CSV, and
// the same success.
func TestImportCLIMatchesAPI(t *testing.T) {
	path := testConfig(t, closedPort(t))
	migrateFor(t, path)
	m := startMain(t, path)
	code, raw := apiDo(t, m, http.MethodPost, "/api/v1/batches", "application/json",
		strings.NewReader(fmt.Sprintf(`{"name":"cli","campaign_id":1,"start_date":"%s"}`, todayTokyo())))
	if code != http.StatusCreated {
		t.Fatalf("create batch: %d %s", code, raw)
	}
	var batch struct{ ID int64 }
	json.Unmarshal(raw, &batch)

	bad := sjisBytes(t, "name,kana,tel,remarks\r\n髙橋,タカハシ,09012345678,\r\n,ヤマダ,12345,\r\n鈴木,スズキ,09012345678,\r\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "list.csv")
	os.WriteFile(file, bad, 0o600)

	var out, errOut bytes.Buffer
	args := []string{"import", "--config", path, "--batch", fmt.Sprint(batch.ID), "--name", "cli list", file}
	if code := run(context.Background(), args, &out, &errOut); code != importInvalid {
		t.Fatalf("exit %d, want %d\n%s%s", code, importInvalid, out.String(), errOut.String())
	}
	cliCSV, err := os.ReadFile(file + ".errors.csv")
	if err != nil {
		t.Fatalf("no error CSV next to the input: %v", err)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("name", "api list")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write(bad)
	mw.Close()
	code, raw = apiDo(t, m, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/lists", batch.ID), mw.FormDataContentType(), &body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("api: %d %s", code, raw)
	}
	var refused struct {
		Error struct {
			Details []struct {
				Line    int
				Column  string
				Message string
			}
		}
		ErrorCSVURL string `json:"error_csv_url"`
	}
	json.Unmarshal(raw, &refused)
	var cliLines []string
	for _, d := range refused.Error.Details {
		cliLines = append(cliLines, fmt.Sprintf("line %d\t%s\t%s", d.Line, d.Column, d.Message))
	}
	if !strings.HasPrefix(out.String(), strings.Join(cliLines, "\n")+"\n") || len(cliLines) != 4 {
		t.Fatalf("CLI printed:\n%s\nAPI said:\n%s", out.String(), strings.Join(cliLines, "\n"))
	}
	code, apiCSV := apiDo(t, m, http.MethodGet, refused.ErrorCSVURL, "", nil)
	if code != http.StatusOK || !bytes.Equal(apiCSV, cliCSV) {
		t.Fatalf("error CSVs differ:\nCLI %q\nAPI %q", cliCSV, apiCSV)
	}

	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, sjisBytes(t, "name,kana,tel\r\n髙橋,タカハシ,09012345678\r\n"), 0o600)
	out.Reset()
	args[len(args)-1] = good
	if code := run(context.Background(), args, &out, &errOut); code != importOK || !strings.Contains(out.String(), "1 rows") {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	if code := run(context.Background(), []string{"import", "--config", path, good}, &out, &errOut); code != importFailed {
		t.Fatalf("usage error exit %d", code)
	}
}
