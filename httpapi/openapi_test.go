package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/kakeru-dialer/kakeru/httpapi"
)

func init() {
	// The CSV answers are described as strings: their content is the reports' and imports' own
	// tests' business (a byte order mark would trip the library's CSV decoder).
	openapi3filter.RegisterBodyDecoder("text/csv", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	// Recordings are audio: their bytes are the recording tests' business.
	for _, audio := range []string{"audio/wav", "audio/mpeg"} {
		openapi3filter.RegisterBodyDecoder(audio, func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		})
	}
}

// loadOpenAPI fetches the served document and checks that it is a valid OpenAPI 3 document.
func loadOpenAPI(t *testing.T, baseURL string) *openapi3.T {
	t.Helper()
	resp, err := http.Get(baseURL + "/api/v1/openapi.json") // no token: the document is public
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

// documented lists the document's operations as "METHOD /path" with their operations.
func documented(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[method+" "+path] = op
		}
	}
	return out
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// Every route the server registers is in the document, and the document has nothing the
// server does not serve; the routes the document leaves without a token are exactly those the
// server answers without one.
func TestOpenAPICoversRoutes(t *testing.T) {
	// /metrics is served when the instance has a registry: any handler stands for it here.
	api := httpapi.New(httpapi.Options{Metrics: http.NotFoundHandler()})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	doc := loadOpenAPI(t, srv.URL)
	ops := documented(doc)

	served := map[string]bool{}
	for _, pattern := range api.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || strings.ContainsAny(method, "/{") {
			t.Errorf("route %q has no method: register routes as \"METHOD /path\" so that the document can name them", pattern)
			continue
		}
		served[pattern] = true
		op, ok := ops[pattern]
		if !ok {
			t.Errorf("route %s is not in httpapi/openapi.json", pattern)
			continue
		}
		public := op.Security != nil && len(*op.Security) == 0
		req, _ := http.NewRequest(method, srv.URL+wildcard.ReplaceAllString(path, "1"), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusUnauthorized; got == public {
			t.Errorf("%s without a token: status %d, but the document says public=%v", pattern, resp.StatusCode, public)
		}
		if !public && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s needs a token but documents no 401", pattern)
		}
	}
	for key := range ops {
		if !served[key] {
			t.Errorf("httpapi/openapi.json documents %s, which the server does not serve", key)
		}
	}
	if len(served) < 40 {
		t.Errorf("only %d routes recorded; is Server.Routes complete?", len(served))
	}
}

// strict makes every object schema of the document refuse properties it does not list (unless
// it says otherwise), so that validating real answers catches a field the document lacks. The
// served document leaves answers open, for clients to tolerate fields added later.
func strict(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, sub := range list {
				walk(sub)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
}

// validator checks every request and answer that passes through it against the document:
// answers always, requests when the server accepted them (2xx), since the error cases send
// what the document forbids on purpose. It counts what it saw per operation. It buffers each
// answer, so an endless stream (server-sent events) is not for it.
type validator struct {
	t      *testing.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string][]int // "METHOD /path" → statuses
}

func newValidator(t *testing.T, doc *openapi3.T) *validator {
	strict(doc)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, router: router, seen: map[string][]int{}}
}

// brief leaves the whole schema out of validation errors: the failing value and path suffice.
var brief = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}

func (v *validator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqBody, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		name := r.Method + " " + r.URL.Path
		route, params, err := v.router.FindRoute(r)
		if err != nil {
			v.t.Errorf("%s: not in the document: %v", name, err)
			return
		}
		ctx := context.Background()
		in := &openapi3filter.RequestValidationInput{Request: r.Clone(ctx), PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true,
				SchemaValidationOptions: brief}}
		if rec.Code < 300 {
			in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				v.t.Errorf("%s: the request the server accepted does not match the document: %v", name, err)
			}
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: brief}}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			v.t.Errorf("%s → %d: the answer does not match the document: %v\n%s", name, rec.Code, err, rec.Body.Bytes())
		}
		v.mu.Lock()
		key := route.Method + " " + route.Path
		v.seen[key] = append(v.seen[key], rec.Code)
		v.mu.Unlock()
	})
}

// coverage fails unless every tag of the document saw a success and an error answer validated.
func (v *validator) coverage(doc *openapi3.T, skip ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ok, bad := map[string]bool{}, map[string]bool{}
	ops := documented(doc)
	keys := slices.Sorted(maps.Keys(ops))
	for _, key := range keys {
		op, statuses := ops[key], v.seen[key]
		v.t.Logf("%-50s %v", key, statuses)
		for _, tag := range op.Tags {
			for _, st := range statuses {
				ok[tag] = ok[tag] || st < 300
				bad[tag] = bad[tag] || st >= 400
			}
		}
	}
	for _, tag := range doc.Tags {
		if slices.Contains(skip, tag.Name) {
			continue
		}
		if !ok[tag.Name] || !bad[tag.Name] {
			v.t.Errorf("tag %q: success validated %v, error validated %v; want both", tag.Name, ok[tag.Name], bad[tag.Name])
		}
	}
}
