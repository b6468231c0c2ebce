package node

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/cluster"
	"github.com/crvnode/crvnode/datachannel"
	"github.com/crvnode/crvnode/protocol"
)

// The links between the nodes of a cluster, for transfers between users
// of different nodes: one WebSocket per pair of nodes, at dcPath on each
// node's HTTP listener, dialled by the first node that has a transfer
// for a user of the other and then used both ways, each carrying
// datachannel link messages (datachannel.Link). A node proves it belongs
// to the cluster with an HMAC of its request under the cluster's secret
// (cluster.Secret): a request without it gets 401 and nothing else.
const (
	dcPath = "/cluster/dc"

	dcHeaderNode = "X-Crvnode-Node" // the dialling node's ID; in the answer, the dialled node's
	dcHeaderTime = "X-Crvnode-Time" // the request's time, Unix seconds
	dcHeaderOnce = "X-Crvnode-Once" // random, new in each request: a request is signed once
	dcAuthScheme = "CRV-HMAC "      // Authorization: CRV-HMAC <hex HMAC-SHA256>

	dcAuthSkew     = 2 * time.Minute  // how far a request's time may be from this node's clock
	dcDialTimeout  = 10 * time.Second // dialling another node, its handshake included
	dcReadTimeout  = 20 * time.Second // a link with nothing from the other node this long is dead
	dcWriteTimeout = 20 * time.Second // one message's write
	dcWatchEvery   = 2 * time.Second  // the cluster's heartbeat: how often links are checked against the live nodes
	dcSecretEvery  = time.Second      // the least time between two reads of the secret for a request that fails
)

// dcLinks are a node's links to the other nodes of its cluster.
type dcLinks struct {
	log   *slog.Logger
	relay *datachannel.Relay
	clu   *cluster.Cluster
	self  string
	// userNode says which node holds a user's session (signaling's
	// UserNode).
	userNode func(app string, user protocol.UserID) (string, bool)
	dialer   websocket.Dialer
	upgrader websocket.Upgrader

	ctx    context.Context // ends with close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	secret  string
	fetched time.Time            // when secret was last read from Redis
	urls    map[string]string    // the live nodes' URLs, from the last look
	seen    map[string]time.Time // signatures accepted within dcAuthSkew: each opens one link
	byNode  map[string]*dcLink
	all     map[*dcLink]struct{}

	bytes *prometheus.CounterVec
}

// dcLink is one connection to another node.
type dcLink struct {
	node  string
	link  *datachannel.Link
	since time.Time
	conn  *websocket.Conn // guarded by dcLinks.mu; nil while dialling
}

// newDCLinks serves and dials the links of a node of clu, whose relay
// carries the transfers, and registers their metrics.
func newDCLinks(clu *cluster.Cluster, secret string, relay *datachannel.Relay,
	userNode func(string, protocol.UserID) (string, bool), log *slog.Logger, reg prometheus.Registerer) (*dcLinks, error) {
	m := &dcLinks{
		log: log, relay: relay, clu: clu, self: clu.NodeID(), userNode: userNode,
		dialer:   websocket.Dialer{HandshakeTimeout: dcDialTimeout, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10},
		upgrader: websocket.Upgrader{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10, CheckOrigin: func(*http.Request) bool { return true }},
		secret:   secret, fetched: time.Now(),
		urls:   make(map[string]string),
		seen:   make(map[string]time.Time),
		byNode: make(map[string]*dcLink),
		all:    make(map[*dcLink]struct{}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crvnode_cluster_link_bytes_total",
			Help: "Bytes of transfers between users of different nodes sent to (out) and received from (in) the other nodes."},
			[]string{"direction"}),
	}
	cs := []prometheus.Collector{m.bytes,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_cluster_links_up",
			Help: "Links to other nodes of the cluster that are connected."},
			func() float64 { up, _ := m.gauges(); return float64(up) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crvnode_cluster_link_queued_bytes",
			Help: "Bytes waiting to be written to the links to other nodes (at most 32 MiB each)."},
			func() float64 { _, q := m.gauges(); return float64(q) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(1)
	go m.watch()
	return m, nil
}

func (m *dcLinks) gauges() (up int, queued int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for l := range m.all {
		if l.conn != nil {
			up++
		}
		queued += l.link.Stats().Queued
	}
	return up, queued
}

// remote is the relay's RelayConfig.Remote: the link to the node of a
// user logged in on another node.
func (m *dcLinks) remote(app string, user protocol.UserID) (*datachannel.Link, bool) {
	id, ok := m.userNode(app, user)
	if !ok || id == "" || id == m.self {
		return nil, false
	}
	l := m.linkTo(id)
	return l, l != nil
}

// linkTo is the link to node id, dialled now if there is none; nil once
// the node stops.
func (m *dcLinks) linkTo(id string) *datachannel.Link {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	if l := m.byNode[id]; l != nil {
		return l.link
	}
	l := m.addLocked(id)
	m.wg.Add(1)
	go m.dial(l)
	return l.link
}

