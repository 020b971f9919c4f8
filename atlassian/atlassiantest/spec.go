package atlassiantest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecFile is the Organizations API spec, relative to the module root. Its provenance and date
// are in testdata/README.md.
const SpecFile = "atlassian/atlassiantest/testdata/atlassian-org-admin.openapi.json"

// specValidator checks every request and response against the OpenAPI spec.
type specValidator struct {
	t      testing.TB
	doc    *openapi3.T
	router routers.Router
}

// WithSpecValidation validates every request the fake receives and every response it sends
// against testdata/atlassian-org-admin.openapi.json, failing t on any violation. It fails t
// when the spec cannot be found, so validation never passes silently.
func WithSpecValidation(t testing.TB) Option {
	t.Helper()
	path, err := FindSpec()
	if err != nil {
		t.Fatalf("atlassiantest: spec validation cannot run: %v", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("atlassiantest: load %s: %v", path, err)
	}
	fixUserPath(doc)
	delete(doc.Extensions, "_meta") // provenance key added by the snapshot's source, not OpenAPI
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("atlassiantest: spec %s is invalid: %v", path, err)
	}
	return func(s *Server) { s.spec = &specValidator{t: t, doc: doc} }
}

// fixUserPath repairs the spec bug the reference notes: GET .../users/{userId} declares its
// parameter as accountId, and conflicts with DELETE .../users/{accountId}. The GET moves to the
// {accountId} path item, where its parameter name matches.
func fixUserPath(doc *openapi3.T) {
	const bad = "/v2/orgs/{orgId}/directories/{directoryId}/users/{userId}"
	const good = "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}"
	b, g := doc.Paths.Value(bad), doc.Paths.Value(good)
	if b == nil || g == nil || b.Get == nil || g.Get != nil {
		return
	}
	g.Get = b.Get
	doc.Paths.Delete(bad)
}

// FindSpec walks up from the working directory to the module root (the directory holding
// go.mod) and returns the path of SpecFile in it, or an error saying where it looked.
func FindSpec() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, filepath.FromSlash(SpecFile))
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found in the module root %s", SpecFile, dir)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// start points the spec's servers at the fake and builds the router.
func (v *specValidator) start(url string) {
	v.doc.Servers = openapi3.Servers{{URL: url + "/admin"}}
	r, err := gorillamux.NewRouter(v.doc)
	if err != nil {
		v.t.Fatalf("atlassiantest: spec router: %v", err)
	}
	v.router = r
}

func (v *specValidator) wrap(h http.Handler, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.Background()
		full := r.Clone(ctx)
		full.URL.Scheme, full.URL.Host = "http", r.Host
		full.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := v.router.FindRoute(full)
		if err != nil {
			v.t.Errorf("atlassiantest: %s %s has no route in the spec: %v", r.Method, r.URL.Path, err)
			h.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request: full, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.t.Errorf("atlassiantest: request %s %s violates the spec: %v\nbody: %s", r.Method, r.URL.Path, err, body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			return // the client went away; nothing was answered
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body:    io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			v.t.Errorf("atlassiantest: response %d to %s %s violates the spec: %v\nbody: %s", rec.Code, r.Method, r.URL.Path, err, rec.Body.Bytes())
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}
