package schema

import (
	"context"

	"github.com/meltica/meltica/pool"
)

// Default pool capacities: the most objects of each type checked out at once.
const (
	CapWsFrame        = 200
	CapProviderRaw    = 200
	CapCanonicalEvent = 300
	CapMergedEvent    = 50
	CapOrderRequest   = 20
	CapExecReport     = 20
)

// DefaultFrameBuffer is the initial capacity of a new frame's Data.
const DefaultFrameBuffer = 4 << 10

// Pools holds one pool of each schema type. Build it with NewPools; it is
// safe for concurrent use.
type Pools struct {
	Frames  *pool.Pool[*WsFrame]
	Raws    *pool.Pool[*ProviderRaw]
	Events  *pool.Pool[*CanonicalEvent]
	Merged  *pool.Pool[*MergedEvent]
	Orders  *pool.Pool[*OrderRequest]
	Execs   *pool.Pool[*ExecReport]
	manager *pool.Manager
}

// NewPools builds the six schema pools with the default capacities; opts
// applies to each (nil for defaults).
func NewPools(opts *pool.Options) *Pools {
	p := &Pools{
		Frames: pool.New("frames", CapWsFrame, func() *WsFrame {
			return &WsFrame{Data: make([]byte, 0, DefaultFrameBuffer)}
		}, opts),
		Raws:   pool.New("raws", CapProviderRaw, func() *ProviderRaw { return new(ProviderRaw) }, opts),
		Events: pool.New("events", CapCanonicalEvent, func() *CanonicalEvent { return new(CanonicalEvent) }, opts),
		Merged: pool.New("merged", CapMergedEvent, func() *MergedEvent { return new(MergedEvent) }, opts),
		Orders: pool.New("orders", CapOrderRequest, func() *OrderRequest { return new(OrderRequest) }, opts),
		Execs:  pool.New("execs", CapExecReport, func() *ExecReport { return new(ExecReport) }, opts),
	}
	p.manager = pool.NewManager(p.Frames, p.Raws, p.Events, p.Merged, p.Orders, p.Execs)
	return p
}

// Stats returns the statistics of the six pools.
func (p *Pools) Stats() []pool.Stats { return p.manager.Stats() }

// Shutdown shuts the six pools down; see [pool.Manager.Shutdown].
func (p *Pools) Shutdown(ctx context.Context) error { return p.manager.Shutdown(ctx) }
