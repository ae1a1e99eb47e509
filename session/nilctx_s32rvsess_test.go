package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS32rvsessNilContextPlaceCancel: Place and Cancel given a nil ctx
// return pool.ErrNilContext and do nothing (session.Start's doc: every
// method of the package), whatever the request: before the fix Place
// checked the request's Action first (ErrConfig), and Cancel set it.
func TestS32rvsessNilContextPlaceCancel(t *testing.T) {
	var s session.Session
	var nilCtx context.Context

	req := &schema.OrderRequest{Action: schema.ActionCancel}
	_, err := s.Place(nilCtx, req)
	assert.ErrorIs(t, err, pool.ErrNilContext)

	req = &schema.OrderRequest{Action: schema.ActionPlace}
	_, err = s.Cancel(nilCtx, req)
	assert.ErrorIs(t, err, pool.ErrNilContext)
	assert.Equal(t, schema.ActionPlace, req.Action, "the request untouched")
}
