package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestScrapeResources(t *testing.T) {
	page := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
process_open_fds 17
process_resident_memory_bytes 3.3554432e+07
crvnode_sessions{app="a"} 3
crvnode_sessions{app="b"} 2
crvnode_sessions_waiting_resume 1
crvnode_connections 5
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := ScrapeResources(context.Background(), hc, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if r.Goroutines != 42 || r.OpenFDs != 17 || r.RSS != 32<<20 || r.Sessions != 5 || r.Waiting != 1 {
		t.Errorf("got %+v", r)
	}
	if _, err := ScrapeResources(context.Background(), hc, srv.URL+"/nothing"); !errors.Is(err, ErrMetrics) {
		t.Errorf("a 404 gave %v, want ErrMetrics", err)
	}
	page = "go_goroutines 1\n"
	if _, err := ScrapeResources(context.Background(), hc, srv.URL+"/metrics"); !errors.Is(err, ErrMetrics) {
		t.Errorf("a page without process_open_fds gave %v, want ErrMetrics", err)
	}
}
