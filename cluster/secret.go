package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// Secret is the secret the nodes of the cluster share, with which they
// authenticate the connections they open to one another: 32 random bytes
// in hex, made once by the first node that asks and kept in Redis under
// <prefix>secret; every node with access to that Redis reads the same.
// A Redis that lost its data gets a new one, which every node reads
// again when the one it had fails.
func (c *Cluster) Secret(ctx context.Context) (string, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	key := c.keys.prefix + "secret"
	var get *redis.StringCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, key, hex.EncodeToString(b[:]), 0)
		get = p.Get(ctx, key)
		return nil
	})
	if err != nil {
		return "", c.wrap("reading the cluster's secret", err)
	}
	return get.Val(), nil
}
