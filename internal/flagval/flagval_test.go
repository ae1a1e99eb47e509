package flagval

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFlagValues(t *testing.T) {
	assert.NoError(t, NonNegative("-n", 0))
	assert.EqualError(t, NonNegative("-n", -1), "-n -1: must not be negative")
	assert.EqualError(t, NonNegative("-max-gap", -time.Second), "-max-gap -1s: must not be negative")
	assert.NoError(t, AtLeast("-rate", 1, 1))
	assert.EqualError(t, AtLeast("-rate", 0, 1), "-rate 0: must be at least 1")
	assert.NoError(t, Positive("-wait", time.Millisecond))
	assert.EqualError(t, Positive("-wait", time.Duration(0)), "-wait 0s: must be positive")
	assert.EqualError(t, Positive("-duration", -time.Second), "-duration -1s: must be positive")
	assert.NoError(t, Speed("-speed", 0.5))
	for _, v := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		assert.Error(t, Speed("-speed", v), "%v", v)
	}
}
