package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crvnode/crvnode/cluster"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
	"github.com/crvnode/crvnode/sfu"
	"github.com/crvnode/crvnode/signaling"
	"github.com/crvnode/crvnode/turnsrv"
	"github.com/crvnode/crvnode/web"
)

// Config is what a node needs to start.
type Config struct {
	HTTPAddr string // e.g. ":8080"; "127.0.0.1:0" picks a free port
	DataDir  string // holds the SQLite database
	RTCAddr  string // the SFU's one UDP port (and ICE-TCP on the same number); "" disables media
	// RTCConn, when set, is the SFU's UDP socket instead of one on RTCAddr
	// (tests inject lossy or throttled sockets).
	RTCConn  net.PacketConn
	TURNAddr string // the embedded TURN server's UDP and TCP address; "" disables it
	PublicIP string // the address clients reach this node at, behind NAT
	// Pprof serves Go's profiles at /debug/pprof/ (go tool pprof
	// http://host:port/debug/pprof/profile); off by default, as it exposes
	// the process to whoever reaches the HTTP port.
	Pprof  bool
	File   FileConfig
	Logger *slog.Logger
}

// Node is a running crvnode.
type Node struct {
	log       *slog.Logger
	store     *signaling.Store
	signaling *signaling.Server
	cluster   *cluster.Cluster // nil on its own
	links     *dcLinks         // to the cluster's other nodes; nil on its own
	sfu       *sfu.SFU
	turn      *turnSide
	stopSweep context.CancelFunc // ends the relay's sweep of stalled transfers
	swept     chan struct{}
	http      *http.Server
	ln        net.Listener
	served    chan error
}

