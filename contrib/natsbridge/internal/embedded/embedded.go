// Package embedded runs a NATS server with JetStream inside the process, on
// loopback, for the bridge's tests and its distributed example.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is a running in-process NATS server.
type Server struct {
	*server.Server
	Port     int
	StoreDir string
}

// Start starts a server on 127.0.0.1:port (0: a random port) with JetStream
// storing in dir, and waits until it accepts connections.
func Start(dir string, port int) (*Server, error) {
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
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
	})
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

// Restart shuts the server down and starts a new one on the same port and
// store, as an operator's restart would.
func (s *Server) Restart() (*Server, error) {
	s.Stop()
	return Start(s.StoreDir, s.Port)
}

// Stop shuts the server down and waits until it has.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}
