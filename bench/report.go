package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one run measured; it is printed and written as JSON.
type report struct {
	StartedAt       time.Time          `json:"started_at"`
	Seconds         float64            `json:"seconds"`
	Config          config             `json:"config"`
	Machine         machine            `json:"machine"`
	Intake          *intakeResult      `json:"intake"`
	RoundTrip       *roundTripResult   `json:"round_trip"`
	Burst           *burstResult       `json:"burst"`
	Steady          *steadyResult      `json:"steady"`
	History         []historySize      `json:"history"`
	Histograms      *latencyHistograms `json:"histograms"`
	APIEarlyPeakRSS int64              `json:"api_peak_rss_before_burst_bytes"`
	LastLine        string             `json:"last_line"`
	// Failures are the phases that failed (the others still report).
	Failures []string `json:"failures,omitempty"`
}

// machine records what the figures depend on: the load average shows other work
// sharing the cores.
type machine struct {
	CPUs         int    `json:"cpus"`
	GoVersion    string `json:"go_version"`
	OS           string `json:"os"`
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

func readMachine() machine {
	return machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		LoadAvgStart: loadAvg()}
}

// loadAvg is the first three fields of /proc/loadavg, empty where there is none.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// lastLine is the run in one line, in the form issue 10 fixed; a figure whose
// phase did not run is "n/a".
func (r *report) lastLine() string {
	const na = "n/a"
	ratioOf := func(v float64) string {
		if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return na
		}
		return fmt.Sprintf("%.2f", v)
	}
	intake, open, decision, burst, steady, events, bytes := na, na, na, na, na, na, na
	if in := r.Intake; in != nil {
		intake, open = ratioOf(in.Ratio), ratioOf(in.OpenP99Ratio)
	}
	if rt := r.RoundTrip; rt != nil {
		decision = ratioOf(rt.P99Ratio)
	}
	if b := r.Burst; b != nil {
		burst = ratioOf(b.DrainRatio)
	}
	if s := r.Steady; s != nil && s.RecordLateness.N > 0 {
		steady = fmt.Sprintf("%.0f", float64(s.RecordLateness.P99))
	}
	if e, b, ok := r.typicalCase(); ok {
		events, bytes = fmt.Sprintf("%.0f", e), fmt.Sprintf("%.0f", b)
	}
	return fmt.Sprintf("bench: intake ratio %s; open p99 ratio %s; decision p99 ratio %s; burst drain ratio %s; "+
		"steady lateness p99 %s ms; typical case %s events %s bytes", intake, open, decision, burst, steady, events, bytes)
}

// typicalCase is the history of a typical case: the larger of the standard
// lifecycles' mean events and mean bytes (each on its own), so that neither
// standard path is over the goal unseen.
func (r *report) typicalCase() (events, bytes float64, ok bool) {
	for _, h := range r.History {
		if h.Lifecycle == baselineLifecycle {
			continue
		}
		events, bytes, ok = math.Max(events, h.EventsMean), math.Max(bytes, h.BytesMean), true
	}
	return events, bytes, ok
}

// write stores the report as JSON and its picture as SVG in dir (default
// <root>/testartifacts), named after the run's start.
// artifactBase is the path of the run's files without extension:
// <dir>/bench-<timestamp>, dir defaulting to <root>/testartifacts.
func (r *report) artifactBase(dir, root string) string {
	if dir == "" {
		dir = filepath.Join(root, "testartifacts")
	}
	return filepath.Join(dir, "bench-"+r.StartedAt.Format("20060102-150405"))
}

func (r *report) write(dir, root string) (jsonPath, svgPath string, err error) {
	base := r.artifactBase(dir, root)
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return "", "", fmt.Errorf("make the report directory: %w", err)
	}
	r.buildHistograms()
	r.LastLine = r.lastLine()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("encode the report: %w", err)
	}
	jsonPath, svgPath = base+".json", base+".svg"
	if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
		return "", "", fmt.Errorf("write the report: %w", err)
	}
	if err := os.WriteFile(svgPath, []byte(r.picture()), 0o644); err != nil {
		return "", "", fmt.Errorf("write the picture: %w", err)
	}
	return jsonPath, svgPath, nil
}

