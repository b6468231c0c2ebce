package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxEntry is the largest entry Append takes, in bytes.
const MaxEntry = 1 << 20

const (
	entryField = "e" // an entry's one field in the stream
	pageSize   = 512 // entries per read
	block      = time.Second
	backoffMin = 100 * time.Millisecond
	backoffMax = 2 * time.Second
	readSlack  = 5 * time.Second // a read's timeout, beyond its BLOCK (Cluster.readSlack)
)

// ErrTrimmed is the error Follow returns when entries after the
// position it was to go on from are no longer in the log: a snapshot
// that includes them was saved since, and the log trimmed. The follower
// restores Snapshot and follows after its position. It has a method
// LogTrimmed, by which signaling tells it from other errors.
var ErrTrimmed error = trimmedError{}

type trimmedError struct{}

func (trimmedError) Error() string {
	return "cluster: the log was trimmed past this position; restore the snapshot"
}

// LogTrimmed marks the error as one after which the follower restores
// the snapshot (ErrTrimmed, ErrLogLost).
func (trimmedError) LogTrimmed() {}

// ErrLogLost is the error Follow returns when Redis no longer has the
// log it was following (it restarted without its data, or the stream was
// replaced): the follower's copy is of a log that is gone. Like
// ErrTrimmed it has a method LogTrimmed: the follower starts again from
// the snapshot, if Redis still has one, else from nothing, and follows
// the new log.
var ErrLogLost error = lostError{}

type lostError struct{}

func (lostError) Error() string {
	return "cluster: Redis lost the log (restarted without its data?); start again from the snapshot"
}

// LogTrimmed marks the error as one after which the follower restores
// the snapshot.
func (lostError) LogTrimmed() {}

// Append adds entry at the end of the log. Entries over MaxEntry are
// refused.
func (c *Cluster) Append(ctx context.Context, entry []byte) error {
	if len(entry) > MaxEntry {
		return fmt.Errorf("cluster: an entry of %d bytes is over the %d the log takes", len(entry), MaxEntry)
	}
	err := c.rdb.XAdd(ctx, &redis.XAddArgs{Stream: c.keys.log, Values: []any{entryField, entry}}).Err()
	if err != nil {
		return c.wrap("appending to the log", err)
	}
	return nil
}

