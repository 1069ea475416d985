package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/kakeru-dialer/kakeru/httpapi"
)

func TestReadyzNamesWhatIsDown(t *testing.T) {
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
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
			srv := httptest.NewServer(httpapi.New(httpapi.Options{Checks: tc.checks}).Handler())
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
		})
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
