package turnsrv_test

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crvnode/crvnode/turnsrv"
)

// A node keeps the secret in its data directory, starts the server next
// to signaling, and hands each user fresh ICE servers.
func Example() {
	secret, err := turnsrv.LoadOrCreateSecret("./data")
	if err != nil {
		slog.Error("TURN secret", "err", err)
		return
	}
	srv, err := turnsrv.New(turnsrv.Config{
		UDPAddr:    ":3478",
		TCPAddr:    ":3478",
		Secret:     secret,
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		slog.Error("TURN server", "err", err)
		return
	}
	defer srv.Close()

	// In the login result, per PeerConnection: "<appID>:<userID>" keeps
	// users of different apps apart in the per-user quota.
	_ = srv.ICEServers("acme:alice")

	// Or, with relaying delegated to a coturn fleet sharing the secret:
	_ = turnsrv.ExternalICEServers([]string{"turn:turn.example.com:3478?transport=udp"}, secret, "acme:alice", 24*time.Hour)
}
