// Command node runs crvnode: one binary that gives a company's apps
// logins, presence, calls and meetings through the CRVideo API.
//
// Every flag has an environment override (CRVNODE_HTTP, CRVNODE_DATA,
// CRVNODE_CONFIG, CRVNODE_RTC, CRVNODE_TURN, CRVNODE_PUBLIC_IP, CRVNODE_REDIS);
// a flag given on the command line wins over the environment, and -redis
// over the configuration file's redis: section.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/crvnode/crvnode/cluster"
	"github.com/crvnode/crvnode/node"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "crvnode:", err)
		os.Exit(1)
	}
}

// run starts the node with the given arguments and environment and serves
// until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	httpAddr := fs.String("http", env("CRVNODE_HTTP", ":8080"), "HTTP listen address: /ws, /healthz, /metrics, / (env CRVNODE_HTTP)")
	dataDir := fs.String("data", env("CRVNODE_DATA", "./data"), "data directory holding the SQLite database (env CRVNODE_DATA)")
	configPath := fs.String("config", env("CRVNODE_CONFIG", ""), "optional YAML configuration file (env CRVNODE_CONFIG)")
	rtcAddr := fs.String("rtc", env("CRVNODE_RTC", ":7882"), "media (WebRTC) address: one UDP port for every peer, ICE-TCP on the same number; \"\" disables media (env CRVNODE_RTC)")
	turnAddr := fs.String("turn", env("CRVNODE_TURN", ":3478"), "TURN listen address, \"\" to disable (env CRVNODE_TURN)")
	publicIP := fs.String("public-ip", env("CRVNODE_PUBLIC_IP", ""), "public IP address clients reach this node at (env CRVNODE_PUBLIC_IP)")
	redisURL := fs.String("redis", env("CRVNODE_REDIS", ""), "Redis shared by the nodes of one service, redis://[:password@]host:port[/db] or rediss:// (env CRVNODE_REDIS); empty: the node is on its own")
	nodeURL := fs.String("node-url", env("CRVNODE_NODE_URL", ""), "with -redis: this node's own address as clients reach it, http[s]://host:port; a session moves here to enter a meeting whose media it forwards (env CRVNODE_NODE_URL); empty: http://<-http address>; overrides nodeURL in the file")
	clusterURL := fs.String("cluster-url", env("CRVNODE_CLUSTER_URL", ""), "with -redis: where the other nodes reach this one, http://host:port, for transfers between their users (env CRVNODE_CLUSTER_URL); empty: http://<-http address>; overrides clusterURL in the file")
	pprofOn := fs.Bool("pprof", env("CRVNODE_PPROF", "") == "1", "serve Go profiles at /debug/pprof/ on the HTTP address (env CRVNODE_PPROF=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var fc node.FileConfig
	if *configPath != "" {
		var err error
		if fc, err = node.LoadConfigFile(*configPath); err != nil {
			return err
		}
	}
	if *redisURL != "" {
		rc, err := cluster.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		fc.Redis = node.RedisConfig{Addr: rc.Addr, Password: rc.Password, DB: rc.DB, TLS: rc.TLS, Prefix: fc.Redis.Prefix}
	}
	if *nodeURL != "" {
		fc.NodeURL = *nodeURL
	}
	if *clusterURL != "" {
		fc.ClusterURL = *clusterURL
	}
	n, err := node.Start(node.Config{
		HTTPAddr: *httpAddr, DataDir: *dataDir, RTCAddr: *rtcAddr, TURNAddr: *turnAddr, PublicIP: *publicIP, Pprof: *pprofOn,
		File: fc, Logger: log,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