// print writes the side-by-side table and the notes under it.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nTierflow benchmark, %s, %d CPUs, load %s -> %s, %.0fs\n",
		r.StartedAt.Format(time.RFC3339), r.Machine.CPUs, r.Machine.LoadAvgStart, r.Machine.LoadAvgEnd, r.Seconds)
	fmt.Fprintln(w, serverDescription(r.Config.Server)+"; one worker, one API, payloads encrypted (AES-256-GCM codec); baseline = a worker in the bench on the same server, with the same codec; gRPC compression "+r.Config.Compression+" for both.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row("", "tierflow", "baseline", "tierflow vs baseline")
	r.printIntake(row)
	r.printRoundTrip(row)
	r.printBurst(row)
	r.printSteady(row)
	r.printHistory(row)
	tw.Flush()
	r.printNotes(w)
}

func (r *report) printIntake(row func(...string)) {
	in := r.Intake
	if in == nil {
		return
	}
	var runs []string
	for _, run := range in.Runs {
		runs = append(runs, fmt.Sprintf("%.2f", run.Ratio))
	}
	row(fmt.Sprintf("1. intake (median of %d runs of %d, %d at a time), /s", len(in.Runs), in.Cases, in.Concurrency),
		f1(in.CasesPerSecond)+" cases", f1(in.BaselinePerSecond)+" wf", fmt.Sprintf("ratio %.2f (runs %s)", in.Ratio, strings.Join(runs, " ")))
	row("   open p50 / p99, ms (baseline: raw start)", pair(in.OpenLatency.P50, in.OpenLatency.P99),
		pair(in.RawStart.P50, in.RawStart.P99), fmt.Sprintf("p99 ratio %.2f", in.OpenP99Ratio))
	row("   raw Update-with-Start answered by the first task p50 / p99, ms", "", pair(in.RawUpdateWithStart.P50, in.RawUpdateWithStart.P99), "")
}

func (r *report) printRoundTrip(row func(...string)) {
	rt := r.RoundTrip
	if rt == nil {
		return
	}
	row(fmt.Sprintf("2. decision p50 (n=%d, one at a time), ms", rt.Decisions), f1(float64(rt.Decision.P50)), f1(float64(rt.RawUpdate.P50)),
		"+"+f1(float64(rt.DiffP50Ms)))
	row("   decision p99, ms", f1(float64(rt.Decision.P99)), f1(float64(rt.RawUpdate.P99)), fmt.Sprintf("p99 ratio %.2f", rt.P99Ratio))
	if rt.Unavailable > 0 {
		row("   decisions answered 503 and retried", fmt.Sprint(rt.Unavailable), "", "")
	}
	row("   raw Update running 1 no-op activity p50 / p99, ms", "", pair(rt.RawUpdateActivity.P50, rt.RawUpdateActivity.P99), "")
	row("   raw Update running 1 no-op local activity p50 / p99, ms", "", pair(rt.RawUpdateLocalActivity.P50, rt.RawUpdateLocalActivity.P99), "")
	if a := rt.Account; a != nil {
		row("   means, ms: decision / in the API / case workflow task / its record; raw Update / with local activity",
			fmt.Sprintf("%s / %s / %s / %s", f1(float64(a.DecisionMs)), f1(float64(a.APIMs)), f1(float64(a.WorkflowTaskMs)),
				f1(float64(a.RecordMs))),
			fmt.Sprintf("%s / %s", f1(float64(a.RawUpdateMs)), f1(float64(a.RawLocalMs))),
			fmt.Sprintf("HTTP and client %s", f1(float64(a.DecisionMs-a.APIMs))))
	}
}

func (r *report) printBurst(row func(...string)) {
	b := r.Burst
	if b == nil {
		return
	}
	baseDrain, ratioCell := "not measured", ""
	if b.Baseline != nil {
		baseDrain, ratioCell = f1(b.Baseline.DrainSeconds), fmt.Sprintf("ratio %.2f", b.DrainRatio)
	}
	drained := f1(b.DrainSeconds)
	if !b.Drained {
		drained = ">" + drained
	}
	row(fmt.Sprintf("3. burst (n=%d due at one instant) drained in, s", b.Cases), drained, baseDrain, ratioCell)
	row("   escalation recorded, lateness p50 / p99 / max, ms", triple(b.RecordLateness), "", "")
	row("   drained (emails settled), lateness p50 / p99 / max, ms", triple(b.DrainLateness), tripleOrEmpty(b.Baseline), "")
	row("   workflow clock at the escalation, lateness p50 / p99 / max, ms", triple(b.Lateness), "", "")
	if m := b.Memory; m != nil {
		row(fmt.Sprintf("   worker memory per cached case, RSS / live Go heap, KiB (cache %d -> %d of %d)",
			m.Before.CachedCases, m.After.CachedCases, m.CacheCapacity),
			fmt.Sprintf("%.1f / %.1f", m.RSSPerCase/1024, m.LiveHeapPerCase/1024), "", "")
	}
	row(fmt.Sprintf("   peak RSS worker / API with %d open cases, MiB", b.Cases),
		mib(b.WorkerPeakRSS)+" / "+mib(max(b.APIPeakRSS, r.APIEarlyPeakRSS)), "", "")
}

func (r *report) printSteady(row func(...string)) {
	s := r.Steady
	if s == nil {
		return
	}
	row(fmt.Sprintf("4. steady (deadlines at %.1f/s for %s (cases opened beforehand in %.0fs), n=%d) lateness p50 / p99 / max, ms",
		s.DeadlinesPerSecond, time.Duration(s.Seconds*float64(time.Second)), s.PreOpenSeconds, s.Cases),
		triple(s.RecordLateness), "", "goal: p99 <= 2000")
	row("   drained (emails settled) / workflow clock, lateness p99, ms", f0(float64(s.DrainLateness.P99))+" / "+f0(float64(s.Lateness.P99)), "", "")
	row(fmt.Sprintf("   deadlines in the window, /s (target %.1f); off target p50 / p99, ms", s.RatePerSecond),
		f1(s.DeadlinesPerSecond)+"; "+pair(s.OffTarget.P50, s.OffTarget.P99), "", "")
	row("   opened beforehand, /s; POSTs too late for their target", f1(s.OpenedPerSecond)+"; "+fmt.Sprint(s.LateOpens), "", "")
}

const baselineLifecycle = "baseline"

func (r *report) printHistory(row func(...string)) {
	var base *historySize
	for i := range r.History {
		if r.History[i].Lifecycle == baselineLifecycle {
			base = &r.History[i]
		}
	}
	for _, h := range r.History {
		if h.Lifecycle == baselineLifecycle {
			continue
		}
		vs, baseCell := "", ""
		if base != nil {
			vs = fmt.Sprintf("%.1fx events", h.EventsMean/base.EventsMean)
			baseCell = fmt.Sprintf("%.0f ev / %.0f B", base.EventsMean, base.BytesMean)
		}
		row(fmt.Sprintf("5. history, %s (n=%d)", h.Lifecycle, h.Cases),
			fmt.Sprintf("%.0f ev / %.0f B", h.EventsMean, h.BytesMean), baseCell, vs)
	}
}

