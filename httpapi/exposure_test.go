package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
)

// Issue 13 row 14: a 503 names the dependency that is down, never the driver's error (addresses,
// ports, internals); the error goes to the server log.
func TestDependencyDownIsGeneric(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Status: func(context.Context) (httpapi.Status, error) {
			return httpapi.Status{}, httpapi.DependencyDown("redis", errors.New("dial tcp 10.0.0.9:6379: connect: connection refused"))
		}})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv}
	r := e.mustCall(http.StatusServiceUnavailable, adminToken, http.MethodGet, "/api/v1/status", nil)
	if r.errorCode() != "dependency_down" || strings.Contains(string(r.Raw), "10.0.0.9") || !strings.Contains(string(r.Raw), "redis") {
		t.Errorf("503 body %s", r.Raw)
	}
	if !strings.Contains(log.String(), "10.0.0.9:6379") {
		t.Errorf("the cause is not in the log:\n%s", log.String())
	}
}
