package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kakeru-dialer/kakeru/store"
)

// apiError is the error body of docs/ui-guide.md: {"error": {code, message, details}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
	Details []any  `json:"details,omitempty"`
	// cause is what went wrong inside, for the log only: clients get the generic message.
	cause error
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// fieldProblem is one detail of a 422 invalid_input.
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	errNotFound  = errorf(http.StatusNotFound, "not_found", "no such resource")
	errForbidden = errorf(http.StatusForbidden, "forbidden", "your role does not allow this")
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with err mapped to docs/ui-guide.md's status codes. Unknown errors are logged by the
// caller's middleware and answered 500 without internals.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var re *store.RuleError
	switch {
	case errors.As(err, &ae):
		if ae.cause != nil {
			s.log.WarnContext(r.Context(), "request failed: "+ae.Message, "method", r.Method, "path", r.URL.Path, "err", ae.cause)
		}
	case errors.As(err, &re):
		status := http.StatusUnprocessableEntity
		if re.Conflict {
			status = http.StatusConflict
		}
		ae = &apiError{Status: status, Code: re.Code, Rule: re.Rule, Message: re.Message}
	case errors.Is(err, store.ErrNotFound):
		ae = errNotFound
	case store.IsStatementTimeout(err):
		// Bounded on purpose (postgres.api_statement_timeout): the server is fine, the request
		// asked too much.
		s.log.WarnContext(r.Context(), "request ended by the statement timeout", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusServiceUnavailable, "query_timeout", "the request took longer than the server allows; narrow it and try again")
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client left before the answer: nothing failed on our side and nobody reads it.
		s.log.DebugContext(r.Context(), "request abandoned by the client", "method", r.Method, "path", r.URL.Path)
		ae = errorf(499, "client_closed_request", "the client closed the request")
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusInternalServerError, "internal", "internal error; see the server log")
	}
	if r.ContentLength != 0 {
		// A refused request's body may still be on its way, maybe one byte at a time: answer and
		// close instead of reading it first, as the server would to keep the connection.
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, ae.Status, map[string]any{"error": ae})
}

// pathID reads an integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v < 1 {
		return 0, errNotFound
	}
	return v, nil
}

// Largest ids a query parameter may name: campaign and agent ids are PostgreSQL integers, the
// others bigints. A larger number names nothing and must not reach a query as a cast error.
const (
	maxIntID    = math.MaxInt32
	maxBigintID = math.MaxInt64
)

// badQuery is the 400 of a query parameter, naming it.
func badQuery(name, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{Status: http.StatusBadRequest, Code: "bad_query", Message: name + " " + msg,
		Details: []any{fieldProblem{Field: name, Message: msg}}}
}

// queryID reads an optional id parameter: absent is 0, anything but an integer from 1 to max is
// a 400 naming the parameter.
func queryID(q url.Values, name string, max int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || id > max {
		return 0, badQuery(name, "must be an integer from 1 to %d", max)
	}
	return id, nil
}

// Bounds of a search text: each word is a pattern match over names, kana and numbers, so the
// cost grows with words and length.
const (
	maxSearchWords = 5
	maxSearchRunes = 100
)

// searchText reads the free-text parameter q: UTF-8 without control characters, at most
// maxSearchWords words and maxSearchRunes characters.
func searchText(q url.Values) (string, error) {
	v := q.Get("q")
	switch {
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return "", badQuery("q", "must be UTF-8 text without control characters")
	case utf8.RuneCountInString(v) > maxSearchRunes:
		return "", badQuery("q", "must be at most %d characters", maxSearchRunes)
	case len(strings.Fields(v)) > maxSearchWords:
		return "", badQuery("q", "must be at most %d words", maxSearchWords)
	}
	return v, nil
}

// maxOffset bounds paging: deeper pages are better reached by narrowing the filter.
const maxOffset = 1_000_000

// paging reads limit (default 50, at most 500) and offset.
func paging(r *http.Request) (limit, offset int, err error) {
	limit, offset = 50, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, badQuery("limit", "must be an integer from 1 to 500")
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 || offset > maxOffset {
			return 0, 0, badQuery("offset", "must be an integer from 0 to %d", maxOffset)
		}
	}
	return limit, offset, nil
}

// page is a collection response of docs/ui-guide.md.
type page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// DependencyDown is the 503 answer when a dependency a request needs does not answer. The
// client learns which one; the error itself (addresses, driver messages) goes to the log.
func DependencyDown(name string, err error) error {
	return &apiError{Status: http.StatusServiceUnavailable, Code: "dependency_down",
		Message: name + " is not answering; see the server log", Details: []any{map[string]string{"dependency": name}},
		cause: err}
}

// writePage answers a collection, converting each stored item to its API shape.
func writePage[T, U any](w http.ResponseWriter, items []T, total int, conv func(T) U) {
	out := page[U]{Items: make([]U, len(items)), Total: total}
	for i, it := range items {
		out.Items[i] = conv(it)
	}
	writeJSON(w, http.StatusOK, out)
}
