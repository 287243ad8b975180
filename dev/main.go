// Command dev runs the whole product on this machine (`make dev`): a Temporal dev
// server with its Web UI, a PostgreSQL cluster of its own, the migrations and dev
// staff, the worker and the API, all keeping their data under the git-ignored
// .tierflow/ folder so that the next run finds the cases of the last one.
// Ctrl-C stops everything it started, in reverse order.
//
//	go run ./dev            # standard policy
//	go run ./dev --fast     # the demo policy whose clocks run in seconds (or TIERFLOW_POLICY=fast)
//	go run ./dev --reset    # delete .tierflow/ first
//
// DATABASE_URL, when set, names the PostgreSQL database to use instead of starting
// one; SENDGRID_API_KEY, when set, sends real email instead of keeping it in the
// dev mailbox.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var opts options
	flag.BoolVar(&opts.Fast, "fast", os.Getenv("TIERFLOW_POLICY") == "fast",
		"make the fast demo policy the default (clocks in seconds); also TIERFLOW_POLICY=fast")
	flag.BoolVar(&opts.Reset, "reset", false, "delete the .tierflow/ data folder before starting")
	flag.Parse()

	con := &console{out: os.Stdout}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, con, opts); err != nil {
		interrupted := ctx.Err() != nil // Ctrl-C before everything was up
		stop()
		if interrupted {
			con.printf("dev", "interrupted during start; everything started so far is stopped")
			os.Exit(130)
		}
		con.printf("dev", "error: %v", err)
		os.Exit(1)
	}
}
