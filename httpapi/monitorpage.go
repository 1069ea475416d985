package httpapi

import (
	_ "embed"
	"net/http"
)

// monitorPage is the built-in live monitor (S-1): running jobs, their counts, abandon rates and
// abandon budgets (P-2), agents with state and time in state, updated from the event stream. It
// is static and needs no token to load; it asks for one and sends it as an Authorization header
// on every API call.
//
//go:embed monitorpage/index.html
var monitorPage []byte

func (s *Server) handleMonitorPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	// Only this page's own script and the API of this origin; no framing.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(monitorPage)
}
