package signaling

import (
	"fmt"
	"time"
)

// QueueConfig is an app's customer-service queues (the CRVideo queue
// component): the queues its customers may wait in and its agents serve,
// and the times that bound an assignment. In the YAML its keys sit in the
// app's own mapping (queues, assignTimeout, rejectHold).
type QueueConfig struct {
	Queues []QueueDef `yaml:"queues"`
	// AssignTimeout is how long an agent has to accept or reject an
	// assignment before the customer goes back to its place in the queue.
	AssignTimeout time.Duration `yaml:"assignTimeout"`
	// RejectHold is how long an agent who rejected (or let time out) a
	// customer is not given that customer again.
	RejectHold time.Duration `yaml:"rejectHold"`
}

// QueueDef is one queue: ID (> 0, unique in the app) is its queID, Prio
// orders the queues (the smaller is served first).
type QueueDef struct {
	ID   int    `yaml:"id"`
	Name string `yaml:"name"`
	Desc string `yaml:"desc"`
	Prio int    `yaml:"prio"`
}

// Defaults of QueueConfig's times, used where they are left zero or
// negative.
const (
	DefaultAssignTimeout = 30 * time.Second
	DefaultRejectHold    = 60 * time.Second
)

func (q QueueConfig) withDefaults() QueueConfig {
	if q.AssignTimeout <= 0 {
		q.AssignTimeout = DefaultAssignTimeout
	}
	if q.RejectHold <= 0 {
		q.RejectHold = DefaultRejectHold
	}
	return q
}

// validate checks the queue definitions of the app named by where;
// errors wrap ErrConfig and name the app and the queue at fault.
func (q QueueConfig) validate(where string) error {
	seen := map[int]bool{}
	for i, d := range q.Queues {
		switch {
		case d.ID <= 0:
			return fmt.Errorf("%w: %s: Queues[%d]: id %d must be > 0", ErrConfig, where, i, d.ID)
		case seen[d.ID]:
			return fmt.Errorf("%w: %s: Queues[%d]: id %d configured twice", ErrConfig, where, i, d.ID)
		case d.Prio < 0:
			return fmt.Errorf("%w: %s: Queues[%d] (id %d): prio %d must be >= 0", ErrConfig, where, i, d.ID, d.Prio)
		case d.Name == "":
			return fmt.Errorf("%w: %s: Queues[%d] (id %d) needs a name", ErrConfig, where, i, d.ID)
		}
		seen[d.ID] = true
	}
	return nil
}
