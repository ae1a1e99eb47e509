package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS25rvBanNotShortenedByALaterAnswer: requests in flight when Binance
// bans the IP (418, retryAfter an hour away) are answered after the ban,
// each with a refusal of its own: a 429 whose retryAfter is already past,
// or -1015 (the unfilled order count, which holds only places). Neither
// lifts the ban nor narrows it to places: a request sent during a 418 ban
// makes it grow (Binance WebSocket API "Rate limits": 2 minutes to 3
// days), so until its retryAfter the session sends nothing, cancels
// included.
func TestS25rvBanNotShortenedByALaterAnswer(t *testing.T) {
	for name, later := range map[string]string{
		"429 past": `{"id":%d,"status":429,"error":{"code":-1003,"msg":"Too much request weight used.","data":{"retryAfter":%d}}}`,
		"-1015":    `{"id":%d,"status":429,"error":{"code":-1015,"msg":"Too many new orders; current limit is 100 orders per 10 SECOND.","data":{"retryAfter":%d}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			api, s := scriptedSession(t)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			a := limitOrder(s, t, "inflight-1", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(a)
			b := limitOrder(s, t, "inflight-2", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(b)
			doneA := placeAsync(ctx, s, a)
			ra := api.next(t)
			doneB := placeAsync(ctx, s, b)
			rb := api.next(t)

			until := time.Now().Add(time.Hour).UnixMilli()
			require.NoError(t, ra.answer(fmt.Sprintf(`{"id":%d,"status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until %d.","data":{"retryAfter":%d}}}`,
				ra.id, until, until)))
			require.Error(t, <-doneA)
			retry := until
			if name == "429 past" {
				retry = time.Now().Add(-time.Minute).UnixMilli()
			}
			require.NoError(t, rb.answer(fmt.Sprintf(later, rb.id, retry)))
			require.Error(t, <-doneB)

			c := limitOrder(s, t, "inflight-c", "buy", "1", "1")
			defer s.Pools().Orders.Put(c)
			c.OrigClientOrderID = schema.MustID("inflight-1")
			c.Action = schema.ActionCancel
			_, err := s.Cancel(ctx, c)
			require.ErrorIs(t, err, session.ErrNotSent, "a cancel during the 418 ban")
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr)
			require.Equal(t, 418, verr.Status)
			a.ClientOrderID = schema.MustID("inflight-3")
			_, err = s.Place(ctx, a)
			require.ErrorIs(t, err, session.ErrNotSent, "a place during the 418 ban")
			select {
			case r := <-api.reqs:
				t.Fatalf("a request reached the venue during its ban: %s", r.msg)
			default:
			}
		})
	}
}
