package prodlocal

import (
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/tierflow/tierflow/internal/temporalfull"
)

// FreePorts picks every port of the topology below 32768 (Temporal's membership
// ports must fit a smallint, and the kernel hands out ephemeral ports from 32768
// up), so that a drill never collides with a `make prod-local` on the usual ports.
func FreePorts() (Ports, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	hold := func(port int) bool {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			held = append(held, l)
		}
		return err == nil
	}
	var failed error
	run := func(n int) int {
		for range 500 {
			p := 20000 + rand.IntN(temporalfull.MaxMembershipPort-20000-n)
			ok := true
			for i := range n {
				if ok = ok && hold(p+i); !ok {
					break
				}
			}
			if ok {
				return p
			}
		}
		failed = fmt.Errorf("no %d consecutive free ports below 32768", n)
		return 0
	}
	free := func() int { return run(1) }
	p := Ports{
		Temporal: temporalfull.Ports{
			Frontend: free(), FrontendMembership: free(), FrontendHTTP: free(),
			History: free(), HistoryMembership: free(), Matching: free(), MatchingMembership: free(),
			Worker: free(), WorkerMembership: free(), Metrics: free(),
		},
		UI: free(), Postgres: free(), API: run(2), APIMetrics: run(2), WorkerMetrics: run(2),
	}
	return p, failed
}