// Follow calls fn, on the calling goroutine, with every entry after
// position after ("" = from the log's first entry), in order, with the
// entry's position and the time Redis took it (the milliseconds of its
// stream ID, on Redis's clock), until ctx ends; then it returns ctx.Err(), within
// about a second (a read waits up to that long for new entries).
//
// An error from Redis does not end it: Follow logs it, waits (100 ms,
// doubling up to 2 s) and reads on from the last position it delivered,
// so that no entry is delivered twice or skipped. Two things end it
// with another error: an after that is no position, and a log trimmed
// past the position it goes on from (ErrTrimmed).
//
// When Redis restarts without its data the log starts again empty, and
// the positions of its new entries may be lower than the last one
// delivered (Redis makes them from its clock and the stream's own last
// position, which the restart forgot). When Follow finds the log's
// epoch key changed, or the log's last position below its own, it
// returns ErrLogLost: what the follower built from the old log is not
// what a node joining now would build, so it must start again (from
// the snapshot, if Redis still has one) and follow from there.
func (c *Cluster) Follow(ctx context.Context, after string, fn func(pos string, at time.Time, entry []byte)) error {
	var f follower
	if after != "" {
		var err error
		if f.last, err = parseID(after); err != nil {
			return err
		}
	}
	backoff := backoffMin
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.followStep(ctx, &f, fn)
		if err == nil {
			backoff = backoffMin
			continue
		}
		if ended(ctx) {
			<-ctx.Done() // at once, or in a moment
			return ctx.Err()
		}
		if errors.Is(err, ErrTrimmed) || errors.Is(err, ErrLogLost) {
			return err
		}
		c.log.Warn("cluster: reading the log; trying again", "after", f.last.String(), "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// ended reports whether ctx has ended, or is about to: a connection's
// deadline, taken from ctx's, can pass a moment before ctx.Err says so.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// follower is where a Follow is.
type follower struct {
	last  streamID // the last position delivered
	epoch string   // the log's epoch key, as first read
	head  bool     // the last page was not full: wait before reading again
}

// followStep reads one page after f.last and delivers it, or, with
// nothing to read, waits up to one BLOCK for an entry.
func (c *Cluster) followStep(ctx context.Context, f *follower, fn func(pos string, at time.Time, entry []byte)) error {
	if f.head {
		// The page just read reached the log's end: a page read now
		// would find nothing, at the cost of a transaction per entry.
		f.head = false
		return c.waitEntry(ctx, f)
	}
	page, info, err := c.readPage(ctx, f.last)
	if err != nil {
		return err
	}
	switch {
	case info.epoch == "":
		// A Redis that lost its data (or a new one): name its log.
		return c.setEpoch(ctx)
	case f.epoch == "":
		f.epoch = info.epoch
	case f.epoch != info.epoch:
		c.log.Warn("cluster: Redis lost the log (restarted without its data?)", "was", f.last.String())
		return ErrLogLost
	}
	if info.trimmed.after(f.last) {
		return fmt.Errorf("%w (entries up to %s are gone, the follower is at %s)", ErrTrimmed, info.trimmed, f.last)
	}
	if f.last != (streamID{}) && f.last.after(info.trimmed) && !info.mine {
		// The entry last read is gone, yet not trimmed: Redis came back
		// with a log that lacks its end (an append-only file that lost
		// its last second), which the entries added since would hide.
		c.log.Warn("cluster: the log lost the entry this node read last: Redis lost the end of the log", "was", f.last.String())
		return ErrLogLost
	}
	if len(page) > 0 {
		for _, m := range page {
			id, err := parseID(m.ID)
			if err != nil || !id.after(f.last) {
				continue // not from XADD *: Redis gives none such
			}
			e, ok := m.Values[entryField].(string)
			if !ok {
				c.log.Error("cluster: an entry of the log has no field "+entryField+"; skipped", "pos", m.ID)
				f.last = id
				continue
			}
			fn(m.ID, time.UnixMilli(int64(id.ms)), []byte(e))
			f.last = id
		}
		f.head = len(page) < pageSize
		return nil
	}
	if f.last.after(info.last) {
		c.log.Warn("cluster: the log's last position is below this node's: Redis lost the log (restarted without its data?)",
			"was", f.last.String(), "log", info.last.String())
		return ErrLogLost
	}
	return c.waitEntry(ctx, f)
}

// waitEntry waits up to one BLOCK for an entry after f.last. The entry is
// read again as a page, so that every page is checked against trimming
// and the log's epoch in the same transaction.
func (c *Cluster) waitEntry(ctx context.Context, f *follower) error {
	wctx, cancel := context.WithTimeout(ctx, block+c.readSlack)
	defer cancel()
	err := c.rdb.XRead(wctx, &redis.XReadArgs{Streams: []string{c.keys.log, f.last.String()}, Count: 1, Block: block}).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	return nil
}

// setEpoch names the log in Redis, if nothing named it yet.
func (c *Cluster) setEpoch(ctx context.Context) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	sctx, cancel := context.WithTimeout(ctx, c.readSlack)
	defer cancel()
	return c.rdb.SetNX(sctx, c.keys.epoch, hex.EncodeToString(b[:]), 0).Err()
}

// logInfo is what readPage learns of the stream.
type logInfo struct {
	epoch   string   // the epoch key ("": none)
	last    streamID // the stream's last entry (0-0: none)
	trimmed streamID // the last position trimmed (0-0: none)
	mine    bool     // the position read after is an entry of the log
}

// readPage reads up to pageSize entries after last and, in the same
// transaction, the log's epoch, the last position trimmed and the
// stream's last entry (XREVRANGE, cheaper than XINFO STREAM, which
// returns whole entries: the log is only ever trimmed at its front, so
// its last entry is the last position Redis gave).
func (c *Cluster) readPage(ctx context.Context, last streamID) ([]redis.XMessage, logInfo, error) {
	rctx, cancel := context.WithTimeout(ctx, c.readSlack)
	defer cancel()
	var (
		epoch   *redis.StringCmd
		trimmed *redis.StringCmd
		tail    *redis.XMessageSliceCmd
		at      *redis.XMessageSliceCmd
		read    *redis.XStreamSliceCmd
	)
	_, err := c.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
		epoch = p.Get(rctx, c.keys.epoch)
		trimmed = p.HGet(rctx, c.keys.snapshot, "trimmed")
		tail = p.XRevRangeN(rctx, c.keys.log, "+", "-", 1)
		at = p.XRange(rctx, c.keys.log, last.String(), last.String())
		read = p.XRead(rctx, &redis.XReadArgs{Streams: []string{c.keys.log, last.String()}, Count: pageSize, Block: -1})
		return nil
	})
	var info logInfo
	if err := epoch.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, info, err
	}
	info.epoch = epoch.Val()
	if err := trimmed.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, info, err
	}
	if t := trimmed.Val(); t != "" {
		var perr error
		if info.trimmed, perr = parseID(t); perr != nil {
			return nil, info, perr
		}
	}
	if err := tail.Err(); err != nil {
		return nil, info, err
	}
	if err := at.Err(); err != nil {
		return nil, info, err
	}
	info.mine = len(at.Val()) > 0
	if err := read.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil, info, err
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, info, err
	}
	if t := tail.Val(); len(t) > 0 {
		var perr error
		if info.last, perr = parseID(t[0].ID); perr != nil {
			return nil, info, perr
		}
	}
	var page []redis.XMessage
	for _, s := range read.Val() {
		page = append(page, s.Messages...)
	}
	return page, info, nil
}

