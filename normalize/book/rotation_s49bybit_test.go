package book

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s49bybitMsg is one Bybit v5 "Orderbook" push of orderbook.<depth>.<symbol>
// as a connection delivers it: its update id u, its cross sequence seq
// (the order the venue generated the data in: "for the smaller seq, then
// it means the data is generated earlier") and its one bid, each message's
// higher than the one generated before it, so that the book's best bid
// names the newest data it holds.
type s49bybitMsg struct {
	conn uint64
	typ  string
	u    int64
	seq  int64 // offset from the category's first seq
	bid  int
	ts   int64 // ms after the seq's own time: a level-1 snapshot pushed again later
}

func s49bybitFrame(depth int, symbol string, seq0 int64, m s49bybitMsg) []byte {
	cts := 1731035685326 + m.seq*20 // the matching engine's time grows with seq
	return fmt.Appendf(nil, `{"topic":"orderbook.%d.%s","type":%q,"ts":%d,"data":{"s":%q,"b":[["%d","1"]],"a":[["1000","1"]],"u":%d,"seq":%d},"cts":%d}`,
		depth, symbol, m.typ, cts+3+m.ts, symbol, m.bid, m.u, seq0+m.seq, cts)
}

// Bybit v5 "Orderbook": u = 1 is "snapshot data due to the restart of the
// service. So please overwrite your local orderbook". Every u = 1 was
// taken for a restart — the parser published it as a snapshot and the
// book loaded it — so a restart's message delivered again after the book
// had moved past it rolled the book back to the restart's state, served
// as live (and counted as another restart), until the next deltas, if
// any, caught it up: a rotation's overlap (wsclient makes the new
// connection before it breaks the old one; an unaligned switch delivers
// the new connection's copies of what the old one delivered, or the old
// connection's copies come late), a level-1 snapshot pushed again
// unchanged ("the field u will be the same as that in the previous
// message") whose copy comes after a change, a frame delivered twice.
// Now a book message whose seq is below the newest its stream took is a
// late copy, dropped and counted as a repeat; a restart with newer data
// is still taken and counted. Through the parser and Books, as a host
// runs them, for spot (depths 1, 50, 200), linear and inverse (1, 50,
// 200, 500), the restart sent as a snapshot or (deep views) as a delta;
// after every frame the book holds the newest data delivered.
func TestS49bybitLateRestartCopyNoRollback(t *testing.T) {
	categories := []struct {
		name, symbol string
		seq0         int64
		depths       []int
	}{
		{"spot", "BTCUSDT", 22520573250, []int{1, 50, 200}},
		{"linear", "BTCUSDT", 47474967795, []int{1, 50, 200, 500}},
		{"inverse", "BTCUSD", 31275432110, []int{1, 50, 200, 500}},
	}
	for _, cat := range categories {
		for _, depth := range cat.depths {
			restarts := []string{"snapshot", "delta"}
			if depth == 1 {
				restarts = restarts[:1] // level 1 pushes snapshots
			}
			for _, rtyp := range restarts {
				for _, way := range s49bybitWays(depth, rtyp) {
					t.Run(fmt.Sprintf("%s/%d/restart %s/%s", cat.name, depth, rtyp, way.name), func(t *testing.T) {
						s49bybitRun(t, depth, cat.symbol, cat.seq0, way.msgs)
					})
				}
			}
		}
	}
}

type s49bybitWay struct {
	name string
	msgs []s49bybitMsg
}

