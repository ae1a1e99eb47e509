// Package embedded runs a NATS server with JetStream inside the process, on
// loopback, for the bridge's tests and its distributed example.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// AccessTimeTicker is the top function of nats-server's access-time
// service: one goroutine per process, started by the first file store and
// stopped when the last one is closed (server/ats). A file store the server
// creates while it shuts down is never closed, and the ticker outlives every
// server (CI run 23: goleak found it after a passing natsbridge run). It is
// the dependency's process-wide singleton, not a goroutine of the bridge:
// tests' goleak checks ignore it (goleak.IgnoreTopFunction).
const AccessTimeTicker = "github.com/nats-io/nats-server/v2/server/ats.Register.func1"

// Server is a running in-process NATS server.
type Server struct {
	*server.Server
	Port     int
	StoreDir string
}

// Start starts a server on 127.0.0.1:port (0: a random port) with JetStream
// storing in dir, and waits until it accepts connections.
func Start(dir string, port int) (*Server, error) { return StartWith(dir, port, nil) }

// StartWith is Start with edit, when not nil, applied to the server's
// options last (a smaller max_payload, for one).
func StartWith(dir string, port int, edit func(*server.Options)) (*Server, error) {
	if port == 0 {
		port = server.RANDOM_PORT
	}
	o := &server.Options{
		ServerName: "meltica-embedded",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		// Lower than the 2 s default so that a shut-down server's port is
		// free promptly for a restart on the same port.
		LameDuckGracePeriod: time.Millisecond,
	}
	if edit != nil {
		edit(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, errors.New("embedded nats: not ready after 10s")
	}
	return &Server{Server: s, Port: s.Addr().(*net.TCPAddr).Port, StoreDir: dir}, nil
}

// Restart shuts the server down and starts a new one on the same store, as
// an operator's restart would, on a new random port: the old port may be
// taken by another process meanwhile (on a busy machine it was, and the
// restart failed). Clients that must find the new server dial through a
// Dialer.
func (s *Server) Restart() (*Server, error) {
	s.Stop()
	return Start(s.StoreDir, 0)
}

// Dialer is a nats.CustomDialer (nats.SetCustomDialer) that dials the
// address last given to Follow, whatever the URL: a client keeps its URL
// across a Restart and reconnects to the new server as it would to a
// server restarted on its old port. The connection is a real TCP one.
type Dialer struct{ addr atomic.Pointer[string] }

// Follow makes the dialer dial s from now on.
func (d *Dialer) Follow(s *Server) {
	a := s.Addr().String()
	d.addr.Store(&a)
}

// Dial implements nats.CustomDialer.
func (d *Dialer) Dial(network, _ string) (net.Conn, error) {
	a := d.addr.Load()
	if a == nil {
		return nil, errors.New("embedded nats: dialer follows no server")
	}
	return net.DialTimeout(network, *a, 2*time.Second)
}

// Stop shuts the server down and waits until it has.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}
