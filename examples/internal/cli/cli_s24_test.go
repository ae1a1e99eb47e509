package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/exit"
)

// -h prints the usage and is no failure (status 0, no error line), as a Go
// command's -h is; a wrong flag or a stray argument is one (status 1).
func TestS24ExitStatus(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, 0, exit.Status(ctx, nil))
	assert.Equal(t, 0, exit.Status(ctx, flag.ErrHelp))
	assert.Equal(t, 1, exit.Status(ctx, errors.New("boom")))
}

func TestS24ParseRefusesStrayArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" when accepted
	}{
		{"flags only", []string{"-n", "3"}, ""},
		{"none", nil, ""},
		{"stray word", []string{"live"}, `unexpected argument "live"`},
		{"after flags", []string{"-n", "3", "extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"help", []string{"-h"}, flag.ErrHelp.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Int("n", 0, "")
			err := Parse(fs, tc.args)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// NoFlags is the run of an example without flags: an argument is refused
// and -h is flag.ErrHelp, before the example runs.
func TestS24NoFlags(t *testing.T) {
	ran := 0
	run := NoFlags("bot", func(context.Context, io.Writer) error { ran++; return nil })
	require.ErrorContains(t, run(context.Background(), []string{"extra"}, io.Discard), `unexpected argument "extra": bot takes none`)
	require.ErrorIs(t, run(context.Background(), []string{"-h"}, io.Discard), flag.ErrHelp)
	require.Zero(t, ran)
	require.NoError(t, run(context.Background(), nil, io.Discard))
	require.Equal(t, 1, ran)
}
