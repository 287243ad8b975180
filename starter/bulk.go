package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/client"
)

// bulkLine is one non-blank line of a JSON-lines import.
type bulkLine struct {
	number int
	req    tierflow.OpenCaseRequest
	err    error // the line could not be read as a case
}

// bulkResult is what happened to one line.
type bulkResult struct {
	line    int
	caseID  string
	created bool
	err     error
}

// runBulk opens every case of a JSON-lines file with bounded concurrency, draws a
// progress bar on stderr, prints a summary, and fails when any line failed. Lines
// are independent: a bad one is reported with its number and the others go on.
// Importing the same file twice is harmless (the second run reports "existing").
func runBulk(ctx context.Context, e *env, path string, concurrency int) error {
	lines, err := readBulkFile(path)
	if err != nil {
		return err
	}
	c := e.client()
	jobs := make(chan bulkLine)
	results := make(chan bulkResult)
	var workers sync.WaitGroup
	for range concurrency {
		workers.Go(func() {
			for l := range jobs {
				results <- openLine(ctx, c, l)
			}
		})
	}
	go func() {
		for _, l := range lines {
			if l.err != nil {
				results <- bulkResult{line: l.number, err: l.err}
				continue
			}
			jobs <- l
		}
		close(jobs)
		workers.Wait()
		close(results)
	}()

	bar := newProgress(e.stderr, len(lines), time.Now)
	var failed []bulkResult
	for r := range results {
		bar.add(r)
		if r.err != nil {
			failed = append(failed, r)
		}
	}
	bar.finish()

	slices.SortFunc(failed, func(a, b bulkResult) int { return a.line - b.line })
	for _, f := range failed {
		where := fmt.Sprintf("line %d", f.line)
		if f.caseID != "" {
			where += " (" + f.caseID + ")"
		}
		lines := explain(e, f.err)
		fmt.Fprintf(e.stderr, "%s: %s\n", where, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintln(e.stderr, l)
		}
	}
	fmt.Fprintf(e.stdout, "imported %s: %d cases, opened %d, existing %d, failed %d\n",
		path, bar.total, bar.opened, bar.existing, bar.failed)
	if bar.failed > 0 {
		return fmt.Errorf("%d of %d cases failed", bar.failed, bar.total)
	}
	return nil
}

func openLine(ctx context.Context, c *client.Client, l bulkLine) bulkResult {
	id := tierflow.CaseID(l.req.Source, l.req.ExternalID)
	_, created, err := c.OpenCase(ctx, l.req)
	return bulkResult{line: l.number, caseID: id, created: created, err: aboutCase(id, err)}
}

// readBulkFile reads every non-blank line; a line that is not a case is kept with
// its error so that it is reported in order with the others.
func readBulkFile(path string) ([]bulkLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bulk file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var lines []bulkLine
	for n := 1; ; n++ {
		raw, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read bulk file %s line %d: %w", path, n, err)
		}
		if text := bytes.TrimSpace(raw); len(text) > 0 {
			l := bulkLine{number: n}
			l.err = decodeCase(text, &l.req)
			lines = append(lines, l)
		}
		if err != nil {
			break
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("bulk file %s has no cases", path)
	}
	return lines, nil
}

// progress draws "[=====>    ] 120/300 opened 118, existing 2, failed 0" on one
// line of w, at most ten times a second and once more at the end.
type progress struct {
	w                        io.Writer
	now                      func() time.Time
	total, done              int
	opened, existing, failed int
	lastDraw                 time.Time
}

const progressWidth = 30

func newProgress(w io.Writer, total int, now func() time.Time) *progress {
	p := &progress{w: w, total: total, now: now}
	p.draw()
	return p
}

func (p *progress) add(r bulkResult) {
	p.done++
	switch {
	case r.err != nil:
		p.failed++
	case r.created:
		p.opened++
	default:
		p.existing++
	}
	if p.now().Sub(p.lastDraw) >= 100*time.Millisecond {
		p.draw()
	}
}

func (p *progress) finish() {
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *progress) draw() {
	p.lastDraw = p.now()
	filled := progressWidth * p.done / max(p.total, 1)
	bar := strings.Repeat("=", filled)
	if filled < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-filled-1)
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d opened %d, existing %d, failed %d",
		bar, p.done, p.total, p.opened, p.existing, p.failed)
}
