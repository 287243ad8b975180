package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one run measured; it is printed and written as JSON.
type report struct {
	StartedAt       time.Time         `json:"started_at"`
	Seconds         float64           `json:"seconds"`
	Config          config            `json:"config"`
	Machine         machine           `json:"machine"`
	Throughput      *throughputResult `json:"throughput"`
	RoundTrip       *roundTripResult  `json:"round_trip"`
	Timers          *timerResult      `json:"timers"`
	History         []historySize     `json:"history"`
	APIEarlyPeakRSS int64             `json:"api_peak_rss_phases_1_2_bytes"`
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

// print writes the side-by-side table.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nTierflow benchmark, %s, %d CPUs, load %s -> %s, %.0fs\n",
		r.StartedAt.Format(time.RFC3339), r.Machine.CPUs, r.Machine.LoadAvgStart, r.Machine.LoadAvgEnd, r.Seconds)
	fmt.Fprintln(w, serverDescription(r.Config.Server)+"; one worker, one API, payloads encrypted (AES-256-GCM codec); baseline = a worker in the bench on the same server, with the same codec.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row("", "tierflow", "baseline", "tierflow vs baseline")
	if t := r.Throughput; t != nil {
		row(fmt.Sprintf("1. throughput (n=%d, %d at a time), /s", t.Cases, t.Concurrency),
			f1(t.CasesPerSecond)+" cases", f1(t.BaselinePerSecond)+" wf", fmt.Sprintf("ratio %.2f", t.Ratio))
		row("   POST /v1/cases p50 / p99, ms; baseline before / after, wf/s", f1(float64(t.OpenLatency.P50))+" / "+f1(float64(t.OpenLatency.P99)),
			f1(t.BaselineBeforePerSecond)+" / "+f1(t.BaselineAfterPerSecond), "")
	}
	if rt := r.RoundTrip; rt != nil {
		row(fmt.Sprintf("2. round trip p50 (n=%d), ms", rt.Decisions), f1(float64(rt.Decision.P50)), f1(float64(rt.RawUpdate.P50)),
			"+"+f1(float64(rt.DiffP50Ms)))
		row("   round trip p99, ms", f1(float64(rt.Decision.P99)), f1(float64(rt.RawUpdate.P99)), "+"+f1(float64(rt.DiffP99Ms)))
		if rt.Unavailable > 0 {
			row("   decisions answered 503 and retried", fmt.Sprint(rt.Unavailable), "", "")
		}
		row("   raw update running 1 no-op activity p50 / p99, ms", "",
			f1(float64(rt.RawUpdateActivity.P50))+" / "+f1(float64(rt.RawUpdateActivity.P99)), "")
	}
	if t := r.Timers; t != nil {
		row(fmt.Sprintf("3. escalation lateness (n=%d at one deadline) p50 / p99 / max, ms", t.AtDeadline),
			f0(float64(t.Lateness.P50))+" / "+f0(float64(t.Lateness.P99))+" / "+f0(float64(t.Lateness.Max)), "", "")
		row("   recorded in Postgres p50 / p99 / max, ms",
			f0(float64(t.RecordLateness.P50))+" / "+f0(float64(t.RecordLateness.P99))+" / "+f0(float64(t.RecordLateness.Max)), "", "")
		row(fmt.Sprintf("   peak RSS worker / API with %d open cases, MiB", t.Cases),
			mib(t.WorkerPeakRSS)+" / "+mib(max(t.APIPeakRSS, r.APIEarlyPeakRSS)), "", "")
	}
	var base *historySize
	for i := range r.History {
		if r.History[i].Lifecycle == "baseline" {
			base = &r.History[i]
		}
	}
	for _, h := range r.History {
		if h.Lifecycle == "baseline" {
			continue
		}
		vs := ""
		if base != nil {
			vs = fmt.Sprintf("%.1fx events", h.EventsMean/base.EventsMean)
		}
		baseCell := ""
		if base != nil {
			baseCell = fmt.Sprintf("%.0f ev / %.0f B", base.EventsMean, base.BytesMean)
		}
		row(fmt.Sprintf("4. history, %s (n=%d)", h.Lifecycle, h.Cases),
			fmt.Sprintf("%.0f ev / %.0f B", h.EventsMean, h.BytesMean), baseCell, vs)
	}
	tw.Flush()
	if t := r.Timers; t != nil && t.AtDeadline < t.Cases {
		fmt.Fprintf(w, "note: %d of %d herd cases opened after the calendar opened; their deadlines spread over %.1fs\n",
			t.Cases-t.AtDeadline, t.Cases, float64(t.DeadlineSpread)/1000)
	}
	for _, h := range r.History {
		fmt.Fprintf(w, "history %-20s %s: max %d events, %d B; server size %.0f B; %.0f state transitions\n",
			h.Lifecycle, h.Path, h.EventsMax, h.BytesMax, h.ServerBytesMean, h.TransitionsMean)
	}
}

// write stores the report as JSON in dir (default <root>/testartifacts).
func (r *report) write(dir, root string) (string, error) {
	if dir == "" {
		dir = filepath.Join(root, "testartifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the report directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the report: %w", err)
	}
	path := filepath.Join(dir, "bench-"+r.StartedAt.Format("20060102-150405")+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write the report: %w", err)
	}
	return path, nil
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func mib(b int64) string  { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }
