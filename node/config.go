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
}

// DemoApp is the app served when the configuration names none.
var DemoApp = signaling.AppConfig{ID: "demo", Secret: "demo"}

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
