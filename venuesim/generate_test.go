package venuesim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestMessagesDue pins the count the generator owes: never negative, even
// for a clock reading before the start (a tick's due time can precede it
// on a loaded machine, and an unsigned count once stopped the generator).
func TestMessagesDue(t *testing.T) {
	assert.Equal(t, int64(0), messagesDue(-5*time.Millisecond, 3000))
	assert.Equal(t, int64(0), messagesDue(0, 3000))
	assert.Equal(t, int64(3), messagesDue(time.Millisecond, 3000))
	assert.Equal(t, int64(4), messagesDue(1500*time.Microsecond, 3000))
	assert.Equal(t, int64(30003), messagesDue(10*time.Second+time.Millisecond, 3000))
	assert.Equal(t, int64(200*86400*365), messagesDue(365*24*time.Hour, 200))
}
