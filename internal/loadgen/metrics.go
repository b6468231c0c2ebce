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

// ScrapeUsage reads a node's CPU time and RSS from its /metrics page: the
// Prometheus process collector's process_cpu_seconds_total and
// process_resident_memory_bytes. That works for a node on another
// machine, where /proc cannot be read.
func ScrapeUsage(ctx context.Context, hc *http.Client, url string) (Usage, error) {
	var u Usage
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return u, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return u, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return u, fmt.Errorf("%w: GET %s: %s", ErrMetrics, url, resp.Status)
	}
	var haveCPU, haveRSS bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return u, fmt.Errorf("%w: %s: %w", ErrMetrics, name, err)
			}
			u.CPU, haveCPU = time.Duration(v*float64(time.Second)), true
		case "process_resident_memory_bytes":
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return u, fmt.Errorf("%w: %s: %w", ErrMetrics, name, err)
			}
			u.RSS, haveRSS = int64(v), true
		}
	}
	if err := sc.Err(); err != nil {
		return u, fmt.Errorf("%w: %w", ErrMetrics, err)
	}
	if !haveCPU || !haveRSS {
		return u, fmt.Errorf("%w: %s has no process_cpu_seconds_total or process_resident_memory_bytes", ErrMetrics, url)
	}
	return u, nil
}

// MetricsURL turns a node's WebSocket URL (ws://host:port/ws) into its
// metrics URL (http://host:port/metrics).
func MetricsURL(wsURL string) string {
	u := wsURL
	switch {
	case strings.HasPrefix(u, "wss://"):
		u = "https://" + u[len("wss://"):]
	case strings.HasPrefix(u, "ws://"):
		u = "http://" + u[len("ws://"):]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			u = u[:i+3+j]
		}
	}
	return u + "/metrics"
}