func (m *dcLinks) addLocked(id string) *dcLink {
	l := &dcLink{node: id, link: m.relay.NewLink(datachannel.DefaultLinkQueue), since: time.Now()}
	m.all[l] = struct{}{}
	if m.byNode[id] == nil {
		m.byNode[id] = l
	}
	return l
}

// forget takes a closed link out; the next transfer to its node dials
// again (or uses a link that node dialled).
func (m *dcLinks) forget(l *dcLink) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.all, l)
	if m.byNode[l.node] != l {
		return
	}
	delete(m.byNode, l.node)
	for o := range m.all {
		if o.node == l.node {
			m.byNode[l.node] = o
			return
		}
	}
}

// dial connects l to its node and serves it; a dial that fails closes
// the link, failing what waits on it.
func (m *dcLinks) dial(l *dcLink) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, dcDialTimeout)
	defer cancel()
	go func() { // the link closing (its node left) ends the dial
		select {
		case <-l.link.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	conn, err := m.connect(ctx, l.node)
	if err != nil {
		m.log.Warn("cluster: cannot reach another node for a transfer", "to", l.node, "err", err)
		l.link.Close()
		m.forget(l)
		return
	}
	m.serve(l, conn)
}

// connect dials node id's link endpoint.
func (m *dcLinks) connect(ctx context.Context, id string) (*websocket.Conn, error) {
	base, err := m.urlOf(ctx, id)
	if err != nil {
		return nil, err
	}
	u, ok := strings.CutPrefix(base, "http")
	if !ok {
		return nil, fmt.Errorf("node %s publishes the URL %q, not http(s)", id, base)
	}
	secret := m.freshSecret(ctx)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	var once [16]byte
	_, _ = rand.Read(once[:])
	h := http.Header{}
	h.Set(dcHeaderNode, m.self)
	h.Set(dcHeaderTime, ts)
	h.Set(dcHeaderOnce, hex.EncodeToString(once[:]))
	h.Set("Authorization", dcAuthScheme+hex.EncodeToString(dcMAC(secret, m.self, id, ts, h.Get(dcHeaderOnce))))
	conn, resp, err := m.dialer.DialContext(ctx, "ws"+strings.TrimSuffix(u, "/")+dcPath, h)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (%s)", err, resp.Status)
		}
		return nil, err
	}
	if got := resp.Header.Get(dcHeaderNode); got != id {
		conn.Close()
		return nil, fmt.Errorf("%s is node %q, not %s", base, got, id)
	}
	return conn, nil
}

// urlOf is where node id is reached, from the last look at the live
// nodes or a new one.
func (m *dcLinks) urlOf(ctx context.Context, id string) (string, error) {
	m.mu.Lock()
	u := m.urls[id]
	m.mu.Unlock()
	if u != "" {
		return u, nil
	}
	if err := m.look(ctx); err != nil {
		return "", err
	}
	m.mu.Lock()
	u = m.urls[id]
	m.mu.Unlock()
	if u == "" {
		return "", fmt.Errorf("node %s is not live", id)
	}
	return u, nil
}

// look reads the live nodes' URLs.
func (m *dcLinks) look(ctx context.Context) error {
	live, err := m.clu.Live(ctx)
	if err != nil {
		return err
	}
	m.setLive(live)
	return nil
}

func (m *dcLinks) setLive(live []cluster.Node) {
	urls := make(map[string]string, len(live))
	for _, n := range live {
		var info nodeInfo
		if json.Unmarshal([]byte(n.Info), &info) == nil {
			urls[n.ID] = info.URL
		}
	}
	m.mu.Lock()
	m.urls = urls
	m.mu.Unlock()
}

// freshSecret reads the cluster's secret again (Redis may have lost the
// one this node had), or keeps the one it has when Redis does not answer.
func (m *dcLinks) freshSecret(ctx context.Context) string {
	s, err := m.clu.Secret(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		m.secret, m.fetched = s, time.Now()
	}
	return m.secret
}

// dcMAC signs a link request from node from to node to at time ts, with
// its random once.
func dcMAC(secret, from, to, ts, once string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "crvnode %s\n%s\n%s\n%s\n%s", dcPath, from, to, ts, once)
	return h.Sum(nil)
}

var errDCAuth = errors.New("not signed with the cluster's secret")

