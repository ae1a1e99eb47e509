package prometheus_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/prometheus"
	"github.com/meltica/meltica/wsclient"
)

// tagged is a host's stats source: a value type whose fields are
// comparable by type (reflect says so) but one of which is an interface
// holding a slice, which == cannot compare.
type tagged struct {
	tag any
}

func (tagged) Stats() wsclient.Stats { return wsclient.Stats{} }

// TestS25RemoveNeverPanics: Remove promises that a source it cannot
// compare "takes nothing"; a value whose type is comparable can still hold
// an uncomparable value in an interface field, and == on two such values
// panics at run time ("comparing uncomparable type"). Remove, called from
// a host's cleanup path, must not bring the host down.
func TestS25RemoveNeverPanics(t *testing.T) {
	col := prometheus.New(nil)
	col.AddClient("binance", "a", tagged{tag: []int{1}})
	require.NotPanics(t, func() { col.Remove(tagged{tag: []int{1}}) })
	kept := tagged{tag: "x"}
	col.AddClient("binance", "b", kept)
	require.Equal(t, 1, col.Remove(kept), "a comparable source is still removed")
}
