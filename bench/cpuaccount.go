package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machineCPU is where the machine's CPU went during a phase, from /proc: the CPU
// seconds of each program of the stack (the Temporal server, PostgreSQL, the
// worker, the API), of the bench itself, and of everything else (the busy time of
// the whole machine minus theirs: other processes, and ours that started and
// ended within the phase). A phase whose machine was busy all along is bounded
// by the CPU, and this says who spent it.
type machineCPU struct {
	Seconds   float64            `json:"seconds"` // the phase's wall time
	Cores     int                `json:"cores"`
	Busy      float64            `json:"busy_cpu_seconds"` // the whole machine's
	ByProgram map[string]float64 `json:"cpu_seconds_by_program"`
}

// programs are the names a process's comm is counted under, first match wins;
// anything else is "other".
var programs = []struct{ name, prefix string }{
	{"temporal", "temporal"}, // the dev server (temporal) and the full server (temporal-server)
	{"postgres", "postgres"},
	{"worker", "worker"},
	{"api", "api"},
	{"bench", "bench"},
}

func programOf(comm string) string {
	for _, p := range programs {
		if strings.HasPrefix(comm, p.prefix) {
			return p.name
		}
	}
	return "other"
}

// cpuSnapshot is the CPU time of every process, and the machine's busy time, at
// one instant.
type cpuSnapshot struct {
	at      time.Time
	busy    float64         // seconds
	byPID   map[int]float64 // seconds
	program map[int]string  // the program of each pid
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100.0

func takeCPUSnapshot() (cpuSnapshot, error) {
	s := cpuSnapshot{at: time.Now(), byPID: map[int]float64{}, program: map[int]string{}}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return s, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return s, fmt.Errorf("/proc/stat: %w", err)
		}
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		s.busy += v / clockTicks
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range dirs {
		pid, comm, ticks, ok := readProcStat(path)
		if !ok {
			continue // gone meanwhile
		}
		s.byPID[pid], s.program[pid] = ticks/clockTicks, programOf(comm)
	}
	return s, nil
}

// readProcStat reads a /proc/<pid>/stat: the comm is in parentheses (and may hold
// spaces), utime and stime are the 14th and 15th fields.
func readProcStat(path string) (pid int, comm string, ticks float64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, "", 0, false
	}
	text := string(b)
	open, closing := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || closing < open {
		return 0, "", 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(text[:open]))
	if err != nil {
		return 0, "", 0, false
	}
	rest := strings.Fields(text[closing+1:]) // from field 3 (state)
	if len(rest) < 13 {
		return 0, "", 0, false
	}
	utime, err1 := strconv.ParseFloat(rest[11], 64)
	stime, err2 := strconv.ParseFloat(rest[12], 64)
	if err1 != nil || err2 != nil {
		return 0, "", 0, false
	}
	return pid, text[open+1 : closing], utime + stime, true
}

// cpuSince is where the CPU went from start to now.
func cpuSince(start cpuSnapshot) (machineCPU, error) {
	end, err := takeCPUSnapshot()
	if err != nil {
		return machineCPU{}, err
	}
	m := machineCPU{Seconds: end.at.Sub(start.at).Seconds(), Cores: runtime.NumCPU(),
		Busy: end.busy - start.busy, ByProgram: map[string]float64{}}
	counted := 0.0
	for pid, now := range end.byPID {
		name := end.program[pid]
		if name == "other" {
			continue
		}
		spent := now - start.byPID[pid] // a process started meanwhile counts from 0
		if spent > 0 {
			m.ByProgram[name] += spent
			counted += spent
		}
	}
	m.ByProgram["other"] = max(0, m.Busy-counted)
	return m, nil
}

// String is one line: each program's share of the machine's cores over the phase.
func (m machineCPU) String() string {
	capacity := m.Seconds * float64(m.Cores)
	if capacity <= 0 {
		return "n/a"
	}
	names := make([]string, 0, len(m.ByProgram))
	for n := range m.ByProgram {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		return int(m.ByProgram[b]*1000) - int(m.ByProgram[a]*1000)
	})
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", n, 100*m.ByProgram[n]/capacity))
	}
	return fmt.Sprintf("machine busy %.0f%% of %d cores: %s", 100*m.Busy/capacity, m.Cores, strings.Join(parts, ", "))
}
