package sfu

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.UDPAddr != DefaultUDPAddr || c.PacketCache != DefaultPacketCache || c.Logger == nil || c.Registerer == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if err := c.validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}

func TestConfigRefused(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{UDPAddr: "7882"}, "UDPAddr"},
		{Config{UDPAddr: "127.0.0.1:0", TCPAddr: "nowhere"}, "TCPAddr"},
		{Config{UDPAddr: "127.0.0.1:0", PublicIP: "node.example.com"}, "PublicIP"},
		{Config{UDPAddr: "127.0.0.1:0", PacketCache: -1}, "PacketCache"},
		{Config{UDPAddr: "127.0.0.1:0", PacketCache: MaxPacketCache + 1}, "PacketCache"},
	} {
		c.cfg.Logger = quiet
		s, err := New(c.cfg)
		if err == nil {
			_ = s.Close()
			t.Errorf("%+v: accepted", c.cfg)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: %v; want ErrConfig naming %s", c.cfg, err, c.field)
		}
	}
}