// printNotes writes what qualifies the figures.
func (r *report) printNotes(w io.Writer) {
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED: %s\n", f)
	}
	if in := r.Intake; in != nil && in.OpensRetried > 0 {
		fmt.Fprintf(w, "note: %d intake opens answered 503/429 and were sent again (the time lost is in the latency)\n", in.OpensRetried)
	}
	if b := r.Burst; b != nil {
		if b.AtDeadline < b.Cases {
			fmt.Fprintf(w, "note: %d of %d burst cases opened after the calendar opened; their deadlines spread over %.1fs\n",
				b.Cases-b.AtDeadline, b.Cases, float64(b.DeadlineSpread)/1000)
		}
		if b.Warnings.Recorded < b.Cases || b.Warnings.EmailsPending > 0 {
			fmt.Fprintf(w, "note: at the burst's deadline %d of %d warnings were recorded and %d emails pending: the drain includes them\n",
				b.Warnings.Recorded, b.Cases, b.Warnings.EmailsPending)
		} else {
			fmt.Fprintf(w, "burst: the warnings' burst was over %.1fs before the deadline; %d emails per escalation\n", b.Warnings.QuietSeconds, b.EmailsPerCase)
		}
		if b.JobsOverran {
			fmt.Fprintln(w, "note: a measurement run while the burst's cases waited ended after their deadline: the drain shared the server with it")
		}
		if b.OpensRetried > 0 {
			fmt.Fprintf(w, "note: %d burst opens answered 503/429 and were sent again\n", b.OpensRetried)
		}
		if !b.Drained {
			fmt.Fprintf(w, "note: the burst had not drained %s after its deadline (%d of %d escalated): its figures are lower bounds\n",
				r.Config.BurstWait, b.Escalated, b.Cases)
		}
		if bl := b.Baseline; bl != nil && bl.StartedLate > 0 {
			fmt.Fprintf(w, "note: %d timer workflows started after their instant; the baseline drain includes their start\n", bl.StartedLate)
		}
		if m := b.Memory; m != nil && m.EvictionsMeanwhile > 0 {
			fmt.Fprintf(w, "note: %d sticky cache evictions while the burst opened: memory per case is understated\n", m.EvictionsMeanwhile)
		}
	}
	if s := r.Steady; s != nil && (s.OpensRetried > 0 || s.OpensFailed > 0) {
		fmt.Fprintf(w, "note: %d steady opens answered 503/429 and were sent again; %d still failed after %d attempts (not counted as cases)\n",
			s.OpensRetried, s.OpensFailed, openAttempts)
	}
	if s := r.Steady; s != nil {
		fmt.Fprintf(w, "steady: clocks %s; %d of %d warnings fell inside the window\n", s.AckClock, s.WarningsInWindow, s.Warnings)
	}
	if s := r.Steady; s != nil && s.LateOpens > 0 {
		fmt.Fprintf(w, "note: %d steady cases opened too late for their target (up to %.1fs): their deadlines fell that much after it\n",
			s.LateOpens, float64(s.OpenLag.Max)/1000)
	}
	if s := r.Steady; s != nil && s.CPU != nil {
		fmt.Fprintf(w, "note: CPU during the steady window: %s\n", s.CPU)
	}
	if b := r.Burst; b != nil {
		printDrainAccounts(w, "burst", b.CPU, b.Database)
		if base := b.Baseline; base != nil {
			printDrainAccounts(w, "burst baseline", base.CPU, base.Database)
		}
	}
	if s := r.Steady; s != nil && s.Missing > 0 {
		fmt.Fprintf(w, "note: %d steady cases had not escalated when the wait ended: their lateness counts as the wait's end (a lower bound)\n", s.Missing)
	}
	for _, h := range r.History {
		fmt.Fprintf(w, "history %-20s %s: max %d events, %d B; server size %.0f B; %.0f state transitions\n",
			h.Lifecycle, h.Path, h.EventsMax, h.BytesMax, h.ServerBytesMean, h.TransitionsMean)
	}
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func mib(b int64) string  { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

func pair(a, b millis) string { return f1(float64(a)) + " / " + f1(float64(b)) }
func triple(l latency) string {
	return f0(float64(l.P50)) + " / " + f0(float64(l.P99)) + " / " + f0(float64(l.Max))
}

func tripleOrEmpty(t *timerBurstResult) string {
	if t == nil {
		return ""
	}
	return triple(t.Lateness)
}

// printDrainAccounts prints where a drain's CPU and database time went.
func printDrainAccounts(w io.Writer, what string, cpu *machineCPU, db *databaseProfile) {
	if cpu != nil {
		fmt.Fprintf(w, "%s: CPU during the drain: %s\n", what, cpu)
	}
	if db != nil {
		fmt.Fprintf(w, "%s: database during the drain:%s\n", what, db)
	}
}
