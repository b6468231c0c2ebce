// Package node wires crvnode's planes into one runnable node: the
// configuration file, the data directory, the HTTP endpoints and the
// lifecycle. cmd/node adds flags and signals; the load tool and the e2e
// tests start nodes in-process through it.
package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/crvnode/crvnode/signaling"
)

// FileConfig is the optional YAML configuration file.
type FileConfig struct {
	// Apps are the tenants. None configured means the single demo app
	// (appID "demo", secret "demo"), with a warning in the log.
	Apps   []signaling.AppConfig `yaml:"apps"`
	Limits signaling.Limits      `yaml:"limits"`
	// AllowedOrigins restricts the Origins that may open WebSockets;
	// empty allows every origin.
	AllowedOrigins []string `yaml:"allowedOrigins"`
	// PublicURL is the node's public base URL, used in pubMeetUrl; empty
	// uses the Host a client connected to.
	PublicURL string `yaml:"publicURL"`
	// NodeURL is this node's own address as clients reach it
	// (http[s]://host:port), when it is one of several: a session moves
	// to the node forwarding the media of the meeting it enters, and its
	// SDK reconnects here. Empty: http://<the HTTP listen address>, right
	// when clients reach the nodes directly on loopback or a flat network.
	NodeURL string `yaml:"nodeURL"`
	// ClusterURL is where the other nodes of the cluster reach this one
	// (http://host:port, its HTTP listener), for transfers between users
	// of different nodes. Empty: http://<the HTTP listen address>, right
	// when it names a host the others reach; a node listening on every
	// address (":8080") needs it.
	ClusterURL string `yaml:"clusterURL"`
	// TURN tunes the embedded TURN server (its address is the -turn flag).
	TURN TURNConfig `yaml:"turn"`
	// Redis joins the node to the others using the same Redis: they serve
	// one service (docs/architecture.md, "Several nodes"). Empty Addr: the
	// node is on its own.
	Redis RedisConfig `yaml:"redis"`
}

// RedisConfig is the redis: section of the configuration file, or the
// -redis URL (redis://[:password@]host:port[/db], rediss:// for TLS).
type RedisConfig struct {
	Addr     string `yaml:"addr"` // host:port
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	TLS      bool   `yaml:"tls"`
	// Prefix starts every key crvnode uses ("crv:" if empty): services
	// sharing one Redis need one each.
	Prefix string `yaml:"prefix"`
}

// TURNConfig is the turn: section of the configuration file.
type TURNConfig struct {
	// Secret signs TURN credentials; empty: one is generated once and kept
	// in <data>/turn-secret. Give an external coturn fleet the same one.
	Secret string `yaml:"secret"`
	// CredentialTTL is how long minted credentials allow new allocations.
	CredentialTTL time.Duration `yaml:"credentialTTL"`
	// AllowedPeerCIDRs opens relaying to private, loopback or link-local
	// peers (refused by default, except the node's own addresses).
	AllowedPeerCIDRs []string `yaml:"allowedPeerCIDRs"`
	// MaxAllocationsPerUser and MaxAllocations are quotas.
	MaxAllocationsPerUser int `yaml:"maxAllocationsPerUser"`
	MaxAllocations        int `yaml:"maxAllocations"`
	// TLSAddr, CertFile and KeyFile add a TURN-over-TLS (turns:) listener;
	// Host is the DNS name in the URLs, which the certificate must cover.
	TLSAddr  string `yaml:"tlsAddr"`
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	Host     string `yaml:"host"`
}

// DemoApp is the app served when the configuration names none. Its two
// queues give the demo's service desk something to show.
var DemoApp = signaling.AppConfig{ID: "demo", Secret: "demo", Queue: signaling.QueueConfig{Queues: []signaling.QueueDef{
	{ID: 1, Name: "Sales", Desc: "New contracts and quotes", Prio: 0},
	{ID: 2, Name: "Support", Desc: "Help with an account or a device", Prio: 1},
}}}

// LoadConfigFile reads a YAML configuration file. Unknown keys are errors,
// so that a misspelt setting is not silently ignored.
func LoadConfigFile(path string) (FileConfig, error) {
	var fc FileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) { // an empty file means all defaults
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	return fc, nil
}