// s49bybitWays are the ways an old u = 1 arrives after the book moved past
// it; each ends with a real second restart (u = 1, newer data) and a
// message after it.
func s49bybitWays(depth int, rtyp string) []s49bybitWay {
	d := "delta"
	if depth == 1 {
		d = "snapshot"
	}
	old := []s49bybitMsg{{1, "snapshot", 500, 0, 100, 0}, {1, d, 501, 1, 101, 0}}
	restart := s49bybitMsg{1, rtyp, 1, 10, 200, 0}
	u2, u3 := s49bybitMsg{1, d, 2, 11, 201, 0}, s49bybitMsg{1, d, 3, 12, 202, 0}
	on := func(conn uint64, ms ...s49bybitMsg) []s49bybitMsg {
		out := make([]s49bybitMsg, len(ms))
		for i, m := range ms {
			m.conn = conn
			out[i] = m
		}
		return out
	}
	again := []s49bybitMsg{{2, d, 4, 13, 203, 0}, {2, rtyp, 1, 20, 300, 0}, {2, d, 2, 21, 301, 0}}
	join := func(parts ...[]s49bybitMsg) []s49bybitMsg {
		var out []s49bybitMsg
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	repush := restart
	repush.typ, repush.ts = "snapshot", 3000 // the restart's snapshot again, 3 s on, the same u and seq
	return []s49bybitWay{
		// An unaligned switch: the new connection's queue starts with its
		// copies of the restart and the deltas the old one delivered.
		{"rotation, new connection's copies after the switch", join(old, on(1, restart, u2, u3), on(2, restart, u2, u3), again)},
		// The new connection delivered the restarted numbering first;
		// the old connection's u = 1 (and u = 2) come late.
		{"rotation, old connection's restart late", join(old, on(2, restart, u2, u3), on(1, restart, u2), again)},
		// The restart's snapshot pushed again (level 1 after 3 s
		// unchanged, or a resubscription's), its copy late after a change.
		{"restart pushed again, its copy after a change", join(old, on(1, restart, repush, u2), on(2, repush, u3), again)},
		// A frame delivered twice, after the book moved on.
		{"frame twice", join(old, on(1, restart, u2, u3, restart), again)},
	}
}

func s49bybitRun(t *testing.T, depth int, symbol string, seq0 int64, msgs []s49bybitMsg) {
	ctx := context.Background()
	rule, err := Bybit.WithDepth(depth)
	require.NoError(t, err)
	events := newEventsPool()
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	t.Cleanup(books.Close)
	canonical := bybitEvent(t, s49bybitFrame(depth, symbol, seq0, msgs[0])).Symbol
	b, err := NewBook(rule, canonical, &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(b)
	p := normalize.NewBybit(events, books, nil)

	newest := s49bybitMsg{seq: -1}
	var restarts, late uint64
	for i, m := range msgs {
		f := &schema.WsFrame{Provider: schema.VenueBybit, ConnID: m.conn, Seq: uint64(i + 1), ReceivedAt: int64(i + 1), Data: s49bybitFrame(depth, symbol, seq0, m)}
		require.NoError(t, p.HandleFrame(ctx, f))
		switch {
		case m.seq > newest.seq:
			if m.u == 1 {
				restarts++
			}
			newest = m
		case m.seq < newest.seq:
			late++
		}
		// The book holds the newest data delivered, never an older state.
		require.True(t, b.Live(), "frame %d (u %d)", i, m.u)
		require.Equal(t, uint64(newest.u), b.LastSeq(), "frame %d (u %d, seq +%d): the book's position", i, m.u, m.seq)
		requireTop(t, b, [][2]string{{strconv.Itoa(newest.bid), "1"}}, [][2]string{{"1000", "1"}})
		require.Equal(t, restarts, b.Stats().Restarts, "frame %d: restarts, a late copy counted as none", i)
	}
	require.Equal(t, uint64(2), restarts, "the second restart, newer data, taken and counted")
	require.Zero(t, b.Stats().Gaps)
	require.Zero(t, p.Stats().Gaps)
	require.GreaterOrEqual(t, p.Stats().Repeats, late, "every late copy dropped as a repeat")
	require.Zero(t, b.Stats().Invalidations)
}

// The cross sequence orders the data only as the venue documents it; a
// u = 1 whose seq is lower but whose matching-engine time (cts) is later
// than the last message delivered is no late copy (a copy is never newer)
// — were seq ever numbered again, dropping the restart would leave every
// later delta "covered" and the book silently stalled — so it is taken,
// by u alone, as the restart it says it is, counted, and the deltas after
// it continue the book.
func TestS49bybitLowerSeqButLaterRestartTaken(t *testing.T) {
	ctx := context.Background()
	x := newS48normBybitBooks(t, Bybit)
	b, p := x.b, x.p
	frame := func(typ string, u, seq, cts int64, bid string) []byte {
		return fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":%d,"data":{"s":"BTCUSDT","b":[[%q,"1"]],"a":[["1000","1"]],"u":%d,"seq":%d},"cts":%d}`, typ, cts+3, bid, u, seq, cts)
	}
	const t0 = 1731035685326
	for i, m := range [][]byte{
		frame("snapshot", 500, 47474967795, t0, "100"),
		frame("delta", 501, 47474967796, t0+20, "101"),
		frame("snapshot", 1, 1000, t0+40, "200"), // seq lower, time later
		frame("delta", 2, 1001, t0+60, "201"),
	} {
		require.NoError(t, p.HandleBytes(ctx, m, int64(i+1)))
	}
	require.Equal(t, uint64(1), b.Stats().Restarts)
	require.Equal(t, uint64(2), b.LastSeq())
	requireTop(t, b, [][2]string{{"201", "1"}, {"200", "1"}}, [][2]string{{"1000", "1"}})
	require.Zero(t, p.Stats().Repeats)
	require.Zero(t, p.Stats().Gaps)
}
