package pool

import (
	"context"
	"errors"
	"sync"
)

// Managed is what a [Manager] needs of a pool; every *[Pool] satisfies it.
type Managed interface {
	Name() string
	Stats() Stats
	Shutdown(ctx context.Context) error
}

// Manager groups pools for one Shutdown and one Stats call. It is safe for
// concurrent use; its zero value is an empty, usable manager.
type Manager struct {
	mu    sync.Mutex
	pools []Managed
}

// NewManager returns a manager of the given pools.
func NewManager(pools ...Managed) *Manager {
	return &Manager{pools: append([]Managed(nil), pools...)}
}

// Add adds pools to the manager.
func (m *Manager) Add(pools ...Managed) {
	m.mu.Lock()
	m.pools = append(m.pools, pools...)
	m.mu.Unlock()
}

// Stats returns the statistics of every pool, in the order they were added.
func (m *Manager) Stats() []Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Stats, len(m.pools))
	for i, p := range m.pools {
		out[i] = p.Stats()
	}
	return out
}

// Shutdown shuts every pool down at once under one ctx and returns their
// errors joined (errors.Join): errors.Is(err, ErrLeaked) is true when any
// pool leaked. errors.As finds the first [*LeakError]; the error's
// Unwrap() []error lists every pool's, one per pool that leaked. A nil
// ctx returns [ErrNilContext], every pool left open (it was used on
// goroutines of the Manager's, where its panic ended the process).
func (m *Manager) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return ErrNilContext
	}
	m.mu.Lock()
	pools := append([]Managed(nil), m.pools...)
	m.mu.Unlock()
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, p := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Shutdown(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
