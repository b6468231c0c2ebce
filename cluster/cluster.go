package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// openTimeout bounds Open's first PING.
const openTimeout = 5 * time.Second

// reapTTL is how long the reap key of a node reported down lives: long
// enough that no other node reports it again once it is out of the set.
const reapTTL = 60 * time.Second

// Cluster is this node's membership of a cluster: its share of the log
// and its heartbeat. Its methods are safe for concurrent use.
type Cluster struct {
	cfg  Config
	rdb  *redis.Client
	log  *slog.Logger
	keys keys

	readSlack time.Duration // how long a read of the log may take, beyond its BLOCK

	cancel context.CancelFunc
	loops  sync.WaitGroup
	stop   sync.Once

	mu      sync.Mutex
	lastOK  time.Time // the last heartbeat that succeeded
	lastErr error     // the last heartbeat's error, if it failed

	closeOnce sync.Once
	closeErr  error
}

// keys are the Redis keys of one cluster.
type keys struct {
	prefix   string
	log      string // the stream
	snapshot string // a hash: pos, state
	nodes    string // a set of node IDs
	epoch    string // names the log: a new one after Redis lost its data
}

func (k keys) node(id string) string { return k.prefix + "node:" + id }
func (k keys) reap(id string) string { return k.prefix + "reap:" + id }

// Node is a live node.
type Node struct {
	ID   string
	Info string // what the node says of itself (Config.Info)
}

// Open connects to Redis, registers the node and starts its heartbeat.
// It fails when Redis does not answer PING within 5 s.
func Open(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Addr == "" {
		return nil, errors.New("cluster: no Redis address")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = defaultPrefix
	}
	if cfg.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.NodeID = hex.EncodeToString(b[:])
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = defaultHeartbeat
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = defaultNodeTTL
	}
	if cfg.NodeTTL <= cfg.Heartbeat {
		return nil, fmt.Errorf("cluster: NodeTTL (%v) must be longer than Heartbeat (%v)", cfg.NodeTTL, cfg.Heartbeat)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	opt := &redis.Options{
		Addr:     cfg.Addr,
		Password: cfg.Password,
		DB:       cfg.DB,
		// A command that timed out may have run: sent again, an XADD
		// would put its entry twice in the log. The loops retry on
		// their own, after a fresh read.
		MaxRetries:            -1,
		DialTimeout:           openTimeout,
		ContextTimeoutEnabled: true,
		// Redis Enterprise's maintenance push messages; plain Redis
		// refuses the command.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if cfg.TLS {
		host, _, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			host = cfg.Addr
		}
		opt.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	c := &Cluster{
		cfg:       cfg,
		rdb:       redis.NewClient(opt),
		readSlack: readSlack,
		log:       lg.With("redis", cfg.Addr, "node", cfg.NodeID),
		keys: keys{
			prefix:   cfg.Prefix,
			log:      cfg.Prefix + "log",
			snapshot: cfg.Prefix + "snapshot",
			nodes:    cfg.Prefix + "nodes",
			epoch:    cfg.Prefix + "epoch",
		},
	}
	pctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := c.rdb.Ping(pctx).Err(); err != nil {
		_ = c.rdb.Close()
		return nil, fmt.Errorf("cluster: redis at %s: %w", cfg.Addr, err)
	}
	if err := c.setEpoch(pctx); err != nil {
		_ = c.rdb.Close()
		return nil, fmt.Errorf("cluster: redis at %s: %w", cfg.Addr, err)
	}
	if _, err := c.beat(pctx); err != nil {
		_ = c.rdb.Close()
		return nil, fmt.Errorf("cluster: redis at %s: registering node %s: %w", cfg.Addr, cfg.NodeID, err)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	c.cancel = lcancel
	reap := make(chan struct{}, 1)
	c.loops.Add(2)
	go c.heartbeat(lctx, reap)
	go c.reaper(lctx, reap)
	return c, nil
}

// NodeID names this node.
func (c *Cluster) NodeID() string { return c.cfg.NodeID }

// Healthy is nil while the node's heartbeat works: when the last one
// succeeded within NodeTTL. Otherwise it is the last heartbeat's error.
func (c *Cluster) Healthy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.lastOK) <= c.cfg.NodeTTL {
		return nil
	}
	if c.lastErr != nil {
		return fmt.Errorf("cluster: redis at %s: no heartbeat since %s: %w", c.cfg.Addr, c.lastOK.Format(time.RFC3339), c.lastErr)
	}
	return fmt.Errorf("cluster: redis at %s: no heartbeat since %s", c.cfg.Addr, c.lastOK.Format(time.RFC3339))
}

// Live lists the nodes whose heartbeat is current, by ID.
func (c *Cluster) Live(ctx context.Context) ([]Node, error) {
	ids, err := c.rdb.SMembers(ctx, c.keys.nodes).Result()
	if err != nil {
		return nil, c.wrap("listing nodes", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	ks := make([]string, len(ids))
	for i, id := range ids {
		ks[i] = c.keys.node(id)
	}
	infos, err := c.rdb.MGet(ctx, ks...).Result()
	if err != nil {
		return nil, c.wrap("listing nodes", err)
	}
	var live []Node
	for i, v := range infos {
		if s, ok := v.(string); ok {
			live = append(live, Node{ID: ids[i], Info: s})
		}
	}
	return live, nil
}

// Close stops the heartbeat, takes the node out of the cluster (so that
// no other node reports it down) and closes the connection. It can be
// called more than once.
func (c *Cluster) Close() error { return c.close(true) }

// Abandon is Close for a node that could not tell the others it stops:
// it leaves its key to expire, so that another node finds it gone and
// reports it down, as if it had died.
func (c *Cluster) Abandon() error { return c.close(false) }

func (c *Cluster) close(leave bool) error {
	c.closeOnce.Do(func() {
		c.stopLoops()
		if !leave {
			c.closeErr = c.rdb.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Out of the set first: a member without a key is a node down.
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SRem(ctx, c.keys.nodes, c.cfg.NodeID)
			p.Del(ctx, c.keys.node(c.cfg.NodeID))
			return nil
		})
		if err != nil {
			err = c.wrap("leaving the cluster", err)
		}
		c.closeErr = errors.Join(err, c.rdb.Close())
	})
	return c.closeErr
}

// stopLoops stops the heartbeat and the reaper and waits for them.
func (c *Cluster) stopLoops() {
	c.stop.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.loops.Wait()
	})
}