// Start opens the data directory, starts the signaling server and listens
// for HTTP. It returns once the node accepts connections.
func Start(cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	apps := cfg.File.Apps
	if len(apps) == 0 {
		log.Warn("no apps configured: serving the demo app (appID \"demo\", secret \"demo\"); configure apps before exposing this node")
		apps = []signaling.AppConfig{DemoApp}
	}
	store, err := signaling.OpenStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var media *sfu.SFU
	if cfg.RTCAddr != "" {
		media, err = sfu.New(sfu.Config{UDPAddr: cfg.RTCAddr, PacketConn: cfg.RTCConn, PublicIP: cfg.PublicIP, Logger: log, Registerer: reg})
		if err != nil {
			store.Close()
			return nil, err
		}
	}
	// The relay wakes users through signaling, and reaches users of other
	// nodes through the links, which are built after it.
	var wakeUp atomic.Pointer[signaling.Server]
	var linksTo atomic.Pointer[dcLinks]
	relay, err := newRelay(reg, log, func(app string, user protocol.UserID) bool {
		sig := wakeUp.Load()
		return sig != nil && sig.WakeUp(app, user)
	}, func(app string, user protocol.UserID) (*datachannel.Link, bool) {
		if links := linksTo.Load(); links != nil {
			return links.remote(app, user)
		}
		return nil, false
	})
	if err != nil {
		closeAll(media, nil, store)
		return nil, err
	}
	turn, err := startTURN(cfg.TURNAddr, cfg.DataDir, cfg.PublicIP, cfg.File.TURN, ownAddresses(cfg.PublicIP), log, reg)
	if err != nil {
		closeAll(media, nil, store)
		return nil, err
	}
	// Listening comes before joining a cluster, so that the node can say
	// where it is; it serves nobody until signaling has caught up.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		closeAll(media, turn, store)
		return nil, fmt.Errorf("node: listen %s: %w", cfg.HTTPAddr, err)
	}
	var clu *cluster.Cluster
	var links *dcLinks
	var sigCluster signaling.Cluster // a nil *cluster.Cluster must not become a non-nil interface
	nodeDown := func(id string) error {
		sig := wakeUp.Load()
		if sig == nil {
			return errors.New("node: not started yet")
		}
		return sig.NodeDown(id)
	}
	if rc := cfg.File.Redis; rc.Addr != "" {
		own := "http://" + ln.Addr().String()
		info := nodeInfo{URL: cfg.File.ClusterURL, Client: cfg.File.NodeURL, Config: signaling.SharedHash(apps, cfg.File.Limits)}
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		everywhere := net.ParseIP(host).IsUnspecified()
		if info.Client == "" {
			info.Client = own
			if everywhere {
				log.Warn("cluster: the node listens on every address: clients cannot reach it at "+own+
					" when their session moves to it to enter a meeting it hosts; set nodeURL (-node-url)", "http", ln.Addr().String())
			}
		}
		if info.URL == "" {
			info.URL = own
			if everywhere {
				log.Warn("cluster: the node listens on every address: other nodes cannot reach it at "+own+
					" for transfers between users of different nodes; set clusterURL (-cluster-url)", "http", ln.Addr().String())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		clu, err = cluster.Open(ctx, cluster.Config{
			Addr: rc.Addr, Password: rc.Password, DB: rc.DB, TLS: rc.TLS, Prefix: rc.Prefix,
			Info: info.String(), Logger: log, NodeDown: nodeDown,
		})
		if err == nil {
			var secret string
			if err = sameConfig(ctx, clu, info); err == nil {
				secret, err = clu.Secret(ctx)
			}
			if err == nil {
				links, err = newDCLinks(clu, secret, relay, func(app string, user protocol.UserID) (string, bool) {
					if sig := wakeUp.Load(); sig != nil {
						return sig.UserNode(app, user)
					}
					return "", false
				}, log, reg)
			}
			if err != nil {
				clu.Close()
			}
		}
		cancel()
		if err != nil {
			ln.Close()
			closeAll(media, turn, store)
			return nil, fmt.Errorf("node: joining the cluster: %w", err)
		}
		sigCluster = clu
		log.Info("cluster: joined", "redis", rc.Addr, "node", clu.NodeID())
	}
	sig, err := signaling.New(signaling.Config{
		Apps:           apps,
		Limits:         cfg.File.Limits,
		AllowedOrigins: cfg.File.AllowedOrigins,
		PublicURL:      cfg.File.PublicURL,
		Store:          store,
		Media:          mediaOf(media, relay),
		ICEServers:     turn.iceServers,
		Cluster:        sigCluster,
		NodeURL:        nodeURL(clu),
		Logger:         log,
		Registerer:     reg,
	})
	if err != nil {
		ln.Close()
		if clu != nil {
			links.close()
			clu.Close()
		}
		closeAll(media, turn, store)
		return nil, err
	}
	wakeUp.Store(sig)
	mux := http.NewServeMux()
	mux.Handle("/ws", sig)
	if links != nil {
		linksTo.Store(links)
		mux.Handle(dcPath, links)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if clu != nil {
			if err := clu.Healthy(); err != nil {
				http.Error(w, "cluster: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", web.Handler()) // the browser SDK at /sdk/ and the demo app
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		log.Warn("profiling is on at /debug/pprof/: keep the HTTP port private")
	}
	n := &Node{
		log:       log,
		store:     store,
		signaling: sig,
		cluster:   clu,
		links:     links,
		sfu:       media,
		turn:      turn,
		swept:     make(chan struct{}),
		http:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:        ln,
		served:    make(chan error, 1),
	}
	go func() { n.served <- n.http.Serve(ln) }()
	var sweepCtx context.Context
	sweepCtx, n.stopSweep = context.WithCancel(context.Background())
	go func() { defer close(n.swept); relay.Run(sweepCtx) }()
	log.Info("crvnode listening", "http", "http://"+ln.Addr().String(), "ws", "ws://"+ln.Addr().String()+"/ws",
		"data", cfg.DataDir, "apps", len(apps))
	return n, nil
}

// Addr is the HTTP address the node listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Shutdown stops accepting connections, tells connected clients that the
// node is going away (lineOff 206), waits for them to close (or ctx), and
// closes the database.
func (n *Node) Shutdown(ctx context.Context) error {
	httpErr := n.http.Shutdown(ctx) // stops the listener; WebSockets are hijacked, so it does not wait for them
	sigErr := n.signaling.Shutdown(ctx)
	if err := <-n.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		httpErr = errors.Join(httpErr, err)
	}
	if n.links != nil {
		n.links.close() // fails the transfers with users of other nodes
	}
	n.stopSweep()
	<-n.swept
	var sfuErr, clusterErr error
	if n.sfu != nil {
		sfuErr = n.sfu.Close()
	}
	if n.cluster != nil {
		if errors.Is(sigErr, signaling.ErrClusterLeave) {
			clusterErr = n.cluster.Abandon()
		} else {
			clusterErr = n.cluster.Close()
		}
	}
	return errors.Join(httpErr, sigErr, sfuErr, clusterErr, n.turn.close(), n.store.Close())
}

// RTCAddr is the SFU's UDP address, or nil without media.
func (n *Node) RTCAddr() net.Addr {
	if n.sfu == nil {
		return nil
	}
	return n.sfu.UDPAddr()
}

func closeAll(media *sfu.SFU, turn *turnSide, store *signaling.Store) {
	if media != nil {
		media.Close()
	}
	_ = turn.close()
	store.Close()
}

// TURNAddrs are the embedded TURN server's listening addresses (nil
// fields for listeners that are off).
func (n *Node) TURNAddrs() turnsrv.Addrs {
	if n.turn == nil || n.turn.srv == nil {
		return turnsrv.Addrs{}
	}
	return n.turn.srv.Addrs()
}

// nodeInfo is what a node of a cluster says of itself with its
// heartbeat.
type nodeInfo struct {
	URL    string `json:"url"`    // where the other nodes reach it
	Client string `json:"client"` // where clients reach it (FileConfig.NodeURL)
	Config string `json:"config"` // signaling.SharedHash of its apps and limits
}

func (i nodeInfo) String() string {
	b, _ := json.Marshal(i)
	return string(b)
}

// nodeURL finds where clients reach a live node of the cluster, for a
// session moving there; nil on its own.
func nodeURL(clu *cluster.Cluster) func(context.Context, string) (string, error) {
	if clu == nil {
		return nil
	}
	return func(ctx context.Context, id string) (string, error) {
		live, err := clu.Live(ctx)
		if err != nil {
			return "", err
		}
		for _, n := range live {
			var info nodeInfo
			if n.ID == id && json.Unmarshal([]byte(n.Info), &info) == nil && info.Client != "" {
				return info.Client, nil
			}
		}
		return "", fmt.Errorf("node: node %s is not live", id)
	}
}

// sameConfig refuses to join a cluster whose live nodes run another
// configuration: their copies of the state would part.
func sameConfig(ctx context.Context, clu *cluster.Cluster, self nodeInfo) error {
	live, err := clu.Live(ctx)
	if err != nil {
		return err
	}
	for _, n := range live {
		if n.ID == clu.NodeID() {
			continue
		}
		var other nodeInfo
		if json.Unmarshal([]byte(n.Info), &other) != nil || other.Config != self.Config {
			return fmt.Errorf("node: node %s (%s) runs another configuration of apps, queues or limits (%s, this one %s): the nodes of one service must share one; to change it, stop them all (a node stopped by kill -9 counts for 6 s more)",
				n.ID, other.URL, other.Config, self.Config)
		}
	}
	return nil
}
