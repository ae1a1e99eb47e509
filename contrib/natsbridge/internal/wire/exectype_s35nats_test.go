package wire

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The schema appends execution types and order statuses as venues need
// them (s35norm: order status, restated). The wire carries them as one
// byte each and refuses none, in every layout, so that a Publisher newer
// than its Consumers sends a report of a type they do not know yet and
// they hand it on (its String is "unknown" there; its status, fills and
// quantities are intact) rather than terminate it: an execution report is
// never dropped over a name, during a rolling upgrade least of all.
func TestS35natsWireCarriesEveryExecTypeAndStatus(t *testing.T) {
	var d Decoder
	got := &schema.CanonicalEvent{}
	for _, v := range []byte{Version, Version8, Version7, PrevVersion} {
		for b := range 256 {
			src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
			src.UseExec().ExecType, src.UseExec().Status = schema.ExecType(b), schema.OrderStatus(255-b)
			src.UseExec().CumFillQty = schema.NewDecimal(int64(b)+1, 3)
			got.Reset()
			_, err := d.Decode(AppendVersion(nil, src, 0, 0, v), got)
			require.NoError(t, err, "layout %d, value %d", v, b)
			require.Equal(t, src.Exec.ExecType, got.Exec.ExecType, "layout %d", v)
			require.Equal(t, src.Exec.Status, got.Exec.Status, "layout %d", v)
			require.Equal(t, src.Exec.CumFillQty, got.Exec.CumFillQty, "layout %d", v)
		}
	}
}
