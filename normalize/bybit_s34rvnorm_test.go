package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A conditional order's Triggered push and then its Active one (Bybit v5
// "Enums → orderStatus": Active "order has been triggered and the new
// active order has been successfully placed", s34norm's New/ExecTriggered)
// have the same canonical status and exec type; the later updatedTime made
// the Active report an ExecAmendment, as if the host's order had been
// amended, price and quantity unchanged. A trigger is no amendment: both
// reports are ExecTriggered. A real amendment of the working order after
// it (a new price) is still one.
func TestS34rvBybitActiveAfterTriggeredIsNoAmendment(t *testing.T) {
	at := func(push, ms string) string {
		return strings.Replace(push, `"updatedTime":"1672364262457"`, `"updatedTime":"`+ms+`"`, 1)
	}
	_, got := feedFrames(t, NewBybit, nil, []string{
		at(bybitOrderPush("c1", "Untriggered", "100", "1", "90", "0", "1"), "1672364262457"),
		at(bybitOrderPush("c1", "Triggered", "100", "1", "90", "0", "1"), "1672364262500"),
		at(bybitOrderPush("c1", "Active", "100", "1", "90", "0", "1"), "1672364262600"),
		at(bybitOrderPush("c1", "Active", "101", "1", "90", "0", "1"), "1672364262700"),
	}, schema.EventExecReport)
	require.Len(t, got, 4)
	want := []schema.ExecType{schema.ExecNew, schema.ExecTriggered, schema.ExecTriggered, schema.ExecAmendment}
	for i, ev := range got {
		assert.Equal(t, want[i], ev.Exec.ExecType, "report %d", i)
		assert.Equal(t, schema.StatusNew, ev.Exec.Status, "report %d", i)
	}
}
