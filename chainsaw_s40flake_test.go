package meltica_test

import (
	"fmt"
	"strings"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s40flakeChainSaw tells what a chain test saw when its session was not
// ready in time: the venue's counters, each market connection's state and
// counters, and the books not live (with the first few's counters).
func s40flakeChainSaw(v *venuesim.Venue, s *session.Session) string {
	var b strings.Builder
	fmt.Fprintf(&b, "venue %+v\n", v.Stats())
	st := s.Stats()
	for i, m := range st.Market {
		fmt.Fprintf(&b, "market %d: topics %d client %+v refusals %d resubscribes %d\n", i, m.Topics, m.Client, m.Refusals, m.Resubscribes)
	}
	notLive := 0
	for _, bk := range st.Books {
		if bk.Live {
			continue
		}
		if notLive < 5 {
			fmt.Fprintf(&b, "not live %s: %+v\n", bk.Symbol, bk.Book)
		}
		notLive++
	}
	fmt.Fprintf(&b, "%d of %d books not live\n", notLive, len(st.Books))
	return b.String()
}