// Snapshot returns the newest saved snapshot and the position of the
// last entry it includes; ("", nil, nil) when there is none.
func (c *Cluster) Snapshot(ctx context.Context) (pos string, state []byte, err error) {
	v, err := c.rdb.HMGet(ctx, c.keys.snapshot, "pos", "state").Result()
	if err != nil {
		return "", nil, c.wrap("reading the snapshot", err)
	}
	p, ok := v[0].(string)
	if !ok {
		return "", nil, nil
	}
	s, _ := v[1].(string)
	return p, []byte(s), nil
}

// saveSnapshot stores a snapshot if its position is newer than the
// stored one's and is an entry of the log, then trims the log before the
// previous snapshot's position: the entries between the two stay for a
// node that lags behind the one saving.
// The snapshot's field trimmed is the last entry trimmed: a follower
// before it has lost entries. (XTRIM leaves XINFO's max-deleted-entry-id
// as it was: only XDEL sets it.) It returns 1 when saved, 0 when not
// newer, -1 when not in the log.
var saveSnapshot = redis.NewScript(`
local function less(a, b) -- decimal numbers without leading zeros
  if #a ~= #b then return #a < #b end
  return a < b
end
local function older(x, y) -- stream IDs
  local xm, xs = string.match(x, '^(%d+)-(%d+)$')
  local ym, ys = string.match(y, '^(%d+)-(%d+)$')
  return less(xm, ym) or (xm == ym and less(xs, ys))
end
local cur = redis.call('HGET', KEYS[1], 'pos')
if cur and not older(cur, ARGV[1]) then return 0 end
if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'pos', ARGV[1], 'state', ARGV[2])
if cur then
  local prev = redis.call('XREVRANGE', KEYS[2], '(' .. cur, '-', 'COUNT', 1)
  if #prev > 0 then
    local t = redis.call('HGET', KEYS[1], 'trimmed')
    if not t or older(t, prev[1][1]) then
      redis.call('HSET', KEYS[1], 'trimmed', prev[1][1])
    end
  end
  redis.call('XTRIM', KEYS[2], 'MINID', cur)
end
return 1
`)

// SaveSnapshot stores state as the shared state after the entry at pos,
// in one key with pos, if pos is newer than the stored snapshot's (an
// older one is ignored: another node saved a newer one); then it trims
// the log of the entries before the previous snapshot's pos. A node that
// joins later restores the snapshot and follows after pos; one that lags
// behind pos (the node that saved is ahead of the others by the entries
// they have not applied yet) keeps following, unless it is a whole
// snapshot's interval behind: then it gets ErrTrimmed from Follow. The
// entry at pos must be in the log.
func (c *Cluster) SaveSnapshot(ctx context.Context, pos string, state []byte) error {
	id, err := parseID(pos)
	if err != nil {
		return err
	}
	n, err := saveSnapshot.Run(ctx, c.rdb, []string{c.keys.snapshot, c.keys.log}, id.String(), state).Int()
	if err != nil {
		return c.wrap("saving a snapshot", err)
	}
	if n < 0 {
		return fmt.Errorf("cluster: saving a snapshot after %s: no such entry in the log", pos)
	}
	return nil
}

// streamID is a position in a Redis stream: milliseconds-sequence.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("cluster: %q is no position in the log (milliseconds-sequence)", s)
	}
	return streamID{a, b}, nil
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// after reports whether id is after o.
func (id streamID) after(o streamID) bool {
	return id.ms > o.ms || (id.ms == o.ms && id.seq > o.seq)
}