// authorize checks a link request and returns the node that sent it.
func (m *dcLinks) authorize(r *http.Request) (string, error) {
	from, ts, once := r.Header.Get(dcHeaderNode), r.Header.Get(dcHeaderTime), r.Header.Get(dcHeaderOnce)
	sig, ok := strings.CutPrefix(r.Header.Get("Authorization"), dcAuthScheme)
	mac, err := hex.DecodeString(sig)
	if !ok || err != nil || from == "" || from == m.self || len(once) < 16 {
		return "", errDCAuth
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > dcAuthSkew {
		return "", fmt.Errorf("request time %q is not within %v of this node's clock", ts, dcAuthSkew)
	}
	m.mu.Lock()
	secret, again := m.secret, time.Since(m.fetched) >= dcSecretEvery
	m.mu.Unlock()
	ok = hmac.Equal(mac, dcMAC(secret, from, m.self, ts, once))
	if !ok && again { // Redis may have a new secret; read it at most once a second
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		secret = m.freshSecret(ctx)
		cancel()
		ok = hmac.Equal(mac, dcMAC(secret, from, m.self, ts, once))
	}
	if !ok {
		return "", errDCAuth
	}
	// A signed request opens one link: the same one again is a replay.
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for k, at := range m.seen {
		if now.Sub(at) > 2*dcAuthSkew {
			delete(m.seen, k)
		}
	}
	if _, replay := m.seen[sig]; replay {
		return "", errors.New("a signed request seen before")
	}
	m.seen[sig] = now
	return from, nil
}

// ServeHTTP accepts a link from another node of the cluster.
func (m *dcLinks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, err := m.authorize(r)
	if err != nil {
		m.log.Info("cluster: link request refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		http.Error(w, "the node is stopping", http.StatusServiceUnavailable)
		return
	}
	m.wg.Add(1) // the connection is hijacked: the HTTP server does not wait for it
	m.mu.Unlock()
	defer m.wg.Done()
	conn, err := m.upgrader.Upgrade(w, r, http.Header{dcHeaderNode: {m.self}})
	if err != nil {
		return // Upgrade answered
	}
	m.mu.Lock()
	l := m.addLocked(from)
	m.mu.Unlock()
	m.serve(l, conn) // closes conn if the node stopped meanwhile
}

// serve reads l's messages from conn until either ends, and writes what
// the link queues from another goroutine.
func (m *dcLinks) serve(l *dcLink, conn *websocket.Conn) {
	m.mu.Lock()
	closing := m.closed
	if !closing {
		l.conn = conn
		m.wg.Add(1)
	}
	m.mu.Unlock()
	if closing {
		conn.Close()
		l.link.Close()
		m.forget(l)
		return
	}
	m.log.Debug("cluster: link up", "node", l.node)
	go m.write(l, conn)
	conn.SetReadLimit(datachannel.MaxLinkMessage)
	alive := func(string) error { return conn.SetReadDeadline(time.Now().Add(dcReadTimeout)) }
	_ = alive("")
	conn.SetPongHandler(alive)
	in := m.bytes.WithLabelValues("in")
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			m.log.Debug("cluster: link down", "node", l.node, "err", err)
			break
		}
		_ = alive("")
		in.Add(float64(len(msg)))
		if typ != websocket.BinaryMessage {
			m.log.Warn("cluster: a text message on a link", "node", l.node)
			break
		}
		if err := l.link.Receive(msg); err != nil {
			m.log.Warn("cluster: a link message refused; closing the link", "node", l.node, "err", err)
			break
		}
	}
	l.link.Close()
	conn.Close()
	m.forget(l)
}

// write sends what l queues, until the link closes.
func (m *dcLinks) write(l *dcLink, conn *websocket.Conn) {
	defer m.wg.Done()
	out := m.bytes.WithLabelValues("out")
	for {
		msg, ok := l.link.Next()
		if !ok {
			break
		}
		_ = conn.SetWriteDeadline(time.Now().Add(dcWriteTimeout))
		if err := conn.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			m.log.Debug("cluster: link write failed", "node", l.node, "err", err)
			l.link.Close()
			break
		}
		out.Add(float64(len(msg)))
	}
	conn.Close() // the reader then ends
}

// watch closes, every heartbeat, the links to nodes that left the live
// set, failing their transfers, and pings the others.
func (m *dcLinks) watch() {
	defer m.wg.Done()
	t := time.NewTicker(dcWatchEvery)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(m.ctx, dcWatchEvery)
		live, err := m.clu.Live(ctx)
		cancel()
		if err == nil {
			m.closeGone(live, start)
		}
		m.ping()
	}
}

// closeGone takes live as the live nodes, as read at start, and closes
// the links to the others made before then.
func (m *dcLinks) closeGone(live []cluster.Node, start time.Time) {
	m.setLive(live)
	var gone []*dcLink
	m.mu.Lock()
	for l := range m.all {
		if _, ok := m.urls[l.node]; !ok && l.since.Before(start) {
			gone = append(gone, l)
		}
	}
	m.mu.Unlock()
	for _, l := range gone {
		m.log.Info("cluster: closing the link to a node that left", "node", l.node)
		l.link.Close()
	}
}

// ping pings the other end of every link that is up: the read deadline
// ends a link whose node does not answer.
func (m *dcLinks) ping() {
	var conns []*websocket.Conn
	m.mu.Lock()
	for l := range m.all {
		if l.conn != nil {
			conns = append(conns, l.conn)
		}
	}
	m.mu.Unlock()
	for _, c := range conns {
		_ = c.WriteControl(websocket.PingMessage, nil, time.Now().Add(dcWatchEvery))
	}
}

// close closes every link, failing its transfers, and waits for their
// goroutines.
func (m *dcLinks) close() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.closed = true
	var ls []*dcLink
	for l := range m.all {
		ls = append(ls, l)
	}
	m.mu.Unlock()
	m.cancel()
	for _, l := range ls {
		l.link.Close() // the writer closes the connection
	}
	m.wg.Wait()
}
