package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument is the OpenAPI 3 description of every route, served at GET /api/v1/openapi.json
// without a token: it describes the API, not data.
//
// It is written by hand next to the handlers and kept honest by tests: TestOpenAPICoversRoutes
// compares its paths and methods with Server.Routes, TestOpenAPISchemasMatchStructs its schemas
// with the json tags of the structs the handlers encode and decode, and TestOpenAPIResponses
// checks real answers of the handlers against it.
//
// To add a route: register it in routes() (server.go), then add its path and method under
// "paths" in openapi.json, reusing the shared parameters ("#/components/parameters/Id", Limit,
// Offset …), the shared error responses ("#/components/responses/NotFound" …) and a schema under
// "components/schemas" named after the resource (tie a new schema to its struct in
// TestOpenAPISchemasMatchStructs); a route without a token sets "security": []. The route test
// names any route missing from the document, or documented but not served.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	_, _ = w.Write(openAPIDocument)
}

// routeMux is a ServeMux that records every pattern registered on it, so that the OpenAPI test
// can hold the document to the real routes.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Routes lists the patterns served, such as "GET /api/v1/batches/{id}", in registration order.
func (s *Server) Routes() []string { return append([]string(nil), s.mux.patterns...) }
