package baseline

import (
	"sync"

	"github.com/meltica/meltica/schema"
)

// Fanout sends every event to every subscriber's channel: one channel send
// per subscriber, blocking when a subscriber's buffer is full (the usual
// simple design, which lets one slow consumer stall the reader).
type Fanout struct {
	subs []chan *schema.CanonicalEvent
	wg   sync.WaitGroup
}

// NewFanout starts n subscribers that pass each event to handle.
func NewFanout(n, buffer int, handle func(sub int, ev *schema.CanonicalEvent)) *Fanout {
	f := &Fanout{}
	for i := range n {
		ch := make(chan *schema.CanonicalEvent, buffer)
		f.subs = append(f.subs, ch)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for ev := range ch {
				handle(i, ev)
			}
		}()
	}
	return f
}

// Publish sends ev to every subscriber.
func (f *Fanout) Publish(ev *schema.CanonicalEvent) {
	for _, ch := range f.subs {
		ch <- ev
	}
}

// Close closes the channels and waits for the subscribers to drain them.
func (f *Fanout) Close() {
	for _, ch := range f.subs {
		close(ch)
	}
	f.wg.Wait()
}
