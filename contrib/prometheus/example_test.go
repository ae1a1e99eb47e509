package prometheus_test

import (
	"context"
	"fmt"
	"strings"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/schema"
)

// The collector reads the pools' own counters when scraped: here one event
// is checked out, so the events pool shows one get and one object in use.
// A host serves reg with promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).
func Example() {
	pools := schema.NewPools(nil)
	col := prometheus.New(nil) // namespace "meltica"
	col.AddPools(pools.Stats)
	reg := prom.NewRegistry()
	reg.MustRegister(col)

	ev, err := pools.Events.Get(context.Background())
	if err != nil {
		panic(err)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP meltica_pool_in_use Objects checked out now.
# TYPE meltica_pool_in_use gauge
meltica_pool_in_use{pool="events",type="*schema.CanonicalEvent"} 1
meltica_pool_in_use{pool="execs",type="*schema.ExecReport"} 0
meltica_pool_in_use{pool="frames",type="*schema.WsFrame"} 0
meltica_pool_in_use{pool="merged",type="*schema.MergedEvent"} 0
meltica_pool_in_use{pool="orders",type="*schema.OrderRequest"} 0
meltica_pool_in_use{pool="raws",type="*schema.ProviderRaw"} 0
`), "meltica_pool_in_use")
	fmt.Println("in use before Put:", err)

	pools.Events.Put(ev)
	n, err := testutil.GatherAndCount(reg, "meltica_pool_gets_total")
	fmt.Println("gets series:", n, err)
	fmt.Println("leak check:", pools.Shutdown(context.Background()))
	// Output:
	// in use before Put: <nil>
	// gets series: 6 <nil>
	// leak check: <nil>
}
