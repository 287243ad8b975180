// Command drill runs the fault drills on the production topology (`make drill`):
// the full Temporal server on PostgreSQL, two workers and two APIs (with
// Tierflow's database on a PostgreSQL cluster of its own, so that it can be
// stopped alone), the fast policy, and a fake SendGrid in this process that the
// workers send every email to. Each drill opens a steady load of cases through
// both APIs, injects its fault mid-load, and accounts for every case. It prints
// one row per drill and ends with
//
//	drills: <n> run, <l> cases lost, <d> duplicate emails, <m> missing emails, <g> audit gaps
//
// exiting non-zero when any count (or any other finding) is not zero.
//
//	go run ./drill               # every drill
//	go run ./drill -only 1,3,6   # some of them
//
// Data and logs: .tierflow/drill/ (deleted at each start; kept afterwards).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tierflow/tierflow/internal/drill"
	"github.com/tierflow/tierflow/internal/fakesendgrid"
	"github.com/tierflow/tierflow/internal/prodlocal"
	"github.com/tierflow/tierflow/internal/temporaldev"
)

const sendgridKey = "SG.drill-fake-key"

func main() {
	only := flag.String("only", "", "comma-separated drill numbers to run (default: all)")
	short := flag.Bool("short", false, "the short form (fewer cases per drill), as make test runs drill 1")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, *only, *short)
	stop()
	os.Exit(code)
}

var logMu sync.Mutex

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(os.Stderr, "drill | %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, only string, short bool) int {
	drills, err := selectDrills(only)
	if err != nil {
		logf("%v", err)
		return 2
	}
	root, err := temporaldev.ModuleRoot()
	if err != nil {
		logf("run it from the repository: %v", err)
		return 2
	}
	dataDir := filepath.Join(root, ".tierflow", "drill")
	if short {
		dataDir += "-short"
		for _, d := range drills {
			d.MinCases = min(d.MinCases, 8)
		}
	}
	if err := os.RemoveAll(dataDir); err != nil {
		logf("reset %s: %v", dataDir, err)
		return 2
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		logf("%v", err)
		return 2
	}
	began := time.Now()

	env := &drill.Env{Nonce: strconv.FormatInt(time.Now().Unix()%1_000_000, 36), Logf: logf,
		BuildDir: filepath.Join(dataDir, "bin")}
	for _, d := range drills {
		if d.N == 7 {
			logf("building the patched worker for drill 7")
			bin, err := drill.PrepareDeploy(ctx, root, filepath.Join(dataDir, "deploy"))
			if err != nil {
				logf("drill 7 cannot run: %v", err)
			}
			env.DeployWorker = bin
		}
	}

	mail, err := fakesendgrid.Start(sendgridKey)
	if err != nil {
		logf("fake SendGrid: %v", err)
		return 2
	}
	defer mail.Close()
	env.Mail = mail
	ports, err := prodlocal.FreePorts()
	if err != nil {
		logf("%v", err)
		return 2
	}
	logf("starting the topology (data and logs in %s)", dataDir)
	topo, err := prodlocal.Start(ctx, prodlocal.Options{
		Root: root, DataDir: dataDir, BuildDir: env.BuildDir, Ports: ports, Fast: true, SeparateRecordDB: true,
		Env: []string{
			"SENDGRID_API_KEY=" + sendgridKey, "SENDGRID_BASE_URL=" + mail.URL, "SENDGRID_TIMEOUT=10s",
			"TIERFLOW_MAIL_FROM=Tierflow Support <support@example.com>", "TIERFLOW_MAILBOX=false",
			// The drills open and decide cases in bursts from one token and one
			// address: the API's rate limits are raised far above that.
			"TIERFLOW_RATE_LIMIT_PRINCIPAL=100000", "TIERFLOW_RATE_LIMIT_SURVEY=100000",
			"TIERFLOW_RATE_LIMIT_AUTH_FAILURES=100000",
		},
		Logf: logf,
	})
	if err != nil {
		logf("start the topology: %v", err)
		return 1
	}
	defer func() {
		logf("stopping the topology")
		if err := topo.Stop(); err != nil {
			logf("stop: %v", err)
		}
	}()
	env.Topo = topo
	if err := env.Open(ctx); err != nil {
		logf("%v", err)
		return 1
	}
	defer env.Close()
	logf("topology ready in %s: APIs %s, Temporal %s, UI %s", time.Since(began).Round(time.Second),
		strings.Join(topo.APIURLs, " "), topo.FrontendAddress, topo.UIURL)

	var results []*drill.Result
	for _, d := range drills {
		if ctx.Err() != nil {
			break
		}
		if err := heal(ctx, topo); err != nil {
			logf("before drill %d: %v", d.N, err)
		}
		logf("drill %d: %s", d.N, d.Name)
		r := drill.Run(ctx, env, d)
		logf("drill %d done in %s: %d cases, %d lost", d.N, r.Elapsed.Round(time.Second), r.Cases, r.Lost)
		results = append(results, r)
	}
	report(results)
	logf("run time %s", time.Since(began).Round(time.Second))
	for _, r := range results {
		if r.Failed() {
			return 1
		}
	}
	if ctx.Err() != nil || len(results) < len(drills) {
		return 1
	}
	return 0
}

// heal starts any process a failed drill left stopped.
func heal(ctx context.Context, topo *prodlocal.Topology) error {
	if topo.Record != nil && !topo.Record.Running() {
		if err := topo.Record.Start(ctx); err != nil {
			return err
		}
	}
	for _, p := range topo.Processes() {
		if !p.Running() {
			logf("%s is not running: starting it", p.Name())
			sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			err := p.Start(sctx)
			cancel()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func selectDrills(only string) ([]*drill.Drill, error) {
	all := drill.All()
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	var out []*drill.Drill
	for _, f := range strings.Split(only, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > len(all) {
			return nil, fmt.Errorf("-only: no drill %q (1 to %d)", f, len(all))
		}
		out = append(out, all[n-1])
	}
	return out, nil
}

func report(results []*drill.Result) {
	fmt.Println()
	for _, r := range results {
		if len(r.Notes) == 0 && r.Err == nil {
			continue
		}
		fmt.Printf("drill %d (%s):\n", r.Drill.N, r.Drill.Name)
		if r.Err != nil {
			fmt.Printf("  error: %v\n", r.Err)
		}
		for i, n := range r.Notes {
			if i == 40 {
				fmt.Printf("  ... %d more\n", len(r.Notes)-i)
				break
			}
			fmt.Printf("  %s\n", n)
		}
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "drill\tcases\tlost\tduplicate emails\tmissing emails\tunconfirmed\tfailed emails\taudit gaps\tmax lateness\trecovery\tother\ttime\tresult\t")
	var lost, dup, miss, gaps int
	for _, r := range results {
		result := "ok"
		if r.Failed() {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%d %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t\n", r.Drill.N, r.Drill.Name, r.Cases, r.Lost,
			r.DupEmails, r.MissEmails, r.Unconfirmed, r.FailedEmails, r.AuditGaps, dur(r.MaxLateness), dur(r.Recovery),
			r.Other, r.Elapsed.Round(time.Second), result)
		lost += r.Lost
		dup += r.DupEmails
		miss += r.MissEmails
		gaps += r.AuditGaps
	}
	tw.Flush()
	fmt.Printf("drills: %d run, %d cases lost, %d duplicate emails, %d missing emails, %d audit gaps\n",
		len(results), lost, dup, miss, gaps)
}

func dur(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(100 * time.Millisecond).String()
}