// cmdTimeout bounds one heartbeat's or one reaping's commands.
func (c *Cluster) cmdTimeout() time.Duration {
	return min(max(c.cfg.NodeTTL, time.Second), 5*time.Second)
}

// heartbeat refreshes the node's key every Heartbeat and asks the
// reaper to look for nodes down after each beat that succeeded.
func (c *Cluster) heartbeat(ctx context.Context, reap chan<- struct{}) {
	defer c.loops.Done()
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		bctx, cancel := context.WithTimeout(ctx, c.cmdTimeout())
		existed, err := c.beat(bctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.log.Warn("cluster: heartbeat failed", "err", err)
			continue
		}
		if !existed {
			// Expired (this node was too slow, or was reported down) or
			// lost (Redis restarted without its data): set again.
			c.log.Warn("cluster: this node's key was gone; set it again")
		}
		select {
		case reap <- struct{}{}:
		default: // the reaper is still busy with the last beat's
		}
	}
}

// beat sets the node's key and its membership; existed reports whether
// the key was still there.
func (c *Cluster) beat(ctx context.Context) (existed bool, err error) {
	var (
		set  *redis.StatusCmd
		sadd *redis.IntCmd
	)
	_, _ = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		// The key before the membership: a member without a key is a
		// node down.
		set = p.SetArgs(ctx, c.keys.node(c.cfg.NodeID), c.cfg.Info, redis.SetArgs{TTL: c.cfg.NodeTTL, Get: true})
		sadd = p.SAdd(ctx, c.keys.nodes, c.cfg.NodeID)
		return nil
	})
	err = set.Err()
	if errors.Is(err, redis.Nil) { // SET … GET of a missing key
		err = nil
	}
	if err == nil {
		err = sadd.Err()
	}
	c.mu.Lock()
	if err == nil {
		c.lastOK, c.lastErr = time.Now(), nil
	} else {
		c.lastErr = err
	}
	c.mu.Unlock()
	if err != nil {
		return false, err
	}
	return set.Err() == nil, nil
}

// reaper looks, after each heartbeat, for nodes that are members without
// a key and reports each of them down, on one node of the cluster.
func (c *Cluster) reaper(ctx context.Context, reap <-chan struct{}) {
	defer c.loops.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reap:
		}
		rctx, cancel := context.WithTimeout(ctx, c.cmdTimeout())
		down, err := c.findDown(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("cluster: looking for nodes down", "err", err)
			}
			continue
		}
		for _, id := range down {
			if ctx.Err() != nil {
				return
			}
			c.reapNode(ctx, id)
		}
	}
}

// findDown lists the members, other than this node, whose key is gone.
func (c *Cluster) findDown(ctx context.Context) ([]string, error) {
	ids, err := c.rdb.SMembers(ctx, c.keys.nodes).Result()
	if err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == c.cfg.NodeID })
	if len(ids) == 0 {
		return nil, nil
	}
	exists := make([]*redis.IntCmd, len(ids))
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			exists[i] = p.Exists(ctx, c.keys.node(id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var down []string
	for i, id := range ids {
		if exists[i].Val() == 0 {
			down = append(down, id)
		}
	}
	return down, nil
}

// reapNode reports node id down if this node is the first to claim it.
func (c *Cluster) reapNode(ctx context.Context, id string) {
	rctx, cancel := context.WithTimeout(ctx, c.cmdTimeout())
	defer cancel()
	won, err := c.rdb.SetNX(rctx, c.keys.reap(id), c.cfg.NodeID, reapTTL).Result()
	if err != nil {
		c.log.Warn("cluster: claiming a node down", "down", id, "err", err)
		return
	}
	if !won {
		return // another node reports it
	}
	// It may have left with Close since the look: then it is no member.
	if member, err := c.rdb.SIsMember(rctx, c.keys.nodes, id).Result(); err != nil || !member {
		c.rdb.Del(rctx, c.keys.reap(id))
		return
	}
	c.log.Info("cluster: a node is down", "down", id)
	if c.cfg.NodeDown != nil {
		if err := c.cfg.NodeDown(id); err != nil {
			c.log.Error("cluster: handling a node down; trying again at the next heartbeat", "down", id, "err", err)
			dctx, dcancel := context.WithTimeout(context.Background(), c.cmdTimeout())
			c.rdb.Del(dctx, c.keys.reap(id))
			dcancel()
			return
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), c.cmdTimeout())
	defer scancel()
	if err := c.rdb.SRem(sctx, c.keys.nodes, id).Err(); err != nil {
		// The reap key keeps the others from reporting it again.
		c.log.Warn("cluster: removing a node down", "down", id, "err", err)
	}
}

// wrap names the Redis in an error.
func (c *Cluster) wrap(what string, err error) error {
	return fmt.Errorf("cluster: redis at %s: %s: %w", c.cfg.Addr, what, err)
}
