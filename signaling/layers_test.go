package signaling

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/crvnode/crvnode/protocol"
)

// TestLayersAgree holds the four places that name the wire protocol to
// one list, protocol's: the method table the node dispatches on, the
// headings of docs/protocol/, the browser SDK's event table, and every
// method name the SDK sends. A method added in one place and forgotten
// in another fails here, not in a user's app.
func TestLayersAgree(t *testing.T) {
	methods := slices.Concat(protocol.Methods, protocol.MediaMethods, protocol.QueueMethods)
	events := slices.Concat(protocol.Events, protocol.MediaEvents, protocol.QueueEvents)
	isMethod := set(methods)
	isEvent := set(events)
	if len(isMethod) != len(methods) || len(isEvent) != len(events) {
		t.Errorf("protocol lists a name twice: %d methods (%d distinct), %d events (%d distinct)",
			len(methods), len(isMethod), len(events), len(isEvent))
	}

	t.Run("method table", func(t *testing.T) {
		table := protocolMethods()
		for _, m := range methods {
			if _, ok := table[m]; !ok {
				t.Errorf("protocol method %q has no handler in the method table", m)
			}
		}
		for m := range table {
			if !isMethod[m] {
				t.Errorf("the method table serves %q, which protocol does not list", m)
			}
		}
	})

	t.Run("docs", func(t *testing.T) {
		// ### `name`, or ### `name` (method) / (event) for a name that is both.
		heading := regexp.MustCompile("(?m)^### `([A-Za-z]+)`(?: \\((method|event)\\))?$")
		docMethods, docEvents := map[string]bool{}, map[string]bool{}
		for _, page := range []string{"signaling.md", "media.md", "queues.md", "resume.md"} {
			for _, h := range heading.FindAllStringSubmatch(read(t, "../docs/protocol", page), -1) {
				name, kind := h[1], h[2]
				switch {
				case kind == "method" || (kind == "" && isMethod[name] && !isEvent[name]):
					docMethods[name] = true
				case kind == "event" || (kind == "" && isEvent[name] && !isMethod[name]):
					docEvents[name] = true
				case kind == "" && isMethod[name] && isEvent[name]:
					t.Errorf("%s: heading %q is both a method and an event: say which", page, name)
				default:
					t.Errorf("%s: heading %q is neither a protocol method nor an event", page, name)
				}
			}
		}
		for _, m := range methods {
			if !docMethods[m] {
				t.Errorf("method %q has no heading in docs/protocol/", m)
			}
		}
		for _, e := range events {
			if !docEvents[e] {
				t.Errorf("event %q has no heading in docs/protocol/", e)
			}
		}
	})

	t.Run("browser SDK", func(t *testing.T) {
		sdk := readSDK(t)
		table := eventTable(t, sdk)
		for _, e := range events {
			if !table[e] {
				t.Errorf("event %q has no entry in the browser SDK's event table", e)
			}
		}
		for e := range table {
			if !isEvent[e] {
				t.Errorf("the browser SDK handles event %q, which protocol does not list", e)
			}
		}
		sent := sentNames(sdk)
		if len(sent) < 10 {
			t.Fatalf("found only %d method names the SDK sends: the patterns no longer match its source", len(sent))
		}
		for m := range sent {
			if !isMethod[m] {
				t.Errorf("the browser SDK sends %q, which protocol does not list", m)
			}
		}
		for _, m := range methods {
			if !sent[m] {
				t.Errorf("protocol method %q is never sent by the browser SDK", m)
			}
		}
	})
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readSDK is every source file the served crvideo.js is assembled from.
func readSDK(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../web/sdk/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no SDK sources under web/sdk: %v", err)
	}
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		b.WriteString(read(t, filepath.Dir(f), filepath.Base(f)))
	}
	return b.String()
}

// eventTable is the keys of the SDK's `var events = { name: function … }`.
func eventTable(t *testing.T, sdk string) map[string]bool {
	t.Helper()
	start := strings.Index(sdk, "var events = {")
	if start < 0 {
		t.Fatal("the SDK has no `var events = {` table")
	}
	end := strings.Index(sdk[start:], "\n  };")
	if end < 0 {
		t.Fatal("the SDK's event table does not end with `  };`")
	}
	keys := regexp.MustCompile(`(?m)^\s+([A-Za-z]+):\s*function`).FindAllStringSubmatch(sdk[start:start+end], -1)
	out := map[string]bool{}
	for _, k := range keys {
		out[k[1]] = true
	}
	return out
}

// sentNames is the method names the SDK puts on the wire: the literal
// first argument of rpc, call, notify, login and invite, the method
// argument of openOwn, and the literals a `var method =` line chooses
// among (what follows its =, ? and :).
func sentNames(sdk string) map[string]bool {
	out := map[string]bool{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`\b(?:rpc|call|notify|login|invite)\(\s*'([A-Za-z]+)'`),
		regexp.MustCompile(`\bopenOwn\([^,]*,\s*'([A-Za-z]+)'`),
		regexp.MustCompile(`\bmethod: '([A-Za-z]+)'`), // a request written out (moveIn, on a connection of its own)
	} {
		for _, m := range re.FindAllStringSubmatch(sdk, -1) {
			out[m[1]] = true
		}
	}
	literal := regexp.MustCompile(`(?:[^=!]=|\?|:)\s*'([A-Za-z]+)'`) // a value chosen, not one compared
	for _, line := range regexp.MustCompile(`(?m)^\s*var method = .*$`).FindAllString(sdk, -1) {
		for _, m := range literal.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
	}
	return out
}
