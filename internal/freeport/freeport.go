// Package freeport picks a local TCP port for a child process to listen on.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Min is the lowest port Port hands out.
const Min = 20000

// Port returns a 127.0.0.1 port that was free a moment ago, below the kernel's
// ephemeral range when it can: a port from that range (what listening on port 0
// gives) can be taken, between this check and the child's bind, as the source
// port of any outgoing connection on the machine, and was (an API that could
// not bind its metrics port while the tests' clients connected to PostgreSQL
// and Temporal).
func Port() (int, error) {
	lo := EphemeralLow()
	for range 64 {
		if lo <= Min {
			break
		}
		port := Min + rand.IntN(lo-Min)
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// EphemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768, its default, elsewhere).
func EphemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return lo
}
