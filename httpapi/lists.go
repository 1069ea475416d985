package httpapi

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

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
	TimeZones []string  `json:"time_zones"` // the zones of the list's time zone column (issue 14 item 2)
}

func toListJSON(l store.CustomerList) listJSON {
	zones := []string(l.TimeZones)
	if zones == nil {
		zones = []string{}
	}
	return listJSON{ID: l.ID, BatchID: l.BatchID, Name: l.Name, RowCount: l.RowCount, Encoding: l.Encoding,
		CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt, TimeZones: zones}
}

// importedListJSON is the answer of an upload: the list and what the import counted (issue 14).
type importedListJSON struct {
	listJSON
	DoNotCallCount  int `json:"do_not_call_count"`
	NormalizedCount int `json:"normalized_count"`
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
// Memory does not grow with the file: it is spooled to disk as it streams in, up to
// system.limits.max_upload_bytes (413 past it), read with the row limit, and its error CSV is
// bounded (issue 13).
func (s *Server) handleImportList(w http.ResponseWriter, r *http.Request) error {
	b, p, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	lim := s.cfg.Current().System.Limits
	u, err := s.spoolUpload(w, r, int64(lim.MaxUploadBytes))
	if err != nil {
		return err
	}
	defer u.Close()
	var pr problems
	if u.tooLong["name"] {
		pr.add("name", "must be 1 to 255 characters")
	} else {
		checkLength(&pr, "name", u.name, 1, 255)
	}
	enc, err := listimport.ParseEncoding(u.encoding)
	if err != nil || u.tooLong["encoding"] {
		pr.add("encoding", "must be sjis or utf-8")
	}
	// normalize_tel (issue 14 item 6): a form field, or a query parameter; the form's wins.
	normalize := r.URL.Query().Get("normalize_tel")
	if u.seen["normalize_tel"] {
		normalize = u.normalizeTel
	}
	normalizeTel, err := strconv.ParseBool(cmp.Or(normalize, "false"))
	if err != nil || u.tooLong["normalize_tel"] {
		pr.add("normalize_tel", "must be true or false")
	}
	if u.file == nil {
		pr.add("file", "required")
	}
	if err := pr.err(); err != nil {
		return err
	}
	// Spooled: the import (decoding, checking every row, writing it) waits for its turn among
	// the heavy requests and takes them all (a slow upload never held one while it came in).
	release, err := s.acquireHeavy(w, r, 1<<30)
	if err != nil {
		return err
	}
	defer release()
	var errCSV bytes.Buffer // stored in PostgreSQL when the import is refused; at most MaxErrorCSVBytes
	list, err := s.lists.ImportCSV(r.Context(), store.ImportInput{BatchID: b.ID, Name: u.name, Encoding: enc, CreatedBy: p.Name,
		MaxRows: lim.MaxRowsPerList, MaxListsPerBatch: lim.MaxListsPerBatch,
		MaxRowBytes: lim.MaxRowBytes, MaxErrorCSVBytes: lim.MaxErrorCSVBytes,
		RefuseDoNotCall: s.cfg.Current().System.DoNotCall.OnImport == config.DoNotCallRefuse, NormalizeTel: normalizeTel},
		u.file, &errCSV, s.now())
	var refusal *store.ImportRefusal
	if errors.As(err, &refusal) {
		return s.importRefused(w, r, b.ID, p, enc, u.fileName, refusal, errCSV.Bytes())
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, importedListJSON{listJSON: toListJSON(list), DoNotCallCount: list.DoNotCallCount,
		NormalizedCount: list.NormalizedCount})
	return nil
}

func (s *Server) importRefused(w http.ResponseWriter, r *http.Request, batchID int64, p Principal, enc listimport.Encoding,
	fileName string, refusal *store.ImportRefusal, errCSV []byte) error {
	details := make([]any, len(refusal.Problems))
	for i, pb := range refusal.Problems {
		details[i] = importProblemJSON{Line: pb.Line, Column: pb.Column, Code: pb.Code, Message: pb.Message, MessageEn: pb.MessageEn}
	}
	msg := fmt.Sprintf("the file has %d problem(s); nothing was imported", refusal.Total)
	omitted := refusal.ErrorCSVOmittedFrom > 0 && len(errCSV) > 0
	if refusal.Total > len(refusal.Problems) && !omitted {
		msg += fmt.Sprintf(" (the first %d are listed; the error CSV has them all)", len(refusal.Problems))
	} else if refusal.Total > len(refusal.Problems) {
		msg += fmt.Sprintf(" (the first %d are listed)", len(refusal.Problems))
	}
	if omitted {
		msg += fmt.Sprintf("; the error CSV reached its size limit and leaves out the rows from line %d on", refusal.ErrorCSVOmittedFrom)
	}
	body := map[string]any{"error": &apiError{Code: "invalid_csv", Rule: "L-4", Message: msg, Details: details},
		"do_not_call_count": refusal.DoNotCallCount, "normalized_count": refusal.NormalizedCount}
	if len(errCSV) > 0 {
		now := s.now()
		f, err := s.lists.SaveErrorFile(r.Context(), store.ErrorFile{BatchID: batchID, UploadedBy: p.Name, Encoding: string(enc),
			FileName: errorFileName(fileName), Content: errCSV, CreatedAt: now, ExpiresAt: now.Add(errorFileLifetime)})
		if err != nil {
			return err
		}
		body["error_csv_url"] = "/api/v1/import-errors/" + f.ID
		if omitted {
			body["error_csv_omitted_from_line"] = refusal.ErrorCSVOmittedFrom
		}
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
