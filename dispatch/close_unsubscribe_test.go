package dispatch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A handler that unsubscribes itself while Close drains its queue ("a
// handler may unsubscribe itself") ends there: Unsubscribe succeeds, the
// handler gets nothing more (the rest is released and counted), a second
// Unsubscribe finds it ended, and Close returns nil. Unsubscribe answered
// ErrUnknownSubscription once Close had begun and the handler went on
// getting every queued report: TestAdversarial3ExecReportsSurviveEverything,
// whose self-unsubscribing handlers Close can overtake on a loaded machine,
// failed on that error now and then.
func TestUnsubscribeItselfWhileCloseDrains(t *testing.T) {
	t.Parallel()
	p := adv3Pool(8)
	d := dispatch.New(p, nil)
	var s *dispatch.Subscription
	gate := make(chan struct{})
	got := make(chan uint64, 8)
	unsub := make(chan error, 2)
	s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		got <- ev.SeqProvider
		switch ev.SeqProvider {
		case 1:
			<-gate // Close begins meanwhile
		case 2:
			unsub <- d.Unsubscribe(s)
			unsub <- d.Unsubscribe(s)
		}
	}})
	require.NoError(t, err)
	for seq := uint64(1); seq <= 5; seq++ {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = adv3Venue, "BTC-USDT", schema.EventExecReport, seq
		})
	}
	closed := adv3CloseReleasing(t, d, gate, s)
	require.NoError(t, <-unsub, "the handler unsubscribed itself while Close drained it")
	require.ErrorIs(t, <-unsub, dispatch.ErrUnknownSubscription, "ended already")
	require.NoError(t, <-closed)
	close(got)
	var seqs []uint64
	for seq := range got {
		seqs = append(seqs, seq)
	}
	require.Equal(t, []uint64{1, 2}, seqs, "nothing after Unsubscribe")
	st := s.Stats()
	require.Equal(t, uint64(3), st.Discarded, "%+v", st)
	require.ErrorIs(t, d.Unsubscribe(s), dispatch.ErrUnknownSubscription, "after its goroutine exited")
}
