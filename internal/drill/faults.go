package drill

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/tierflow/tierflow/internal/fakesendgrid"
	"github.com/tierflow/tierflow/internal/supervise"
)

// startWait bounds how long a restarted process may take to be ready.
const startWait = 3 * time.Minute

// All is every drill, in order.
func All() []*Drill {
	return []*Drill{
		{N: 1, Name: "kill -9 one worker, restart 30s later", Interval: 1500 * time.Millisecond, FaultAt: 10 * time.Second,
			MinCases: 20, Tail: 10 * time.Second, Fault: killOneWorker},
		{N: 2, Name: "kill -9 both workers for 60s", Interval: 2 * time.Second, FaultAt: 10 * time.Second,
			MinCases: 20, Tail: 10 * time.Second, Fault: killBothWorkers},
		{N: 3, Name: "restart the Temporal server", Interval: 1500 * time.Millisecond, FaultAt: 10 * time.Second,
			MinCases: 20, Tail: 10 * time.Second, Fault: restartTemporal},
		{N: 4, Name: "stop Tierflow's PostgreSQL for 30s", Interval: 1500 * time.Millisecond, FaultAt: 10 * time.Second,
			MinCases: 20, Tail: 10 * time.Second, Fault: stopRecordDB},
		{N: 5, Name: "mail API: 500, 429, hang, a minute each", Interval: 5 * time.Second, FaultAt: 5 * time.Second,
			MinCases: 20, Tail: 15 * time.Second, Fault: mailOutage, Recovery: firstMailAfter},
		{N: 6, Name: "kill -9 one API with requests in flight", Interval: time.Second, FaultAt: 8 * time.Second,
			MinCases: 20, Tail: 8 * time.Second, Fault: killOneAPI},
		{N: 7, Name: "deploy a patched worker build in flight", Interval: 1500 * time.Millisecond, FaultAt: 10 * time.Second,
			MinCases: 20, Tail: 15 * time.Second, Fault: deployPatched},
		{N: 8, Name: "webhook receiver answers 503 for 2 minutes", Interval: 5 * time.Second, FaultAt: time.Second,
			MinCases: 20, Tail: 10 * time.Second, Fault: webhookOutage},
	}
}

