package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// maxUploadBytes bounds a list upload (a million rows of Japanese text is about 100 MB).
const maxUploadBytes = 1 << 30

// errorFileLifetime is how long the error CSV of a refused import can be downloaded (L-4).
const errorFileLifetime = 24 * time.Hour

type listJSON struct {
	ID        int64     `json:"id"`
	BatchID   int64     `json:"batch_id"`
	Name      string    `json:"name"`
	RowCount  int       `json:"row_count"`
	Encoding  string    `json:"encoding"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toListJSON(l store.CustomerList) listJSON {
	return listJSON{ID: l.ID, BatchID: l.BatchID, Name: l.Name, RowCount: l.RowCount, Encoding: l.Encoding,
		CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt}
}

// importProblemJSON is one detail of invalid_csv.
type importProblemJSON struct {
	Line      int    `json:"line"`
	Column    string `json:"column"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEn string `json:"message_en"`
}

// handleImportList takes a multipart upload (name, file, encoding) and imports it (L-1..L-8).
func (s *Server) handleImportList(w http.ResponseWriter, r *http.Request) error {
	b, p, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	// Small parts stay in memory, the file beyond 8 MiB spills to a temporary file: a list of
	// millions of rows is never held in memory. The whole upload is bounded all the same.
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return errorf(http.StatusBadRequest, "malformed_form", "send multipart/form-data with name and file: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	var pr problems
	name := r.FormValue("name")
	checkLength(&pr, "name", name, 1, 255)
	enc, err := listimport.ParseEncoding(r.FormValue("encoding"))
	if err != nil {
		pr.add("encoding", "must be sjis or utf-8")
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		pr.add("file", "required")
	} else {
		defer file.Close()
	}
	if err := pr.err(); err != nil {
		return err
	}
	cfg := s.cfg.Current()
	var errCSV bytes.Buffer // stored in PostgreSQL when the import is refused
	list, err := s.lists.ImportCSV(r.Context(), store.ImportInput{BatchID: b.ID, Name: name, Encoding: enc, CreatedBy: p.Name,
		MaxRows: cfg.System.Limits.MaxRowsPerList, MaxListsPerBatch: cfg.System.Limits.MaxListsPerBatch}, file, &errCSV, s.now())
	var refusal *store.ImportRefusal
	if errors.As(err, &refusal) {
		return s.importRefused(w, r, b.ID, p, enc, header, refusal, errCSV.Bytes())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toListJSON(list))
	return nil
}

func (s *Server) importRefused(w http.ResponseWriter, r *http.Request, batchID int64, p Principal, enc listimport.Encoding,
	header *multipart.FileHeader, refusal *store.ImportRefusal, errCSV []byte) error {
	details := make([]any, len(refusal.Problems))
	for i, pb := range refusal.Problems {
		details[i] = importProblemJSON{Line: pb.Line, Column: pb.Column, Code: pb.Code, Message: pb.Message, MessageEn: pb.MessageEn}
	}
	msg := fmt.Sprintf("the file has %d problem(s); nothing was imported", refusal.Total)
	if refusal.Total > len(refusal.Problems) {
		msg += fmt.Sprintf(" (the first %d are listed; the error CSV has them all)", len(refusal.Problems))
	}
	body := map[string]any{"error": &apiError{Code: "invalid_csv", Rule: "L-4", Message: msg, Details: details}}
	if len(errCSV) > 0 {
		now := s.now()
		f, err := s.lists.SaveErrorFile(r.Context(), store.ErrorFile{BatchID: batchID, UploadedBy: p.Name, Encoding: string(enc),
			FileName: header.Filename + ".errors.csv", Content: errCSV, CreatedAt: now, ExpiresAt: now.Add(errorFileLifetime)})
		if err != nil {
			return err
		}
		body["error_csv_url"] = "/api/v1/import-errors/" + f.ID
	}
	writeJSON(w, http.StatusUnprocessableEntity, body)
	return nil
}

// handleGetErrorFile serves an error CSV to its uploader or an admin, in the upload's encoding.
// It holds customer rows: the caller must also still see the batch's campaign, as for the batch
// itself, so a supervisor moved to another campaign loses it.
func (s *Server) handleGetErrorFile(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	f, err := s.lists.GetErrorFile(r.Context(), r.PathValue("id"), s.now())
	if err != nil {
		return err
	}
	if p.Role != config.RoleAdmin && p.Name != f.UploadedBy {
		return errForbidden
	}
	if err := s.checkBatchAccess(r, p, f.BatchID); err != nil {
		return err
	}
	charset := "Shift_JIS"
	if f.Encoding == string(listimport.UTF8) {
		charset = "UTF-8"
	}
	w.Header().Set("Content-Type", "text/csv; charset="+charset)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(f.FileName))
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Content)))
	_, _ = w.Write(f.Content)
	return nil
}

func (s *Server) handleListLists(w http.ResponseWriter, r *http.Request) error {
	b, _, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	lists, err := s.lists.ListLists(r.Context(), b.ID)
	if err != nil {
		return err
	}
	writePage(w, lists, len(lists), toListJSON)
	return nil
}

// loadList reads a list and checks the caller may work on its batch's campaign.
func (s *Server) loadList(r *http.Request) (store.CustomerList, error) {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return store.CustomerList{}, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return store.CustomerList{}, err
	}
	l, err := s.lists.GetList(r.Context(), id)
	if err != nil {
		return store.CustomerList{}, hideMissing(p, err)
	}
	if err := s.checkBatchAccess(r, p, l.BatchID); err != nil {
		return store.CustomerList{}, err
	}
	return l, nil
}

func (s *Server) handleGetList(w http.ResponseWriter, r *http.Request) error {
	l, err := s.loadList(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toListJSON(l))
	return nil
}

func (s *Server) handleDeleteList(w http.ResponseWriter, r *http.Request) error {
	l, err := s.loadList(r)
	if err != nil {
		return err
	}
	if err := s.lists.DeleteList(r.Context(), l.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
