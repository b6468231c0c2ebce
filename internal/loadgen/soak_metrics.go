package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Resources is what a soak watches of a node at one moment: the figures
// that must come back to their idle level once every client has gone.
type Resources struct {
	At         time.Time `json:"at"`
	Goroutines int       `json:"goroutines"` // go_goroutines
	OpenFDs    int       `json:"openFds"`    // process_open_fds
	RSS        int64     `json:"rssBytes"`   // process_resident_memory_bytes
	Sessions   int       `json:"sessions"`   // crvnode_sessions, summed over apps
	Waiting    int       `json:"waitingResume"`
}

// resourceSeries are the /metrics series ScrapeResources needs; the
// crvnode_* ones are summed over their labels and may be absent.
var resourceSeries = map[string]bool{
	"go_goroutines": true, "process_open_fds": true, "process_resident_memory_bytes": true,
	"crvnode_sessions": false, "crvnode_sessions_waiting_resume": false,
}

// ScrapeResources reads a node's goroutines, open file descriptors, RSS
// and sessions from its /metrics page. Use an http.Client without
// keep-alives, so that the scrape's own connection is the same in every
// sample and none stays open between them.
func ScrapeResources(ctx context.Context, hc *http.Client, url string) (Resources, error) {
	r := Resources{At: time.Now()}
	names := make([]string, 0, len(resourceSeries))
	for name := range resourceSeries {
		names = append(names, name)
	}
	sums, err := scrapeSeries(ctx, hc, url, names)
	if err != nil {
		return r, err
	}
	for name, required := range resourceSeries {
		if _, seen := sums[name]; required && !seen {
			return r, fmt.Errorf("%w: %s has no %s", ErrMetrics, url, name)
		}
	}
	r.Goroutines, r.OpenFDs = int(sums["go_goroutines"]), int(sums["process_open_fds"])
	r.RSS = int64(sums["process_resident_memory_bytes"])
	r.Sessions, r.Waiting = int(sums["crvnode_sessions"]), int(sums["crvnode_sessions_waiting_resume"])
	return r, nil
}

// scrapeSeries reads the named series of a /metrics page, each summed
// over its labels; absent ones are not in the map.
func scrapeSeries(ctx context.Context, hc *http.Client, url string, names []string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrMetrics, url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		if !want[name] {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMetrics, name, err)
		}
		out[name] += f
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	return out, nil
}
