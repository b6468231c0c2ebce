// Package queue is the unbounded FIFO crvnode puts between a goroutine
// that must never block (a socket reader, a pion callback) and the one
// goroutine that consumes (an event handler, a negotiation actor).
package queue

import "sync"

// Queue is an unbounded FIFO with one consumer. The zero value is not
// usable: make one with New.
type Queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{} // capacity 1: "something changed"
}

// New returns an empty, open queue.
func New[T any]() *Queue[T] { return &Queue[T]{wake: make(chan struct{}, 1)} }

// Push adds v; it never blocks. It reports false, dropping v, once the
// queue is closed.
func (q *Queue[T]) Push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
}

// Close lets Pop return what is queued, then report the end.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// Discard drops what is queued and closes the queue.
func (q *Queue[T]) Discard() {
	q.mu.Lock()
	q.closed = true
	clear(q.items)
	q.items = nil
	q.mu.Unlock()
	q.signal()
}

func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Pop waits for the next item; ok is false once the queue is closed and
// empty.
func (q *Queue[T]) Pop() (v T, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			var zero T
			v = q.items[0]
			q.items[0] = zero
			q.items = q.items[1:]
			q.mu.Unlock()
			return v, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return v, false
		}
		<-q.wake
	}
}