func start(ctx context.Context, p *supervise.Process) error {
	ctx, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	return p.Start(ctx)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// 1. kill -9 one worker mid-load; restart it 30s later.
func killOneWorker(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	w := e.Topo.Workers[0]
	e.Logf("kill -9 %s (pid %d)", w.Name(), w.Pid())
	if err := w.Kill(); err != nil {
		return time.Time{}, err
	}
	if err := sleep(ctx, 30*time.Second); err != nil {
		return time.Time{}, err
	}
	err := start(ctx, w)
	return time.Now(), err
}

// 2. kill -9 both workers for 60s: deadlines that fall in the gap fire when they return.
func killBothWorkers(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	for _, w := range e.Topo.Workers {
		e.Logf("kill -9 %s (pid %d)", w.Name(), w.Pid())
		if err := w.Kill(); err != nil {
			return time.Time{}, err
		}
	}
	if err := sleep(ctx, 60*time.Second); err != nil {
		return time.Time{}, err
	}
	var errs []error
	for _, w := range e.Topo.Workers {
		errs = append(errs, start(ctx, w))
	}
	return time.Now(), errors.Join(errs...)
}

// 3. Restart the Temporal server: SIGTERM, SIGKILL after 10s, start.
func restartTemporal(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	p := e.Topo.Temporal
	pid := p.Pid()
	e.Logf("SIGTERM to the Temporal server (pid %d)", pid)
	begin := time.Now()
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return time.Time{}, err
	}
	select {
	case <-p.Exited():
		e.Logf("the Temporal server stopped after %s", time.Since(begin).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		e.Logf("the Temporal server still runs 10s after SIGTERM: SIGKILL")
		r.Note("Temporal server needed SIGKILL (still running 10s after SIGTERM)")
		if err := p.Kill(); err != nil {
			return time.Time{}, err
		}
	}
	begin = time.Now()
	err := start(ctx, p)
	e.Logf("the Temporal server is ready again after %s", time.Since(begin).Round(time.Millisecond))
	return time.Now(), err
}

// 4. Stop Tierflow's PostgreSQL for 30s, then start it.
func stopRecordDB(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	pg := e.Topo.Record
	if pg == nil {
		return time.Time{}, errors.New("the topology has no separate record database (Options.SeparateRecordDB)")
	}
	e.Logf("stopping Tierflow's PostgreSQL (port %d)", pg.Port())
	if err := pg.Stop(); err != nil {
		return time.Time{}, err
	}
	if err := sleep(ctx, 30*time.Second); err != nil {
		return time.Time{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	err := pg.Start(sctx)
	return time.Now(), err
}

// 5. The mail API answers 500, then 429 with Retry-After, then hangs past the
// mailer's timeout, a minute each, then recovers.
func mailOutage(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	defer e.Mail.Recover()
	for _, f := range []struct {
		what  string
		fault fakesendgrid.Fault
	}{
		{"500", fakesendgrid.Fault{Mode: fakesendgrid.Status, Status: 500}},
		{"429 with Retry-After: 5", fakesendgrid.Fault{Mode: fakesendgrid.Status, Status: 429, RetryAfter: 5 * time.Second}},
		{"no answer (hang)", fakesendgrid.Fault{Mode: fakesendgrid.Hang}},
	} {
		before := e.Mail.Requests()
		e.Logf("mail API: %s for a minute", f.what)
		e.Mail.FailAll(f.fault)
		if err := sleep(ctx, time.Minute); err != nil {
			return time.Time{}, err
		}
		r.Note("mail API %s: %d requests in the minute", f.what, e.Mail.Requests()-before)
	}
	e.Mail.Recover()
	e.Logf("mail API recovered")
	return time.Now(), nil
}

// firstMailAfter: the recovery of the mail drill is the first message accepted
// after the fault ended.
func firstMailAfter(e *Env, t time.Time) time.Duration {
	for _, m := range e.Mail.Accepted() {
		if m.AcceptedAt.After(t) {
			return m.AcceptedAt.Sub(t)
		}
	}
	return -1
}

// 6. kill -9 one API process with requests in flight; start it again 20s later.
func killOneAPI(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	a := e.Topo.APIs[0]
	e.Logf("kill -9 %s (pid %d)", a.Name(), a.Pid())
	if err := a.Kill(); err != nil {
		return time.Time{}, err
	}
	killed := time.Now()
	if err := sleep(ctx, 20*time.Second); err != nil {
		return time.Time{}, err
	}
	err := start(ctx, a)
	_ = killed
	return time.Now(), err
}

// 7. Replace the workers one at a time with the patched build.
func deployPatched(ctx context.Context, e *Env, r *Result) (time.Time, error) {
	if e.DeployWorker == "" {
		return time.Time{}, errors.New("no patched worker build")
	}
	for i, w := range e.Topo.Workers {
		e.Logf("deploy: stopping %s (graceful)", w.Name())
		if err := w.Stop(); err != nil {
			r.Note("deploy: %v", err)
		}
		if i == 0 {
			if err := installWorker(e, e.DeployWorker); err != nil {
				return time.Time{}, err
			}
		}
		e.Logf("deploy: starting %s on the patched build", w.Name())
		if err := start(ctx, w); err != nil {
			return time.Time{}, fmt.Errorf("start %s on the patched build: %w", w.Name(), err)
		}
		if i+1 < len(e.Topo.Workers) {
			if err := sleep(ctx, 5*time.Second); err != nil {
				return time.Time{}, err
			}
		}
	}
	return time.Now(), nil
}
