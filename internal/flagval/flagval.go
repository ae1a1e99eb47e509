// Package flagval checks the values of command-line flags that the flag
// package parses but does not bound, for the meltica command and the
// examples alike: a value out of range is refused before anything runs,
// with an error naming the flag, rather than taken as a library's default
// (venuesim takes a Rate of 0 as 200 a second, recorder a Speed of 0 as
// 1) or left to fail later under another name.
package flagval

import (
	"fmt"
	"math"
)

// NonNegative refuses a value below 0.
func NonNegative[T ~int | ~int64](name string, v T) error {
	if v < 0 {
		return fmt.Errorf("%s %v: must not be negative", name, v)
	}
	return nil
}

// AtLeast refuses a value below least.
func AtLeast[T ~int | ~int64](name string, v, least T) error {
	if v < least {
		return fmt.Errorf("%s %v: must be at least %v", name, v, least)
	}
	return nil
}

// Positive refuses a value that is not above 0 (a time.Duration too).
func Positive[T ~int | ~int64](name string, v T) error {
	if v <= 0 {
		return fmt.Errorf("%s %v: must be positive", name, v)
	}
	return nil
}

// Speed refuses a speed factor that is not a positive, finite number.
func Speed(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%s %v: must be a positive, finite factor", name, v)
	}
	return nil
}
