package recorder_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/realclock"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/wsclient"
)

// The real clock exists once: recorder's SystemClock is the module's
// wall clock, and wsclient's SystemClock embeds the same one (adding its
// timers). They were two copies of Now and Sleep, each to be kept right
// on its own (Sleep of no time, an ended ctx).
func TestS30SystemClockIsTheModulesOne(t *testing.T) {
	require.Equal(t, recorder.Clock(realclock.Clock{}), recorder.SystemClock())
	wc := reflect.TypeOf(wsclient.SystemClock())
	require.Equal(t, reflect.Struct, wc.Kind())
	require.Positive(t, wc.NumField())
	f := wc.Field(0)
	require.True(t, f.Anonymous, "wsclient's real clock embeds the module's")
	require.Equal(t, reflect.TypeOf(realclock.Clock{}), f.Type)
}
