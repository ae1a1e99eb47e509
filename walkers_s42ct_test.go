package meltica_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS42ctWalkersReadOutOfLineSections: the reflection walkers the
// mutation and time tests check every event with (s29ctNegativePrice,
// s29ctTimes) reach the sections issue #15 moved behind pointers, under
// the paths they had by value (".Ticker.MarkPrice", ".Exec.TransactTime"):
// a walker that stopped at the pointer would let those tests pass while
// checking none of Ticker, Kline, Mark, Exec, ... . A section the event
// does not carry lists nothing.
func TestS42ctWalkersReadOutOfLineSections(t *testing.T) {
	ev := &schema.CanonicalEvent{Type: schema.EventTicker, Ticker: &schema.Ticker{MarkPrice: schema.MustParseDecimal("-1")}}
	assert.Equal(t, ".Ticker.MarkPrice=-1", s29ctNegativePrice(reflect.ValueOf(*ev), ""))

	ev = &schema.CanonicalEvent{Type: schema.EventExecReport, ExchangeTS: 1, Exec: &schema.Execution{TransactTime: 2, OrderCreated: 3}}
	m := map[string]int64{}
	s29ctTimes(reflect.ValueOf(*ev), "", m)
	assert.Equal(t, int64(2), m[".Exec.TransactTime"])
	assert.Equal(t, int64(3), m[".Exec.OrderCreated"])
	assert.NotContains(t, m, ".Kline.OpenTime", "a section the event does not carry lists nothing")
}
