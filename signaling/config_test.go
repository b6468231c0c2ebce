package signaling

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every refused Config is an ErrConfig whose message names the field at
// fault.
func TestConfigErrors(t *testing.T) {
	store := &Store{} // validate only looks at whether there is one
	app := AppConfig{ID: "acme", Secret: "acme-secret"}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no apps", Config{Store: store}, "Apps"},
		{"app without ID", Config{Apps: []AppConfig{app, {Secret: "s"}}, Store: store}, "Apps[1]"},
		{"app without secret", Config{Apps: []AppConfig{{ID: "x"}}, Store: store}, "Apps[0]"},
		{"requireToken with noTokens", Config{Apps: []AppConfig{{ID: "x", Secret: "s", RequireToken: true, NoTokens: true}}, Store: store}, "RequireToken"},
		{"app twice", Config{Apps: []AppConfig{app, {ID: "globex", Secret: "g"}, app}, Store: store}, "Apps[2]"},
		{"no store", Config{Apps: []AppConfig{app}}, "Store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.withDefaults().validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("validate = %v, want %v", err, ErrConfig)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("validate = %q, which does not name %s", err, tc.field)
			}
		})
	}
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New(Config{}) = %v, want %v", err, ErrConfig)
	}
	if err := (Config{Apps: []AppConfig{app}, Store: store}).withDefaults().validate(); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
}

// Limits left zero take DefaultLimits; so do negative ones, except the
// login time and the connection cap, where negative means none.
func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Limits != DefaultLimits || c.Logger == nil || c.Registerer == nil {
		t.Errorf("Config{}.withDefaults() = %+v", c)
	}
	neg := Config{Limits: Limits{MaxMembers: -1, MaxMessageBytes: -1, Rate: -1, Burst: -1, CallTimeout: -1,
		SendQueue: -1, LoginTimeout: -1, MaxConnections: -1}}.withDefaults().Limits
	want := DefaultLimits
	want.LoginTimeout, want.MaxConnections = -1, -1
	if neg != want {
		t.Errorf("negative limits became %+v, want %+v", neg, want)
	}
	set := DefaultLimits // so that a limit added later is set too
	set.MaxMembers, set.MaxMessageBytes, set.Rate, set.Burst = 3, 1000, 2, 4
	set.CallTimeout, set.SendQueue, set.LoginTimeout, set.MaxConnections = time.Second, 8, time.Minute, 9
	if got := (Config{Limits: set}).withDefaults().Limits; got != set {
		t.Errorf("withDefaults changed set limits: %+v", got)
	}
}

// Nodes of one cluster compare SharedHash: it names what the appliers
// read, however it is written, and nothing else.
func TestSharedHash(t *testing.T) {
	a := AppConfig{ID: "a", Secret: "s1", Queue: QueueConfig{Queues: []QueueDef{{ID: 1, Name: "Sales"}}}}
	b := AppConfig{ID: "b", Secret: "s2"}
	base := SharedHash([]AppConfig{a, b}, Limits{})
	a2, b2 := a, b
	a2.Secret, b2.TURNServers = "other", []string{"turn:x"}
	same := map[string]string{
		"apps in another order": SharedHash([]AppConfig{b, a}, Limits{}),
		"defaults written out":  SharedHash([]AppConfig{a, b}, Limits{MaxMembers: DefaultLimits.MaxMembers, CallTimeout: DefaultLimits.CallTimeout}),
		"secrets, TURN servers": SharedHash([]AppConfig{a2, b2}, Limits{}),
		"one node's own limits": SharedHash([]AppConfig{a, b}, Limits{Rate: 7, Burst: 9, MaxConnections: 3}),
	}
	for what, h := range same {
		if h != base {
			t.Errorf("%s changes the hash", what)
		}
	}
	a3 := a
	a3.Queue.Queues = []QueueDef{{ID: 2, Name: "Sales"}}
	differ := map[string]string{
		"members per meeting": SharedHash([]AppConfig{a, b}, Limits{MaxMembers: 7}),
		"ringing time":        SharedHash([]AppConfig{a, b}, Limits{CallTimeout: time.Second}),
		"a queue":             SharedHash([]AppConfig{a3, b}, Limits{}),
		"an app fewer":        SharedHash([]AppConfig{a}, Limits{}),
	}
	for what, h := range differ {
		if h == base {
			t.Errorf("%s leaves the hash as it was", what)
		}
	}
}
