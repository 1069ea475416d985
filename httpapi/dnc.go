package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// DoNotCallStore is the data the do-not-call endpoints need (N-1).
type DoNotCallStore interface {
	AddDoNotCall(ctx context.Context, e store.DNCEntry, now time.Time) (store.DNCEntry, bool, error)
	RemoveDoNotCall(ctx context.Context, campaignID int, tel, reason, by string, now time.Time) error
	ListDoNotCall(ctx context.Context, f store.DNCFilter) ([]store.DNCEntry, int, error)
	ExportDoNotCall(ctx context.Context, campaignID int, fn func(store.DNCEntry) error) error
	DoNotCallRemovals(ctx context.Context, campaignID, limit, offset int) ([]store.DNCRemoval, int, error)
	ImportDoNotCall(ctx context.Context, campaignID int, by string, now time.Time,
		feed func(add func(store.DNCRow) error) error) (store.DNCImportResult, error)
}

type dncEntryJSON struct {
	Tel        string    `json:"tel"`
	CampaignID *int      `json:"campaign_id"` // null: the global list
	Reason     string    `json:"reason"`
	Source     string    `json:"source"`
	AddedBy    string    `json:"added_by"`
	AddedAt    time.Time `json:"added_at"`
}

func listCampaign(id int) *int {
	if id == store.GlobalDNC {
		return nil
	}
	return &id
}

func toDNCEntryJSON(e store.DNCEntry) dncEntryJSON {
	return dncEntryJSON{Tel: e.Tel, CampaignID: listCampaign(e.CampaignID), Reason: e.Reason, Source: e.Source,
		AddedBy: e.AddedBy, AddedAt: e.AddedAt}
}

type dncRemovalJSON struct {
	ID            int64     `json:"id"`
	Tel           string    `json:"tel"`
	CampaignID    *int      `json:"campaign_id"`
	Reason        string    `json:"reason"`
	Source        string    `json:"source"`
	AddedBy       string    `json:"added_by"`
	AddedAt       time.Time `json:"added_at"`
	RemovedBy     string    `json:"removed_by"`
	RemovedAt     time.Time `json:"removed_at"`
	RemovalReason string    `json:"removal_reason"`
}

func toDNCRemovalJSON(r store.DNCRemoval) dncRemovalJSON {
	return dncRemovalJSON{ID: r.ID, Tel: r.Tel, CampaignID: listCampaign(r.CampaignID), Reason: r.Reason, Source: r.Source,
		AddedBy: r.AddedBy, AddedAt: r.AddedAt, RemovedBy: r.RemovedBy, RemovedAt: r.RemovedAt, RemovalReason: r.RemovalReason}
}

// dncList resolves {list}, "global" or a configured campaign's id, and checks the caller's role
// admins everything; supervisors read the global list and read and write their
// campaigns' lists; agents nothing.
func (s *Server) dncList(r *http.Request, write bool) (int, Principal, error) {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return 0, p, err
	}
	if s.dnc == nil {
		return 0, p, errNotFound
	}
	name := r.PathValue("list")
	if name == "global" {
		if write && p.Role != config.RoleAdmin {
			return 0, p, errForbidden
		}
		return store.GlobalDNC, p, nil
	}
	id, err := strconv.Atoi(name)
	if err != nil || id < 1 || id > maxIntID {
		return 0, p, errNotFound
	}
	if !p.CanCampaign(id) {
		return 0, p, errForbidden
	}
	if _, ok := s.cfg.Current().Campaign(id); !ok {
		return 0, p, errNotFound
	}
	return id, p, nil
}

// dncTel normalises a number of a request, or answers 422 naming the field.
func dncTel(field, raw string) (string, error) {
	tel, err := store.NormalizeDNCTel(raw)
	if err != nil {
		return "", &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_tel", Rule: "N-1",
			Message: field + " must be a Japanese number of 9 to 30 digits starting with 0 (hyphens, spaces and full-width digits are accepted)",
			Details: []any{fieldProblem{Field: field, Message: "must be 9 to 30 digits starting with 0"}}}
	}
	return tel, nil
}

