package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestSoakShort runs a short soak against a node process of its own: the
// steps must run without an unexpected error and the node must come back
// to its idle level.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and runs it as a process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := dispatch(ctx, []string{"soak", "-duration", "8s", "-sample", "2s", "-grace", "1s", "-settle", "60s", "-workers", "3", "-json"}, &stdout, &stderr)
	var r struct {
		Steps    map[string]int
		Codes    map[string]int
		Settled  bool
		After    struct{ Sessions, Waiting int }
		During   []struct{ Sessions int }
		Failures []string
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		t.Fatalf("crvload soak: %v; report: %v\n%s", err, jerr, tail(stderr.String(), 30))
	}
	t.Logf("steps %v, codes %v, failures %q", r.Steps, r.Codes, r.Failures)
	if err != nil || len(r.Failures) != 0 {
		t.Fatalf("crvload soak: %v %q\n%s", err, r.Failures, tail(stderr.String(), 30))
	}
	steps := 0
	for _, n := range r.Steps {
		steps += n
	}
	if steps < 6 || !r.Settled || r.After.Sessions != 0 || r.After.Waiting != 0 || len(r.During) < 2 {
		t.Errorf("soak report %+v", r)
	}
}

// TestOverloadShort runs each overload phase briefly: the probe must get
// every answer, and each abuse must have met the node's defence (503 past
// maxConnections, 1008 past the rate).
func TestOverloadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the node and runs it as a process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := dispatch(ctx, []string{"overload", "-phase", "3s", "-connections", "80", "-max-connections", "40",
		"-rate-users", "2", "-slow-readers", "4", "-json"}, &stdout, &stderr)
	if err != nil && !errors.Is(err, errFailures) {
		t.Fatalf("crvload overload: %v\n%s", err, tail(stderr.String(), 30))
	}
	var r struct {
		Phases []struct {
			Name        string
			Probe       struct{ Count int }
			ProbeErrors int
			Abuse       map[string]int
		}
		Failures []string
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	t.Logf("report %+v", r)
	if len(r.Phases) != 5 {
		t.Fatalf("%d phases", len(r.Phases))
	}
	for _, ph := range r.Phases {
		if ph.ProbeErrors != 0 || ph.Probe.Count == 0 {
			t.Errorf("%s: probe %d answered, %d errors", ph.Name, ph.Probe.Count, ph.ProbeErrors)
		}
	}
	if a := r.Phases[1].Abuse; a["refused 503"] == 0 || a["accepted"] > 40 {
		t.Errorf("connection flood met %v, want refusals past 40", a)
	}
	if a := r.Phases[2].Abuse; a["closed 1008"] == 0 || a["requests refused"] == 0 {
		t.Errorf("request flood met %v, want refusals and 1008", a)
	}
}
