package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The doc's "-file takes cryptofeed's sample_data sessions too": the
// shared Coinbase session, as recorded, through the whole pipeline.
func TestS24CryptofeedFile(t *testing.T) {
	const shared = "../../../shared/recordings/COINBASE.ws.28.0.gz"
	if _, err := os.Stat(shared); errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared/recordings not present")
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-file", shared, "-print", "0"}, &out))
	assert.Contains(t, out.String(), "(coinbase), 9946 frames")
	assert.Contains(t, out.String(), "leak check: 0 outstanding")
}
