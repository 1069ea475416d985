package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/httpapi"
)

func TestReadyzNamesWhatIsDown(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.7:8021: connection refused") }
	for _, tc := range []struct {
		name   string
		checks []httpapi.Check
		want   []string // nil: ready
	}{
		{"all up", []httpapi.Check{{Name: "postgres", Probe: up}, {Name: "redis", Probe: up},
			{Name: "freeswitch:fs1", Group: "freeswitch", Probe: down}, {Name: "freeswitch:fs2", Group: "freeswitch", Probe: up}}, nil},
		{"redis down", []httpapi.Check{{Name: "postgres", Probe: up}, {Name: "redis", Probe: down},
			{Name: "freeswitch:fs1", Group: "freeswitch", Probe: up}}, []string{"redis"}},
		{"every switch down", []httpapi.Check{{Name: "postgres", Probe: down}, {Name: "redis", Probe: up},
			{Name: "freeswitch:fs1", Group: "freeswitch", Probe: down}, {Name: "freeswitch:fs2", Group: "freeswitch", Probe: down}},
			[]string{"postgres", "freeswitch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			srv := httptest.NewServer(httpapi.New(httpapi.Options{Checks: tc.checks, Logger: slog.New(slog.NewTextHandler(&log, nil))}).Handler())
			defer srv.Close()
			e := &env{t: t, srv: srv}
			want := http.StatusOK
			if tc.want != nil {
				want = http.StatusServiceUnavailable
			}
			r := e.mustCall(want, "", http.MethodGet, "/readyz", nil)
			var got []string
			for _, d := range asSlice(r.Body["down"]) {
				got = append(got, d.(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("down %v, want %v: %s", got, tc.want, r.Raw)
			}
			// Issue 13 row 14: /readyz answers without a token, so the probe errors (addresses)
			// go to the log only, once per change however often it is asked.
			e.mustCall(want, "", http.MethodGet, "/readyz", nil)
			if strings.Contains(string(r.Raw), "10.0.0.7") {
				t.Errorf("the public answer names an address: %s", r.Raw)
			}
			for _, c := range tc.checks {
				if c.Probe(context.Background()) != nil {
					if n := strings.Count(log.String(), "check="+c.Name+" "); n != 1 {
						t.Errorf("%s logged %d times:\n%s", c.Name, n, log.String())
					}
				}
			}
		})
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