func checkReason(pr *problems, field, v string) {
	checkLength(pr, field, v, 0, store.MaxDNCReason)
}

func (s *Server) handleListDNC(w http.ResponseWriter, r *http.Request) error {
	list, _, err := s.dncList(r, false)
	if err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if prefix, _ := listimport.NormalizeTel(q); len(prefix) > 30 || strings.Trim(prefix, "0123456789") != "" {
		return badQuery("q", "must be the first digits of a number")
	}
	items, total, err := s.dnc.ListDoNotCall(r.Context(), store.DNCFilter{CampaignID: list, Prefix: q, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writePage(w, items, total, toDNCEntryJSON)
	return nil
}

type dncAddRequest struct {
	Tel    string `json:"tel"`
	Reason string `json:"reason"`
}

// handleAddDNC puts one number on a list: 201 when it is new, 200 with the entry already there.
func (s *Server) handleAddDNC(w http.ResponseWriter, r *http.Request) error {
	list, p, err := s.dncList(r, true)
	if err != nil {
		return err
	}
	var req dncAddRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var pr problems
	checkReason(&pr, "reason", req.Reason)
	if err := pr.err(); err != nil {
		return err
	}
	tel, err := dncTel("tel", req.Tel)
	if err != nil {
		return err
	}
	e, added, err := s.dnc.AddDoNotCall(r.Context(), store.DNCEntry{Tel: tel, CampaignID: list, Reason: req.Reason,
		Source: store.DNCSourceAPI, AddedBy: p.Name}, s.now())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	writeJSON(w, status, toDNCEntryJSON(e))
	return nil
}

// handleRemoveDNC takes a number off a list; ?reason= is kept with the removal.
func (s *Server) handleRemoveDNC(w http.ResponseWriter, r *http.Request) error {
	list, p, err := s.dncList(r, true)
	if err != nil {
		return err
	}
	reason := r.URL.Query().Get("reason")
	var pr problems
	checkReason(&pr, "reason", reason)
	if err := pr.err(); err != nil {
		return err
	}
	tel, err := dncTel("tel", r.PathValue("tel"))
	if err != nil {
		return err
	}
	if err := s.dnc.RemoveDoNotCall(r.Context(), list, tel, reason, p.Name, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleDNCRemovals(w http.ResponseWriter, r *http.Request) error {
	list, _, err := s.dncList(r, false)
	if err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	items, total, err := s.dnc.DoNotCallRemovals(r.Context(), list, limit, offset)
	if err != nil {
		return err
	}
	writePage(w, items, total, toDNCRemovalJSON)
	return nil
}

var dncCSVHeader = []string{"電話番号", "理由", "登録元", "登録者", "登録日時"}

// handleExportDNC streams a list as CSV, as results.csv is written (?encoding=utf-8|sjis, a
// byte order mark for UTF-8, CRLF, quoted cells, formula-looking cells neutralised); times are
// RFC 3339 in UTC. The file's first two columns read back as an import.
func (s *Server) handleExportDNC(w http.ResponseWriter, r *http.Request) error {
	list, _, err := s.dncList(r, false)
	if err != nil {
		return err
	}
	sjis, err := csvEncodingParam(r, "N-1")
	if err != nil {
		return err
	}
	out := &csvOut{sjis: sjis}
	started := false
	start := func() error {
		started = true
		name := "do-not-call_global.csv"
		if list != store.GlobalDNC {
			name = fmt.Sprintf("do-not-call_%d.csv", list)
		}
		return out.begin(w, name, dncCSVHeader)
	}
	rc := http.NewResponseController(w)
	rows := 0
	cells := make([]string, len(dncCSVHeader))
	err = s.dnc.ExportDoNotCall(r.Context(), list, func(e store.DNCEntry) error {
		if rows%1000 == 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		}
		rows++
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		cells = append(cells[:0], e.Tel, e.Reason, e.Source, e.AddedBy, e.AddedAt.UTC().Format(time.RFC3339))
		return out.row(cells)
	})
	return s.endCSVStream(r, "do-not-call export", out, started, start, err)
}

// dncImportJSON counts an accepted import.
type dncImportJSON struct {
	CampaignID     *int `json:"campaign_id"`
	Rows           int  `json:"rows"`
	Added          int  `json:"added"`
	AlreadyPresent int  `json:"already_present"`
	Repeated       int  `json:"repeated"`
}

// maxDNCProblems bounds the problems a refused do-not-call import lists.
const maxDNCProblems = 100

// errDNCRefused ends an import's feed when the file has problems: nothing is written.
var errDNCRefused = errors.New("do-not-call file refused")

// handleImportDNC takes a multipart upload (file, encoding) of numbers for a list, through the
// same spooling, size limit and turns as list imports. A file with any problem imports nothing
// and is answered 422 invalid_csv with the first problems by line.
func (s *Server) handleImportDNC(w http.ResponseWriter, r *http.Request) error {
	list, p, err := s.dncList(r, true)
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
	enc, err := listimport.ParseEncoding(u.encoding)
	if err != nil || u.tooLong["encoding"] {
		pr.add("encoding", "must be sjis or utf-8")
	}
	if u.file == nil {
		pr.add("file", "required")
	}
	if err := pr.err(); err != nil {
		return err
	}
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind the spooled upload: %w", err)
	}
	release, err := s.acquireHeavy(w, r, 1<<30)
	if err != nil {
		return err
	}
	defer release()
	var found []listimport.Problem
	total := 0
	res, err := s.dnc.ImportDoNotCall(r.Context(), list, p.Name, s.now(), func(add func(store.DNCRow) error) error {
		rd := listimport.NewDNCReader(u.file, enc, listimport.Limits{MaxRowBytes: lim.MaxRowBytes})
		for {
			rec, err := rd.Next()
			var fe *listimport.FileError
			switch {
			case err == io.EOF:
				if total > 0 {
					return errDNCRefused
				}
				return nil
			case errors.As(err, &fe):
				total++
				if len(found) < maxDNCProblems {
					found = append(found, fe.Problem)
				}
				return errDNCRefused
			case err != nil:
				return err
			}
			if len(rec.Problems) > 0 {
				total += len(rec.Problems)
				found = append(found, rec.Problems[:min(len(rec.Problems), maxDNCProblems-len(found))]...)
				continue
			}
			if total == 0 {
				if err := add(store.DNCRow{Tel: rec.Tel, Reason: rec.Reason}); err != nil {
					return err
				}
			}
		}
	})
	if errors.Is(err, errDNCRefused) {
		details := make([]any, len(found))
		for i, pb := range found {
			details[i] = importProblemJSON{Line: pb.Line, Column: pb.Column, Code: pb.Code, Message: pb.Message, MessageEn: pb.MessageEn}
		}
		msg := fmt.Sprintf("the file has %d problem(s); nothing was imported", total)
		if total > len(found) {
			msg += fmt.Sprintf(" (the first %d are listed)", len(found))
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_csv", Rule: "N-1", Message: msg, Details: details}
	}
	if err != nil {
		return err
	}
	if res.VacuumErr != nil {
		s.log.WarnContext(r.Context(), "do-not-call list imported; its vacuum is left to autovacuum", "err", res.VacuumErr)
	}
	writeJSON(w, http.StatusCreated, dncImportJSON{CampaignID: listCampaign(list), Rows: res.Rows, Added: res.Added,
		AlreadyPresent: res.AlreadyPresent, Repeated: res.Repeated})
	return nil
}
