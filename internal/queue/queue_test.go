package queue

import (
	"sync"
	"testing"
)

func TestOrderCloseAndDiscard(t *testing.T) {
	q := New[int]()
	var wg sync.WaitGroup
	var got []int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			v, ok := q.Pop()
			if !ok {
				return
			}
			got = append(got, v)
		}
	}()
	for i := 0; i < 1000; i++ {
		if !q.Push(i) {
			t.Fatal("push refused on an open queue")
		}
	}
	q.Close()
	wg.Wait()
	if len(got) != 1000 {
		t.Fatalf("got %d items after close, want all 1000", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("item %d is %d: order lost", i, v)
		}
	}
	if q.Push(1) {
		t.Fatal("push accepted after close")
	}

	d := New[string]()
	d.Push("a")
	d.Discard()
	if _, ok := d.Pop(); ok {
		t.Fatal("discarded item popped")
	}
}
